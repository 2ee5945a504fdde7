"""Customer praise events (from emails) and the inbound webhook's replay guard."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perfapp.core.db import utcnow
from perfapp.extensions import Model
from perfapp.people.models import User


class CustomerPraisePerson(Model):
    __tablename__ = "customer_praise_person"
    praise_id: Mapped[int] = mapped_column(ForeignKey("customer_praise.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_customer_praise_person_user", "user_id", "praise_id"),)


class CustomerPraise(Model):
    """A customer's praise email, read as plain text, and (once a person confirms) who it is about.

    draft: uploaded or pasted by someone, waiting for them (or HR) to confirm;
    queued: arrived through the inbound webhook, waiting for HR; confirmed: a recognition event."""

    __tablename__ = "customer_praise"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | queued | confirmed
    origin: Mapped[str] = mapped_column(String(16))  # upload | paste | inbound
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    sender_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(500), default="", index=True)
    suggested_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Reported: hidden from everyone but HR until moderation decides (perfapp.moderation).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    people: Mapped[list[User]] = relationship(secondary="customer_praise_person", order_by="User.id")

    __table_args__ = (Index("ix_customer_praise_status_time", "status", "confirmed_at", "id"),)

    @property
    def is_confirmed(self) -> bool:
        return self.status == "confirmed"

    @property
    def sender_domain(self) -> str:
        return self.sender_email.rpartition("@")[2]

    @property
    def sender_public(self) -> str:
        """Who wrote it, as everyone may see it: the name and the company's domain, not the address."""
        if self.sender_name and self.sender_domain:  # pasted text may name a customer without an address
            return f"{self.sender_name} · {self.sender_domain}"
        return self.sender_name or self.sender_domain

    @property
    def author_id(self) -> int | None:
        """Whose post it is for moderation: who imported it, or (arrived by itself) who confirmed it."""
        return self.created_by_id or self.confirmed_by_id

    def can_be_confirmed_by(self, user: User) -> bool:
        if self.status == "draft":
            return user.is_hr or user.id == self.created_by_id
        return self.status == "queued" and user.is_hr

    def can_be_read_by(self, viewer: User) -> bool:
        """Confirmed events are public recognition; before that only who may confirm them.
        A reported event is HR's alone until HR decides."""
        if self.hidden and not viewer.is_hr:
            return False
        return self.is_confirmed or self.can_be_confirmed_by(viewer)


class InboundNonce(Model):
    """Signatures of accepted inbound requests, kept past the timestamp window to refuse replays."""

    __tablename__ = "inbound_nonce"
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
