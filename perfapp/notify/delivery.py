"""Push delivery: which inbox entries become pushes, and sending them.

Every nudge is an inbox entry first (notify()). Its id is queued when the transaction that
made it commits; a background job then decides per entry (the person's nudge switches, quiet
hours in their timezone, their daily cap), claims it (PushDelivery), commits, and only then
encrypts and POSTs to each of the person's devices, outside any database transaction.
Answers: 404/410 delete the subscription, 429/5xx/network errors are retried later with
capped exponential backoff that honours Retry-After.
"""
from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perfapp.core.db import utcnow
from perfapp.core.i18n import autospace, html_lang
from perfapp.extensions import db
from perfapp.notify import push
from perfapp.notify.models import (
    Notification,
    NotificationPreference,
    PushDelivery,
    PushSubscription,
    VapidKey,
)
from perfapp.notify.registry import PUSH_KINDS, PushText
from perfapp.people.models import User

log = logging.getLogger("perfapp.push")

PREFERENCE_DEFAULTS: dict[str, Any] = {
    "milestone": True, "received": True, "requests": True, "weekly": True, "other": True,
    "quiet_enabled": True, "quiet_start": 21 * 60, "quiet_end": 8 * 60, "daily_cap": 5,
}

# --- queued when the inbox entry is committed ------------------------------------------------

_PENDING = "perfapp.push.pending"


def queue_after_commit(note: Notification) -> None:
    """Push this inbox entry once the current transaction commits (never if it rolls back)."""
    db.session.info.setdefault(_PENDING, []).append((note.id, note.user_id))


def _keep_reachable(session: Session) -> None:
    # Still inside the transaction: one query keeps only the entries of people with a device,
    # so the many without one cost no job (and no second write transaction) at all.
    pending = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return
    user_ids = sorted({user_id for _note_id, user_id in pending})
    reachable: set[int] = set()
    for i in range(0, len(user_ids), 1000):
        reachable.update(session.scalars(select(PushSubscription.user_id).distinct()
                                         .where(PushSubscription.user_id.in_(user_ids[i:i + 1000]))))
    session.info[_PENDING] = [(n, u) for n, u in pending if u in reachable]


def _enqueue_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released (begin_nested): not committed yet
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        from perfapp.notify.tasks import enqueue_delivery

        enqueue_delivery(note_id for note_id, _user_id in pending)


def _drop_pending(session: Session) -> None:
    if session.in_nested_transaction():  # only a SAVEPOINT rolled back: the transaction goes on
        return
    session.info.pop(_PENDING, None)


def install() -> None:
    """Listen on every session (notify.wiring, once per process)."""
    for name, listener in (("before_commit", _keep_reachable), ("after_commit", _enqueue_pending),
                           ("after_rollback", _drop_pending)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# --- keys, encrypter and sender ----------------------------------------------------------------

@lru_cache(maxsize=4)
def _configured_keys(private: str, public: str | None) -> push.VapidKeys:
    keys = push.keys_from_config(private)
    if public and public.strip() != keys.public_key:
        raise RuntimeError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY")
    return keys


def vapid_keys() -> push.VapidKeys:
    """The configured key pair, else the one in the database. On first use it is made in the
    caller's transaction, which the caller commits; two workers racing on first run agree on
    one key (the unique slot: the second one reads the first one's)."""
    configured = current_app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        return _configured_keys(configured, current_app.config.get("VAPID_PUBLIC_KEY"))
    row = db.session.scalar(select(VapidKey).where(VapidKey.slot == 1))
    if row is None:
        keys = push.generate_vapid_keys()
        try:
            with db.session.begin_nested():
                db.session.add(VapidKey(slot=1, private_pem=keys.private_pem.decode(), public_key=keys.public_key))
        except IntegrityError:
            row = db.session.scalar(select(VapidKey).where(VapidKey.slot == 1))
            if row is None:
                raise
        else:
            return keys
    return push.VapidKeys(private_pem=row.private_pem.encode(), public_key=row.public_key)


def encrypter() -> push.Encrypter:
    return push.cached_encrypter(vapid_keys().private_pem, current_app.config["VAPID_SUBJECT"])


def push_policy() -> tuple[tuple[str, ...], bool]:
    """(allowed push hosts, whether the local test service is admitted)."""
    config = current_app.config
    return tuple(config["PUSH_HOST_ALLOWLIST"]), bool(config.get("PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE"))


_senders: dict[tuple[Any, ...], push.Sender] = {}
_pools: dict[int, ThreadPoolExecutor] = {}


def default_sender() -> push.Sender:
    """One sender per configuration and process, so its connections are reused across jobs."""
    allowlist, local = push_policy()
    key = (allowlist, local, current_app.config["PUSH_TIMEOUT_SECONDS"])
    sender = _senders.get(key)
    if sender is None:
        sender = _senders.setdefault(key, push.Sender(allowlist=allowlist, allow_local_test=local,
                                                      timeout=key[2]))
    return sender


def _pool() -> ThreadPoolExecutor:
    size = int(current_app.config["PUSH_SEND_THREADS"])
    pool = _pools.get(size)
    if pool is None:
        pool = _pools.setdefault(size, ThreadPoolExecutor(max_workers=size, thread_name_prefix="push"))
    return pool


# --- time: quiet hours and the local day -------------------------------------------------------

def zone_of(user: User) -> ZoneInfo:
    for name in (user.timezone, current_app.config["ORG_TIMEZONE"], "UTC"):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
    raise RuntimeError("no usable timezone")  # pragma: no cover


def _local(now: datetime, zone: ZoneInfo) -> datetime:
    return now.replace(tzinfo=UTC).astimezone(zone)


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def quiet_until(pref: NotificationPreference, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When quiet hours end (naive UTC) if `now` falls inside them, else None."""
    start, end = pref.quiet_start, pref.quiet_end
    if not pref.quiet_enabled or start == end:
        return None
    local = _local(now, zone)
    minute = local.hour * 60 + local.minute
    quiet = start <= minute < end if start < end else (minute >= start or minute < end)
    if not quiet:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    return _to_utc(datetime.combine(day, time(end // 60, end % 60), tzinfo=zone))


def local_day_start(zone: ZoneInfo, now: datetime) -> datetime:
    """Midnight of the person's current day, as naive UTC."""
    local = _local(now, zone)
    return _to_utc(datetime.combine(local.date(), time(0), tzinfo=zone))


# --- what to say ----------------------------------------------------------------------------------

def path_for(endpoint: str, **values: Any) -> str:
    """An app path for a push payload, also from a background job (no request, no SERVER_NAME)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, values)


def generic_text(_note: Notification, _locale: str) -> PushText:
    """For inbox entries whose kind registered no text of its own."""
    return PushText(title=_("perfapp"), body=_("You have something new in your inbox."),
                    url=path_for("notify.inbox"))


def locale_for(user: User, sub: PushSubscription) -> str:
    """The language the person chose, else the one the device's page was in when it subscribed."""
    return user.locale or sub.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=16)
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)  # parsing is slow; force_locale takes a Locale as it is


TextCache = dict[tuple[Any, ...], tuple[PushText, str] | None]


def render(note: Notification, locale: str, cache: TextCache | None = None) -> tuple[PushText, bytes] | None:
    """The text in this language and the JSON payload the service worker shows.

    With a cache, one text per event and language: a fan-out of one event (a milestone
    reached) renders it once per language, not once per person."""
    key = (note.kind, note.ref_type, note.ref_id, note.feedback_id, note.ask_id, locale)
    if cache is None or key not in cache:
        kind = PUSH_KINDS.get(note.kind)
        with force_locale(_babel_locale(locale)):
            text = kind.render(note, locale) if kind else generic_text(note, locale)
            if text is not None:  # our sentence, not the person's words: only the title
                text = replace(text, title=autospace(text.title))
            rendered = None if text is None else (text, html_lang())
        if cache is None:
            cache = {}
        cache[key] = rendered
    rendered = cache[key]
    if rendered is None:
        return None
    text, lang = rendered
    return text, push.build_payload(text.title, text.body, text.url, tag=f"note-{note.id}",
                                    id=note.id, kind=note.kind, lang=lang)


def category_of(note: Notification) -> str:
    kind = PUSH_KINDS.get(note.kind)
    return kind.category if kind else "other"


def default_preference(user_id: int) -> NotificationPreference:
    """The preferences of someone who never changed them (not added to the session)."""
    return NotificationPreference(user_id=user_id, **PREFERENCE_DEFAULTS)


# --- deciding -----------------------------------------------------------------------------------

@dataclass
class Outgoing:
    """One push to one device."""

    note_id: int
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    ttl: int
    urgency: str


@dataclass
class Plan:
    outgoing: list[Outgoing] = field(default_factory=list)
    deferred: dict[datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    sent: int = 0
    capped: int = 0


def _sent_today(user_ids: Iterable[int], zones: dict[int, ZoneInfo], now: datetime) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    rows = db.session.execute(
        select(PushDelivery.user_id, PushDelivery.decided_at)
        .where(PushDelivery.user_id.in_(list(user_ids)), PushDelivery.status == "sent",
               PushDelivery.decided_at >= now - timedelta(days=2))
    )
    starts = {uid: local_day_start(zone, now) for uid, zone in zones.items()}
    for uid, at in rows:
        if at >= starts[uid]:
            counts[uid] += 1
    return counts


def plan_delivery(note_ids: list[int], now: datetime | None = None) -> Plan:
    """Decide which of these inbox entries are pushed now, later (quiet hours) or not at all
    (switched off, over the daily cap, nothing to say); claims the ones it pushes. Flushes."""
    now = now or utcnow()
    plan = Plan()
    notes = list(db.session.scalars(select(Notification).where(Notification.id.in_(note_ids))
                                    .order_by(Notification.id)))
    if not notes:
        return plan
    decided = set(db.session.scalars(select(PushDelivery.notification_id)
                                     .where(PushDelivery.notification_id.in_(note_ids))))
    user_ids = {n.user_id for n in notes}
    subs: dict[int, list[PushSubscription]] = defaultdict(list)
    for sub in db.session.scalars(select(PushSubscription).where(PushSubscription.user_id.in_(user_ids))
                                  .order_by(PushSubscription.id)):
        subs[sub.user_id].append(sub)
    reachable = {uid for uid in user_ids if subs.get(uid)}
    if not reachable:
        return plan
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(reachable)))}
    prefs = {p.user_id: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(reachable)))}
    zones = {uid: zone_of(u) for uid, u in users.items()}
    counts = _sent_today(users, zones, now)
    texts: TextCache = {}
    for note in notes:
        user = users.get(note.user_id)
        if note.id in decided or user is None or not user.active:
            continue
        pref = prefs.get(user.id) or default_preference(user.id)
        if not getattr(pref, category_of(note)):
            continue
        wait_until = quiet_until(pref, zones[user.id], now)
        if wait_until is not None:
            plan.deferred[wait_until].append(note.id)
            continue
        if counts[user.id] >= pref.daily_cap:
            db.session.add(PushDelivery(notification_id=note.id, user_id=user.id, status="capped", decided_at=now))
            plan.capped += 1
            continue
        rendered = {locale: render(note, locale, texts) for locale in {locale_for(user, s) for s in subs[user.id]}}
        if not any(rendered.values()):
            continue  # nothing to say any more (hidden, answered meanwhile)
        counts[user.id] += 1
        db.session.add(PushDelivery(notification_id=note.id, user_id=user.id, status="sent", decided_at=now))
        plan.sent += 1
        for sub in subs[user.id]:
            message = rendered[locale_for(user, sub)]
            if message is not None:
                text, payload = message
                plan.outgoing.append(Outgoing(note.id, sub.id, sub.endpoint, sub.p256dh, sub.auth, payload,
                                              text.ttl, text.urgency))
    db.session.flush()
    return plan


def plan_retry(note_id: int, subscription_id: int, now: datetime | None = None) -> Outgoing | datetime | None:
    """A push to try again: the message to send, when quiet hours end, or None (gone meanwhile)."""
    now = now or utcnow()
    note = db.session.get(Notification, note_id)
    sub = db.session.get(PushSubscription, subscription_id)
    if note is None or sub is None or sub.user_id != note.user_id:
        return None
    user = db.session.get(User, note.user_id)
    if user is None or not user.active:
        return None
    pref = db.session.get(NotificationPreference, user.id) or default_preference(user.id)
    wait_until = quiet_until(pref, zone_of(user), now)
    if wait_until is not None:
        return wait_until
    rendered = render(note, locale_for(user, sub))
    if rendered is None:
        return None
    text, payload = rendered
    return Outgoing(note.id, sub.id, sub.endpoint, sub.p256dh, sub.auth, payload, text.ttl, text.urgency)


# --- sending ------------------------------------------------------------------------------------

def _send_one(item: Outgoing, crypto: push.Encrypter, sender: push.Sender) -> push.SendResult:
    try:
        message = crypto.prepare(item.endpoint, item.p256dh, item.auth, item.payload,
                                 ttl=item.ttl, urgency=item.urgency)
    except ValueError as e:  # keys we cannot encrypt to: the subscription is useless
        return push.SendResult(0, error=f"encryption: {e}", refused=True)
    return sender.send(message)


def send_all(items: list[Outgoing], sender: push.Sender | None = None,
             crypto: push.Encrypter | None = None) -> list[tuple[Outgoing, push.SendResult]]:
    """Encrypt and POST, several at a time (no database access: call it with no transaction open)."""
    if not items:
        return []
    crypto = crypto or encrypter()
    sender = sender or default_sender()
    # Always from the pool's long-lived threads, which keep their connections open between jobs.
    results = _pool().map(lambda item: _send_one(item, crypto, sender), items)
    return list(zip(items, results, strict=True))


@dataclass(frozen=True)
class Retry:
    note_id: int
    subscription_id: int
    attempt: int  # the attempt this retry will be
    delay: float  # seconds


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before `attempt` (2, 3, ...): base·2^(attempt-2), capped, never before Retry-After."""
    config = current_app.config
    exponential = min(float(config["PUSH_RETRY_MAX_SECONDS"]),
                      float(config["PUSH_RETRY_BASE_SECONDS"]) * 2 ** max(0, attempt - 2))
    # A little jitter, so that thousands of retries after one outage do not arrive together.
    delay = exponential * (1 + random.random() / 10)
    return max(delay, retry_after or 0.0)


def apply_results(results: list[tuple[Outgoing, push.SendResult]], attempt: int = 1) -> list[Retry]:
    """Forget subscriptions the push service says are gone; return the retries to schedule. Flushes."""
    gone: list[int] = []
    retries: list[Retry] = []
    max_attempts = int(current_app.config["PUSH_MAX_ATTEMPTS"])
    for item, result in results:
        if result.ok:
            continue
        if result.gone:
            log.info("push subscription %s gone (%s %s)", item.subscription_id, result.status, result.error)
            gone.append(item.subscription_id)
        elif result.retryable and attempt < max_attempts:
            delay = backoff(attempt + 1, result.retry_after)
            if delay <= item.ttl:  # later than that, the push service would drop it anyway
                retries.append(Retry(item.note_id, item.subscription_id, attempt + 1, delay))
        else:
            log.warning("push to subscription %s failed: %s %s", item.subscription_id, result.status, result.error)
    if gone:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    return retries
