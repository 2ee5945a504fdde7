"""The person's own data export (Me → Settings)."""
from __future__ import annotations

from flask import Response
from flask_login import current_user, login_required

from perfapp.audit import services as audit
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.personal import bp, export


@bp.route("/export", methods=["POST"])
@login_required
def export_data() -> Response:
    """The logged-in person's own data as a zip; there is no way to ask for anyone else's.

    A POST (with the CSRF token) rather than a link: another site can't make a browser fetch it,
    and the export is written to the audit log."""
    chunks, size = export.build_archive(current_user)
    audit.record("data.exported", actor=current_user, subject=current_user)
    db.session.commit()
    name = f"perfapp-data-{utcnow():%Y-%m-%d}.zip"
    response = Response(chunks, mimetype="application/zip", direct_passthrough=True)
    response.content_length = size
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    response.headers["Cache-Control"] = "no-store"
    return response
