"""Feedback as cards (perfapp.core.cards): the facets a viewer changes, and how misses load."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from perfapp.core import cards, versions
from perfapp.extensions import db
from perfapp.feedback import bp

if TYPE_CHECKING:
    from perfapp.feedback.models import Feedback


class FeedbackFacets(NamedTuple):
    """What differs between viewers of one feedback card."""

    show_author: bool   # confidential feedback shows its author to nobody but the author
    me: str             # "author", "recipient" or "": the card says "you" instead of the name
    may_promote: bool   # managers and HR may turn public praise into a story
    may_report: bool    # anyone but the author may report it
    mine: tuple[str, ...]  # the viewer's own reactions
    goal_shown: bool    # given on a goal the viewer may see: the card names it
    meeting_shown: bool  # given after a meeting the viewer attended: the card names it


def _facets(rows: Sequence[Any], viewer: Any, options: dict[str, Any]) -> dict[int, FeedbackFacets]:
    from perfapp.moderation.services import reportable_type  # here: moderation imports feedback
    from perfapp.reactions.services import mine_of_rows  # here: reactions imports feedback

    own = mine_of_rows(viewer, "feedback", rows)
    goals = _visible_goals(viewer, {row.goal_id for row in rows if row.goal_id is not None})
    meetings = _visible_meetings(viewer, {row.meeting_id for row in rows if row.meeting_id is not None})
    coach = bool(viewer.is_hr or viewer.is_manager) and not options.get("no_promote")
    # Read once, not per card (a feed page is 20 of them: the viewer's attributes go through the ORM).
    viewer_id, reportable = viewer.id, reportable_type("feedback")
    out = {}
    for row in rows:
        mine = row.author_id == viewer_id
        out[row.id] = FeedbackFacets(
            show_author=mine or not row.confidential,
            me="author" if mine else "recipient" if row.recipient_id == viewer_id else "",
            may_promote=(coach and row.visibility == "public" and row.kind == "praise" and not row.development_only
                         and not row.confidential and not row.hidden),
            may_report=reportable and not mine, mine=own.get(row.id, ()),
            goal_shown=row.goal_id in goals, meeting_shown=row.meeting_id in meetings)
    return out


def _visible_goals(viewer: Any, ids: set[int]) -> set[int]:
    """Which of these goals the viewer may see (one query, none when no card names a goal)."""
    if not ids:
        return set()
    from perfapp.goals.models import Goal  # here: goals' models import feedback's
    from perfapp.goals.services import visible_to

    return set(db.session.scalars(select(Goal.id).where(Goal.id.in_(ids), visible_to(viewer))))


def _visible_meetings(viewer: Any, ids: set[int]) -> set[int]:
    """Which of these meetings the viewer attended or organised (a meeting is theirs alone)."""
    if not ids:
        return set()
    from perfapp.meetings.models import (  # here: meetings' models import feedback's
        Meeting,
        MeetingAttendee,
    )

    attended = select(MeetingAttendee.meeting_id).where(MeetingAttendee.user_id == viewer.id)
    return set(db.session.scalars(select(Meeting.id).where(
        Meeting.id.in_(ids), or_(Meeting.organizer_id == viewer.id, Meeting.id.in_(attended)))))


def _load(ids: list[int]) -> dict[int, Any]:
    from perfapp.feedback.services import load_items

    return {item.id: item for item in load_items(ids)}


def reactions(target_type: str) -> dict[str, Any]:
    """A card kind's `shared` and `context` for the reaction bar (feedback's, flowers' and badge
    awards' cards carry it): the counts, the same for every viewer and kept with the record, and
    the viewer's own reactions from their facets."""
    def shared(records: list[Any]) -> dict[int, Any]:
        from perfapp.reactions.services import summaries  # here: reactions imports feedback

        return summaries(target_type, [r.id for r in records], None)

    def context(counts: Any, facets: Any) -> dict[str, Any]:
        from perfapp.reactions.services import Summary  # here: reactions imports feedback

        # A card in a list: its thread closed (not open as on the target's own page), so its
        # cached HTML is the same whichever page first showed it.
        return {"rx": Summary(counts=counts.counts, mine=set(facets.mine), comments=counts.comments),
                "thread_open": False}

    return {"shared": shared, "context": context}


def own_reactions(target_type: str) -> Any:
    """A card kind's `viewer_columns`: the viewer's own reactions, read with the light rows."""
    def columns(model: Any) -> tuple[Any, ...]:
        from perfapp.reactions.services import mine_columns  # here: reactions imports feedback

        return mine_columns(target_type, model)

    return columns


def reported_placeholders_for(target_type: str) -> Any:
    """A card kind's `replaced`: the placeholder for rows the viewer reported."""
    def replaced(ids: list[int], viewer: Any) -> dict[int, Markup]:
        from perfapp.moderation.cards import (
            reported_placeholders,  # here: moderation imports feedback
        )

        return reported_placeholders(viewer, target_type, ids)

    return replaced


@cache
def kind() -> cards.CardKind:
    """The feedback card kind (made on first use: the models import this package)."""
    from perfapp.feedback.models import Feedback

    return cards.CardKind(
        name="feedback", template="feedback/_item.html", model=Feedback, var="item",
        columns=("author_id", "recipient_id", "confidential", "visibility", "kind", "development_only", "hidden",
                 "goal_id", "meeting_id"),
        facets=_facets, load=_load, **reactions("feedback"),
        replaced=reported_placeholders_for("feedback"), viewer_columns=own_reactions("feedback"))


@bp.app_template_global("feedback_cards")
def feedback_cards(ids: Sequence[int], no_promote: bool = False) -> cards.Cards:
    """The cards for these feedback ids, in order, as the current viewer sees them."""
    viewer = current_user._get_current_object()
    return cards.render(kind(), list(ids), viewer, no_promote=no_promote)


def feedback_cards_of(rows: Sequence[Any]) -> cards.Cards:
    """The cards for these light rows (a statement made with `cards.with_light_rows`, its
    "viewer_id" the current viewer's), in order, as the current viewer sees them."""
    viewer = current_user._get_current_object()
    return cards.Cards.of(cards.plan_rows(kind(), rows, viewer), [row.id for row in rows])


@bp.app_template_global("feedback_card")
def feedback_card(item: Any, no_promote: bool = False) -> Markup:
    """One card (a list of one): `item` is a feedback row or its id."""
    found = feedback_cards([getattr(item, "id", item)], no_promote)
    return found[0] if found else Markup("")


@bp.app_template_global("feedback_facets")
def feedback_facets(item: Feedback, no_promote: bool = False) -> FeedbackFacets:
    """The facets of a card included directly (its own page, a story's source, the inbox)."""
    viewer = current_user._get_current_object()
    return cards.facets_of(kind(), item, viewer, no_promote=no_promote)  # type: ignore[return-value]


def connect() -> None:
    """What a feedback card shows of other rows: their changes move its version."""
    from perfapp.feedback.models import Feedback, FeedbackTag, Tag
    from perfapp.goals.models import Goal
    from perfapp.meetings.models import Meeting
    from perfapp.people.models import User
    from perfapp.projects.models import Milestone, Project

    versions.depends_on(User, ("stored_name",), Feedback,
                        lambda pid: or_(Feedback.author_id == pid, Feedback.recipient_id == pid))
    versions.depends_on(Tag, ("name_zh", "name_en", "kind"), Feedback, lambda tid: Feedback.id.in_(
        select(FeedbackTag.feedback_id).where(FeedbackTag.tag_id == tid)))
    versions.depends_on(Project, ("name",), Feedback, lambda pid: Feedback.project_id == pid)
    versions.depends_on(Milestone, ("name",), Feedback, lambda mid: Feedback.milestone_id == mid)
    versions.depends_on(Goal, ("title",), Feedback, lambda gid: Feedback.goal_id == gid)
    versions.depends_on(Meeting, ("title",), Feedback, lambda mid: Feedback.meeting_id == mid)
