"""Feedback as cards (perfapp.core.cards): the facets a viewer changes, and how misses load."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from perfapp.core import cards, versions
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


def _facets(rows: Sequence[Any], viewer: Any, options: dict[str, Any]) -> dict[int, FeedbackFacets]:
    from perfapp.moderation.services import can_report  # here: moderation imports feedback
    from perfapp.reactions.services import mine  # here: reactions imports feedback

    own = mine(viewer, "feedback", [row.id for row in rows])
    coach = bool(viewer.is_hr or viewer.is_manager) and not options.get("no_promote")
    out = {}
    for row in rows:
        public_praise = row.visibility == "public" and row.kind == "praise" and not row.development_only
        me = "author" if row.author_id == viewer.id else "recipient" if row.recipient_id == viewer.id else ""
        out[row.id] = FeedbackFacets(
            show_author=not row.confidential or row.author_id == viewer.id, me=me,
            may_promote=coach and public_praise and not row.confidential and not row.hidden,
            may_report=can_report(viewer, "feedback", row), mine=own.get(row.id, ()))
    return out


def _load(ids: list[int]) -> dict[int, Any]:
    from perfapp.feedback.services import load_items

    return {item.id: item for item in load_items(ids)}


def reaction_context(target_type: str) -> Any:
    """A card kind's `context`: the shared reaction counts, with the viewer's own from the facets
    (feedback's, flowers' and badge awards' cards all carry the reaction bar)."""
    def context(records: list[Any], viewer: Any, facets: dict[int, Any]) -> dict[int, dict[str, Any]]:
        from perfapp.reactions.services import (  # here: reactions imports feedback
            Summary,
            summaries,
        )

        counts = summaries(target_type, [r.id for r in records], viewer)
        return {i: {"rx": Summary(counts=s.counts, mine=set(facets[i].mine), comments=s.comments)}
                for i, s in counts.items()}

    return context


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
        columns=("author_id", "recipient_id", "confidential", "visibility", "kind", "development_only", "hidden"),
        facets=_facets, load=_load, context=reaction_context("feedback"),
        replaced=reported_placeholders_for("feedback"))


@bp.app_template_global("feedback_cards")
def feedback_cards(ids: Sequence[int], no_promote: bool = False) -> list[Markup]:
    """The cards for these feedback ids, in order, as the current viewer sees them."""
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    return cards.render(kind(), list(ids), viewer, no_promote=no_promote)


@bp.app_template_global("feedback_card")
def feedback_card(item: Any, no_promote: bool = False) -> Markup:
    """One card (a list of one): `item` is a feedback row or its id."""
    found = feedback_cards([getattr(item, "id", item)], no_promote)
    return found[0] if found else Markup("")


@bp.app_template_global("feedback_facets")
def feedback_facets(item: Feedback, no_promote: bool = False) -> FeedbackFacets:
    """The facets of a card included directly (its own page, a story's source, the inbox)."""
    viewer = current_user._get_current_object()  # type: ignore[attr-defined]
    return cards.facets_of(kind(), item, viewer, no_promote=no_promote)  # type: ignore[return-value]


def connect() -> None:
    """What a feedback card shows of other rows: their changes move its version."""
    from perfapp.feedback.models import Feedback, FeedbackTag, Tag
    from perfapp.people.models import User
    from perfapp.projects.models import Milestone, Project

    versions.depends_on(User, ("stored_name",), Feedback,
                        lambda pid: or_(Feedback.author_id == pid, Feedback.recipient_id == pid))
    versions.depends_on(Tag, ("name_zh", "name_en", "kind"), Feedback, lambda tid: Feedback.id.in_(
        select(FeedbackTag.feedback_id).where(FeedbackTag.tag_id == tid)))
    versions.depends_on(Project, ("name",), Feedback, lambda pid: Feedback.project_id == pid)
    versions.depends_on(Milestone, ("name",), Feedback, lambda mid: Feedback.milestone_id == mid)
