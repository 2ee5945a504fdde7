"""A person's own data, as one zip: data.json and the voice notes they recorded.

What is in it follows what the app already shows that person, and nothing more: the author of
confidential feedback they received is left out (as is anything that would point at it, such as
the request it answered), rows hidden by moderation are left out of what they received, push
subscriptions appear as the push service's host only (the endpoint URL and keys are secrets
for sending, not data about the person).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import weakref
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from perfapp.coaching.models import ActionItem, AgendaItem, FormalRecord, PrivateNote
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback import voice
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.goals.models import CheckIn, Goal
from perfapp.meetings.models import Meeting, MeetingAttendee, MeetingNote
from perfapp.notify.models import Notification, NotificationPreference, PushSubscription
from perfapp.people.models import User
from perfapp.projects.models import PeerReview, ProjectMember
from perfapp.reactions.models import Comment, Reaction
from perfapp.recognition.models import BadgeAward, FlowerGift
from perfapp.stories.models import Story, StoryPerson

FORMAT_VERSION = 1
CHUNK = 64 * 1024


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    if user.is_former_colleague:
        return {"name": user.name}
    return {"id": user.id, "name": user.name}


def _voice_name(item: Feedback) -> str | None:
    return f"voice/{item.voice_key}" if item.voice_key else None


def _feedback(item: Feedback, *, as_author: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": item.id, "created_at": _when(item.created_at), "kind": item.kind,
        "visibility": item.visibility, "confidential": item.confidential,
        "development_only": item.development_only, "text": item.text, "emoji": item.emoji,
        "behaviour": item.behaviour, "impact": item.impact, "suggestion": item.suggestion,
        "tags": [t.name_en for t in item.tags],
        "project": item.project.name if item.project else None,
        "milestone": item.milestone.name if item.milestone else None,
    }
    if as_author:
        row["to"] = _who(item.recipient)
        row["voice_file"] = _voice_name(item)
        row["answers_request"] = item.ask_id is not None
    else:
        # Confidential: the author stays unknown to the recipient here as everywhere else.
        row["from"] = None if item.confidential else _who(item.author)
        row["has_voice_note"] = bool(item.voice_key)
    return row


def collect(person: User) -> dict[str, Any]:
    """Everything perfapp holds about `person` that they may see, as plain JSON-able data."""
    pid = person.id
    given = db.session.scalars(select(Feedback).where(Feedback.author_id == pid).order_by(Feedback.id)).all()
    received = db.session.scalars(select(Feedback).where(
        Feedback.recipient_id == pid, Feedback.hidden.is_(False)).order_by(Feedback.id)).all()
    requests = db.session.scalars(select(FeedbackRequest).where(FeedbackRequest.requester_id == pid)
                                  .order_by(FeedbackRequest.id)).all()
    asks = db.session.scalars(select(FeedbackAsk).where(FeedbackAsk.recipient_id == pid)
                              .order_by(FeedbackAsk.id)).all()
    flowers = db.session.scalars(select(FlowerGift).where(or_(
        FlowerGift.giver_id == pid, (FlowerGift.receiver_id == pid) & FlowerGift.hidden.is_(False)))
        .order_by(FlowerGift.id)).all()
    awards = db.session.scalars(select(BadgeAward).where(or_(
        BadgeAward.giver_id == pid, (BadgeAward.receiver_id == pid) & BadgeAward.hidden.is_(False)))
        .order_by(BadgeAward.id)).all()
    stories = db.session.scalars(select(Story).outerjoin(StoryPerson).where(or_(
        Story.promoter_id == pid, StoryPerson.user_id == pid)).distinct().order_by(Story.id)).all()
    preference = db.session.get(NotificationPreference, pid)
    return {
        "format": FORMAT_VERSION,
        "exported_at": _when(utcnow()),
        "profile": {
            "id": pid, "name": person.name, "email": person.email, "title": person.title,
            "department": person.department.name_en if person.department else None,
            "manager": _who(person.manager), "role": person.role, "active": person.active,
            "created_at": _when(person.created_at),
        },
        "settings": {
            "language": person.locale, "timezone": person.timezone,
            "notifications": None if preference is None else {
                "milestone": preference.milestone, "received": preference.received,
                "requests": preference.requests, "weekly": preference.weekly, "other": preference.other,
                "quiet_hours": preference.quiet_enabled, "quiet_start_minute": preference.quiet_start,
                "quiet_end_minute": preference.quiet_end, "daily_cap": preference.daily_cap,
            },
        },
        "feedback_given": [_feedback(f, as_author=True) for f in given],
        "feedback_received": [_feedback(f, as_author=False) for f in received],
        "requests_made": [{
            "id": r.id, "created_at": _when(r.created_at), "expires_at": _when(r.expires_at), "about": r.about,
            "asked": [{"person": _who(a.recipient), "status": a.effective_status} for a in r.asks],
        } for r in requests],
        "requests_received": [{
            "id": a.id, "from": _who(a.request.requester), "about": a.request.about,
            "created_at": _when(a.request.created_at), "status": a.effective_status,
        } for a in asks],
        "flowers": [{
            "id": g.id, "created_at": _when(g.created_at), "direction": "given" if g.giver_id == pid else "received",
            "giver": _who(g.giver), "receiver": _who(g.receiver), "count": g.count, "message": g.message,
            "value": g.tag.name_en if g.tag else None,
        } for g in flowers],
        "badges": [{
            "id": a.id, "created_at": _when(a.created_at), "badge": a.badge.name_en,
            "direction": "given" if a.giver_id == pid else "received",
            "giver": _who(a.giver) if a.giver_id else None, "receiver": _who(a.receiver),
            "automatic": a.giver_id is None, "citation": a.citation,
        } for a in awards],
        "stories": [{
            "id": s.id, "created_at": _when(s.created_at), "title": s.title, "text": s.text, "status": s.status,
            "promoted_by_me": s.promoter_id == pid,
            "my_consent": consent.consent if (consent := s.consent_of(person)) else None,
        } for s in stories],
        "goals": [{
            "id": g.id, "kind": g.kind, "title": g.title, "description": g.description,
            "period": [_when(g.period_start), _when(g.period_end)], "visibility": g.visibility,
            "progress": g.progress, "status": g.status, "archived": g.archived, "created_at": _when(g.created_at),
            "key_results": [{"title": k.title, "kind": k.kind, "start": k.start_value, "target": k.target_value,
                             "current": k.current_value, "unit": k.unit, "weight": k.weight} for k in g.key_results],
        } for g in db.session.scalars(select(Goal).where(Goal.owner_id == pid).order_by(Goal.id))],
        "goal_check_ins": [{
            "id": c.id, "goal_id": c.goal_id, "day": _when(c.day), "progress": c.progress,
            "confidence": c.confidence, "note": c.note, "status": c.status, "status_reason": c.status_reason,
        } for c in db.session.scalars(select(CheckIn).where(CheckIn.author_id == pid).order_by(CheckIn.id))],
        "projects": [{
            "project": row.project_id, "role": row.role,
        } for row in db.session.scalars(select(ProjectMember).where(ProjectMember.user_id == pid)
                                        .order_by(ProjectMember.project_id))],
        # The quick answers this person gave; their words are in feedback_given. Answers others
        # gave about them are shown only as aggregates, so they are not exported one by one.
        "peer_reviews_given": [{
            "milestone_id": r.milestone_id, "about": r.reviewee_id, "feedback_id": r.feedback_id,
            "delivered": r.delivered, "collaborated": r.collaborated, "communicated": r.communicated,
            "created_at": _when(r.created_at),
        } for r in db.session.scalars(select(PeerReview).where(PeerReview.reviewer_id == pid).order_by(PeerReview.id))],
        "meetings": [{
            "id": m.id, "title": m.title, "starts_at": _when(m.starts_at), "ends_at": _when(m.ends_at),
            "minutes": m.minutes,
        } for m in db.session.scalars(select(Meeting).join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
                                      .where(MeetingAttendee.user_id == pid).order_by(Meeting.id))],
        "meeting_feedback": [{
            "meeting_id": n.meeting_id, "text": n.text, "created_at": _when(n.created_at),
        } for n in db.session.scalars(select(MeetingNote).where(MeetingNote.author_id == pid).order_by(MeetingNote.id))],
        # 1:1s: only what this person wrote or owns. Their private notes are theirs alone, so
        # they are here and in nobody else's export; the other side's never are.
        "one_on_one_private_notes": [{
            "meeting_id": n.meeting_id, "text": n.text, "updated_at": _when(n.updated_at),
        } for n in db.session.scalars(select(PrivateNote).where(PrivateNote.author_id == pid).order_by(PrivateNote.id))],
        "one_on_one_agenda_items": [{
            "meeting_id": a.meeting_id, "text": a.text, "discussed": a.discussed, "created_at": _when(a.created_at),
        } for a in db.session.scalars(select(AgendaItem).where(AgendaItem.author_id == pid).order_by(AgendaItem.id))],
        "one_on_one_action_items": [{
            "text": a.text, "due_on": _when(a.due_on), "done_at": _when(a.done_at), "mine": a.owner_id == pid,
        } for a in db.session.scalars(select(ActionItem).where(
            or_(ActionItem.owner_id == pid, ActionItem.created_by_id == pid)).order_by(ActionItem.id))],
        "formal_records_about_me": [{
            "kind": r.kind, "period": [_when(r.period_start), _when(r.period_end)], "state": r.state,
            "summary": r.summary, "strengths": r.strengths, "growth": r.growth, "recommendation": r.recommendation,
        } for r in db.session.scalars(select(FormalRecord).where(
            FormalRecord.person_id == pid, FormalRecord.state != "draft").order_by(FormalRecord.id))],
        "reactions": [{
            "on": r.target_type, "target_id": r.target_id, "emoji": r.emoji, "created_at": _when(r.created_at),
        } for r in db.session.scalars(select(Reaction).where(Reaction.user_id == pid).order_by(Reaction.id))],
        "comments": [{
            "id": c.id, "on": c.target_type, "target_id": c.target_id, "text": c.text,
            "created_at": _when(c.created_at),
        } for c in db.session.scalars(select(Comment).where(Comment.author_id == pid).order_by(Comment.id))],
        "notifications": [{
            "id": n.id, "kind": n.kind, "created_at": _when(n.created_at), "read_at": _when(n.read_at),
        } for n in db.session.scalars(select(Notification).where(Notification.user_id == pid)
                                      .order_by(Notification.id))],
        "push_subscriptions": [{
            "push_service": urlsplit(s.endpoint).hostname, "device": s.user_agent,
            "created_at": _when(s.created_at),
        } for s in db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == pid)
                                      .order_by(PushSubscription.id))],
    }


README = """perfapp: your data
==================

data.json   everything perfapp holds about you: your profile and settings, the feedback you
            gave and received (the author of confidential feedback you received is not
            included), your requests, flowers, badges, stories, goals and check-ins, projects,
            peer reviews you gave, meetings and the one-sentence feedback you left under them,
            your 1:1 agenda items, action items and private notes (never the other side's),
            signed formal records about you,
            reactions, comments, notifications and the devices that get your push notifications.
voice/      the voice notes you recorded, named as in data.json ("voice_file").
"""


def write_archive(person: User, out: IO[bytes]) -> int:
    """Write the zip to `out`; returns how many voice files it holds."""
    data = collect(person)
    store = voice.get_store()
    files = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for item in db.session.scalars(select(Feedback).where(Feedback.author_id == person.id,
                                                              Feedback.voice_key.is_not(None))):
            assert item.voice_key and item.voice_bytes is not None
            try:
                chunks = b"".join(store.read(item.voice_key, 0, item.voice_bytes))
            except FileNotFoundError:  # a file lost on disk: the rest of the export still matters
                continue
            # Already compressed audio: stored as is.
            archive.writestr(f"voice/{item.voice_key}", chunks, compress_type=zipfile.ZIP_STORED)
            files += 1
    return files


def build_archive(person: User) -> tuple[Iterator[bytes], int]:
    """The zip built in a temporary file, as chunks to stream and its length.

    The file is read lazily and removed once streamed, or when the response is dropped unread
    (weakref.finalize): no open file outlives the response, no archive stays on disk."""
    fd, path = tempfile.mkstemp(prefix="perfapp-export-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as out:
            write_archive(person, out)
    except BaseException:
        _unlink(path)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
        finally:
            _unlink(path)

    stream = chunks()
    weakref.finalize(stream, _unlink, path)
    return stream, os.path.getsize(path)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
