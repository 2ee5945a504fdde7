"""Registrations: feedback as a reaction target, comments as reportable, our inbox entries, cleanup."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from perfapp.core import signals
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.moderation.registry import register_reportable
from perfapp.notify.registry import register
from perfapp.people.models import User
from perfapp.reactions import services
from perfapp.reactions.models import Comment
from perfapp.reactions.registry import TARGETS, Target, register_target


def _load_feedback(ids: list[int]) -> dict[int, Any]:
    rows = db.session.scalars(select(Feedback).where(Feedback.id.in_(ids)).options(
        joinedload(Feedback.author), joinedload(Feedback.recipient))).unique()
    return {f.id: f for f in rows}


def _feedback_label(item: Feedback, viewer: User) -> str:
    if viewer.id == item.recipient_id:
        return _("the feedback you received")
    if viewer.id == item.author_id:
        return _("your feedback to %(name)s", name=item.recipient.name)
    return _("feedback to %(name)s", name=item.recipient.name)


def _comment_readable(comment: Comment, viewer: User) -> bool:
    if comment.hidden and not viewer.is_hr:
        return False
    kind = TARGETS.get(comment.target_type)
    target = kind.load_many([comment.target_id]).get(comment.target_id) if kind else None
    return target is not None and kind.can_read(target, viewer)  # type: ignore[union-attr]


def on_content_deleted(_sender: object, target_type: str, target_id: int) -> None:
    services.purge_target(target_type, target_id)


register_target("feedback", Target(
    model=Feedback,
    can_read=lambda item, viewer: item.can_be_read_by(viewer),
    people=lambda item: (item.author_id, item.recipient_id),
    secret_author_id=lambda item: item.author_id if item.confidential else None,
    label=_feedback_label,
    url=lambda item: url_for("feedback.detail", feedback_id=item.id),
    template="reactions/_feedback_target.html",
    load=_load_feedback,
))
register_reportable("comment", Comment, lambda c: c.author_id, "reactions/_comment_case.html",
                    on_delete=services.forget_comment, can_read=_comment_readable,
                    dom_id=lambda c: f"comment-{c.id}")
register("comment", "reactions/_note.html", services.load_comment_notes)
register("reaction", "reactions/_note.html", services.load_reaction_notes)
signals.content_deleted.connect(on_content_deleted)
