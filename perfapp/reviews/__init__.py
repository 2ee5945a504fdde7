"""Multi-source review cycles: setup, nominations, balanced reviewer assignment, answers, results."""
from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

from perfapp.reviews import views  # noqa: E402,F401
