"""Projects: spaces with members and their roles, the project's feedback, milestones and their
retrospectives (peer reviews).

The views are imported by create_app, not here: feedback's models import this package's models,
so importing the views (which import feedback) with the package would be circular.
"""
from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")
