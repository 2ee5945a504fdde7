"""Rows the core keeps for every domain: remembered results of idempotent requests."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import Model


class IdempotencyRecord(Model):
    """One Idempotency-Key a person sent (perfapp.core.idempotency).

    "in_progress" is committed before the request runs, so a concurrent duplicate finds it;
    "done" is written in the same transaction as the request's own changes, so a key is
    done exactly when its effects exist. The response is stored right after, for replays.
    """

    __tablename__ = "idempotency_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="in_progress")  # in_progress | done
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(120))
    headers: Mapped[str | None] = mapped_column(Text)  # JSON: the few headers a replay needs
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),
        Index("ix_idempotency_created", "created_at"),
    )
