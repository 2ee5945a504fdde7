"""Goals as cards (perfapp.core.cards): a goal's one-line card in lists (mine, a person's goals,
contributors) and its row in the goal tree, rendered once per version and shared by every viewer.

Which goals a viewer may see is decided by the list's query (services.visible_to), never by the
card: a card shows only the goal's own row and the names of its owner, department or project, so
viewers differ only in the list options (whether the owner is shown, a tree row's count of
contributors the viewer can see)."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from perfapp.core import cards, versions
from perfapp.extensions import db
from perfapp.goals import bp


def _load(ids: list[int]) -> dict[int, Any]:
    from perfapp.goals.models import Goal

    rows = db.session.scalars(select(Goal).where(Goal.id.in_(ids)).options(
        selectinload(Goal.owner), selectinload(Goal.department), selectinload(Goal.project)))
    return {goal.id: goal for goal in rows}


def _card_facets(rows: Sequence[Any], _viewer: Any, options: dict[str, Any]) -> dict[int, Any]:
    show_owner = bool(options.get("show_owner", True))
    return {row.id: show_owner for row in rows}


def _node_facets(rows: Sequence[Any], _viewer: Any, options: dict[str, Any]) -> dict[int, Any]:
    counts = options.get("counts") or {}
    return {row.id: counts.get(row.id, 0) for row in rows}


@cache
def card_kind() -> cards.CardKind:
    from perfapp.goals.models import Goal

    return cards.CardKind(name="goal", template="goals/_card.html", model=Goal, var="goal", columns=(),
                          facets=_card_facets, load=_load)


@cache
def node_kind() -> cards.CardKind:
    from perfapp.goals.models import Goal

    return cards.CardKind(name="goal_node", template="goals/_node.html", model=Goal, var="node", columns=(),
                          facets=_node_facets, load=_load)


def _viewer() -> Any:
    return current_user._get_current_object()


@bp.app_template_global("goal_cards")
def goal_cards(ids: Sequence[int], show_owner: bool = True) -> cards.Cards:
    """The cards of these goals, in order (the caller's query decided the viewer may see them)."""
    return cards.render(card_kind(), list(ids), _viewer(), show_owner=show_owner)


@bp.app_template_global("goal_nodes")
def goal_nodes(ids: Sequence[int], counts: dict[int, int]) -> cards.Cards:
    """The goal tree's rows for these goals; `counts`: how many contributors the viewer can see."""
    return cards.render(node_kind(), list(ids), _viewer(), counts=counts)


def connect() -> None:
    """What a goal card shows of other rows: their changes move its version."""
    from perfapp.goals.models import Goal
    from perfapp.people.models import Department, User
    from perfapp.projects.models import Project

    versions.depends_on(User, ("stored_name",), Goal, lambda pid: Goal.owner_id == pid)
    versions.depends_on(Department, ("name_zh", "name_en"), Goal, lambda did: Goal.department_id == did)
    versions.depends_on(Project, ("name",), Goal, lambda pid: Goal.project_id == pid)
