"""What reactions and comments can attach to.

A domain registers each kind of row once at import time (feedback here; flowers and
badge awards can follow). Reactions and comments point at a row with
(target_type, target_id) and follow that row's visibility: whoever can't read the
row gets 404 for its reactions and comments.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User


@dataclass(frozen=True)
class Target:
    model: type
    can_read: Callable[[Any, User], bool]          # the row's own visibility rule (hidden rows: HR only)
    people: Callable[[Any], Iterable[int]]         # who hears about reactions and comments (author, recipient)
    secret_author_id: Callable[[Any], int | None]  # an author shown to nobody but themselves and HR, or None
    label: Callable[[Any, User], str]              # names the row in an inbox entry ("the feedback you received")
    url: Callable[[Any], str]                      # the row's own page (the thread is open there)
    template: str                                  # shows the row (gets `obj`) and includes reactions/_footer.html
    load: Callable[[list[int]], dict[int, Any]] | None = None  # batch loader (default: by primary key)

    def load_many(self, ids: list[int]) -> dict[int, Any]:
        if not ids:
            return {}
        if self.load is not None:
            return self.load(ids)
        model: Any = self.model
        return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


TARGETS: dict[str, Target] = {}


def register_target(type_name: str, target: Target) -> None:
    """Let people react to and comment on rows of one kind, under the name `type_name`."""
    TARGETS[type_name] = target
