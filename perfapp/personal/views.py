"""The person's own data export (Me → Settings)."""
from __future__ import annotations

from flask import Response, send_file
from flask_login import current_user, login_required

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.personal import bp, export


@bp.route("/export", methods=["POST"])
@login_required
def export_data() -> Response:
    """The logged-in person's own data as a zip; there is no way to ask for anyone else's.

    A POST (with the CSRF token) rather than a link: another site can't make a browser fetch it,
    and the export is written to the audit log."""
    archive = export.build_archive(current_user)
    _audit(current_user)
    db.session.commit()
    name = f"perfapp-data-{utcnow():%Y-%m-%d}.zip"
    response = send_file(archive, mimetype="application/zip", as_attachment=True, download_name=name,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _audit(person) -> None:  # type: ignore[no-untyped-def]
    try:
        from perfapp.audit import services as audit  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the audit log lands separately
        return
    audit.record("data.exported", actor=person, subject=person)
