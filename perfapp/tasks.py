"""Background jobs: the huey instance every domain's tasks register on.

SqliteHuey (a file in instance/) by default, RedisHuey when REDIS_URL is set: the same task
code runs on either. The consumer (started by `make run`):

    huey_consumer perfapp.tasks.huey -w 2 -k thread

Tasks run inside an app context of their own (`in_app_context`), so they get a fresh database
session, also when huey runs them inline (`HUEY_IMMEDIATE`, tests) from inside a request.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey

from perfapp.config import Config

P = ParamSpec("P")
R = TypeVar("R")


def _make_huey() -> Huey:
    if Config.REDIS_URL:
        return RedisHuey("perfapp", url=Config.REDIS_URL)
    # Its folder (instance/ by default) exists only once something made it: make it here, so any
    # DATABASE_URL works on a fresh clone.
    Path(Config.HUEY_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("perfapp", filename=Config.HUEY_SQLITE_PATH)


huey = _make_huey()
_consumer_app: Flask | None = None
_consumer_app_lock = threading.Lock()


def flask_app() -> Flask:
    """The running app (web process), or one made once for the consumer process."""
    global _consumer_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as Flask
    with _consumer_app_lock:  # the consumer's worker threads start together
        if _consumer_app is None:
            from perfapp import create_app

            _consumer_app = create_app()
    return _consumer_app


def in_app_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a task in a new app context: its own database session, removed afterwards."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with flask_app().app_context():
            return fn(*args, **kwargs)

    return wrapper


def init_tasks(app: Flask) -> None:
    """Inline mode follows the app's config (tests run jobs where they are queued)."""
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))


# The consumer imports this module only: import every module that defines tasks (after the
# models, in the order the app loads its domains, which keeps their imports acyclic).
from perfapp import models as _models  # noqa: E402,F401
from perfapp.coaching import tasks as _coaching_tasks  # noqa: E402,F401
from perfapp.core import tasks as _core_tasks  # noqa: E402,F401
from perfapp.goals import tasks as _goals_tasks  # noqa: E402,F401
from perfapp.meetings import tasks as _meetings_tasks  # noqa: E402,F401
from perfapp.notify import tasks as _notify_tasks  # noqa: E402,F401
from perfapp.reviews import tasks as _reviews_tasks  # noqa: E402,F401
