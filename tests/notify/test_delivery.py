"""Push delivery: what becomes a push (switches, quiet hours, daily cap, de-duplication), what
it says and in which language, and what the push service's answers do (410, 429, 5xx)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback
from perfapp.notify import delivery, push, tasks
from perfapp.notify.models import (
    Notification,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
    VapidKey,
)
from perfapp.notify.services import notify
from perfapp.tasks import huey
from tests.notify.conftest import Answer
from tests.notify.test_push import fixed

NOON_SHANGHAI = datetime(2026, 3, 2, 4, 0)  # naive UTC: 12:00 in Asia/Shanghai


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- end to end through the job (inline in tests) -----------------------------------------------

def test_feedback_reaches_every_device_in_the_recipients_language(make_user, subscribe, push_service) -> None:
    author = make_user(name="Emma Wilson")
    me = make_user(name="李娜", locale="zh_Hans_CN")
    _phone, phone_browser = subscribe(me)
    _laptop, laptop_browser = subscribe(me)
    feedback = give_feedback(author, FeedbackInput(recipient_id=me.id, text="谢谢你周五的演示！"))
    assert push_service.received == []  # nothing before the commit
    db.session.commit()
    assert len(push_service.received) == 2
    (first,), (second,) = push_service.read(phone_browser), push_service.read(laptop_browser)
    assert first == second
    assert first["title"] == "Emma Wilson 给了你反馈"
    assert first["body"] == "谢谢你周五的演示！" and first["url"] == f"/feedback/{feedback.id}"
    assert first["lang"] == "zh-Hans" and first["kind"] == "feedback_received"
    headers = push_service.received[0].headers
    assert headers["content-type"] == "application/octet-stream" and headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(24 * 3600) and headers["urgency"] == "normal"
    assert headers["authorization"].startswith("vapid t=")
    note = db.session.scalar(select(Notification).where(Notification.user_id == me.id))
    assert note is not None and note.read_at is None  # it is in the inbox too
    assert db.session.get(PushDelivery, note.id).status == "sent"


def test_a_rolled_back_entry_is_never_pushed(make_user, subscribe, push_service) -> None:
    author, me = make_user(), make_user()
    subscribe(me)
    give_feedback(author, FeedbackInput(recipient_id=me.id, text="never mind"))
    db.session.rollback()
    db.session.commit()
    assert push_service.received == []


def test_a_confidential_author_is_never_named(make_user, subscribe, push_service) -> None:
    author, me = make_user(name="Secret Sam"), make_user()
    _sub, browser = subscribe(me)
    give_feedback(author, FeedbackInput(recipient_id=me.id, text="Great work on the launch", confidential=True))
    give_feedback(author, FeedbackInput(recipient_id=me.id, text="Try shorter slides", kind="constructive",
                                        visibility="private", confidential=True))
    db.session.commit()
    sent = push_service.read(browser)
    assert [p["title"] for p in sent] == ["You received confidential feedback"] * 2
    assert "Sam" not in json.dumps(sent)
    # Only praise shows its words on a lock screen.
    assert sent[0]["body"] == "Great work on the launch" and sent[1]["body"] == "Open it to read what they wrote."


def test_one_push_per_event_per_person(make_user, subscribe, push_service) -> None:
    me = make_user()
    subscribe(me)
    note = notify(me.id, "milestone_nudge", ref_type="milestone", ref_id=1, dedupe_key="milestone:1")
    assert notify(me.id, "milestone_nudge", ref_type="milestone", ref_id=1, dedupe_key="milestone:1") is None
    db.session.commit()
    assert note is not None
    # The milestone does not exist: nothing to say, so nothing is pushed (the entry stays).
    assert push_service.received == []
    other_id = notify(me.id, "some_new_kind", dedupe_key="x:1").id
    db.session.commit()
    assert len(push_service.received) == 1
    # A job that runs again (a consumer restarted mid-way) never pushes twice.
    tasks.deliver_notifications([other_id, other_id])
    assert len(push_service.received) == 1


def test_kinds_without_a_text_of_their_own_get_a_generic_one(make_user, subscribe, push_service) -> None:
    me = make_user(locale="en")
    _sub, browser = subscribe(me)
    notify(me.id, "story_published", ref_type="story", ref_id=42)
    db.session.commit()
    (sent,) = push_service.read(browser)
    assert sent["title"] == "perfapp" and sent["body"] == "You have something new in your inbox."
    assert sent["url"] == "/notify/"


def test_switched_off_nudges_stay_in_the_inbox(make_user, subscribe, push_service) -> None:
    author, me = make_user(), make_user()
    _sub, browser = subscribe(me, received=False)
    give_feedback(author, FeedbackInput(recipient_id=me.id, text="hello"))
    request_feedback(author, [me.id], "my slides")
    db.session.commit()
    assert [p["kind"] for p in push_service.read(browser)] == ["ask_received"]
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.user_id == me.id)))
    assert {"feedback_received", "ask_received"} <= kinds


def test_people_without_devices_or_deactivated_get_nothing(make_user, subscribe, push_service) -> None:
    author, me, gone = make_user(), make_user(), make_user()
    subscribe(gone)
    gone.active = False
    db.session.commit()
    give_feedback(author, FeedbackInput(recipient_id=me.id, text="hi"))
    notify(gone.id, "anything")
    db.session.commit()
    assert push_service.received == []


# --- answers from the push service -----------------------------------------------------------------

def test_gone_subscriptions_are_deleted(make_user, subscribe, push_service) -> None:
    me = make_user()
    expired, expired_browser = subscribe(me)
    unknown, unknown_browser = subscribe(me)
    alive, _ = subscribe(me)
    expired_id, unknown_id, alive_id = expired.id, unknown.id, alive.id
    push_service.answer_to(expired_browser, Answer(410))
    push_service.answer_to(unknown_browser, Answer(404))
    notify(me.id, "anything")
    db.session.commit()
    assert len(push_service.received) == 3
    assert db.session.get(PushSubscription, expired_id) is None
    assert db.session.get(PushSubscription, unknown_id) is None
    assert db.session.get(PushSubscription, alive_id) is not None


def test_429_waits_as_long_as_retry_after_says(make_user, subscribe, push_service) -> None:
    me = make_user()
    sub, browser = subscribe(me)
    push_service.answer(Answer(429, {"Retry-After": "120"}))
    before = utcnow()
    note_id, sub_id = notify(me.id, "anything").id, sub.id
    db.session.commit()
    (retry,) = huey.scheduled()
    assert retry.name.endswith("retry_push") and retry.args == (note_id, sub_id, 2)
    assert before + timedelta(seconds=119) <= retry.eta <= utcnow() + timedelta(seconds=121)
    huey.flush()
    huey.execute(retry, timestamp=retry.eta)
    assert len(push_service.received) == 2 and push_service.read(browser)[1]["id"] == note_id
    assert huey.scheduled() == []


def test_5xx_backs_off_exponentially_up_to_a_cap_then_gives_up(app, make_user, subscribe, push_service,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "PUSH_MAX_ATTEMPTS", 4)
    me = make_user()
    subscribe(me)
    push_service.answer(*[Answer(503)] * 4)
    notify(me.id, "anything")
    db.session.commit()
    delays = []
    for _ in range(3):
        (retry,) = huey.scheduled()
        delays.append((retry.eta - utcnow()).total_seconds())
        huey.flush()
        db.session.commit()
        huey.execute(retry, timestamp=retry.eta)
    assert len(push_service.received) == 4
    assert huey.scheduled() == []  # four attempts: done
    base = app.config["PUSH_RETRY_BASE_SECONDS"]
    for delay, factor in zip(delays, (1, 2, 4), strict=True):
        assert base * factor - 2 <= delay <= base * factor * 1.1 + 1
    # The cap holds however many attempts, and Retry-After still wins over it.
    cap = app.config["PUSH_RETRY_MAX_SECONDS"]
    assert cap <= delivery.backoff(30, None) <= cap * 1.1
    assert delivery.backoff(2, 7200.0) == 7200.0


def test_network_errors_are_retried(app, make_user, subscribe, push_service) -> None:
    me = make_user()
    sub, _ = subscribe(me)
    sub.endpoint = "http://127.0.0.1:9/push/nobody-listens"
    db.session.commit()
    notify(me.id, "anything")
    db.session.commit()
    (retry,) = huey.scheduled()
    assert retry.name.endswith("retry_push")


def test_stored_endpoints_are_checked_again_at_send_time(app, make_user, subscribe, push_service,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    me = make_user()
    sub, _ = subscribe(me)
    sub_id = sub.id
    sub.endpoint = "https://fcm.googleapis.com/fcm/send/rebound"
    db.session.commit()
    note_id = notify(me.id, "anything").id
    db.session.commit()  # the inline job's default sender cannot resolve it here: a network error
    huey.flush()
    plan = delivery.plan_retry(note_id, sub_id)
    assert isinstance(plan, delivery.Outgoing)
    db.session.commit()  # like the job: no transaction open while sending
    # The push service's name now resolves inside our network: refused, never connected, dropped.
    sender = push.Sender(allowlist=tuple(app.config["PUSH_HOST_ALLOWLIST"]), resolve=fixed("10.0.0.8"))
    results = delivery.send_all([plan], sender=sender)
    assert results[0][1].refused
    assert delivery.apply_results(results) == []
    db.session.commit()
    assert db.session.get(PushSubscription, sub_id) is None


def test_endpoints_the_policy_no_longer_allows_are_dropped(app, make_user, subscribe, push_service,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    me = make_user()
    sub, _ = subscribe(me)
    sub_id = sub.id
    monkeypatch.setitem(app.config, "PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE", False)
    notify(me.id, "anything")
    db.session.commit()
    assert push_service.received == []
    assert db.session.get(PushSubscription, sub_id) is None


# --- quiet hours and the daily cap (fixed times) ------------------------------------------------------

def at_local(day: int, hh: int, mm: int = 0, zone: str = "Asia/Shanghai") -> datetime:
    """Naive UTC for a local wall-clock time on 2026-03-<day>."""
    return datetime(2026, 3, day, hh, mm, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_quiet_hours_windows() -> None:
    pref = delivery.default_preference(1)  # 21:00-08:00
    zone = ZoneInfo("Asia/Shanghai")
    assert delivery.quiet_until(pref, zone, at_local(2, 20, 59)) is None
    assert delivery.quiet_until(pref, zone, at_local(2, 21, 0)) == at_local(3, 8, 0)
    assert delivery.quiet_until(pref, zone, at_local(3, 2, 30)) == at_local(3, 8, 0)
    assert delivery.quiet_until(pref, zone, at_local(3, 8, 0)) is None
    pref.quiet_start, pref.quiet_end = 12 * 60, 13 * 60 + 30  # a lunch break, same day
    assert delivery.quiet_until(pref, zone, at_local(3, 12, 45)) == at_local(3, 13, 30)
    assert delivery.quiet_until(pref, zone, at_local(3, 11, 59)) is None
    pref.quiet_enabled = False
    assert delivery.quiet_until(pref, zone, at_local(3, 12, 45)) is None
    # The person's own timezone, daylight saving included (New York moved its clocks on 8 March).
    pref = delivery.default_preference(1)
    ny = ZoneInfo("America/New_York")
    assert delivery.quiet_until(pref, ny, at_local(7, 23, 0, "America/New_York")) == at_local(8, 8, 0, "America/New_York")
    assert at_local(8, 8, 0, "America/New_York") == datetime(2026, 3, 8, 12, 0)


def test_nothing_is_sent_in_quiet_hours_it_waits(make_user, subscribe, push_service) -> None:
    me = make_user(timezone="Asia/Shanghai")
    subscribe(me, quiet=True)
    note = notify(me.id, "anything")
    db.session.flush()
    plan = delivery.plan_delivery([note.id], now=at_local(2, 22, 30))
    assert plan.outgoing == [] and dict(plan.deferred) == {at_local(3, 8, 0): [note.id]}
    assert db.session.get(PushDelivery, note.id) is None  # not decided yet
    plan = delivery.plan_delivery([note.id], now=at_local(3, 8, 0))
    assert len(plan.outgoing) == 1 and not plan.deferred


def test_the_job_schedules_itself_for_when_quiet_hours_end(make_user, subscribe, push_service) -> None:
    me = make_user(timezone="UTC")
    now = utcnow()
    minute = now.hour * 60 + now.minute
    subscribe(me, quiet=True, quiet_start=(minute - 60) % 1440, quiet_end=(minute + 60) % 1440)
    note_id = notify(me.id, "anything").id
    db.session.commit()
    assert push_service.received == []
    (later,) = huey.scheduled()
    assert later.name.endswith("deliver_notifications") and later.args == ([note_id],)
    assert timedelta(minutes=58) <= later.eta - now <= timedelta(minutes=61)
    db.session.get(NotificationPreference, me.id).quiet_enabled = False
    db.session.commit()
    huey.execute(later, timestamp=later.eta)
    assert len(push_service.received) == 1


def test_past_the_daily_cap_it_stays_in_the_inbox(make_user, subscribe, push_service) -> None:
    me = make_user(timezone="Asia/Shanghai")
    subscribe(me, daily_cap=2)
    notes = [notify(me.id, "anything") for _ in range(3)]
    db.session.flush()
    ids = [n.id for n in notes]
    plan = delivery.plan_delivery(ids[:1], now=at_local(2, 9, 0))
    assert plan.sent == 1
    plan = delivery.plan_delivery(ids[1:], now=at_local(2, 18, 0))
    assert (plan.sent, plan.capped, len(plan.outgoing)) == (1, 1, 1)
    assert db.session.get(PushDelivery, ids[2]).status == "capped"
    assert count(Notification) == 3
    # The cap counts the person's own day: after local midnight there is room again.
    more = notify(me.id, "anything")
    db.session.flush()
    assert delivery.plan_delivery([more.id], now=at_local(2, 23, 59)).capped == 1
    again = notify(me.id, "anything")
    db.session.flush()
    assert delivery.plan_delivery([again.id], now=at_local(3, 0, 1)).sent == 1


# --- keys -------------------------------------------------------------------------------------------------

def test_vapid_keys_are_made_once_and_kept(app) -> None:
    first = delivery.vapid_keys()
    second = delivery.vapid_keys()
    assert first == second and count(VapidKey) == 1
    assert len(push.b64url_decode(first.public_key)) == 65


def test_configured_vapid_keys_win(app, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = push.generate_vapid_keys()
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", keys.private_pem.decode())
    monkeypatch.setitem(app.config, "VAPID_PUBLIC_KEY", keys.public_key)
    assert delivery.vapid_keys() == keys and count(VapidKey) == 0
    monkeypatch.setitem(app.config, "VAPID_PUBLIC_KEY", push.generate_vapid_keys().public_key)
    with pytest.raises(RuntimeError):
        delivery.vapid_keys()


def test_without_a_chosen_language_each_device_gets_its_pages_language(make_user, subscribe, push_service) -> None:
    me = make_user(name="Lina")  # never chose a language
    zh_sub, zh_browser = subscribe(me)
    en_sub, en_browser = subscribe(me)
    zh_sub.locale, en_sub.locale = "zh_Hans_CN", "en"
    db.session.commit()
    notify(me.id, "anything")
    db.session.commit()
    (zh,), (en,) = push_service.read(zh_browser), push_service.read(en_browser)
    assert zh["body"] == "你的收件箱有新消息。" and en["body"] == "You have something new in your inbox."
    me.locale = "en"  # a chosen language wins everywhere
    notify(me.id, "anything")
    db.session.commit()
    assert push_service.read(zh_browser)[1]["body"] == "You have something new in your inbox."


def test_people_without_a_device_cost_no_job(make_user, subscribe, push_service) -> None:
    from huey.signals import SIGNAL_ENQUEUED

    queued: list[str] = []

    def seen(_signal, task, *_args) -> None:  # type: ignore[no-untyped-def]
        queued.append(task.name)

    huey.signal(SIGNAL_ENQUEUED)(seen)
    try:
        nobody, someone = make_user(), make_user()
        notify(nobody.id, "anything")
        db.session.commit()
        assert queued == []
        subscribe(someone)
        notify(nobody.id, "anything")
        notify(someone.id, "anything")
        db.session.commit()
        assert queued == ["deliver_notifications"]
    finally:
        huey.disconnect_signal(seen, SIGNAL_ENQUEUED)
