"""My team: a manager's direct reports and what each heard in the last 30 days."""
from __future__ import annotations

from flask import Response, abort
from flask_login import current_user, login_required

from perfapp.coaching import bp, services
from perfapp.core.htmx import render


@bp.route("/team")
@login_required
def team() -> Response:
    """A manager's direct reports: what each heard and gave in 30 days, who heard nothing."""
    if not current_user.is_manager:
        abort(403)
    return render("coaching/team.html", reports=services.team_overview(current_user),
                  days=services.WINDOW_DAYS)


@bp.route("/team/<int:person_id>")
@login_required
def member(person_id: int) -> Response:
    """One report's last 30 days as their manager may read them."""
    report = services.report_of(current_user, person_id)
    if report is None:
        abort(404)
    summary = next(s for s in services.team_overview(current_user) if s.person.id == report.id)
    return render("coaching/member.html", summary=summary, person=report, days=services.WINDOW_DAYS,
                  items=services.received_items(current_user, report))
