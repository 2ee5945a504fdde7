"""Integrations: customer praise emails (upload, paste, signed inbound webhook) become recognition events."""
from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

from perfapp.integrations import views  # noqa: E402,F401
