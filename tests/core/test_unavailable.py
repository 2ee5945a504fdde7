"""A database that is away or full answers a translated 503, never a 500, and nothing half-done stays.

Each test builds its own app on its own database (a small SQLite file it can fill up, a
PostgreSQL address nobody listens on), so the shared test database is never broken.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.core.errors import database_unavailable, storage_full
from perfapp.extensions import db
from perfapp.models import Feedback  # all models, in the order their packages import each other
from tests.conftest import PASSWORD, PerfClient, htmx_headers

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture()
def small_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on its own SQLite file, with two people, ready to be filled up."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/small.db"
        VOICE_STORAGE_DIR = str(tmp_path / "voice")

    application = create_app(Config)
    application.test_client_class = PerfClient
    with application.app_context():
        db.create_all()
        from perfapp.auth.services import hash_password
        from perfapp.people.models import User

        for n in (1, 2):
            user = User(email=f"p{n}@example.com", timezone="Asia/Shanghai")
            user.set_name(f"Person {n}")
            user.password_hash = hash_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _logged_in(application: Flask, email: str = "p1@example.com") -> PerfClient:
    c: PerfClient = application.test_client()  # type: ignore[assignment]
    c.refresh_csrf()
    assert c.submit("/auth/login", {"email": email, "password": PASSWORD}).status_code == 303
    c.refresh_csrf("/")
    return c


def _count(application: Flask) -> int:
    with application.app_context():
        return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


def _fill_disk(application: Flask) -> None:
    """Cap the file at its current size: the next write that needs a new page fails (SQLITE_FULL)."""
    with application.app_context():
        pages = db.session.execute(text("PRAGMA page_count")).scalar()
        db.session.remove()
        db.engine.dispose()
    application.config["SQLITE_MAX_PAGE_COUNT"] = pages


def test_full_disk_answers_a_translated_503_and_the_file_stays_sound(small_app: Flask, app: Flask) -> None:
    c = _logged_in(small_app)
    with small_app.app_context():
        from perfapp.people.models import User

        recipient_id = db.session.scalar(select(User.id).where(User.email == "p2@example.com"))
    ok = c.submit("/feedback/new", {"recipient_id": recipient_id, "text": "before the disk filled"})
    assert ok.status_code == 303
    _fill_disk(small_app)
    big = "满" * 4000  # several pages of text: cannot fit in a file capped at its current size

    r = c.submit("/feedback/new", {"recipient_id": recipient_id, "text": big}, headers=ZH)
    assert r.status_code == 503
    body = r.get_data(as_text=True)
    assert "存储空间已满" in body and "503" in body
    assert r.headers["Retry-After"] and r.headers["Cache-Control"] == "no-store"

    r = c.submit("/feedback/new", {"recipient_id": recipient_id, "text": big})
    assert r.status_code == 503 and "Storage is full" in r.get_data(as_text=True)

    r = c.submit("/feedback/new", {"recipient_id": recipient_id, "text": big},
                 headers={**htmx_headers("compose"), "Accept-Language": "en"})
    assert r.status_code == 503 and 'class="toast toast-error"' in r.get_data(as_text=True)

    r = c.submit("/feedback/new", {"recipient_id": recipient_id, "text": big},
                 headers={"Accept": "application/json"})
    assert r.status_code == 503 and "Storage is full" in r.get_json()["error"]

    assert _count(small_app) == 1  # nothing of the refused posts was kept
    with small_app.app_context():
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # Room again: the same person writes on as if nothing happened.
    small_app.config["SQLITE_MAX_PAGE_COUNT"] = None
    with small_app.app_context():
        db.engine.dispose()
    assert c.submit("/feedback/new", {"recipient_id": recipient_id, "text": big}).status_code == 303
    assert _count(small_app) == 2


@pytest.fixture()
def unreachable_app() -> Iterator[Flask]:
    """An app whose PostgreSQL server is not there (nothing listens on port 1)."""

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/perfapp_nowhere"
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"connect_timeout": 2}}
        WTF_CSRF_ENABLED = False

    application = create_app(Config)
    yield application


@pytest.mark.parametrize(("headers", "expect"), [
    ({}, "perfapp is briefly unavailable"),
    (ZH, "暂时无法使用"),
])
def test_unreachable_database_answers_a_translated_503_page(unreachable_app: Flask, headers: dict[str, str],
                                                              expect: str) -> None:
    client = unreachable_app.test_client()
    r = client.post("/auth/login", data={"email": "a@example.com", "password": "whatever"}, headers=headers)
    assert r.status_code == 503
    body = r.get_data(as_text=True)
    assert expect in body and "<!doctype html>" in body and "tabbar" not in body
    assert r.headers["Retry-After"] == "5"


def test_unreachable_database_json_and_htmx(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    r = client.post("/auth/login", data={"email": "a@example.com", "password": "x"},
                    headers={"Accept": "application/json"})
    assert r.status_code == 503 and "briefly unavailable" in r.get_json()["error"]
    r = client.post("/auth/login", data={"email": "a@example.com", "password": "x"},
                    headers=htmx_headers("login-form"))
    assert r.status_code == 503 and r.get_data(as_text=True).startswith('<div class="toast toast-error"')


def test_only_connection_and_storage_errors_are_503() -> None:
    refused = OperationalError("SELECT 1", {}, Exception("connection refused"))
    full = OperationalError("INSERT", {}, Exception("database or disk is full"))
    duplicate = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    assert database_unavailable(refused) and not storage_full(refused)
    assert database_unavailable(full) and storage_full(full)
    assert not database_unavailable(duplicate)  # a bug stays a 500 with its traceback logged


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgres_connections_killed_mid_session_give_503_then_recover(app: Flask, make_user, login) -> None:
    author, recipient = make_user(name="Ada"), make_user(name="Bo")
    c = login(author)
    recipient_id = recipient.id
    db.session.commit()
    # What a server restart does to every open connection, from a separate connection.
    db.session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    db.session.commit()
    codes = [c.submit("/feedback/new", {"recipient_id": recipient_id, "text": f"try {i}"}).status_code
             for i in range(3)]
    assert 500 not in codes and codes[-1] == 303, codes
    assert set(codes) <= {303, 503}
    db.session.commit()
    stored = db.session.scalar(select(func.count()).select_from(Feedback))
    assert stored == codes.count(303)  # a 503 left nothing behind


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
@pytest.mark.parametrize("path", ["/", "/walls/", "/feedback/new"])
def test_a_server_restart_under_a_logged_in_page_is_a_503_then_pages_again(app: Flask, make_user, login,
                                                                              path: str) -> None:
    """Every pooled connection dies (a server restart, from outside the pool). The first
    statement of a logged-in request is the login query, run on the DBAPI cursor (core.db.Prepared):
    the driver's error was raised as it was, the session's rollback on the dead connection then
    raised out of the request's teardown (a 500), and the pool kept its dead connections."""
    import psycopg

    person = make_user(name="Ada")
    client = login(person)
    assert client.get(path).status_code == 200
    db.session.commit()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as outside:
        outside.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    first = client.get(path, headers=ZH)
    assert first.status_code == 503 and "暂时无法使用" in first.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the pool's dead connections went with the first


def test_a_logged_in_page_view_gets_the_503_page_too(unreachable_app: Flask) -> None:
    """With a session cookie the person is loaded from the database first; the 503 page must
    not try again (Flask-Login's template context would), or it becomes a 500."""
    from flask.sessions import SecureCookieSessionInterface

    client = unreachable_app.test_client()
    signer = SecureCookieSessionInterface().get_signing_serializer(unreachable_app)
    client.set_cookie("session", signer.dumps({"_user_id": "some-session-token", "_fresh": True}))
    r = client.get("/people/settings", headers=ZH)
    assert r.status_code == 503 and "暂时无法使用" in r.get_data(as_text=True)
    r = client.get("/people/settings", headers=htmx_headers("main"))
    assert r.status_code == 503 and "toast-error" in r.get_data(as_text=True)
