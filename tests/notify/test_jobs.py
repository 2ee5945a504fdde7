"""The job queue: SQLite by default, Redis when REDIS_URL is set; jobs run in a fresh app context."""
from __future__ import annotations

import socket
import uuid

import pytest
from huey import RedisHuey, SqliteHuey

from perfapp import tasks
from perfapp.config import Config


def test_sqlite_by_default_redis_when_configured(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(Config, "REDIS_URL", None)
    monkeypatch.setattr(Config, "HUEY_SQLITE_PATH", str(tmp_path / "huey.db"))
    assert isinstance(tasks._make_huey(), SqliteHuey)
    monkeypatch.setattr(Config, "REDIS_URL", "redis://127.0.0.1:6379/15")
    assert isinstance(tasks._make_huey(), RedisHuey)


def test_a_job_round_trips_through_redis() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queue = RedisHuey(f"perfapp-test-{uuid.uuid4().hex}", url="redis://127.0.0.1:6379/15")

    @queue.task()
    def add(a: int, b: int) -> int:
        return a + b

    try:
        result = add(2, 3)
        task = queue.dequeue()
        queue.execute(task)
        assert result.get() == 5
    finally:
        queue.storage.flush_all()


def test_jobs_get_their_own_session(app) -> None:  # type: ignore[no-untyped-def]
    from perfapp.extensions import db

    outer = db.session()
    inner = tasks.in_app_context(lambda: db.session())()
    assert inner is not outer
