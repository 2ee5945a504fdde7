"""Goals: objectives with key results and KPIs, many-to-many alignment, check-ins, reminders."""
from flask import Blueprint

bp = Blueprint("goals", __name__, url_prefix="/goals")

from perfapp.goals import cards, views  # noqa: E402,F401
