"""Getting started: whether a person still gets the first-run cards, and what they show."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, select

from perfapp.core.db import run
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackRequest
from perfapp.notify import preferences
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.people.models import User
from perfapp.recognition.flowers import flowers_left
from perfapp.recognition.models import BadgeAward, FlowerGift

#: Once someone has given this many things (feedback, flowers, badges, requests) they have found
#: their way around: the cards stop showing even if never hidden.
UNDER_WAY = 3


@dataclass(frozen=True)
class GettingStarted:
    """What the cards show: this person's flowers and quiet hours, and whether they gave yet."""

    flowers_left: int
    flowers_allowance: int
    quiet_enabled: bool
    quiet_start: str
    quiet_end: str
    gave_something: bool


@cache
def progress_statement() -> Select:
    """One statement (Home runs it on every view): whether the cards were hidden, then each kind of
    thing given counted up to UNDER_WAY from its own index."""
    def capped(column):
        ids = select(column).where(column == bindparam("person_id")).limit(UNDER_WAY).subquery()
        return select(func.count()).select_from(ids).scalar_subquery()

    hidden = exists().where(GettingStartedDismissal.person_id == bindparam("person_id"))
    return select(hidden, *(capped(c) for c in (Feedback.author_id, FlowerGift.giver_id, BadgeAward.giver_id,
                                                FeedbackRequest.requester_id)))


def _dismissed_and_given(person: User) -> tuple[bool, int]:
    return progress_of(run(progress_statement(), {"person_id": person.id}).one())


def progress_of(row: Sequence[Any]) -> tuple[bool, int]:
    """(hidden, things given up to UNDER_WAY) from a row of progress_statement's columns."""
    hidden, *counts = row
    return bool(hidden), min(sum(counts), UNDER_WAY)


def things_given(person: User) -> int:
    """Feedback, flowers, badges given and feedback asked for, counted up to UNDER_WAY (cheap)."""
    return _dismissed_and_given(person)[1]


def dismissed(person: User) -> bool:
    return _dismissed_and_given(person)[0]


def shows_tips(progress: tuple[bool, int]) -> bool:
    """Whether the cards show for this progress (neither hidden nor already under way)."""
    hidden, given = progress
    return not hidden and given < UNDER_WAY


def getting_started(person: User, progress: tuple[bool, int] | None = None) -> GettingStarted | None:
    """The cards for this person, or None when they hid them or are already under way
    (`progress`: what progress_of read, when the caller read it along with other things)."""
    hidden, given = progress or _dismissed_and_given(person)
    if not shows_tips((hidden, given)):
        return None
    left, allowance = flowers_left(person)
    pref = preferences.preference_for(person)
    return GettingStarted(
        flowers_left=left, flowers_allowance=allowance, quiet_enabled=pref.quiet_enabled,
        quiet_start=preferences.format_hhmm(pref.quiet_start), quiet_end=preferences.format_hhmm(pref.quiet_end),
        gave_something=given > 0,
    )


def dismiss(person: User) -> bool:
    """Hide the cards for good, on every device. True if this hid them (False: already hidden). Flushes."""
    if dismissed(person):
        return False
    db.session.add(GettingStartedDismissal(person_id=person.id))
    db.session.flush()
    return True
