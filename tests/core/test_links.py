"""Never link a role to a page it can't open: every link a person can reach answers them.

Crawls the demo organisation (flask seed-demo) as an employee, a manager and HR, following every
same-site GET link (href and hx-get) from Home, Me and the walls, and fails on any 403/404/500.
"""
from __future__ import annotations

import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.seed import DEMO_PASSWORD

LINK = re.compile(r'\b(?:href|hx-get)="([^"]+)"')
START = ["/", "/people/me", "/walls/", "/walls/badges", "/feedback/new"]
SKIP = ("/static/", "/auth/logout", "/sw.js", "/manifest.webmanifest", "/voice/", "/personal/export")
MOST = 300
PER_SHAPE = 2
DIGITS = re.compile(r"\d+")


def _crawl(client, start: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    seen: dict[str, int] = {}
    shapes: dict[str, int] = {}  # /feedback/N: two of each kind of page are enough
    queue = deque(start)
    while queue and len(seen) < MOST:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        for raw in LINK.findall(response.get_data(as_text=True)):
            target = urlsplit(urljoin(url, unescape(raw)))
            if target.netloc or target.scheme not in ("", "http") or not target.path.startswith("/"):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            shape = DIGITS.sub("N", path)
            if path.startswith(SKIP) or "before=" in path or path in seen or shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            queue.append(path)
    return seen


@pytest.mark.parametrize("email", ["employee@example.com", "manager@example.com", "hr@example.com"])
def test_no_link_leads_a_role_to_a_page_it_cant_open(app: Flask, login, email: str) -> None:
    db.session.rollback()
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    person = db.session.scalar(select(User).where(User.email == email))
    client = login(person, DEMO_PASSWORD)
    seen = _crawl(client, START)
    assert len(seen) > 30, seen  # it really walked the app
    broken = {url: code for url, code in seen.items() if code >= 400}
    assert broken == {}


def test_the_crawl_would_see_a_dead_link(app: Flask, login) -> None:
    """The crawler itself: a page it reaches that refuses the person is reported."""
    db.session.rollback()
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    person = db.session.scalar(select(User).where(User.email == "employee@example.com"))
    seen = _crawl(login(person, DEMO_PASSWORD), ["/", "/recognition/signals"])
    assert seen["/recognition/signals"] == 403 and len(seen) > 10
