"""Nudges: the inbox entries that invite people to act, and what their pushes say.

- a milestone is reached -> every member of the project: review your teammates (its retrospective);
- feedback, flowers or a badge received -> the recipient (a confidential author is never named);
- a feedback request received, and a reminder 3 days later while it is still open;
- a gentle weekly nudge to people who have given no feedback in 14 days (HR can switch it off).

Each is one notify() entry per event per person (dedupe_key), so it shows in the inbox and
push delivery (perfapp.notify.delivery) picks it up.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.notify.delivery import path_for
from perfapp.notify.models import Notification, NotificationPreference, NudgeSetting
from perfapp.notify.registry import PushText
from perfapp.notify.services import notify
from perfapp.people.models import User
from perfapp.projects.models import Milestone

REMINDER_AFTER = timedelta(days=3)
QUIET_GIVER_DAYS = 14
ASK_TTL = 3 * 24 * 3600


# --- milestones ------------------------------------------------------------------------------

def on_milestone_reached(_sender: object, milestone: Milestone, actor: User | None = None) -> None:
    """Every active member of the project gets the nudge (HR who marked it too, if a member)."""
    project = milestone.project
    if project.archived:
        return
    for member in project.members:
        if member.active:
            notify(member.id, "milestone_nudge", ref_type="milestone", ref_id=milestone.id,
                   dedupe_key=f"milestone:{milestone.id}")


def load_milestones(ids: list[int], _viewer: User) -> dict[int, Any]:
    rows = db.session.scalars(select(Milestone).where(Milestone.id.in_(ids))
                              .options(joinedload(Milestone.project)))
    return {m.id: m for m in rows}


def milestone_text(note: Notification, _locale: str) -> PushText | None:
    milestone = db.session.get(Milestone, note.ref_id)
    if milestone is None:
        return None
    return PushText(
        title=_("%(project)s: %(milestone)s reached", project=milestone.project.name, milestone=milestone.name),
        body=_("Review your teammates on %(milestone)s: three quick questions each, within 7 days.",
               milestone=milestone.name),
        url=path_for("projects.review", project_id=milestone.project_id, milestone_id=milestone.id),
        ttl=3 * 24 * 3600,
    )


# --- received ----------------------------------------------------------------------------------

def feedback_text(note: Notification, _locale: str) -> PushText | None:
    item = db.session.get(Feedback, note.feedback_id)
    if item is None or item.hidden:
        return None
    if item.confidential:  # the push must not say more than the inbox does
        title = _("You received confidential feedback")
    else:
        title = _("%(name)s gave you feedback", name=item.author.name)
    # Only praise is shown on a lock screen; anything else is read in the app.
    if item.kind == "praise" and (item.text or item.emoji):
        body = item.text or item.emoji
    else:
        body = _("Open it to read what they wrote.")
    return PushText(title=title, body=body, url=path_for("feedback.detail", feedback_id=item.id))


def flowers_text(note: Notification, _locale: str) -> PushText | None:
    from perfapp.recognition.models import FlowerGift

    gift = db.session.get(FlowerGift, note.ref_id)
    if gift is None or gift.hidden:
        return None
    return PushText(
        title=ngettext("%(name)s sent you %(num)d flower", "%(name)s sent you %(num)d flowers",
                       gift.count, name=gift.giver.name),
        body=gift.message, url=path_for("walls.person", person_id=gift.receiver_id))


def badge_text(note: Notification, _locale: str) -> PushText | None:
    from perfapp.recognition.models import BadgeAward

    award = db.session.get(BadgeAward, note.ref_id)
    if award is None or award.hidden:
        return None
    if (award.source or "").startswith("milestone:"):
        # Earned with everyone on the project the moment a milestone is reached: that moment's
        # push is the milestone nudge; the badge waits in the inbox (one push, not two).
        return None
    return PushText(
        title=_("You earned the badge “%(badge)s”", badge=award.badge.name),
        body=award.citation or award.badge.description,
        url=path_for("walls.citations", person_id=award.receiver_id, badge_id=award.badge_id))


# --- feedback requests and their reminder ----------------------------------------------------------

def ask_text(note: Notification, _locale: str) -> PushText | None:
    ask = db.session.get(FeedbackAsk, note.ask_id)
    if ask is None or ask.effective_status != "open":
        return None  # answered, declined or expired meanwhile
    name = ask.request.requester.name
    title = (_("%(name)s is still waiting for your feedback", name=name) if note.kind == "ask_reminder"
             else _("%(name)s asks for your feedback", name=name))
    return PushText(title=title, body=ask.request.about, url=path_for("feedback.compose", ask=ask.id),
                    ttl=ASK_TTL)


def send_ask_reminders(now: datetime) -> int:
    """Remind people of requests still open 3 days after they were asked (once per ask). Flushes."""
    reminded = exists().where(Notification.user_id == FeedbackAsk.recipient_id,
                              Notification.kind == "ask_reminder", Notification.ask_id == FeedbackAsk.id)
    asks = db.session.execute(
        select(FeedbackAsk.id, FeedbackAsk.recipient_id)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .join(User, User.id == FeedbackAsk.recipient_id)
        .where(FeedbackAsk.status == "open", FeedbackRequest.created_at <= now - REMINDER_AFTER,
               FeedbackRequest.expires_at > now, User.active.is_(True), ~reminded)
        .order_by(FeedbackAsk.id)
    ).all()
    count = 0
    for ask_id, recipient_id in asks:
        if notify(recipient_id, "ask_reminder", ask_id=ask_id, dedupe_key=f"ask-reminder:{ask_id}"):
            count += 1
    return count


# --- the weekly nudge ---------------------------------------------------------------------------------

def weekly_nudge_enabled() -> bool:
    setting = db.session.get(NudgeSetting, 1)
    return setting is None or setting.weekly_nudge


def week_ref(now: datetime) -> int:
    """The ISO week as a number, e.g. 202614: one weekly nudge per person per week."""
    year, week, _day = now.isocalendar()
    return year * 100 + week


def send_weekly_nudges(now: datetime) -> int:
    """Nudge people who have given no feedback in 14 days (not if HR or they switched it off). Flushes."""
    if not weekly_nudge_enabled():
        return 0
    since = now - timedelta(days=QUIET_GIVER_DAYS)
    ref = week_ref(now)
    key = f"weekly:{ref}"
    gave = exists().where(Feedback.author_id == User.id, Feedback.created_at >= since)
    opted_out = exists().where(NotificationPreference.user_id == User.id,
                               NotificationPreference.weekly.is_(False))
    nudged = exists().where(Notification.user_id == User.id, Notification.dedupe_key == key)
    people = db.session.scalars(
        select(User.id).where(User.active.is_(True), User.created_at <= since, ~gave, ~opted_out, ~nudged)
        .order_by(User.id)
    ).all()
    for user_id in people:
        notify(user_id, "weekly_nudge", ref_type="weekly_nudge", ref_id=ref, dedupe_key=key)
    return len(people)


def load_weeks(ids: list[int], _viewer: User) -> dict[int, Any]:
    return {i: i for i in ids}


def weekly_text(_note: Notification, _locale: str) -> PushText:
    return PushText(title=_("A minute for feedback?"),
                    body=_("Who helped you lately? One sentence of feedback makes their week."),
                    url=path_for("feedback.compose"), urgency="low", ttl=2 * 24 * 3600)
