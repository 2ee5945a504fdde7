"""Coaching: a manager's team (and later 1:1s). Read-only over people, feedback and recognition;
nothing imports it."""
from flask import Blueprint

bp = Blueprint("coaching", __name__, url_prefix="/coaching")

from perfapp.coaching import views  # noqa: E402,F401
