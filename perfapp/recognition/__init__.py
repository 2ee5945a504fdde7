from flask import Blueprint

bp = Blueprint("recognition", __name__, url_prefix="/recognition")

from perfapp.recognition import cards, views  # noqa: E402,F401
