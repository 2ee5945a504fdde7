"""Story library (案例库): recognitions promoted into value stories, published with consent."""
from flask import Blueprint

bp = Blueprint("stories", __name__, url_prefix="/stories")

from perfapp.stories import views  # noqa: E402,F401
