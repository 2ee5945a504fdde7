"""Onboarding: the "getting started" cards a new person sees on Home until they hide them or
are under way. Read-only over feedback, recognition and notify (it only writes its own table);
only Home's view (perfapp.feedback.views.home) imports its services, to show the cards."""
from flask import Blueprint

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")

from perfapp.onboarding import views  # noqa: E402,F401
