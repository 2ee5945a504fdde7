from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notify")

from perfapp.notify import views  # noqa: E402,F401
