"""Home feed, compose sheet, feedback pages and feedback requests."""
from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from flask import Response, abort, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, select, true

from perfapp.core import pages
from perfapp.core.db import rows, utcnow
from perfapp.core.htmx import is_htmx, redirect, render, wants_json
from perfapp.core.idempotency import idempotent
from perfapp.core.ratelimit import per_person
from perfapp.core.security import resource
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback import bp, services, voice
from perfapp.feedback.cards import feedback_cards_of
from perfapp.feedback.forms import parse_feedback
from perfapp.feedback.models import KINDS, QUICK_EMOJI, Feedback
from perfapp.people.models import User
from perfapp.projects.models import Project


@bp.url_value_preprocessor
def _cap_upload_size(endpoint: str | None, _values: dict | None) -> None:
    # URL value preprocessors run before every before_request hook, CSRF's included (it parses
    # the body): so an oversized voice note is refused from its Content-Length, unread.
    if endpoint == "feedback.compose":
        request.max_content_length = voice.MAX_REQUEST_BYTES


ASKS_ON_HOME = 20  # unfolded from the one-line summary; more wait in the inbox


@login_required
def home() -> Response:
    """Home: a give action, the requests waiting for me folded into one line, then what I (and,
    for managers, my team) received. Infinite scroll loads the next page as a fragment.

    Everything the page shows is worked out here as plain values (the cards' HTML included), so
    the page is kept per viewer and served again while it would render the same (keep=True)."""
    # Imported here: onboarding and reviews import feedback's models (and notify, which imports us).
    from perfapp.onboarding.services import getting_started
    from perfapp.reviews.services import waiting_of

    viewer = current_user._get_current_object()
    cursor = services.decode_cursor(request.args.get("before"))
    result = _home_rows(viewer, cursor)
    context: dict[str, Any] = {"asks_count": 0, "gs": None, "reviews": None}
    if cursor is None:  # the first page's counters came first in each row (one row if the feed is empty)
        counters = result[0][:_counter_count()]
        context = {"asks_count": counters[0] or 0, "gs": getting_started(viewer, _progress(result)),
                   "reviews": waiting_of(counters[-2:])}
    items, next_cursor = services.page_of([row for row in result if row.id is not None], HOME_PAGE)
    return render("feedback/home.html", "feedback/_items.html", target="feed-more", keep=True,
                  has_items=bool(items), cards=feedback_cards_of(items), next_cursor=next_cursor,
                  more_url=url_for("home"), **context)


HOME_PAGE = 20


def _home_rows(viewer: User, cursor: services.Cursor | None) -> list[Any]:
    """Everything Home shows besides the viewer: one statement's rows, read once per request (by
    the page's stamp, then by the view: see `_home_stamp`)."""
    def load() -> list[Any]:
        branches = services.home_branches(viewer)
        params = services.page_params(branches, cursor, HOME_PAGE)
        params.update(viewer_id=viewer.id, person_id=viewer.id, now=utcnow())
        return rows(_home_statement(tuple(shape for shape, _value in branches), cursor is not None), params)

    return pages.once(("home", viewer.id, cursor), load)


def _home_stamp() -> tuple[Any, ...] | None:
    """Home is a function of `_home_rows` (and the viewer): found before the view while they are
    the same. Not while the getting-started cards show (they also read the flowers left and the
    quiet hours), nor when a card names a goal or a meeting (whether the viewer may see those is
    read apart: feedback.cards)."""
    from perfapp.onboarding.services import shows_tips

    cursor = services.decode_cursor(request.args.get("before"))
    found = _home_rows(current_user._get_current_object(), cursor)
    if cursor is None and shows_tips(_progress(found)):
        return None
    if any(row.goal_id is not None or row.meeting_id is not None for row in found):
        return None
    if cursor is None:  # the counts change by time alone when a request expires or a review cycle closes
        pages.changes_by_time_at(found[0][1], found[0][_counter_count() - 1])
    return tuple(tuple(row) for row in found)


pages.stamped("home", _home_stamp)


def _progress(rows: list[Any]) -> tuple[bool, int]:
    """The getting-started progress from the counters in front of Home's first page's rows."""
    from perfapp.onboarding.services import progress_of

    return progress_of(rows[0][2:_counter_count() - 2])


@lru_cache(maxsize=256)
def _home_statement(shapes: tuple[str, ...], after_cursor: bool) -> Select:
    """Home as one statement: its feed page's ids with its cards' light rows
    (services.card_page_statement) and, on the first page, the counters in front of each row,
    left-joined so that an empty feed still reads them (one row, its card columns NULL)."""
    page = services.card_page_statement(shapes, after_cursor)
    if after_cursor:
        return page
    rows, counters = page.subquery(), _home_counters().subquery()
    return (select(*counters.c, *rows.c).select_from(counters.outerjoin(rows, true()))
            .order_by(rows.c.created_at.desc(), rows.c.id.desc()))


def _counter_count() -> int:
    return len(_home_counters().selected_columns)


@cache
def _home_counters() -> Select:
    """Requests waiting for an answer (and when the first expires), the getting-started progress
    and the reviews left to write (and the nearest deadline), as one row: each domain's statement
    as a one-row subquery (each is an aggregate), cross-joined."""
    from perfapp.onboarding.services import progress_statement
    from perfapp.reviews.services import waiting_statement

    parts = [statement.subquery() for statement in (services.open_asks_statement(), progress_statement(),
                                                     waiting_statement())]
    query = select(*(column for part in parts for column in part.c)).select_from(parts[0])
    for part in parts[1:]:
        query = query.join(part, true())
    return query


@bp.route("/asks")
@login_required
def asks() -> Response:
    """The requests waiting for me: unfolded from Home's one line when it is first opened (so Home
    renders none of them), or a page of its own."""
    rows = services.open_asks_for(current_user, limit=ASKS_ON_HOME)
    return render("feedback/asks.html", "feedback/_asks.html", target="asks-list", asks=rows)


@bp.route("/given")
@login_required
def given() -> Response:
    cursor = services.decode_cursor(request.args.get("before"))
    items, next_cursor = services.given_feed(current_user, cursor)
    return render("feedback/given.html", "feedback/_items.html", target="feed-more",
                  items=items, next_cursor=next_cursor, more_url=url_for("feedback.given"))


def _projects() -> list[Project]:
    return list(db.session.scalars(
        select(Project).where(Project.archived.is_(False)).order_by(Project.name)
    ))


def _compose_context(form: dict, errors: dict[str, str]) -> dict:
    recipient = None
    rid = parse_int(form.get("recipient_id"))
    if rid and rid > 0:
        recipient = db.session.get(User, rid)
    ask = None
    ask_id = parse_int(form.get("ask_id"))
    if ask_id and ask_id > 0:
        ask = services.get_ask_for(current_user, ask_id)
    teammates = _teammates(form.get("project_id"), form.get("milestone_id"))
    meeting = _meeting(form.get("meeting_id"))
    if meeting is not None and not teammates["teammates"]:
        teammates = {"teammates": [p for p in meeting.attendees if p.active and p.id != current_user.id][:12],
                     "teammates_label": _("At “%(title)s”", title=meeting.title)}
    return {
        "form": form, "errors": errors, "recipient": recipient, "ask": ask, "meeting": meeting,
        "goal": _goal(form.get("goal_id"), form.get("checkin_id")),
        "tags": services.active_tags(), "top_tags": services.popular_value_tags(), "projects": _projects(),
        "kinds": KINDS, "kind_icons": KIND_ICONS, "audiences": audience_labels(), "quick_emoji": QUICK_EMOJI,
        # A project's teammates (a milestone nudge) replace the everyday suggestions; a picked
        # person hides the search, so no suggestions are worked out for them.
        "suggested": [] if recipient or teammates["teammates"] else services.give_suggestions(current_user),
        **teammates,
    }


KIND_ICONS = {"praise": "heart-handshake", "suggestion": "lightbulb", "constructive": "sprout"}


def audience_labels() -> dict[str, str]:
    """The give sheet's "Who sees it" options, said from the giver's side."""
    return {"public": _("Everyone (praise wall)"), "manager": _("Them and their manager"),
            "private": _("Only them")}


def _meeting(meeting_id: str | None) -> Any:
    """A meeting I attended (its nudge opens compose with ?meeting=), or None."""
    # Imported here: meetings' models import people's, whose package imports these views.
    from perfapp.meetings.models import Meeting, MeetingAttendee

    mid = parse_int(meeting_id)
    if not mid or mid <= 0 or db.session.get(MeetingAttendee, (mid, current_user.id)) is None:
        return None
    return db.session.get(Meeting, mid)


def _goal(goal_id: str | None, checkin_id: str | None) -> Any:
    """The goal the feedback is on (a goal's or a check-in's "Give feedback" opens compose so), if I may see it."""
    # Imported here: goals' models import this package's.
    from perfapp.goals.models import CheckIn
    from perfapp.goals.services import readable_goal

    cid = parse_int(checkin_id)
    checkin = db.session.get(CheckIn, cid) if cid and cid > 0 else None
    gid = checkin.goal_id if checkin is not None else parse_int(goal_id)
    return readable_goal(current_user, gid) if gid and gid > 0 else None


def _teammates(project_id: str | None, milestone_id: str | None) -> dict:
    """With a project in context (a milestone nudge opens compose so), its members are suggested."""
    pid, mid = parse_int(project_id), parse_int(milestone_id)
    project = db.session.get(Project, pid) if pid and pid > 0 else None
    if project is None or project.archived:
        return {"teammates": []}
    people = [m for m in project.members if m.active and m.id != current_user.id][:12]
    milestone = next((m for m in project.milestones if m.id == mid), None)
    label = (_("Teammates on %(project)s › %(milestone)s", project=project.name, milestone=milestone.name)
             if milestone else _("Teammates on %(project)s", project=project.name))
    return {"teammates": people, "teammates_label": label}


@bp.route("/new", methods=["GET", "POST"])
@per_person("RATELIMIT_FEEDBACK")
@login_required
@idempotent
def compose() -> Response:
    """The compose sheet. GET accepts ?to=, ?project=, ?milestone=, ?meeting=, ?ask= to pre-fill it.

    POST answers JSON to programmatic senders (the outbox): 201 {id, url} or 422 {errors}.
    """
    if request.method == "POST":
        try:
            feedback = services.give_feedback(current_user, parse_feedback(request.form, request.files))
        except FormError as e:
            db.session.rollback()
            if wants_json():
                return _json(jsonify(errors=e.errors), 422)
            form: dict[str, Any] = request.form.to_dict()
            form["emoji_list"] = request.form.getlist("emoji")
            form["tag_id_list"] = request.form.getlist("tag_ids")
            return render("feedback/compose.html", "feedback/_compose_form.html", target="compose",
                          status=422, **_compose_context(form, e.errors))
        # What the answer shows, read before the commit expires the feedback and its recipient
        # (reading them again after it took two statements).
        feedback_id, recipient_name = feedback.id, feedback.recipient.name
        sent = render("feedback/_sent.html", feedback=feedback) if is_htmx() and not wants_json() else None
        db.session.commit()
        if wants_json():
            url = url_for("feedback.detail", feedback_id=feedback_id)
            return _json(jsonify(id=feedback_id, url=url), 201)
        if sent is not None:
            sent.headers["HX-Trigger"] = "feedback-sent"
            return sent
        flash(_("Sent to %(name)s.", name=recipient_name), "success")
        return redirect(url_for("feedback.detail", feedback_id=feedback_id), 303)

    form = {"kind": "praise", "visibility": "public"}
    ask_id = parse_int(request.args.get("ask"))
    if ask_id and ask_id > 0:
        ask = services.get_ask_for(current_user, ask_id)
        if ask is not None and ask.effective_status == "open":
            req = ask.request
            form.update(ask_id=str(ask.id), recipient_id=str(req.requester_id), kind="suggestion",
                        visibility="private", project_id=str(req.project_id or ""),
                        milestone_id=str(req.milestone_id or ""))
    for arg, key in (("to", "recipient_id"), ("project", "project_id"), ("milestone", "milestone_id"),
                     ("meeting", "meeting_id"), ("goal", "goal_id"), ("checkin", "checkin_id")):
        if request.args.get(arg):
            form[key] = request.args[arg]
    return render("feedback/compose.html", **_compose_context(form, {}))


def _json(response: Response, status: int) -> Response:
    response.status_code = status
    response.vary.add("Accept")
    return response


@bp.route("/outbox")
@login_required
def outbox() -> Response:
    """Drafts & outbox: the chrome is rendered here; outbox.js lists what this device holds."""
    return render("feedback/outbox.html")


def feedback_json(item: Feedback, viewer: User) -> dict:
    """The JSON shape of one item, author left out when the viewer may not know it."""
    shown = item.author_shown_to(viewer)
    return {
        "id": item.id,
        "author": {"id": item.author.id, "name": item.author.name} if shown else None,
        "recipient": {"id": item.recipient.id, "name": item.recipient.name},
        "kind": item.kind, "visibility": item.visibility, "confidential": item.confidential,
        "development_only": item.development_only, "text": item.text, "emoji": item.emoji_list,
        "behaviour": item.behaviour, "impact": item.impact, "suggestion": item.suggestion,
        "tags": [t.name for t in item.tags],
        "project": item.project.name if item.project else None,
        "milestone": item.milestone.name if item.milestone else None,
        "created_at": item.created_at.isoformat() + "Z",
        "voice": {"url": url_for("feedback.voice_note", feedback_id=item.id), "seconds": item.voice_seconds,
                  "type": item.voice_mime} if item.voice_key else None,
    }


@bp.route("/<int:feedback_id>")
@login_required
def detail(feedback_id: int) -> Response:
    item = services.get_visible(current_user, feedback_id)
    if item is None:
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(feedback_json(item, current_user))
        response.vary.add("Accept")
        return response
    return render("feedback/detail.html", item=item)


@bp.route("/<int:feedback_id>/voice")
@resource
@login_required
def voice_note(feedback_id: int) -> Response:
    """The voice note, to the people who may read the feedback (others get 404), with Range support."""
    item = services.get_visible(current_user, feedback_id)
    if item is None or not item.voice_key:
        abort(404)
    return voice.serve(item)


# --- asking for feedback ------------------------------------------------------

@bp.route("/ask", methods=["GET", "POST"])
@login_required
def ask() -> Response:
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        ids = [n for n in (parse_int(v) for v in request.form.getlist("recipient_ids")) if n is not None]
        try:
            req = services.request_feedback(
                current_user, ids, request.form.get("about", ""),
                parse_int(request.form.get("project_id")), parse_int(request.form.get("milestone_id")),
            )
        except FormError as e:
            db.session.rollback()
            errors = e.errors
            people = list(db.session.scalars(select(User).where(User.id.in_([i for i in ids if i > 0][:20]))))
            form = {**request.form.to_dict(), "people": people}
        else:
            db.session.commit()
            flash(_("Asked %(n)d people for feedback.", n=len(req.asks)), "success")
            return redirect(url_for("feedback.ask"), 303)
    return render("feedback/ask.html", "feedback/_ask_form.html", target="ask-form",
                  status=422 if errors else 200, errors=errors, form=form, projects=_projects(),
                  sent=services.sent_requests(current_user))


@bp.route("/asks/<int:ask_id>/decline", methods=["POST"])
@login_required
def decline(ask_id: int) -> Response:
    try:
        ask_row = services.decline_ask(current_user, ask_id)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        return render("errors/page.html", "errors/_error.html", target=f"ask-{ask_id}",
                      status=409, message=e.errors["form"])
    db.session.commit()
    if is_htmx():
        return render("feedback/_ask_item.html", ask=ask_row)
    flash(_("Request declined."), "info")
    return redirect(url_for("notify.inbox"), 303)
