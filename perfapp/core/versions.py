"""Record versions: a number on each row that a card shows, moved whenever what the card shows changes.

Cards are cached under their record's version (perfapp.core.cards), so nothing is ever
invalidated: a changed record gets a new version, its card a new key, and the old entry ages out.
What a card shows changes in three ways, each handled here once for every card kind:

- the row itself changes (hidden, restored, its consent or text edited): any UPDATE of a
  `Versioned` row through the ORM moves its version in the same statement;
- a row it shows by reference changes (a person's name, a tag's, a badge's): the domain that owns
  the card declares `depends_on(User, ("name",), Feedback, <rows pointing at a person>)` once,
  and a flush changing those attributes moves the versions of the rows pointing at it, in bulk;
- rows counted on it change (reactions, comments): the domain that owns them calls `bump()`.

There is no global counter: a write touches only the rows whose cards it changes, so writers
don't queue on one row and a reaction to one post leaves every other cached card valid.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, Integer, event, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session


class Versioned:
    """Mixin for models whose rows are shown as cards."""

    # A server default only, not fetched back after an INSERT: the INSERT doesn't name the
    # column (the database fills in 1), so code written before versions still inserts rows.
    version: Mapped[int] = mapped_column(Integer, server_default="1", nullable=False)
    __mapper_args__ = {"eager_defaults": False}


@dataclass(frozen=True)
class _Dependency:
    watched: type[Any]
    attributes: tuple[str, ...]
    model: Any
    pointing: Callable[[int], ColumnElement[bool]]


_DEPENDENCIES: list[_Dependency] = []
_CALLBACKS: list[tuple[type, tuple[str, ...], Callable[[Session, Any], None]]] = []


def depends_on(watched: type, attributes: Iterable[str], model: type,
               pointing: Callable[[int], ColumnElement[bool]]) -> None:
    """Cards of `model` show `attributes` of a `watched` row: when those change, the versions of
    the rows `pointing(watched id)` selects move (registered once, when the app is made)."""
    dependency = _Dependency(watched, tuple(attributes), model, pointing)
    columns: list[str] = inspect(watched).column_attrs.keys()
    if unknown := [name for name in dependency.attributes if name not in columns]:
        raise ValueError(f"{watched.__name__} has no column attributes {unknown}")
    if dependency not in _DEPENDENCIES:
        _DEPENDENCIES.append(dependency)


def on_change(watched: type, attributes: Iterable[str], callback: Callable[[Session, Any], None]) -> None:
    """Call `callback(session, row)` before a flush that changes these attributes of a `watched`
    row (for rows a card counts rather than points at: a comment hidden by moderation)."""
    entry = (watched, tuple(attributes), callback)
    if entry not in _CALLBACKS:
        _CALLBACKS.append(entry)


def bump(session: Session | scoped_session[Any], model: Any, ids: Iterable[int]) -> None:
    """Move the versions of these rows (their cards show something that changed elsewhere)."""
    ids = sorted(set(ids))
    if ids:
        session.execute(update(model).where(model.id.in_(ids)).values(version=model.version + 1),
                        execution_options={"synchronize_session": False})


def _changed(obj: Any, attributes: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    dirty: list[Any] = list(session.dirty)  # mapped rows, typed as object by SQLAlchemy
    for obj in dirty:
        if isinstance(obj, Versioned) and session.is_modified(obj, include_collections=True):
            # An SQL expression, so two writers moving one row both count.
            obj.version = type(obj).version + 1
        for dep in _DEPENDENCIES:
            if isinstance(obj, dep.watched) and _changed(obj, dep.attributes):
                session.execute(
                    update(dep.model).where(dep.pointing(obj.id))
                    .values(version=dep.model.version + 1),
                    execution_options={"synchronize_session": False})
        for watched, attributes, callback in _CALLBACKS:
            if isinstance(obj, watched) and _changed(obj, attributes):
                callback(session, obj)


def init_versions(app: Flask) -> None:
    """Listen on the app's sessions (Flask-SQLAlchemy's session class), once."""
    from perfapp.extensions import db

    with app.app_context():
        session_class = db.session.session_factory.class_
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
