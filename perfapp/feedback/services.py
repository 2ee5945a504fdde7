"""Feedback use cases: give, list, ask, answer, decline."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, func, literal, or_, select, tuple_, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from perfapp.core import signals
from perfapp.core.db import rows, run, utcnow
from perfapp.core.validation import FormError, bounded_int
from perfapp.extensions import db
from perfapp.feedback import voice
from perfapp.feedback.models import (
    KINDS,
    QUICK_EMOJI,
    VISIBILITIES,
    Feedback,
    FeedbackAsk,
    FeedbackRequest,
    FeedbackTag,
    Tag,
)
from perfapp.feedback.voice import VoiceUpload
from perfapp.moderation.services import ensure_can_post
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project

MAX_TEXT = 4000
MAX_TAGS = 10
MAX_TAG_LEN = 32
MAX_ASKED = 10
MAX_ABOUT = 500
REQUEST_TTL = timedelta(days=30)
MAX_REPORT_BRANCHES = 50  # home_feed: per-report branches up to this team size


@dataclass
class FeedbackInput:
    """What the compose sheet sends, already split into fields (see forms.parse_feedback)."""

    recipient_id: int | None = None
    text: str = ""
    emoji: list[str] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    free_tags: list[str] = field(default_factory=list)
    behaviour: str = ""
    impact: str = ""
    suggestion: str = ""
    kind: str = "praise"
    visibility: str = "public"
    confidential: bool = False
    development_only: bool | None = None  # None: the default for the kind
    project_id: int | None = None
    milestone_id: int | None = None
    ask_id: int | None = None
    meeting_id: int | None = None  # after a meeting the author attended
    goal_id: int | None = None  # on a goal the author can see (its page)
    checkin_id: int | None = None  # on one of its check-ins (the goal follows from it)
    voice: VoiceUpload | None = None  # a file part (perfapp.feedback.voice checks it)


def _clean_free_tag(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.strip().lstrip("#＃").strip())


def _resolve_context(project_id: int | None, milestone_id: int | None,
                     errors: dict[str, str]) -> tuple[Project | None, Milestone | None]:
    project = milestone = None
    if milestone_id is not None:
        milestone = db.session.get(Milestone, milestone_id) if milestone_id > 0 else None
        if milestone is None:
            errors["milestone_id"] = _("We couldn't find that milestone.")
        elif project_id is None:
            project_id = milestone.project_id
    if project_id is not None:
        project = db.session.get(Project, project_id) if project_id > 0 else None
        if project is None:
            errors["project_id"] = _("We couldn't find that project.")
        elif milestone is not None and milestone.project_id != project.id:
            errors["milestone_id"] = _("That milestone belongs to another project.")
    return project, milestone


def _attended(author: User, meeting_id: int) -> bool:
    # Imported here: meetings' models import people's, whose package imports feedback's views.
    from perfapp.meetings.models import MeetingAttendee

    return meeting_id > 0 and db.session.get(MeetingAttendee, (meeting_id, author.id)) is not None


def _resolve_goal(author: User, goal_id: int | None, checkin_id: int | None,
                  errors: dict[str, str]) -> tuple[int | None, int | None]:
    """(goal id, check-in id) the feedback is given on: a goal the author may see, the check-in's own."""
    # Imported here: goals' models import this package's.
    from perfapp.goals.models import CheckIn, Goal
    from perfapp.goals.services import can_see

    if goal_id is None and checkin_id is None:
        return None, None
    checkin = db.session.get(CheckIn, checkin_id) if checkin_id and checkin_id > 0 else None
    if checkin_id is not None and checkin is None:
        errors["goal_id"] = _("We couldn't find that check-in.")
        return None, None
    if checkin is not None and goal_id is not None and checkin.goal_id != goal_id:
        errors["goal_id"] = _("That check-in belongs to another goal.")
        return None, None
    wanted = checkin.goal_id if checkin is not None else goal_id
    goal = db.session.get(Goal, wanted) if wanted and wanted > 0 else None
    if goal is None or not can_see(author, goal):
        errors["goal_id"] = _("We couldn't find that goal.")
        return None, None
    return goal.id, checkin.id if checkin is not None else None


def _resolve_tags(data: FeedbackInput, errors: dict[str, str]) -> list[Tag]:
    free = [t for t in (_clean_free_tag(x) for x in data.free_tags) if t]
    if len(set(data.tag_ids)) + len(free) > MAX_TAGS:
        errors["tags"] = _("Use at most %(n)d tags.", n=MAX_TAGS)
        return []
    if any(len(t) > MAX_TAG_LEN for t in free):
        errors["tags"] = _("A tag can have at most %(n)d characters.", n=MAX_TAG_LEN)
        return []
    tags: list[Tag] = []
    if data.tag_ids:
        found = db.session.scalars(
            select(Tag).where(Tag.id.in_(set(data.tag_ids)), Tag.active.is_(True))
        ).all()
        if len(found) != len(set(data.tag_ids)):
            errors["tags"] = _("One of those tags doesn't exist any more.")
            return []
        tags.extend(found)
    # "#Teamwork" and "teamwork" are one tag: de-duplicate on the lower-cased key.
    for key, name in {n.lower(): n for n in reversed(free)}.items():
        tag = db.session.scalar(select(Tag).where(
            or_(Tag.key == key, func.lower(Tag.name_en) == key, Tag.name_zh == name)
        ).limit(1))
        if tag is None:
            # Not added to the session here: it is saved with the feedback, or never.
            tag = Tag(kind="free", name_zh=name, name_en=name, key=key)
        if tag not in tags:
            tags.append(tag)
    return tags


def _saved_free_tag(tag: Tag) -> Tag:
    """Insert a new free tag, or take the one a concurrent request has just inserted."""
    try:
        with db.session.begin_nested():
            db.session.add(tag)
            db.session.flush()
        return tag
    except IntegrityError:
        # Another writer created the same key first (PostgreSQL runs such posts in parallel).
        return db.session.scalars(select(Tag).where(Tag.key == tag.key)).one()


def _check_recipient(author: User, recipient_id: int | None, errors: dict[str, str],
                     field_name: str = "recipient_id") -> User | None:
    if recipient_id is None:
        errors[field_name] = _("Choose who the feedback is for.")
        return None
    recipient = db.session.get(User, recipient_id) if recipient_id > 0 else None
    if recipient is None:
        errors[field_name] = _("We couldn't find that person.")
    elif recipient.id == author.id:
        errors[field_name] = _("You can't give feedback to yourself.")
    elif not recipient.active:
        errors[field_name] = _("%(name)s is no longer active.", name=recipient.name)
    else:
        return recipient
    return None


def give_feedback(author: User, data: FeedbackInput) -> Feedback:
    """Validate and store one piece of feedback, then tell the other domains."""
    ensure_can_post(author)
    errors: dict[str, str] = {}
    clip = voice.prepare(data.voice, errors) if data.voice is not None else None
    recipient = _check_recipient(author, data.recipient_id, errors)
    text = data.text.strip()
    template = {k: getattr(data, k).strip() for k in ("behaviour", "impact", "suggestion")}
    for name, value in {"text": text, **template}.items():
        if len(value) > MAX_TEXT:
            errors[name] = _("Keep it under %(n)d characters.", n=MAX_TEXT)
    emoji = list(dict.fromkeys(e for e in data.emoji if e))
    if any(e not in QUICK_EMOJI for e in emoji):
        errors["emoji"] = _("Pick emoji from the row.")
    if data.kind not in KINDS:
        errors["kind"] = _("Choose praise, suggestion or constructive.")
    if data.visibility not in VISIBILITIES:
        errors["visibility"] = _("Choose who can see it.")
    development_only = (data.kind == "constructive") if data.development_only is None else data.development_only
    if data.visibility == "public" and (data.kind != "praise" or development_only):
        errors["visibility"] = _(
            "Only praise can go on the praise wall. Choose “only the recipient” or "
            "“recipient and their manager”."
        )
    project, milestone = _resolve_context(data.project_id, data.milestone_id, errors)
    if data.meeting_id is not None and not _attended(author, data.meeting_id):
        errors["meeting_id"] = _("We couldn't find that meeting among yours.")
    goal_id, checkin_id = _resolve_goal(author, data.goal_id, data.checkin_id, errors)
    tags = _resolve_tags(data, errors)
    ask = None
    if data.ask_id is not None:
        ask = db.session.get(FeedbackAsk, data.ask_id) if data.ask_id > 0 else None
        if ask is None or ask.recipient_id != author.id or ask.effective_status != "open":
            errors["ask_id"] = _("This request is closed or was not sent to you.")
        elif recipient is not None and ask.request.requester_id != recipient.id:
            errors["recipient_id"] = _("Answer the person who asked.")
        elif data.confidential:
            # The person who asked sees whom they asked and that this ask was answered, at the
            # moment it arrives: a confidential answer would be signed by its own timing.
            errors["confidential"] = _("An answer to a request can't be confidential: the person who "
                                       "asked knows whom they asked. Give feedback without the request "
                                       "to stay unnamed.")
    if not (text or emoji or tags or any(template.values()) or data.voice) and "tags" not in errors:
        errors["text"] = _("Write a line, pick an emoji, record a voice note or add a tag.")
    if errors or recipient is None:  # None only with an error said
        raise FormError(errors)

    feedback = Feedback(
        author_id=author.id, recipient_id=recipient.id, kind=data.kind,
        visibility=data.visibility, confidential=bool(data.confidential),
        development_only=development_only, text=text, emoji=" ".join(emoji),
        behaviour=template["behaviour"], impact=template["impact"], suggestion=template["suggestion"],
        project_id=project.id if project else None, milestone_id=milestone.id if milestone else None,
        ask_id=ask.id if ask else None, meeting_id=data.meeting_id, goal_id=goal_id, checkin_id=checkin_id,
    )
    feedback.tags = [_saved_free_tag(t) if t.id is None else t for t in tags]
    db.session.add(feedback)
    if clip is not None:
        voice.attach(feedback, clip)
    if ask is not None:
        ask.status = "answered"
        ask.responded_at = utcnow()
    db.session.flush()
    signals.feedback_given.send(feedback, feedback=feedback)
    return feedback


# --- reading -----------------------------------------------------------------

Cursor = tuple[datetime, int]


def encode_cursor(item: Any) -> str:
    return f"{item.created_at.isoformat()}_{item.id}"


def decode_cursor(raw: str | None) -> Cursor | None:
    """Parse a keyset cursor; a malformed one is treated as the first page."""
    if not raw:
        return None
    try:
        stamp, ident = raw.rsplit("_", 1)
        return datetime.fromisoformat(stamp), bounded_int(ident)
    except ValueError:
        return None


def _before(cursor: Cursor | None):
    if cursor is None:
        return True
    # A row-value comparison lets both engines seek straight into the (…, created_at, id)
    # indexes; the equivalent OR of two conditions makes them scan from the newest row.
    return tuple_(Feedback.created_at, Feedback.id) < tuple_(*cursor)


def load_items(ids: list[int]) -> list[Feedback]:
    """Feedback rows for these ids, in that order, with what their cards show loaded."""
    if not ids:
        return []
    rows = db.session.scalars(
        select(Feedback).where(Feedback.id.in_(ids)).options(
            joinedload(Feedback.author), joinedload(Feedback.recipient),
            joinedload(Feedback.project), joinedload(Feedback.milestone),
            # goal and meeting: relationships the goals and meetings domains add to Feedback.
            joinedload(Feedback.goal), joinedload(Feedback.meeting),  # type: ignore[attr-defined]
            selectinload(Feedback.tags),
        )
    ).unique().all()
    by_id = {f.id: f for f in rows}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class TagLabel:
    """A tag as a list or a strip shows it, in the page's language (a plain value: kept pages
    take these, perfapp.core.pages)."""

    id: int
    name: str
    kind: str

    @classmethod
    def of(cls, tag: Tag) -> TagLabel:
        return cls(tag.id, tag.name, tag.kind)


class FeedRef(NamedTuple):
    """One row of a feed page: what the page needs to fetch its card (perfapp.feedback.cards)."""

    id: int
    created_at: datetime


def _merged_page(branches: list, before: Any, limit: Any) -> Select:
    """Newest-first keyset page over the union of several indexed branches (hidden rows left out)."""
    subqueries = [
        select(Feedback.id, Feedback.created_at).where(cond, Feedback.hidden.is_(False), before)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit).subquery()
        for cond in branches
    ]
    if len(subqueries) == 1:
        merged = subqueries[0]
    else:
        merged = union(*[select(sq.c.id, sq.c.created_at) for sq in subqueries]).subquery()
    return (select(merged.c.id, merged.c.created_at)
            .order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit))


_TEAM_MAY_SEE = ("public", "manager")
#: as bound values written into the statement (`IN (:a, :b)`): a list of values would expand at each
#: execution instead, and then the statement could not run on the cursor (db.rows)
_TEAM_MAY_SEE_SQL = [literal(value) for value in _TEAM_MAY_SEE]
#: The feeds' branch conditions by name, each on one parameter: their statements are built once per
#: combination of names (building a union of branches cost more than SQLite running it).
_BRANCHES: dict[str, Any] = {
    "recipient": lambda p: Feedback.recipient_id == p,
    "report": lambda p: and_(Feedback.recipient_id == p, Feedback.visibility.in_(_TEAM_MAY_SEE_SQL)),
    "reports": lambda p: and_(Feedback.recipient_id.in_(p), Feedback.visibility.in_(_TEAM_MAY_SEE_SQL)),
    "author": lambda p: Feedback.author_id == p,
    "public praise": lambda p: and_(Feedback.visibility == "public", Feedback.kind == "praise",
                                    Feedback.development_only.is_(False), Feedback.recipient_id == p),
}


@lru_cache(maxsize=256)
def _page_statement(shapes: tuple[str, ...], after_cursor: bool) -> Select:
    branches = [_BRANCHES[shape](bindparam(f"b{n}", expanding=shape == "reports"))
                for n, shape in enumerate(shapes)]
    before = (tuple_(Feedback.created_at, Feedback.id) < tuple_(bindparam("cursor_at"), bindparam("cursor_id"))
              if after_cursor else True)
    return _merged_page(branches, before, bindparam("n"))


@lru_cache(maxsize=256)
def card_page_statement(shapes: tuple[str, ...], after_cursor: bool) -> Select:
    """A feed page's light rows (perfapp.core.cards.with_light_rows): its ids and its cards'
    versions and facet columns as one statement (parameters: `page_params`, and "viewer_id")."""
    from perfapp.core.cards import with_light_rows
    from perfapp.feedback.cards import kind  # here: the cards module imports these services' models

    return with_light_rows(kind(), _page_statement(shapes, after_cursor))


def page_params(branches: list[tuple[str, Any]], cursor: Cursor | None, limit: int) -> dict[str, Any]:
    """The bind parameters of `_page_statement` / `card_page_statement` for these branches."""
    params: dict[str, Any] = {f"b{n}": value for n, (_shape, value) in enumerate(branches)}
    params["n"] = limit + 1
    if cursor is not None:
        params["cursor_at"], params["cursor_id"] = cursor
    return params


def page_of(rows: Sequence[Any], limit: int) -> tuple[list[Any], str | None]:
    """A page of `limit` rows (read one more: whether there is a next page) and its next cursor."""
    page = list(rows[:limit])
    return page, encode_cursor(page[-1]) if len(rows) > limit and page else None


def _page(branches: list[tuple[str, Any]] | list, cursor: Cursor | None,
          limit: int) -> tuple[list[FeedRef], str | None]:
    """Only the ids of a page; cards come from the cache, and only the missing ones load rows.
    `branches` are (name in _BRANCHES, value) pairs, or SQL conditions (built on each call)."""
    if branches and all(isinstance(b, tuple) for b in branches):
        stmt = _page_statement(tuple(shape for shape, _value in branches), cursor is not None)
        result = run(stmt, page_params(branches, cursor, limit))
    else:
        result = run(_merged_page(branches, _before(cursor), limit + 1))
    return page_of([FeedRef(i, t) for i, t in result], limit)


def card_page(branches: list[tuple[str, Any]], viewer: User, cursor: Cursor | None,
              limit: int) -> tuple[list[Any], str | None]:
    """A feed page as its cards' light rows (ids, versions, facet columns: feedback.cards.
    feedback_cards_of), in one statement rather than one for the ids and one for the rows."""
    stmt = card_page_statement(tuple(shape for shape, _value in branches), cursor is not None)
    params = page_params(branches, cursor, limit)
    params["viewer_id"] = viewer.id
    return page_of(rows(stmt, params), limit)


def home_feed(viewer: User, cursor: Cursor | None = None, limit: int = 20) -> tuple[list[FeedRef], str | None]:
    """What I received and (for managers) what my reports received that I may see. What I gave
    has its own list (given_feed, the Given section): Home leads with what others said. The Home
    view reads the same page, with its cards' light rows, through card_page_statement."""
    return _page(home_branches(viewer), cursor, limit)


def home_branches(viewer: User) -> list[tuple[str, Any]]:
    """Home's feed branches (see home_feed)."""
    branches: list[tuple[str, Any]] = [("recipient", viewer.id)]
    if viewer.is_manager:
        reports = list(run(_reports_of(), {"manager_id": viewer.id}).scalars())
        if len(reports) <= MAX_REPORT_BRANCHES:
            # One branch per report, each reading only that person's newest rows from
            # ix_feedback_recipient_time. A single `recipient_id IN (…)` branch makes
            # PostgreSQL fetch and sort the team's whole history on every page.
            branches += [("report", rid) for rid in reports]
        else:
            branches.append(("reports", reports))
    return branches


@cache
def _reports_of() -> Select:
    return select(User.id).where(User.manager_id == bindparam("manager_id"))


def given_feed(author: User, cursor: Cursor | None = None, limit: int = 20) -> tuple[list[FeedRef], str | None]:
    """Feedback this person wrote."""
    return _page([("author", author.id)], cursor, limit)


def project_feed(viewer: User, project_id: int, cursor: Cursor | None = None,
                 limit: int = 20) -> tuple[list[FeedRef], str | None]:
    """A project's feedback stream: what was given in its context that this viewer may read."""
    return _page([and_(Feedback.project_id == project_id, Feedback.visible_to(viewer))], cursor, limit)


def public_praise_of(recipient_id: int, cursor: Cursor | None = None,
                     limit: int = 20) -> tuple[list[FeedRef], str | None]:
    """The public praise one person received (their profile), never constructive or development-only.
    (The company's praise wall, with flowers and badges, is perfapp.walls.services.praise_wall.)"""
    return _page([("public praise", recipient_id)], cursor, limit)


def public_praise_cards(recipient_id: int, viewer: User, cursor: Cursor | None = None,
                        limit: int = 20) -> tuple[list[Any], str | None]:
    """`public_praise_of` as the cards' light rows (see card_page)."""
    return card_page([("public praise", recipient_id)], viewer, cursor, limit)


def tag_profile(person_id: int, viewer: User, limit: int = 12) -> list[tuple[TagLabel, int]]:
    """Counts of tags this person received, over the feedback the viewer may read, as the page's
    labels (Core rows: the profile shows a tag's name and kind, never the Tag itself)."""
    zh = str(get_locale() or "en").startswith("zh")
    found = rows(_tag_profile(viewer.is_hr), {"person_id": person_id, "viewer_id": viewer.id, "n": limit})
    return [(TagLabel(tag_id, name_zh if zh else name_en, kind), n) for tag_id, kind, name_zh, name_en, n in found]


@cache
def _tag_profile(is_hr: bool) -> Select:
    # Count on the link table's integer key first and join the few tags afterwards: the
    # filter then runs on ix_feedback_recipient_visibility alone (an index-only scan).
    counts = (
        select(FeedbackTag.tag_id, func.count().label("n"))
        .join(Feedback, Feedback.id == FeedbackTag.feedback_id)
        .where(Feedback.recipient_id == bindparam("person_id"),
               Feedback.readable_where(bindparam("viewer_id"), is_hr))
        .group_by(FeedbackTag.tag_id).subquery()
    )
    return (select(Tag.id, Tag.kind, Tag.name_zh, Tag.name_en, counts.c.n).join(counts, counts.c.tag_id == Tag.id)
            .order_by(counts.c.n.desc(), Tag.id).limit(bindparam("n")))


def get_visible(viewer: User, feedback_id: int) -> Feedback | None:
    """One feedback item if the viewer may read it, else None (callers answer 404)."""
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None or not feedback.can_be_read_by(viewer):
        return None
    return feedback


def active_tags() -> list[Tag]:
    """The taxonomy offered on the compose sheet: values first, then capabilities."""
    return list(db.session.scalars(
        select(Tag).where(Tag.active.is_(True), Tag.kind.in_(("value", "capability")))
        .order_by(Tag.kind.desc(), Tag.id)
    ))


# --- asking for feedback ------------------------------------------------------

def request_feedback(requester: User, recipient_ids: list[int], about: str,
                     project_id: int | None = None, milestone_id: int | None = None) -> FeedbackRequest:
    """Ask up to ten people for feedback; each gets an inbox entry."""
    errors: dict[str, str] = {}
    ids = list(dict.fromkeys(recipient_ids))
    about = about.strip()
    if not ids:
        errors["recipient_ids"] = _("Choose at least one person to ask.")
    elif len(ids) > MAX_ASKED:
        errors["recipient_ids"] = _("You can ask at most %(n)d people at once.", n=MAX_ASKED)
    people: list[User] = []
    if "recipient_ids" not in errors:
        for rid in ids:
            person = _check_recipient(requester, rid, errors, "recipient_ids")
            if person is None:
                break
            people.append(person)
    if not about:
        errors["about"] = _("Say what you would like feedback on.")
    elif len(about) > MAX_ABOUT:
        errors["about"] = _("Keep it under %(n)d characters.", n=MAX_ABOUT)
    project, milestone = _resolve_context(project_id, milestone_id, errors)
    if errors:
        raise FormError(errors)
    now = utcnow()
    req = FeedbackRequest(
        requester_id=requester.id, about=about, project_id=project.id if project else None,
        milestone_id=milestone.id if milestone else None, created_at=now, expires_at=now + REQUEST_TTL,
    )
    req.asks = [FeedbackAsk(recipient_id=p.id) for p in people]
    db.session.add(req)
    db.session.flush()
    signals.feedback_requested.send(req, request=req)
    return req


def get_ask_for(user: User, ask_id: int) -> FeedbackAsk | None:
    """An ask addressed to this person, or None."""
    ask = db.session.get(FeedbackAsk, ask_id)
    return ask if ask is not None and ask.recipient_id == user.id else None


def decline_ask(user: User, ask_id: int) -> FeedbackAsk:
    """Politely say no to a request."""
    ask = get_ask_for(user, ask_id)
    if ask is None:
        raise LookupError(ask_id)
    if ask.effective_status != "open":
        raise FormError({"form": _("This request is already closed.")})
    ask.status = "declined"
    ask.responded_at = utcnow()
    db.session.flush()
    return ask


def open_asks_for(user: User, limit: int = 20) -> list[FeedbackAsk]:
    """Requests waiting for this person's answer, newest first."""
    return list(db.session.scalars(
        select(FeedbackAsk).join(FeedbackAsk.request)
        .where(FeedbackAsk.recipient_id == user.id, FeedbackAsk.status == "open",
               FeedbackRequest.expires_at > utcnow())
        .options(joinedload(FeedbackAsk.request).joinedload(FeedbackRequest.requester))
        .order_by(FeedbackRequest.created_at.desc()).limit(limit)
    ))


@cache
def open_asks_statement() -> Select:
    """Requests waiting for :person_id's answer at :now, and when the first of them expires (Home
    folds it into one statement: its count changes then by time alone)."""
    return (select(func.count(), func.min(FeedbackRequest.expires_at)).select_from(FeedbackAsk).join(FeedbackAsk.request)
            .where(FeedbackAsk.recipient_id == bindparam("person_id"), FeedbackAsk.status == "open",
                   FeedbackRequest.expires_at > bindparam("now")))


def open_asks_count(user: User) -> int:
    """How many requests are waiting for this person's answer (Home's one-line summary)."""
    return run(open_asks_statement(), {"person_id": user.id, "now": utcnow()}).scalar() or 0


def sent_requests(user: User, limit: int = 20) -> list[FeedbackRequest]:
    """This person's own requests with each ask's state."""
    return list(db.session.scalars(
        select(FeedbackRequest).where(FeedbackRequest.requester_id == user.id)
        .options(selectinload(FeedbackRequest.asks).joinedload(FeedbackAsk.recipient))
        .order_by(FeedbackRequest.created_at.desc()).limit(limit)
    ))


# --- the give sheet: whom to suggest, which tags to show ---------------------------------

SUGGEST_LIMIT = 8
SUGGEST_WINDOW = timedelta(days=90)
POPULAR_TAGS = 6


@dataclass
class Suggestion:
    """A person the give sheet offers before anything is typed, and why (a reason key)."""

    person: User
    reason: str  # "asked" | "manager" | "report" | "recent" | "team"


def give_suggestions(viewer: User, limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """Who the viewer most likely wants to give to, most pressing reason first.

    Never the viewer, never deactivated people, and never someone known only as the author of
    confidential feedback the viewer received (suggesting them would name them)."""
    since = utcnow() - SUGGEST_WINDOW
    ranked: dict[int, str] = {}

    def add(ids: list[int], reason: str) -> None:
        for pid in ids:
            if pid != viewer.id and pid not in ranked:
                ranked[pid] = reason

    asked = db.session.scalars(
        select(FeedbackRequest.requester_id).join(FeedbackAsk, FeedbackAsk.request_id == FeedbackRequest.id)
        .where(FeedbackAsk.recipient_id == viewer.id, FeedbackAsk.status == "open",
               FeedbackRequest.expires_at > utcnow())
        .order_by(FeedbackRequest.created_at.desc()).limit(limit)
    ).all()
    add(list(asked), "asked")
    if viewer.manager_id:
        add([viewer.manager_id], "manager")
    add(list(db.session.scalars(
        select(User.id).where(User.manager_id == viewer.id).order_by(User.sort_key, User.id).limit(limit))), "report")
    given = select(Feedback.recipient_id.label("pid"), Feedback.created_at.label("at")).where(
        Feedback.author_id == viewer.id, Feedback.created_at >= since)
    received = select(Feedback.author_id.label("pid"), Feedback.created_at.label("at")).where(
        Feedback.recipient_id == viewer.id, Feedback.created_at >= since, Feedback.confidential.is_(False))
    both = union(given, received).subquery()
    add(list(db.session.scalars(
        select(both.c.pid).group_by(both.c.pid).order_by(func.max(both.c.at).desc()).limit(limit))), "recent")
    if viewer.manager_id:
        add(list(db.session.scalars(
            select(User.id).where(User.manager_id == viewer.manager_id).order_by(User.sort_key, User.id).limit(limit))), "team")
    ids = list(ranked)
    people = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(ids), User.active.is_(True)))} if ids else {}
    return [Suggestion(people[pid], ranked[pid]) for pid in ids if pid in people][:limit]


def popular_value_tags(limit: int = POPULAR_TAGS) -> list[Tag]:
    """The value tags used most in the last 90 days (feedback), topped up with the others in order."""
    since = utcnow() - SUGGEST_WINDOW
    used = db.session.execute(
        select(Tag.id, func.count().label("n")).join(FeedbackTag, FeedbackTag.tag_id == Tag.id)
        .join(Feedback, Feedback.id == FeedbackTag.feedback_id)
        .where(Tag.kind == "value", Tag.active.is_(True), Feedback.created_at >= since)
        .group_by(Tag.id).order_by(func.count().desc(), Tag.id).limit(limit)
    ).all()
    order = [row.id for row in used]
    values = db.session.scalars(select(Tag).where(Tag.kind == "value", Tag.active.is_(True)).order_by(Tag.id)).all()
    by_id = {t.id: t for t in values}
    order += [t.id for t in values if t.id not in order]
    return [by_id[i] for i in order[:limit]]
