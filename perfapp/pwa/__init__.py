from flask import Blueprint

# The PWA's fixed URLs live at the root (/sw.js must be at / for scope "/").
bp = Blueprint("pwa", __name__)

from perfapp.pwa import views  # noqa: E402,F401
