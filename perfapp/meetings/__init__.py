"""Meetings: created by hand or imported from an .ics file, minutes, one-sentence feedback after
they end, and a calendar subscription of my meetings.

The views are imported by create_app, not here (feedback's models and services import this
package's models; importing the views with the package would be circular)."""
from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
