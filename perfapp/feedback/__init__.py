from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from perfapp.feedback import cards, views  # noqa: E402,F401
