"""My team (the coaching home), 1:1s and formal records."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from perfapp.coaching import bp, one_on_ones, records, services
from perfapp.coaching.models import CADENCES, RECORD_KINDS, FormalRecord, OneOnOneSeries
from perfapp.core.db import utcnow
from perfapp.core.errors import error_response
from perfapp.core.htmx import redirect, render
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.people.models import User


def _redirect(url: str) -> Response:
    return redirect(url, 303)


@bp.route("/team")
@login_required
def team() -> Response:
    """A manager's direct reports: 1:1s, what each heard and gave in 30 days, goals at risk, who heard nothing."""
    if not current_user.is_manager:
        abort(403)
    return render("coaching/team.html", reports=services.team_overview(current_user),
                  days=services.WINDOW_DAYS)


@bp.route("/team/<int:person_id>")
@login_required
def member(person_id: int) -> Response:
    """One report's last 30 days as their manager may read them, their 1:1s and records."""
    report = services.report_of(current_user, person_id)
    if report is None:
        abort(404)
    summary = next(s for s in services.team_overview(current_user) if s.person.id == report.id)
    person_records = [r for r in records.records_for(current_user) if r.person_id == report.id]
    return render("coaching/member.html", summary=summary, person=report, days=services.WINDOW_DAYS,
                  items=services.received_items(current_user, report), records=person_records,
                  kinds=RECORD_KINDS)


# --- 1:1s -------------------------------------------------------------------------------------------------

@bp.route("/1on1")
@login_required
def one_on_ones_index() -> Response:
    """My 1:1s: with my manager, and with each of my reports."""
    mine = one_on_ones.my_series(current_user)
    plans = one_on_ones.schedules([s.report_id for s in mine])
    return render("coaching/one_on_ones.html", series=mine, plans=plans)


def _start_context(report: User, form: Any, errors: dict[str, str]) -> dict[str, Any]:
    return {"report": report, "form": form, "errors": errors, "cadences": CADENCES,
            "existing": one_on_ones.series_of_report(report.id)}


@bp.route("/1on1/start/<int:person_id>", methods=["GET", "POST"])
@login_required
def start_one_on_ones(person_id: int) -> Response:
    """A manager sets up recurring 1:1s with a direct report: how often, and the first one."""
    report = services.report_of(current_user, person_id)
    if report is None:
        abort(404)
    if request.method == "GET":
        return render("coaching/start.html", **_start_context(report, {"cadence": "weekly"}, {}))
    try:
        series = one_on_ones.start_series(current_user, report.id, request.form.get("cadence", ""),
                                          request.form.get("day", ""), request.form.get("start", ""))
    except FormError as e:
        db.session.rollback()
        return render("coaching/start.html", status=422, **_start_context(report, request.form, e.errors))
    db.session.commit()
    flash(_("1:1s with %(name)s are set up.", name=report.name), "success")
    return _redirect(url_for("coaching.one_on_one", series_id=series.id))


def _series(series_id: int) -> OneOnOneSeries:
    series = one_on_ones.series_for(current_user, series_id)
    if series is None:
        abort(404)
    return series


def _series_context(series: OneOnOneSeries, **extra: Any) -> dict[str, Any]:
    meeting = one_on_ones.current_meeting(series)
    items = one_on_ones.agenda(meeting)
    past = one_on_ones.past_meetings(series)
    past_agenda = one_on_ones.agendas([m.id for m in past])
    feedback_ids = [i.source_id for i in items if i.source_type == "feedback" and i.source_id]
    note = one_on_ones.my_note(current_user, meeting)
    other = one_on_ones.other_side(current_user, series)
    context: dict[str, Any] = {
        "series": series, "meeting": meeting, "agenda": items, "other": other,
        "is_report": current_user.id == series.report_id,
        "suggestions": one_on_ones.suggestions(current_user, series),
        "readable": one_on_ones.readable_feedback(current_user, feedback_ids),
        "actions": one_on_ones.open_actions(series), "past": past, "past_agenda": past_agenda,
        "past_notes": one_on_ones.my_notes(current_user, past),
        "past_done": one_on_ones.actions_done_in([m.id for m in past]),
        "note_form": {"note": note.text if note else ""}, "agenda_form": {}, "action_form": {},
        "schedule_form": _schedule_form(series, meeting.scheduled_for), "cadences": CADENCES,
        "errors": {}, "today": utcnow().date().isoformat(),
    }
    context.update(extra)
    return context


def _schedule_form(series: OneOnOneSeries, when: Any) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    local = when.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(current_user.timezone))
    return {"cadence": series.cadence, "day": local.date().isoformat(), "start": local.strftime("%H:%M")}


@bp.route("/1on1/<int:series_id>")
@login_required
def one_on_one(series_id: int) -> Response:
    """The upcoming 1:1: shared agenda, suggestions, action items, my private note; past ones below."""
    return render("coaching/one_on_one.html", **_series_context(_series(series_id)))


def _changed(series: OneOnOneSeries, change: Any, message: str | None, anchor: str, **failed: Any) -> Response:
    """Run one change to a series: 404 if not allowed, 422 with the page on bad input, else 303."""
    try:
        change()
    except one_on_ones.NotAllowed:
        db.session.rollback()
        abort(404)
    except FormError as e:
        db.session.rollback()
        return render("coaching/one_on_one.html", status=422,
                      **_series_context(series, errors=e.errors, **failed))
    db.session.commit()
    if message:
        flash(message, "success")
    return _redirect(url_for("coaching.one_on_one", series_id=series.id) + anchor)


@bp.route("/1on1/<int:series_id>/agenda", methods=["POST"])
@login_required
def add_agenda(series_id: int) -> Response:
    series = _series(series_id)
    form = request.form
    return _changed(series, lambda: one_on_ones.add_agenda_item(
        current_user, series, form.get("text", ""), form.get("source_type") or None, parse_int(form.get("source_id"))),
        None, "#agenda", agenda_form=form)


@bp.route("/1on1/<int:series_id>/agenda/<int:item_id>", methods=["POST"])
@login_required
def agenda_item(series_id: int, item_id: int) -> Response:
    series = _series(series_id)
    if request.form.get("action") == "remove":
        return _changed(series, lambda: one_on_ones.remove_agenda_item(current_user, series, item_id), None, "#agenda")
    discussed = request.form.get("discussed") == "1"
    return _changed(series, lambda: one_on_ones.set_discussed(current_user, series, item_id, discussed),
                    None, "#agenda")


@bp.route("/1on1/<int:series_id>/note", methods=["POST"])
@login_required
def private_note(series_id: int) -> Response:
    series = _series(series_id)
    text = request.form.get("note", "")
    return _changed(series, lambda: one_on_ones.save_private_note(current_user, series, text),
                    _("Your private note is saved."), "#note", note_form=request.form)


@bp.route("/1on1/<int:series_id>/actions", methods=["POST"])
@login_required
def add_action(series_id: int) -> Response:
    series = _series(series_id)
    form = request.form
    return _changed(series, lambda: one_on_ones.add_action(
        current_user, series, form.get("action_text", ""), parse_int(form.get("owner_id")), form.get("due_on", "")),
        None, "#actions", action_form=form)


@bp.route("/1on1/<int:series_id>/actions/<int:action_id>", methods=["POST"])
@login_required
def action_item(series_id: int, action_id: int) -> Response:
    series = _series(series_id)
    done = request.form.get("done") == "1"
    return _changed(series, lambda: one_on_ones.set_action_done(current_user, series, action_id, done),
                    None, "#actions")


@bp.route("/1on1/<int:series_id>/schedule", methods=["POST"])
@login_required
def schedule(series_id: int) -> Response:
    series = _series(series_id)
    form = request.form
    return _changed(series, lambda: one_on_ones.reschedule(
        current_user, series, form.get("cadence", ""), form.get("day", ""), form.get("start", "")),
        _("The next 1:1 is moved."), "", schedule_form=form)


@bp.route("/1on1/<int:series_id>/finish", methods=["POST"])
@login_required
def finish(series_id: int) -> Response:
    """The 1:1 took place: the next one is scheduled and open action items move to it."""
    series = _series(series_id)
    return _changed(series, lambda: one_on_ones.finish(current_user, series),
                    _("Done. Open action items moved to the next 1:1."), "")


# --- formal records ----------------------------------------------------------------------------------------

@bp.route("/records")
@login_required
def records_index() -> Response:
    """Formal records I may open; for HR, those waiting for HR's signature first."""
    return render("coaching/records.html", records=records.records_for(current_user))


def _record_form(record: FormalRecord) -> dict[str, Any]:
    return {"period_start": record.period_start.isoformat(), "period_end": record.period_end.isoformat(),
            "project_id": record.project_id or "", **{n: getattr(record, n) for n in records.SECTIONS}}


def _record_input(form: Any, kind: str, person_id: int) -> records.RecordInput:
    return records.RecordInput(
        kind=kind, person_id=person_id, period_start=form.get("period_start", ""),
        period_end=form.get("period_end", ""), project_id=parse_int(form.get("project_id")),
        **{n: form.get(n, "") for n in records.SECTIONS})


def _projects_of(person: User) -> list[Any]:
    from sqlalchemy import select

    from perfapp.projects.models import Project, ProjectMember

    return list(db.session.scalars(select(Project).join(ProjectMember, ProjectMember.project_id == Project.id)
                                   .where(ProjectMember.user_id == person.id).order_by(Project.name).limit(100)))


def _edit_context(person: User, kind: str, form: Any, errors: dict[str, str],
                  record: FormalRecord | None = None) -> dict[str, Any]:
    return {"person": person, "kind": kind, "form": form, "errors": errors, "record": record,
            "projects": _projects_of(person) if kind == "retrospective" else []}


@bp.route("/records/new/<int:person_id>", methods=["GET", "POST"])
@login_required
def new_record(person_id: int) -> Response:
    """A manager writes a promotion review or a project retrospective about a direct report."""
    report = services.report_of(current_user, person_id)
    if report is None:
        abort(404)
    kind = request.values.get("kind", "promotion")
    if kind not in RECORD_KINDS:
        kind = "promotion"
    if request.method == "GET":
        today = utcnow().date()
        form = {"period_start": today.replace(month=1, day=1).isoformat(), "period_end": today.isoformat()}
        return render("coaching/record_edit.html", **_edit_context(report, kind, form, {}))
    try:
        record = records.create_record(current_user, _record_input(request.form, kind, report.id))
    except records.NotAllowed:
        db.session.rollback()
        abort(404)
    except FormError as e:
        db.session.rollback()
        return render("coaching/record_edit.html", status=422, **_edit_context(report, kind, request.form, e.errors))
    db.session.commit()
    flash(_("Draft saved. Sign it when it is ready for HR."), "success")
    return _redirect(url_for("coaching.record", record_id=record.id))


def _record(record_id: int) -> FormalRecord:
    record = records.record_for(current_user, record_id)
    if record is None:
        abort(404)
    return record


@bp.route("/records/<int:record_id>")
@login_required
def record(record_id: int) -> Response:
    """A formal record: its sections, the feedback and goals pulled in, who signed it."""
    row = _record(record_id)
    ids = list(row.evidence.get("feedback", []))
    return render("coaching/record.html", record=row, readable=one_on_ones.readable_feedback(current_user, ids),
                  feedback_ids=ids, can_edit=records.can_edit(current_user, row),
                  can_sign=records.can_sign(current_user, row))


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_record(record_id: int) -> Response:
    row = _record(record_id)
    if not records.is_manager_of(current_user, row):
        abort(404)
    if request.method == "GET":
        if row.state != "draft":
            return error_response(409, _("This record is signed, so it can't be changed."))
        return render("coaching/record_edit.html", **_edit_context(row.person, row.kind, _record_form(row), {}, row))
    try:
        records.update_record(current_user, row, _record_input(request.form, row.kind, row.person_id))
    except records.Locked as e:
        db.session.rollback()
        return error_response(409, e.message)
    except FormError as e:
        db.session.rollback()
        return render("coaching/record_edit.html", status=422,
                      **_edit_context(row.person, row.kind, request.form, e.errors, row))
    db.session.commit()
    flash(_("Draft saved. Sign it when it is ready for HR."), "success")
    return _redirect(url_for("coaching.record", record_id=row.id))


@bp.route("/records/<int:record_id>/sign", methods=["POST"])
@login_required
def sign_record(record_id: int) -> Response:
    row = _record(record_id)
    try:
        records.sign(current_user, row)
    except records.Locked as e:
        db.session.rollback()
        return error_response(409, e.message)
    db.session.commit()
    flash(_("Signed."), "success")
    return _redirect(url_for("coaching.record", record_id=row.id))


# --- labels ------------------------------------------------------------------------------------------------

@bp.app_template_global("cadence_label")
def cadence_label(cadence: str) -> str:
    return {"weekly": _("Every week"), "biweekly": _("Every two weeks"), "monthly": _("Every month")}.get(cadence, cadence)


@bp.app_template_global("cadence_options")
def cadence_options() -> list[tuple[str, str]]:
    return [(c, cadence_label(c)) for c in CADENCES]


@bp.app_template_global("record_kind")
def record_kind(kind: str) -> str:
    return {"promotion": _("Promotion review"), "retrospective": _("Project retrospective")}.get(kind, kind)


@bp.app_template_global("project_options")
def project_options(projects: list[Any]) -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in projects]


@bp.app_template_global("record_project_name")
def record_project_name(record: FormalRecord) -> str:
    from perfapp.projects.models import Project

    project = db.session.get(Project, record.project_id) if record.project_id else None
    return project.name if project else ""


@bp.app_template_global("one_on_one_other")
def one_on_one_other(meeting: Any) -> User | None:
    """The other side of a 1:1, seen by the current viewer (inbox entries)."""
    return one_on_ones.other_side(current_user, meeting.series)
