"""Me → Notifications: push subscriptions (one per device), nudge switches, quiet hours, daily cap;
and the organisation's nudge switches that HR controls."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from perfapp.core.db import rowcount
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.notify import push
from perfapp.notify.delivery import PREFERENCE_DEFAULTS, default_preference, push_policy
from perfapp.notify.models import NotificationPreference, NudgeSetting, PushSubscription
from perfapp.notify.registry import PUSH_CATEGORIES
from perfapp.people.models import User

MIN_CAP, MAX_CAP = 1, 20
MAX_DEVICES = 10
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# --- preferences -------------------------------------------------------------------------------

@dataclass
class PreferenceInput:
    """The settings form: a switch per nudge group, quiet hours as "HH:MM", the cap as typed."""

    switches: dict[str, bool]
    quiet_enabled: bool
    quiet_start: str
    quiet_end: str
    daily_cap: str


def preference_for(user: User) -> NotificationPreference:
    """The person's preferences (the defaults if they never saved any)."""
    return db.session.get(NotificationPreference, user.id) or default_preference(user.id)


def parse_hhmm(value: str) -> int | None:
    """Minutes after midnight from "21:00" (or "7:30"); None if it is not a time of day."""
    match = _HHMM.match((value or "").strip())
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def update_preferences(user: User, data: PreferenceInput) -> NotificationPreference:
    """Save the nudge switches, quiet hours and daily cap (all or nothing). Flushes."""
    errors: dict[str, str] = {}
    start, end = parse_hhmm(data.quiet_start), parse_hhmm(data.quiet_end)
    if start is None:
        errors["quiet_start"] = _("Enter a time such as 21:00.")
    if end is None:
        errors["quiet_end"] = _("Enter a time such as 08:00.")
    if data.quiet_enabled and start is not None and start == end:
        errors["quiet_end"] = _("Quiet hours need to end at another time than they start.")
    try:
        cap = int((data.daily_cap or "").strip())
    except ValueError:
        cap = None
    if cap is None or not MIN_CAP <= cap <= MAX_CAP:
        errors["daily_cap"] = _("Choose a number from %(min)d to %(max)d.", min=MIN_CAP, max=MAX_CAP)
    if errors or start is None or end is None or cap is None:
        raise FormError(errors)
    pref = db.session.get(NotificationPreference, user.id)
    if pref is None:
        pref = NotificationPreference(user_id=user.id, **PREFERENCE_DEFAULTS)
        db.session.add(pref)
    for name in PUSH_CATEGORIES:
        setattr(pref, name, bool(data.switches.get(name)))
    pref.quiet_enabled = data.quiet_enabled
    pref.quiet_start, pref.quiet_end, pref.daily_cap = start, end, cap
    db.session.flush()
    return pref


# --- subscriptions -------------------------------------------------------------------------------

@dataclass
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""
    locale: str | None = None  # the page's language


def parse_subscription(data: Any, user_agent: str = "", locale: str | None = None) -> SubscriptionInput:
    """What PushSubscription.toJSON() gives: {"endpoint", "keys": {"p256dh", "auth"}}."""
    keys = data.get("keys") if isinstance(data, dict) else None
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    p256dh = keys.get("p256dh") if isinstance(keys, dict) else None
    auth = keys.get("auth") if isinstance(keys, dict) else None
    if not (isinstance(endpoint, str) and endpoint and isinstance(p256dh, str) and p256dh
            and isinstance(auth, str) and auth):
        raise FormError({"subscription": _("The browser sent an incomplete push subscription.")})
    return SubscriptionInput(endpoint=endpoint, p256dh=p256dh, auth=auth, user_agent=user_agent[:200],
                             locale=locale)


def subscribe(user: User, data: SubscriptionInput) -> PushSubscription:
    """Remember this device's subscription for the person (a known endpoint moves to them). Flushes."""
    allowlist, local_test = push_policy()
    try:
        push.check_endpoint(data.endpoint, allowlist, allow_local_test=local_test)
    except push.EndpointRefused as e:
        raise FormError({"subscription": _("Push notifications can't be sent to this browser's push service.")}) from e
    if len(data.p256dh) > 128 or len(data.auth) > 64:
        raise FormError({"subscription": _("The browser sent invalid push keys.")})
    try:
        push.check_keys(data.p256dh, data.auth)
    except ValueError as e:
        raise FormError({"subscription": _("The browser sent invalid push keys.")}) from e
    sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
    if sub is None:
        if len(devices(user)) >= MAX_DEVICES:
            raise FormError({"subscription": _("You already get notifications on %(n)d devices. Remove one first.",
                                               n=MAX_DEVICES)})
        sub = PushSubscription(endpoint=data.endpoint)
        _fill(sub, user, data)
        try:
            with db.session.begin_nested():
                db.session.add(sub)
        except IntegrityError:  # the same device subscribing twice at once: the other one won
            sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
            if sub is None:
                raise
    _fill(sub, user, data)
    db.session.flush()
    return sub


def _fill(sub: PushSubscription, user: User, data: SubscriptionInput) -> None:
    sub.user_id, sub.p256dh, sub.auth, sub.user_agent = user.id, data.p256dh, data.auth, data.user_agent
    sub.locale = data.locale


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget this device (the browser has unsubscribed); only the person's own. Flushes."""
    result = db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint))
    return bool(rowcount(result))


def remove_device(user: User, subscription_id: int) -> None:
    """Remove one of the person's devices from the list; LookupError for anyone else's. Flushes."""
    sub = db.session.get(PushSubscription, subscription_id)
    if sub is None or sub.user_id != user.id:
        raise LookupError(subscription_id)
    db.session.delete(sub)
    db.session.flush()


def devices(user: User) -> list[PushSubscription]:
    """The person's subscribed devices, newest first."""
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                   .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())))


def device_label(user_agent: str) -> str:
    """"Chrome · Android" from a User-Agent, enough to tell one's devices apart."""
    ua = user_agent or ""
    system = next((name for key, name in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                                          ("Windows", "Windows"), ("Mac OS", "macOS"), ("CrOS", "ChromeOS"),
                                          ("Linux", "Linux")) if key in ua), "")
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("OPR/", "Opera"),
                                           ("Chrome/", "Chrome"), ("Safari/", "Safari")) if key in ua), "")
    label = " · ".join(p for p in (browser, system) if p)
    return label or _("Unknown browser")


# --- the organisation's switches (HR) -------------------------------------------------------------------

def nudge_setting() -> NudgeSetting:
    return db.session.get(NudgeSetting, 1) or NudgeSetting(id=1, weekly_nudge=True)


def set_weekly_nudge(actor: User, enabled: bool) -> NudgeSetting:
    """HR switches the weekly nudge on or off for everyone. Flushes."""
    if not actor.is_hr:
        raise PermissionError("only HR changes organisation nudges")
    setting = db.session.get(NudgeSetting, 1)
    if setting is None:
        setting = NudgeSetting(id=1)
        db.session.add(setting)
    setting.weekly_nudge = enabled
    db.session.flush()
    return setting
