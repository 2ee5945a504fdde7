from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from perfapp.feedback import cards, views  # noqa: E402,F401
from perfapp.feedback.voice import tools_available  # noqa: E402

# The compose sheet shows the recorder only where ffmpeg can check what it records.
bp.add_app_template_global(tools_available, "voice_available")
