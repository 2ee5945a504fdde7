"""Moderation use cases."""
from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation.models import PostingSuspension
from perfapp.people.models import User


def suspended_until(user: User):  # type: ignore[no-untyped-def]
    """The end of the person's current posting suspension, or None."""
    return db.session.scalar(
        select(func.max(PostingSuspension.until))
        .where(PostingSuspension.user_id == user.id, PostingSuspension.until > utcnow())
    )


def ensure_can_post(user: User) -> None:
    """Refuse (FormError on "form") while the person's right to post is suspended."""
    until = suspended_until(user)
    if until is not None:
        raise FormError({"form": _("You can't post until %(date)s.", date=format_datetime(until, "short"))})
