"""Shared fixtures: one app per test session on a real database, emptied after each test.

SQLite (a temporary file, WAL) by default; PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from perfapp import create_app
from perfapp.config import TestConfig, _normalise_db_url
from perfapp.core import cards, pages
from perfapp.core.db import empty_table
from perfapp.extensions import db

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _database_url(tmp_dir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return _normalise_db_url(url)
    return f"sqlite:///{tmp_dir}/test.db"


class PerfClient(FlaskClient):
    """A test client that knows its CSRF token and can speak htmx."""

    csrf: str | None = None

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def,override]
        # Tests hold an app context for their set-up; a real request must not share its
        # `g` (Flask-Login and Flask-WTF cache there) or its database session. Commit
        # what the test set up (ending its read snapshot), then serve the request in a
        # fresh app context; the test's objects reload on their next access.
        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def refresh_csrf(self, url: str = "/auth/login") -> str:
        page = self.get(url).get_data(as_text=True)
        match = _CSRF.search(page)
        assert match, "no csrf meta tag on " + url
        self.csrf = match.group(1)
        return self.csrf

    def submit(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
               target: str | None = None, csrf: bool = True, **kw: Any):  # type: ignore[no-untyped-def]
        """POST a form the way the page would (with the CSRF token, optionally via htmx)."""
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf or self.refresh_csrf())
        headers = dict(kw.pop("headers", {}))
        if htmx:
            headers.update(htmx_headers(target))
        return self.post(url, data=data, headers=headers, **kw)


def htmx_headers(target: str | None = None, boosted: bool = False) -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    if boosted:
        headers["HX-Boosted"] = "true"
    return headers


def count(model: Any) -> int:
    """How many rows the table of `model` holds."""
    from sqlalchemy import func, select
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def assert_rejected(call: Any, field: str, *models: Any) -> Any:
    """The call raises FormError on `field` and leaves the row counts of `models` unchanged."""
    from perfapp.core.validation import FormError
    before = [count(m) for m in models]
    with pytest.raises(FormError) as caught:
        call()
    db.session.rollback()
    assert field in caught.value.errors, caught.value.errors
    assert [count(m) for m in models] == before
    return caught.value


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = _database_url(str(tmp_path_factory.mktemp("db")))

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(Config)
    application.test_client_class = PerfClient
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_db(app: Flask) -> Iterator[None]:
    """Each test starts from empty tables (works the same on SQLite and PostgreSQL)."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                empty_table(conn, table)  # the audit log's rows can't be deleted: see there
        # Ids restart with the next test: a card cached under (id, version 1) must not be reused.
        cards.clear()
        pages.clear()  # kept pages name those ids too


@pytest.fixture()
def client(app: Flask) -> PerfClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture()
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Factory: make_user(name="李娜", role="hr", manager=other, ...) -> a committed User."""
    from perfapp.auth.services import hash_password
    from perfapp.people.models import User

    counter = {"n": 0}

    def make(name: str | None = None, email: str | None = None, password: str = PASSWORD,
             **kw: Any) -> User:
        counter["n"] += 1
        n = counter["n"]
        manager = kw.pop("manager", None)
        department = kw.pop("department", None)
        user = User(email=email or f"user{n}@example.com", **kw)
        user.set_name(name or f"Person {n}")
        user.password_hash = hash_password(password)
        if manager is not None:
            user.manager_id = manager.id
        if department is not None:
            user.department_id = department.id
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture()
def login(app: Flask):  # type: ignore[no-untyped-def]
    """login(user) -> a fresh PerfClient logged in as user (with a CSRF token ready)."""

    def do(user, password: str = PASSWORD) -> PerfClient:  # type: ignore[no-untyped-def]
        c: PerfClient = app.test_client()  # type: ignore[assignment]
        c.refresh_csrf()
        response = c.submit("/auth/login", {"email": user.email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        c.refresh_csrf("/")
        return c

    return do


@pytest.fixture()
def make_project(app: Flask):  # type: ignore[no-untyped-def]
    from datetime import date

    from perfapp.projects.models import Milestone, Project

    def make(name: str = "Apollo", members: tuple = (), milestones: tuple[str, ...] = ("Launch",)):  # type: ignore[type-arg]
        project = Project(name=name)
        project.members = list(members)
        project.milestones = [Milestone(name=m, due_date=date(2026, 12, 1)) for m in milestones]
        db.session.add(project)
        db.session.commit()
        return project

    return make


@pytest.fixture()
def make_tag(app: Flask):  # type: ignore[no-untyped-def]
    from perfapp.feedback.models import Tag

    def make(name_en: str = "Ownership", name_zh: str = "担当", kind: str = "value") -> Tag:
        tag = Tag(kind=kind, name_en=name_en, name_zh=name_zh, key=name_en.lower())
        db.session.add(tag)
        db.session.commit()
        return tag

    return make


@pytest.fixture()
def outbox() -> Iterator[list[Any]]:
    """The mail sent during the test (TestConfig's MAIL_SENDER is "memory")."""
    from perfapp.core.mail import OUTBOX

    OUTBOX.clear()
    yield OUTBOX
    OUTBOX.clear()


@pytest.fixture()
def one_report_hides(app: Flask) -> Iterator[None]:
    """For tests about what hiding a reported row does (not about when): one report hides it
    from everyone. The threshold itself (REPORTS_TO_HIDE) is tested in tests/moderation."""
    before = app.config["REPORTS_TO_HIDE"]
    app.config["REPORTS_TO_HIDE"] = 1
    yield
    app.config["REPORTS_TO_HIDE"] = before
