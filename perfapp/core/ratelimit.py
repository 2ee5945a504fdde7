"""Rate limits (flask-limiter): per person for writes, per address when nobody is logged in.

The limits are strings in flask-limiter's notation, read from Config at request time (so an
environment variable or a test can change them): a real person never meets them; a script
hammering logins, feedback or the inbound webhook does. Storage: the worker's memory by
default (one machine; each gunicorn worker counts on its own, which only loosens the limit
by the worker count), Redis when REDIS_URL is set (shared by every worker and host).

A request over a limit gets 429 with Retry-After and a translated message: JSON for scripts,
a toast fragment for htmx, the error page otherwise; the view never runs, so nothing is written.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded, RouteLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage

from perfapp.core.db import SAFE_METHODS
from perfapp.core.errors import error_response
from perfapp.core.security import is_resource
from perfapp.extensions import limiter


def client_address() -> str:
    return "address:" + (get_remote_address() or "unknown")


def person_or_address() -> str:
    """The logged-in person (all their devices share one budget), else the client address."""
    if current_user.is_authenticated:
        return f"person:{current_user.id}"
    return client_address()


def submitted_account() -> str:
    """The account a login (or reset) form names, normalised as the login does: attempts on one
    account from many addresses share one budget."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    # Hashed: the counters (in Redis, perhaps) hold no email addresses.
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _config(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def per_person(setting: str) -> RouteLimit:
    """Limit a write (its POSTs) per person by the Config entry `setting`."""
    return limiter.limit(_config(setting), key_func=person_or_address, methods=["POST"],
                         scope=setting.lower())


def per_address(setting: str) -> RouteLimit:
    """Limit POSTs per client address by the Config entry `setting`."""
    return limiter.limit(_config(setting), key_func=client_address, methods=["POST"],
                         scope=setting.lower())


def per_account(setting: str) -> RouteLimit:
    """Limit POSTs per submitted account (the form's email) by the Config entry `setting`."""
    return limiter.limit(_config(setting), key_func=submitted_account, methods=["POST"],
                         scope=setting.lower())


def retry_after(e: RateLimitExceeded) -> int:
    """Whole seconds until the breached window lets a request through again (at least 1)."""
    current = limiter.current_limit
    if current is not None and current.breached:
        return max(1, math.ceil(current.reset_at - time.time()))
    return max(1, int(e.limit.limit.get_expiry()))


def too_many(e: RateLimitExceeded) -> Response:
    seconds = retry_after(e)
    if seconds <= 90:
        message = ngettext("Too many requests. Please try again in %(num)d second.",
                           "Too many requests. Please try again in %(num)d seconds.", seconds)
    else:
        minutes = math.ceil(seconds / 60)
        message = ngettext("Too many requests. Please try again in %(num)d minute.",
                           "Too many requests. Please try again in %(num)d minutes.", minutes)
    if is_resource():  # an API (push, inbound email): JSON whatever the sender accepts
        response = jsonify(error=message)
        response.status_code = 429
    else:
        response = error_response(429, message)
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


class ThreadSafeMemoryStorage(MemoryStorage):
    """limits' memory storage, safe under gunicorn's threads: its expiry timer is replaced without a
    lock, so two threads counting at once can both start the second one and the request fails with
    "threads can only be started once" (a 500 on the login form when people log in together;
    alisaifee/limits#352, not in a release up to 5.8.0). Registered for `memory://` (limits keeps
    one class per scheme), so every memory limiter in the process is this one."""

    STORAGE_SCHEME = ["memory"]
    _expiry_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name MemoryStorage calls it by
        with self._expiry_lock:
            super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


def init_ratelimit(app: Flask) -> None:
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        redis_url = app.config.get("REDIS_URL")
        app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    # flask-limiter reads RATELIMIT_ENABLED once and, when it is off, never installs itself; the
    # extension object is shared by every app in the process (tests make several). So it is
    # installed always, and RATELIMIT_ENABLED is read per request by the filter below instead.
    wanted = app.config.get("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = wanted
    # Flask-Limiter checks every request in a before_request hook, also where no limit applies
    # (5% of a kept page's CPU). Every limit here decorates a view,
    # which checks its own limits when it runs (flask-limiter's view wrapper), and none applies to
    # reads: page views skip the hook. (There are no default or application-wide limits.)
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[:] = [_writes_only(hook) if getattr(hook, "__self__", None) is limiter else hook for hook in hooks]
    app.register_error_handler(RateLimitExceeded, too_many)


def _writes_only(check: Callable[[], Any]) -> Callable[[], Any]:
    def hook() -> Any:
        return None if request.method in SAFE_METHODS else check()

    return hook


@limiter.request_filter
def _limits_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)
