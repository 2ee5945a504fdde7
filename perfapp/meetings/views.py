"""Meetings: mine, a new one by hand, an .ics import, a meeting's page (minutes, one-sentence
feedback once it has ended), and my calendar subscription."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from perfapp.core.htmx import redirect, render
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.meetings import bp, forms, ics, services
from perfapp.meetings.models import Meeting
from perfapp.people.models import User

DURATIONS = (15, 30, 45, 60, 90, 120)
IMPORT_REQUEST_BYTES = 2 * ics.MAX_BYTES  # the form around the file; a larger body is a 413 unread


@bp.url_value_preprocessor
def _cap_upload_size(endpoint: str | None, _values: dict | None) -> None:
    if endpoint == "meetings.import_ics":
        request.max_content_length = IMPORT_REQUEST_BYTES


def _redirect(url: str) -> Response:
    return redirect(url, 303)


def _meeting_for(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    if not services.can_view(current_user, meeting):
        abort(404)
    return meeting


@bp.route("/")
@login_required
def index() -> Response:
    upcoming, recent = services.my_meetings(current_user)
    return render("meetings/index.html", upcoming=upcoming, recent=recent)


def _new_context(form: Any, errors: dict[str, str], meeting: Meeting | None = None,
                 attendee_ids: list[int] | None = None) -> dict[str, Any]:
    ids = attendee_ids if attendee_ids is not None else \
        [i for i in (parse_int(v) for v in form.getlist("attendee_ids")) if i and i > 0] if hasattr(form, "getlist") else []
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids[:services.MAX_ATTENDEES])))}
    # An imported meeting may last 50 minutes: its own length is offered too.
    length = parse_int(str(form.get("duration", "")))
    durations = sorted({*DURATIONS, length}) if length and 5 <= length <= services.MAX_DURATION else DURATIONS
    return {"form": form, "errors": errors, "attendees": [found[i] for i in ids if i in found], "meeting": meeting,
            "durations": durations, "max_attendees": services.MAX_ATTENDEES}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response:
    if request.method == "GET":
        return render("meetings/new.html", **_new_context({"duration": "30"}, {}))
    try:
        meeting = services.create_meeting(current_user, forms.parse_meeting(request.form))
    except FormError as e:
        db.session.rollback()
        return render("meetings/new.html", status=422, **_new_context(request.form, e.errors))
    db.session.commit()
    flash(_("“%(title)s” added.", title=meeting.title), "success")
    return _redirect(url_for("meetings.detail", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int) -> Response:
    """The organiser changes the title, time, attendees and minutes; attendees may not (403)."""
    meeting = _meeting_for(meeting_id)
    if not services.can_edit(current_user, meeting):
        abort(403, _("Only the organiser can edit this meeting."))
    if request.method == "GET":
        others = [p.id for p in meeting.attendees if p.id != current_user.id]
        return render("meetings/new.html", **_new_context(services.form_values(meeting, current_user.timezone), {},
                                                          meeting, others))
    try:
        services.update_meeting(current_user, meeting, forms.parse_meeting(request.form),
                                request.form.get("minutes", ""))
    except FormError as e:
        db.session.rollback()
        return render("meetings/new.html", status=422, **_new_context(request.form, e.errors, _meeting_for(meeting_id)))
    db.session.commit()
    flash(_("Meeting saved."), "success")
    return _redirect(url_for("meetings.detail", meeting_id=meeting.id))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_ics() -> Response:
    """Import a calendar file (.ics): all its meetings from a week ago to 90 days ahead, or none."""
    if request.method == "GET":
        return render("meetings/import.html", errors={})
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise FormError({"file": _("Choose a calendar file (.ics).")})
        with upload.stream as stream:  # closed now, not whenever the spooled temporary file is collected
            raw = stream.read(ics.MAX_BYTES + 1)
        result = services.import_calendar(current_user, raw)
    except FormError as e:
        db.session.rollback()
        return render("meetings/import.html", status=422, errors=e.errors)
    db.session.commit()
    added = len(result.added)
    message = ngettext("%(num)d meeting imported.", "%(num)d meetings imported.", added)
    if result.skipped:
        message += " " + ngettext("%(num)d was already here.", "%(num)d were already here.", result.skipped)
    flash(message, "success")
    if added == 1:
        return _redirect(url_for("meetings.detail", meeting_id=result.added[0].id))
    return _redirect(url_for("meetings.index"))


def _detail_context(meeting: Meeting, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "meeting": meeting, "notes": services.notes_for(meeting), "ended": services.has_ended(meeting),
        "attended": services.attended(current_user, meeting), "minutes_form": {"minutes": meeting.minutes},
        "may_edit": services.can_edit(current_user, meeting),
        "note_form": {}, "errors": {},
    }
    context.update(extra)
    return context


@bp.route("/<int:meeting_id>")
@login_required
def detail(meeting_id: int) -> Response:
    """The meeting: when, who, the minutes and, once it has ended, one sentence of feedback under them."""
    return render("meetings/detail.html", **_detail_context(_meeting_for(meeting_id)))


@bp.route("/<int:meeting_id>/minutes", methods=["POST"])
@login_required
def minutes(meeting_id: int) -> Response:
    meeting = _meeting_for(meeting_id)
    try:
        services.set_minutes(current_user, meeting, request.form.get("minutes", ""))
    except FormError as e:
        db.session.rollback()
        return render("meetings/detail.html", status=422,
                      **_detail_context(meeting, minutes_form=request.form, errors=e.errors))
    db.session.commit()
    flash(_("Minutes saved."), "success")
    return _redirect(url_for("meetings.detail", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/notes", methods=["POST"])
@login_required
def note(meeting_id: int) -> Response:
    """One sentence on the meeting as a whole."""
    meeting = _meeting_for(meeting_id)
    if not services.attended(current_user, meeting):
        abort(404)
    try:
        services.leave_note(current_user, meeting, request.form.get("text", ""))
    except FormError as e:
        db.session.rollback()
        return render("meetings/detail.html", status=422,
                      **_detail_context(meeting, note_form=request.form, errors=e.errors))
    db.session.commit()
    flash(_("Thanks for your feedback."), "success")
    return _redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#feedback")


# --- the calendar subscription ---------------------------------------------------------------------

def _feed_url(token: str) -> str:
    return url_for("meetings.feed", token=token, _external=True)


@bp.route("/calendar")
@login_required
def calendar() -> Response:
    """My subscription URL (made on request, never by looking at this page), to copy or revoke."""
    row = services.calendar_token(current_user)
    return render("meetings/calendar.html", url=_feed_url(row.token) if row else None)


@bp.route("/calendar", methods=["POST"])
@login_required
def calendar_change() -> Response:
    if request.form.get("action") == "revoke":
        services.revoke_calendar_token(current_user)
        message = _("Your calendar link is off. Calendars using it stop updating.")
    else:
        services.new_calendar_token(current_user)
        message = _("Your calendar link is ready. Copy it into your calendar app.")
    db.session.commit()
    flash(message, "success")
    return _redirect(url_for("meetings.calendar"))


@bp.route("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """The subscription feed: no login (calendar apps can't log in), the secret in the URL is the key."""
    person = services.person_for_token(token)
    if person is None:
        abort(404)
    body = services.calendar_feed(
        person, lambda m: url_for("meetings.detail", meeting_id=m.id, _external=True))
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
