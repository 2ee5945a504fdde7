"""Registrations: comments are reportable, our inbox entries, and a deleted row's reactions and
comments go with it. `connect(app)` is called once from create_app."""
from __future__ import annotations

from flask import Flask

from perfapp.core import signals
from perfapp.moderation.registry import register_reportable
from perfapp.notify.registry import register
from perfapp.people.models import User
from perfapp.reactions import services
from perfapp.reactions.models import Comment
from perfapp.reactions.registry import TARGETS


def _comment_readable(comment: Comment, viewer: User) -> bool:
    if comment.hidden and not viewer.is_hr:
        return False
    kind = TARGETS.get(comment.target_type)
    target = kind.load_many([comment.target_id]).get(comment.target_id) if kind else None
    return kind is not None and target is not None and kind.can_read(target, viewer)


def on_content_deleted(_sender: object, target_type: str, target_id: int) -> None:
    services.purge_target(target_type, target_id)


def connect(app: Flask) -> None:
    register_reportable("comment", Comment, lambda c: c.author_id, "reactions/_comment_case.html",
                        on_delete=services.forget_comment, can_read=_comment_readable,
                        dom_id=lambda c: f"comment-{c.id}")
    register("comment", "reactions/_note.html", services.load_comment_notes)
    register("reaction", "reactions/_note.html", services.load_reaction_notes)
    signals.content_deleted.connect(on_content_deleted)
