"""Who hid the getting-started cards (a row per person; no row: not hidden)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import Model


class GettingStartedDismissal(Model):
    """Kept on the server (not in the browser) so hiding the cards on one phone hides them on all.

    Cascades with the person: it says nothing about them worth keeping after an erasure."""

    __tablename__ = "getting_started_dismissal"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
