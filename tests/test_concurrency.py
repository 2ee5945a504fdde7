"""8 processes × 100 feedback posts at once: every one succeeds, the count is exact.

This is what WAL, busy_timeout and BEGIN IMMEDIATE buy on SQLite (and plain
row locking on PostgreSQL): writers queue instead of failing with "database is locked".
"""
from __future__ import annotations

import multiprocessing as mp
import re

import pytest
from sqlalchemy import func, select, text

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from tests.conftest import PASSWORD

PROCESSES = 8
POSTS = 100


def _worker(url: str, email: str, recipient_id: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    from perfapp import create_app
    from perfapp.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf-token" content="([^"]+)"',  # type: ignore[union-attr]
                      client.get("/").get_data(as_text=True)).group(1)
    barrier.wait()
    codes = []
    for i in range(POSTS):
        r = client.post("/feedback/new", data={"recipient_id": recipient_id, "text": f"post {i}",
                                               "emoji": "👍", "free_tags": "load", "csrf_token": token})
        codes.append(r.status_code)
    results.put(codes)


@pytest.mark.slow
def test_concurrent_posts_all_succeed(app, make_user) -> None:
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    authors = [make_user(name=f"Author {i}") for i in range(PROCESSES)]
    recipient = make_user(name="李娜")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    emails, recipient_id = [a.email for a in authors], recipient.id
    # End this session's transaction: outside a request it would hold SQLite's write lock.
    db.session.commit()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, email, recipient_id, barrier, results))
             for email in emails]
    for p in procs:
        p.start()
    codes = [c for _ in procs for c in results.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
    assert codes == [303] * (PROCESSES * POSTS)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == PROCESSES * POSTS
