"""No N+1: rendering a feed costs the same number of SQL statements for 3 items as for 20.

Each test renders a page, adds items (same authors, tags, projects, so the only thing that
grows is the number of rows) and renders it again; a lazy load per item would show up as
a difference in the statement count.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback

FEW, MANY = 3, 20  # MANY is one full page (FEED_PAGE_SIZE)


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(client, url: str, expect_items: int) -> list[str]:  # type: ignore[no-untyped-def]
    with recorded_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="card fb ') == expect_items
    return statements


@pytest.fixture(autouse=True)
def _render_every_time(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Every card renders: the cost of a page whose cards are all new (cached cards and kept pages
    cost less; a kept page found again reads no card at all)."""
    monkeypatch.setitem(app.config, "CARD_CACHE", False)
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)


@pytest.fixture()
def org(make_user, make_tag, make_project):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    me = make_user(name="李娜", email="lina@example.com", manager=boss)
    peers = [make_user(name=n, email=f"peer{i}@example.com", manager=boss)
             for i, n in enumerate(("Emma Wilson", "张敏", "James Walker"))]
    tags = [make_tag("Ownership", "担当"), make_tag("Communication", "沟通", kind="capability"),
            make_tag("Launch day", "Launch day", kind="free")]
    project = make_project("Phoenix", members=(me, *peers), milestones=("Beta", "Launch"))
    return {"boss": boss, "me": me, "peers": peers, "tags": tags, "project": project}


def add_items(org, count: int, start: int = 0, *, to_me: bool = True, public_only: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Feedback of every shape: kinds, visibilities, confidential, template, tags, project context."""
    now = utcnow()
    kinds = [("praise", "public", False)] if public_only else [
        ("praise", "public", False), ("praise", "private", False),
        ("suggestion", "manager", False), ("constructive", "private", True),
    ]
    for i in range(start, start + count):
        kind, visibility, dev_only = kinds[i % len(kinds)]
        peer = org["peers"][i % len(org["peers"])]
        # to_me=False: half of it given by the viewer (their profile, the Given list).
        author, recipient = (peer, org["me"]) if to_me or i % 2 == 0 else (org["me"], peer)
        item = Feedback(
            author_id=author.id, recipient_id=recipient.id, kind=kind, visibility=visibility,
            development_only=dev_only, confidential=i % 5 == 0, text=f"Item {i}", emoji="👍 🔥",
            behaviour="Saw it" if i % 3 == 0 else "", impact="Helped" if i % 3 == 0 else "",
            created_at=now - timedelta(minutes=i),
        )
        item.tags = org["tags"][: 1 + i % 3]
        if i % 2:
            item.project_id = org["project"].id
            item.milestone_id = org["project"].milestones[i % 2].id
        db.session.add(item)
    db.session.commit()


def assert_same_cost(client, url: str, org, page_size: int = MANY, **kw) -> None:  # type: ignore[no-untyped-def]
    add_items(org, FEW, **kw)
    client.get(url)  # steady state: pages may cache company-wide aggregates for a few minutes
    few = statements_for(client, url, FEW)
    add_items(org, MANY - FEW, start=FEW, **kw)
    many = statements_for(client, url, min(MANY, page_size))
    assert len(few) == len(many), "\n".join(
        ["with few:", *(" ".join(q.split())[:120] for q in few),
         "with many:", *(" ".join(q.split())[:120] for q in many)])


def test_home_feed_has_no_n_plus_1(org, login) -> None:
    client = login(org["me"])
    assert_same_cost(client, "/", org)  # Home shows what the viewer received


def test_manager_home_feed_has_no_n_plus_1(org, login) -> None:
    client = login(org["boss"])  # sees the team's public and manager-visible feedback too
    assert_same_cost(client, "/", org, public_only=True)


def test_praise_wall_has_no_n_plus_1(org, login) -> None:
    client = login(org["peers"][0])
    from perfapp.walls.services import PAGE_SIZE  # the wall shows fewer cards a page than the feeds

    assert_same_cost(client, "/walls/", org, page_size=PAGE_SIZE, public_only=True)


def test_profile_page_has_no_n_plus_1(org, login) -> None:
    client = login(org["peers"][0])
    assert_same_cost(client, f"/people/{org['me'].id}", org, public_only=True)
