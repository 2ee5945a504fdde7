"""base.html's blocks kept per language and key (perfapp.core.assets.same_html): the head's links
and the tab bar are rendered once, yet every page still shows its own tab, the viewer's unread
count, their language, and the per-person values outside the blocks (CSRF token, user id)."""
from __future__ import annotations

import re

from perfapp.extensions import db
from perfapp.notify.models import Notification


def _tabbar(html: str) -> str:
    start = html.index('<nav class="tabbar"')
    return html[start:html.index("</nav>", start)]


def _current(html: str) -> str:
    found = re.search(r'data-tab="(\w+)" aria-current="page"', _tabbar(html))
    assert found, _tabbar(html)
    return found.group(1)


def test_the_tab_bar_follows_the_page_the_count_and_the_language(make_user, login) -> None:
    lina = make_user("Lina Wang")
    client = login(lina)
    home = client.get("/").get_data(as_text=True)
    assert _current(home) == "home"
    assert re.search(r'<span id="unread" class="badge" hidden', home)
    assert _current(client.get("/walls/").get_data(as_text=True)) == "walls"
    assert _current(client.get("/people/me").get_data(as_text=True)) == "me"
    assert _current(client.get("/").get_data(as_text=True)) == "home"  # kept blocks, per tab

    db.session.add_all([Notification(user_id=lina.id, kind="feedback_received") for _ in range(3)])
    db.session.commit()
    tabbar = _tabbar(client.get("/walls/").get_data(as_text=True))
    assert 'aria-label="3 unread">3</span>' in tabbar

    client.submit("/people/language", {"locale": "zh_Hans_CN", "next": "/walls/"})
    zh = client.get("/walls/").get_data(as_text=True)
    assert "首页" in _tabbar(zh) and "Home" not in _tabbar(zh)
    assert 'href="/static/css/app.css?v=' in zh  # the head's kept links, in this language too
    client.submit("/people/language", {"locale": "en", "next": "/walls/"})
    assert "Home" in _tabbar(client.get("/walls/").get_data(as_text=True))


def test_per_person_values_stay_outside_the_kept_blocks(make_user, login) -> None:
    lina, emma = make_user("Lina Wang"), make_user("Emma Li")
    pages = {who.id: login(who).get("/").get_data(as_text=True) for who in (lina, emma)}
    for who_id, html in pages.items():
        assert f'data-user="{who_id}"' in html  # the outbox's owner
    tokens = {re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
              for html in pages.values()}
    assert len(tokens) == 2
    assert _tabbar(pages[lina.id]) == _tabbar(pages[emma.id])  # the same block, both unread 0
