"""Safety (capability S): reports, the moderation queue, posting suspensions, the audit log."""
from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from perfapp.moderation import views  # noqa: E402,F401
