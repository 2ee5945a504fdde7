"""Likes, emoji reactions and short comment threads on feedback (and other registered rows)."""
from flask import Blueprint

bp = Blueprint("reactions", __name__, url_prefix="/reactions")

from perfapp.reactions import views  # noqa: E402,F401
