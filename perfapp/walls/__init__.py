from flask import Blueprint

bp = Blueprint("walls", __name__, url_prefix="/walls")

from perfapp.walls import cards, views  # noqa: E402,F401
