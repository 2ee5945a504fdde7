"""A small organisation where one person (赵小雪) has left a trace in every table that can hold one."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from perfapp.auth.models import Invite, LoginSession
from perfapp.core.db import utcnow
from perfapp.core.models import IdempotencyRecord
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest, Tag
from perfapp.integrations.models import CustomerPraise
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.notify.models import (
    Notification,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
)
from perfapp.people.models import Department, User
from perfapp.projects.models import Project
from perfapp.reactions.models import Comment, Reaction
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, FlowerQuota, GiverMonth
from perfapp.stories.models import Story, StoryPerson

NAME = "赵小雪"
EMAIL = "xiaoxue.zhao@example.com"


@pytest.fixture(autouse=True)
def voice_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "voice"
    monkeypatch.setitem(app.config, "VOICE_STORAGE_DIR", str(root))
    return root


def _voice(root: Path, item: Feedback, data: bytes) -> str:
    name = secrets.token_hex(16)
    key = f"{name[:2]}/{name}.webm"
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    (root / key).write_bytes(data)
    item.voice_key, item.voice_mime, item.voice_seconds, item.voice_bytes = key, "audio/webm", 2.0, len(data)
    return key


@dataclass
class World:
    gone: User          # the person to erase
    boss: User          # their manager
    report: User        # reports to them
    other: User         # a colleague
    hr: User
    admin: User
    kept: Feedback      # public praise they gave `other` (stays, as from a former colleague)
    secret: Feedback    # confidential feedback they gave `other` (deleted)
    got: Feedback       # public praise they received (deleted)
    others_note: Feedback  # `other` to `boss`, mentioning 赵小雪 by name (stays, name cut out)
    voice_keys_theirs: list[str] = field(default_factory=list)
    voice_keys_others: list[str] = field(default_factory=list)


@pytest.fixture()
def world(app: Flask, make_user, voice_dir: Path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    dept = Department(name_zh="研发", name_en="R&D")
    db.session.add(dept)
    db.session.commit()
    boss = make_user(name="王伟", email="boss@example.com", department=dept)
    gone = make_user(name=NAME, email=EMAIL, manager=boss, department=dept, title="工程师",
                     locale="zh_Hans_CN")
    report = make_user(name="Report Person", email="report@example.com", manager=gone)
    other = make_user(name="Other Person", email="other@example.com", manager=boss)
    hr = make_user(name="HR Person", email="hr@example.com", role="hr")
    admin = make_user(name="Admin Person", email="admin@example.com", role="admin")
    value = Tag(kind="value", name_en="Ownership", name_zh="担当", key="ownership")
    project = Project(name="Apollo")
    project.members = [gone, other]
    db.session.add_all([value, project])
    db.session.flush()

    kept = Feedback(author_id=gone.id, recipient_id=other.id, kind="praise", visibility="public",
                    text="Great launch, thank you!", tags=[value])
    secret = Feedback(author_id=gone.id, recipient_id=other.id, kind="constructive", visibility="private",
                      confidential=True, text="Please review more carefully.")
    got = Feedback(author_id=other.id, recipient_id=gone.id, kind="praise", visibility="public",
                   text=f"{NAME} fixed the build", tags=[value])
    others_note = Feedback(author_id=other.id, recipient_id=boss.id, kind="praise", visibility="public",
                           text=f"Thanks for backing {NAME} and me ({EMAIL.upper()})")
    db.session.add_all([kept, secret, got, others_note])
    db.session.flush()
    w = World(gone=gone, boss=boss, report=report, other=other, hr=hr, admin=admin, kept=kept, secret=secret,
              got=got, others_note=others_note)
    w.voice_keys_theirs += [_voice(voice_dir, kept, b"their voice 1"), _voice(voice_dir, secret, b"their voice 2")]
    w.voice_keys_others += [_voice(voice_dir, got, b"about them"), _voice(voice_dir, others_note, b"others")]

    request = FeedbackRequest(requester_id=gone.id, about="My design review", expires_at=utcnow() + timedelta(days=7))
    request.asks = [FeedbackAsk(recipient_id=other.id)]
    theirs = FeedbackRequest(requester_id=other.id, about="Sprint retro", expires_at=utcnow() + timedelta(days=7))
    theirs.asks = [FeedbackAsk(recipient_id=gone.id), FeedbackAsk(recipient_id=boss.id)]
    db.session.add_all([request, theirs])

    badge = Badge(name_zh="好帮手", name_en="Helper", awarders="anyone")
    db.session.add(badge)
    db.session.flush()
    month = utcnow().strftime("%Y-%m")
    db.session.add_all([
        FlowerGift(giver_id=gone.id, receiver_id=other.id, count=3, message="For the demo", month=month),
        FlowerGift(giver_id=other.id, receiver_id=gone.id, count=2, message=f"给{NAME}的花", month=month),
        GiverMonth(user_id=gone.id, month=month, flowers_spent=3),
        FlowerQuota(user_id=gone.id, monthly=10),
        BadgeAward(badge_id=badge.id, receiver_id=other.id, giver_id=gone.id, citation="Always helps", month=month),
        BadgeAward(badge_id=badge.id, receiver_id=gone.id, giver_id=other.id, citation=f"{NAME} helps", month=month),
    ])
    reaction = Reaction(target_type="feedback", target_id=others_note.id, user_id=gone.id, emoji="👍")
    db.session.add_all([
        reaction,
        Reaction(target_type="feedback", target_id=got.id, user_id=other.id, emoji="🔥"),
        Comment(target_type="feedback", target_id=kept.id, author_id=gone.id, text="Happy to help"),
        Comment(target_type="feedback", target_id=others_note.id, author_id=other.id, text=f"cc {NAME}"),
    ])
    db.session.flush()
    db.session.add_all([
        Notification(user_id=gone.id, kind="feedback_received", feedback_id=got.id, dedupe_key=f"feedback:{got.id}"),
        Notification(user_id=other.id, kind="reaction_added", ref_type="reaction", ref_id=reaction.id,
                     dedupe_key=f"reaction:feedback:{others_note.id}:{gone.id}:👍"),
        NotificationPreference(user_id=gone.id, weekly=False),
        PushSubscription(user_id=gone.id, endpoint="https://fcm.googleapis.com/fcm/send/secret-token",
                         p256dh="k" * 20, auth="a" * 10, user_agent="Mozilla/5.0 (Android)"),
        LoginSession(token_hash="t" * 64, user_id=gone.id, user_agent="Mozilla/5.0 (Android)"),
        Invite(token_hash="i" * 64, user_id=gone.id, invited_by_id=hr.id, expires_at=utcnow()),
        Invite(token_hash="j" * 64, user_id=report.id, invited_by_id=gone.id, expires_at=utcnow()),
        IdempotencyRecord(user_id=gone.id, key="k" * 16, request_hash="h" * 64, state="done", status_code=303,
                          body=b"", headers="{}"),
        IdempotencyRecord(user_id=other.id, key="o" * 16, request_hash="h" * 64, state="done", status_code=200,
                          body=f"<p>Sent to {NAME}</p>".encode(), headers="{}"),
        Report(target_type="feedback", target_id=others_note.id, reporter_id=gone.id, reason="Not about work"),
        ModerationDecision(actor_id=hr.id, target_type="comment", target_id=999, action="delete",
                           reason=f"{NAME} posted this twice", subject_id=gone.id),
        PostingSuspension(user_id=gone.id, until=utcnow() + timedelta(days=1), created_by_id=hr.id),
        PostingSuspension(user_id=other.id, until=utcnow() + timedelta(days=1), created_by_id=gone.id,
                          reason="spam"),
    ])
    db.session.flush()
    db.session.add(PushDelivery(notification_id=db.session.scalar(
        db.select(Notification.id).where(Notification.user_id == gone.id)), user_id=gone.id, status="sent"))
    featured = Story(source_type="feedback", source_id=got.id, title=f"{NAME} saves the day", text="Story",
                     promoter_id=boss.id)
    featured.people = [StoryPerson(user_id=gone.id, consent="accepted")]
    promoted = Story(source_type="feedback", source_id=others_note.id, title="Backing each other",
                     text="A story", promoter_id=gone.id)
    promoted.people = [StoryPerson(user_id=boss.id, consent="pending")]
    only_them = CustomerPraise(status="confirmed", origin="paste", sender_name="Client", sender_email="c@client.example",
                               subject=f"Thanks to {NAME}", body=f"{NAME} was great", suggested_ids=[gone.id],
                               created_by_id=gone.id)
    only_them.people = [gone]
    both = CustomerPraise(status="confirmed", origin="paste", sender_name="Client", sender_email="c@client.example",
                          subject="Thanks team", body=f"{NAME} and Other Person were great",
                          suggested_ids=[gone.id, other.id], confirmed_by_id=gone.id)
    both.people = [gone, other]
    db.session.add_all([featured, promoted, only_them, both])
    db.session.commit()
    yield w
