"""Personal data: a person's own export, HR's erasure (perfapp.admin holds its pages)."""
from flask import Blueprint

bp = Blueprint("personal", __name__, url_prefix="/personal")

from perfapp.personal import views  # noqa: E402,F401
