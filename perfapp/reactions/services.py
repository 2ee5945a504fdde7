"""Reaction and comment use cases: toggle, comment, thread, page-wide counts, inbox entries."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload

from perfapp.core.db import run
from perfapp.core.validation import FormError
from perfapp.core.versions import bump
from perfapp.extensions import db
from perfapp.moderation.services import ensure_can_post, forget_reports
from perfapp.notify.models import Notification
from perfapp.notify.services import notify
from perfapp.people.models import User
from perfapp.reactions.models import LIKE, MAX_COMMENT, REACTIONS, Comment, Reaction
from perfapp.reactions.registry import TARGETS, Target

MAX_THREAD = 200


def target_for(viewer: User, target_type: str, target_id: int) -> tuple[Target, Any]:
    """The registration and the row, if the viewer may read it; else LookupError (callers answer 404)."""
    kind = TARGETS.get(target_type)
    obj = kind.load_many([target_id]).get(target_id) if kind is not None else None
    if kind is None or obj is None or not kind.can_read(obj, viewer):
        raise LookupError((target_type, target_id))
    return kind, obj


def shows_person(viewer: User, person_id: int, secret_author_id: int | None) -> bool:
    """A confidential author is named to nobody but themselves and HR, wherever they appear."""
    return person_id != secret_author_id or viewer.id == person_id or viewer.is_hr


# --- counts for a whole page -------------------------------------------------------

@dataclass
class Summary:
    """One target's reaction counts, the viewer's own reactions and its comment count."""

    counts: dict[str, int] = field(default_factory=dict)
    mine: set[str] = field(default_factory=set)
    comments: int = 0

    @property
    def others(self) -> list[tuple[str, int, bool]]:
        """Reactions besides the like that someone used, in the row's order."""
        return [(e, self.counts[e], e in self.mine) for e in REACTIONS
                if e != LIKE and self.counts.get(e)]


def summaries(target_type: str, ids: list[int], viewer: User | None) -> dict[int, Summary]:
    """Summaries for many targets in one grouped statement (a feed page costs the same for 3 or 20
    items); without a viewer, the counts alone (every viewer's: a card's own reactions come from
    its facets)."""
    result = {i: Summary() for i in ids}
    if not ids:
        return result
    params = {"target_type": target_type, "ids": list(ids), "viewer_id": getattr(viewer, "id", None)}
    for target_id, emoji, n, mine in run(_summaries(viewer is not None), params):
        if emoji is None:  # the comment count's row
            result[target_id].comments = n
            continue
        result[target_id].counts[emoji] = n
        if mine:
            result[target_id].mine.add(emoji)
    return result


@cache
def _summaries(with_viewer: bool) -> Select:
    """Built once: every card kind with a reaction bar asks it when its cards are rendered. The
    reaction counts by emoji (with whether the viewer is among them) and, in a row whose emoji is
    NULL, the comment count."""
    ids = bindparam("ids", type_=Integer, expanding=True)
    reactions = (select(Reaction.target_id, Reaction.emoji, func.count(),
                        func.max(case((Reaction.user_id == bindparam("viewer_id"), 1), else_=0))
                        if with_viewer else literal(0))
                 .where(Reaction.target_type == bindparam("target_type"), Reaction.target_id.in_(ids))
                 .group_by(Reaction.target_id, Reaction.emoji))
    comments = (select(Comment.target_id, null().cast(String), func.count(), literal(0))
                .where(Comment.target_type == bindparam("target_type"), Comment.target_id.in_(ids),
                       Comment.hidden.is_(False))
                .group_by(Comment.target_id))
    return union_all(reactions, comments)  # type: ignore[return-value]


@cache
def _mine() -> Select:
    """Built once: every page of cards asks it."""
    return select(Reaction.target_id, Reaction.emoji).where(
        Reaction.target_type == bindparam("target_type"), Reaction.target_id.in_(bindparam("ids", expanding=True)),
        Reaction.user_id == bindparam("user_id"))


def mine(viewer: User, target_type: str, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The viewer's own reactions on these targets (a card facet: the rest of the bar is shared)."""
    if not ids or getattr(viewer, "id", None) is None:
        return {}
    found_lists: dict[int, list[str]] = {}
    for target_id, emoji in run(_mine(), {"target_type": target_type, "ids": list(ids), "user_id": viewer.id}):
        found_lists.setdefault(target_id, []).append(emoji)
    return {i: tuple(sorted(e)) for i, e in found_lists.items()}


def mine_columns(target_type: str, model: Any) -> tuple[Any, ...]:
    """A card kind's `viewer_columns`: the viewer's own reactions on each row ("mine", the emoji
    joined by commas, NULL for none), read with the rows' versions instead of by a statement."""
    own = (select(func.aggregate_strings(Reaction.emoji, ","))
           .where(Reaction.target_type == target_type, Reaction.target_id == model.id,
                  Reaction.user_id == bindparam("viewer_id"))
           .scalar_subquery().label("mine"))
    return (own,)


def mine_of_rows(viewer: User, target_type: str, rows: Sequence[Any]) -> dict[int, tuple[str, ...]]:
    """The viewer's own reactions on these rows: from their "mine" column when the light rows read
    it (perfapp.core.cards), else as `mine` finds them (a record loaded on its own page)."""
    if rows and "mine" in getattr(rows[0], "_fields", ()):  # a Core row, not a loaded record
        return {row.id: tuple(sorted(row.mine.split(","))) for row in rows if row.mine}
    return mine(viewer, target_type, [row.id for row in rows])


def reactors(targets: dict[str, Sequence[int]]) -> dict[str, dict[int, dict[int, str]]]:
    """{target type: {target id: {person id: their emoji joined by commas}}} for these targets (ids
    by target type): everyone's own reactions at once, for a list shared by every viewer (each
    viewer's "mine" is then a lookup, perfapp.walls.cards) instead of a column read per viewer.
    One statement for all the types (the praise wall's three)."""
    out: dict[str, dict[int, dict[int, list[str]]]] = {target_type: {} for target_type in targets}
    wanted = {target_type: list(ids) for target_type, ids in targets.items() if ids}
    if wanted:
        types = tuple(sorted(wanted))
        params = {f"ids{n}": wanted[target_type] for n, target_type in enumerate(types)}
        for target_type, target_id, user_id, emoji in run(_reactors(types), params):
            out[target_type].setdefault(target_id, {}).setdefault(user_id, []).append(emoji)
    return {target_type: {i: {who: ",".join(sorted(emoji)) for who, emoji in people.items()}
                          for i, people in by_id.items()}
            for target_type, by_id in out.items()}


@cache
def _reactors(types: tuple[str, ...]) -> Select:
    """Built once per set of target types: each type's ids as an expanding parameter ("ids0"...)."""
    return (select(Reaction.target_type, Reaction.target_id, Reaction.user_id, Reaction.emoji)
            .where(or_(*(and_(Reaction.target_type == target_type,
                              Reaction.target_id.in_(bindparam(f"ids{n}", type_=Integer, expanding=True)))
                         for n, target_type in enumerate(types)))))


def touch(target_type: str, target_ids: list[int]) -> None:
    """Its counts changed: move the target's version so its card renders again."""
    kind = TARGETS.get(target_type)
    if kind is not None and hasattr(kind.model, "version"):
        bump(db.session, kind.model, target_ids)


# --- reacting ----------------------------------------------------------------------

def set_reaction(user: User, target_type: str, target_id: int, emoji: str, on: bool) -> bool:
    """Put the person's emoji on a target (on) or take it back (off); True when that changed anything.

    The form sends the state the person asked for, never "the opposite of now": a double tap,
    two tabs or a page older than the last change can't undo what they meant.
    """
    return react(user, target_type, target_id, emoji, on)[0]


def react(user: User, target_type: str, target_id: int, emoji: str, on: bool) -> tuple[bool, Target, Any]:
    """`set_reaction`, with the target's registration and row (the view answers with them)."""
    kind, obj = target_for(user, target_type, target_id)
    return _set_reaction(user, kind, obj, target_type, target_id, emoji, on), kind, obj


def _set_reaction(user: User, kind: Target, obj: Any, target_type: str, target_id: int, emoji: str,
                  on: bool) -> bool:
    if emoji not in REACTIONS:
        raise FormError({"emoji": _("Pick a reaction from the row.")})
    if not on:
        existing = db.session.scalar(select(Reaction).where(
            Reaction.target_type == target_type, Reaction.target_id == target_id,
            Reaction.user_id == user.id, Reaction.emoji == emoji))
        if existing is None:
            return False
        # An unread entry about it goes too, so the unread count stays true; a read one
        # stays (it points at nothing now) and keeps a re-reaction from notifying again.
        db.session.execute(delete(Notification).where(
            Notification.ref_type == "reaction", Notification.ref_id == existing.id,
            Notification.read_at.is_(None)))
        db.session.delete(existing)
        db.session.flush()
        touch(target_type, [target_id])
        return True
    added = db.session.execute(_insert_once(db.session.connection().dialect.name), {
        "target_type": target_type, "target_id": target_id, "user_id": user.id, "emoji": emoji}).scalar()
    if added is None:  # there already: a double tap, two tabs, the same tap twice at once
        return False
    touch(target_type, [target_id])
    for person_id in set(kind.people(obj)) - {user.id}:
        notify(person_id, "reaction_added", ref_type="reaction", ref_id=added,
               dedupe_key=f"reaction:{target_type}:{target_id}:{user.id}:{emoji}")
    return True


@cache
def _insert_once(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id on the one-reaction-per-emoji key: one
    statement where looking first, then inserting in a SAVEPOINT (for the same tap twice at once)
    took four round trips on PostgreSQL."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(Reaction).on_conflict_do_nothing(index_elements=["target_type", "target_id", "user_id", "emoji"])
            .returning(Reaction.id))


# --- comments ----------------------------------------------------------------------

def add_comment(author: User, target_type: str, target_id: int, text: str) -> Comment:
    """Comment on a target the author can read; its author and recipient hear about it."""
    kind, obj = target_for(author, target_type, target_id)
    ensure_can_post(author)
    text = text.strip()
    if not text:
        raise FormError({"text": _("Write a comment first.")})
    if len(text) > MAX_COMMENT:
        raise FormError({"text": _("Keep it under %(n)d characters.", n=MAX_COMMENT)})
    comment = Comment(target_type=target_type, target_id=target_id, author_id=author.id, text=text)
    db.session.add(comment)
    db.session.flush()
    touch(target_type, [target_id])
    for person_id in set(kind.people(obj)) - {author.id}:
        notify(person_id, "comment_added", ref_type="comment", ref_id=comment.id,
               dedupe_key=f"comment:{comment.id}")
    return comment


def _drop_comments(ids: list[int]) -> None:
    if not ids:
        return
    db.session.execute(delete(Notification).where(Notification.ref_type == "comment",
                                                  Notification.ref_id.in_(ids)))
    forget_reports("comment", ids)
    targets: dict[str, list[int]] = {}
    for target_type, target_id in db.session.execute(
            select(Comment.target_type, Comment.target_id).where(Comment.id.in_(ids))):
        targets.setdefault(target_type, []).append(target_id)
    db.session.execute(delete(Comment).where(Comment.id.in_(ids)))
    for target_type, target_ids in targets.items():
        touch(target_type, target_ids)


def forget_comment(comment: Comment) -> None:
    """Before moderation deletes a comment: its inbox entries go too."""
    db.session.execute(delete(Notification).where(Notification.ref_type == "comment",
                                                  Notification.ref_id == comment.id))
    touch(comment.target_type, [comment.target_id])


def delete_comment(user: User, comment_id: int) -> Comment:
    """Take back one's own comment (a reported, hidden one stays for HR); LookupError otherwise."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.author_id != user.id or comment.hidden:
        raise LookupError(comment_id)
    target_for(user, comment.target_type, comment.target_id)
    _drop_comments([comment.id])
    db.session.flush()
    return comment


def purge_target(target_type: str, target_id: int) -> None:
    """Everything attached to a row that is being deleted: its reactions, comments and their inbox entries."""
    reaction_ids = list(db.session.scalars(select(Reaction.id).where(
        Reaction.target_type == target_type, Reaction.target_id == target_id)))
    if reaction_ids:
        db.session.execute(delete(Notification).where(Notification.ref_type == "reaction",
                                                      Notification.ref_id.in_(reaction_ids)))
        db.session.execute(delete(Reaction).where(Reaction.id.in_(reaction_ids)))
    _drop_comments(list(db.session.scalars(select(Comment.id).where(
        Comment.target_type == target_type, Comment.target_id == target_id))))


@dataclass
class CommentView:
    comment: Comment
    author_shown: bool
    mine: bool
    can_report: bool


@dataclass
class Thread:
    """A target's comments (oldest first) and who reacted with what, as this viewer may see them."""

    comments: list[CommentView]
    reactors: list[tuple[str, list[str]]]


def thread(viewer: User, target_type: str, obj: Any) -> Thread:
    """The comment thread and the reactors of a target the viewer can read (the caller checked)."""
    kind = TARGETS[target_type]
    secret = kind.secret_author_id(obj)
    query = select(Comment).where(Comment.target_type == target_type, Comment.target_id == obj.id)
    if not viewer.is_hr:
        query = query.where(Comment.hidden.is_(False))
    rows = db.session.scalars(query.options(joinedload(Comment.author))
                              .order_by(Comment.id).limit(MAX_THREAD)).all()
    comments = [CommentView(c, shows_person(viewer, c.author_id, secret), c.author_id == viewer.id,
                            c.author_id != viewer.id and not c.hidden) for c in rows]
    names: dict[str, list[str]] = {}
    for r in db.session.scalars(
        select(Reaction).where(Reaction.target_type == target_type, Reaction.target_id == obj.id)
        .options(joinedload(Reaction.user)).order_by(Reaction.id)
    ):
        shown = shows_person(viewer, r.user_id, secret)
        names.setdefault(r.emoji, []).append(r.user.name if shown else _("Someone (confidential)"))
    return Thread(comments, [(e, names[e]) for e in REACTIONS if e in names])


# --- inbox entries ----------------------------------------------------------------------

@dataclass
class Note:
    """What an inbox entry about a reaction or comment shows: who, on what, where to go."""

    target: Any
    kind: Target
    actor: User
    actor_shown: bool
    label: str
    comment: Comment | None = None
    emoji: str = ""

    @property
    def thread_url(self) -> str:
        return self.kind.url(self.target)


def _notes(rows: list[Any], viewer: User, actor_of: Any) -> dict[int, Note]:
    by_type: dict[str, set[int]] = {}
    for row in rows:
        if row.target_type in TARGETS:
            by_type.setdefault(row.target_type, set()).add(row.target_id)
    targets = {t: TARGETS[t].load_many(sorted(ids)) for t, ids in by_type.items()}
    notes: dict[int, Note] = {}
    for row in rows:
        kind = TARGETS.get(row.target_type)
        obj = targets.get(row.target_type, {}).get(row.target_id)
        if kind is None or obj is None or not kind.can_read(obj, viewer):
            continue
        actor = actor_of(row)
        notes[row.id] = Note(
            target=obj, kind=kind, actor=actor, label=kind.label(obj, viewer),
            actor_shown=shows_person(viewer, actor.id, kind.secret_author_id(obj)),
            comment=row if isinstance(row, Comment) else None,
            emoji=getattr(row, "emoji", ""),
        )
    return notes


def load_comment_notes(ids: list[int], viewer: User) -> dict[int, Note]:
    """Inbox loader for comment entries: only comments still there, visible, on rows the viewer can read."""
    query = select(Comment).where(Comment.id.in_(ids)).options(joinedload(Comment.author))
    if not viewer.is_hr:
        query = query.where(Comment.hidden.is_(False))
    return _notes(list(db.session.scalars(query)), viewer, lambda c: c.author)


def load_reaction_notes(ids: list[int], viewer: User) -> dict[int, Note]:
    """Inbox loader for reaction entries (a reaction taken back drops out)."""
    rows = list(db.session.scalars(select(Reaction).where(Reaction.id.in_(ids))
                                   .options(joinedload(Reaction.user))))
    return _notes(rows, viewer, lambda r: r.user)
