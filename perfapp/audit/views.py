"""HR's page to read the audit log. There is deliberately no route that changes an entry."""
from __future__ import annotations

from flask import Response, request
from flask_babel import lazy_gettext as _l

from perfapp.audit import bp, services
from perfapp.audit.guard import hr_required
from perfapp.audit.models import ACTIONS
from perfapp.core.htmx import render
from perfapp.core.validation import parse_int
from perfapp.extensions import db

ACTION_LABELS = {
    "person.invited": _l("Invite link created"),
    "person.role_changed": _l("Role changed"),
    "person.reset_forced": _l("Password reset forced"),
    "person.deactivated": _l("Deactivated"),
    "person.reactivated": _l("Reactivated"),
    "password.reset_requested": _l("Password reset requested"),
    "password.set": _l("Password set"),
    "moderation.decided": _l("Moderation decision"),
    "data.exported": _l("Data exported"),
    "person.erased": _l("Person erased"),
    "access.denied": _l("Access refused"),
}
assert set(ACTION_LABELS) == set(ACTIONS)


@bp.route("/")
@hr_required
def index() -> Response:
    action = request.args.get("action", "")
    if action not in ACTION_LABELS:
        action = ""
    from perfapp.people.models import User  # see perfapp.audit.services: import cycle at start-up

    person_id = parse_int(request.args.get("person"))
    person = (db.session.get(User, person_id)
              if person_id is not None and 0 < person_id <= services.MAX_ID else None)
    rows, next_before = services.entries(action=action or None, person=person,
                                         before_id=parse_int(request.args.get("before")))
    return render("audit/index.html", "audit/_rows.html", target="audit-more",
                  rows=rows, next_before=next_before, action=action, person=person,
                  labels=ACTION_LABELS)
