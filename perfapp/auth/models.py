"""Server-side login sessions and one-time invitations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import User


class LoginSession(db.Model):
    """One row per logged-in device. The cookie holds only the random token's id;
    deleting the row (logout, deactivation) invalidates the cookie everywhere."""

    __tablename__ = "login_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Invite(db.Model):
    __tablename__ = "invite"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
