"""Hiding the getting-started cards (Home shows them: perfapp.feedback.views.home)."""
from __future__ import annotations

from flask import Response, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from perfapp.core.htmx import is_htmx, redirect
from perfapp.extensions import db
from perfapp.onboarding import bp, services


@bp.route("/dismiss", methods=["POST"])
@login_required
def dismiss() -> Response:
    """Hide the cards on every device. htmx: an empty answer swaps the card out; plain: back Home."""
    services.dismiss(current_user)
    db.session.commit()
    if is_htmx():
        return Response("", 200)
    flash(_("Tips hidden. Your settings are always under Me."), "success")
    return redirect(url_for("home"), 303)

