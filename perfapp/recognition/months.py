"""The organisation's months: flower allowances and badge limits count per month in its
timezone, and each giver's row for the month serialises what they give."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.recognition.models import GiverMonth


def org_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def month_key(at: datetime | None = None) -> str:
    """The organisation's month ("2026-03") of a naive UTC moment (default: now)."""
    local = (at or utcnow()).replace(tzinfo=UTC).astimezone(org_zone())
    return local.strftime("%Y-%m")


def month_start(at: datetime | None = None) -> datetime:
    """Naive UTC instant of midnight on the 1st of the organisation's current month."""
    local = (at or utcnow()).replace(tzinfo=UTC).astimezone(org_zone())
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.astimezone(UTC).replace(tzinfo=None)


def lock_giver_month(user_id: int, month: str) -> GiverMonth:
    """The giver's row for the month, locked until commit (FOR UPDATE on PostgreSQL; SQLite's
    write transactions are serialised by BEGIN IMMEDIATE already)."""
    query = select(GiverMonth).where(GiverMonth.user_id == user_id, GiverMonth.month == month).with_for_update()
    row = db.session.scalar(query)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = GiverMonth(user_id=user_id, month=month, flowers_spent=0)
            db.session.add(row)
    except IntegrityError:
        # A concurrent first gift of the month created it: wait for its lock instead.
        row = db.session.execute(query.execution_options(populate_existing=True)).scalar_one()
    return row
