"""The page cache and the card cache (perfapp.core.pagecache, perfapp.core.fragments).

What must hold: any committed change is visible on the next request; a cached page or card
never reaches a viewer it was not made for (confidential authors above all); relative dates
and CSRF tokens are fresh on every use; flashed messages are shown once.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask, render_template
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from perfapp.core import fragments, pagecache
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.people.models import User
from perfapp.reactions.models import Reaction


def gen() -> int:
    db.session.commit()
    return db.session.execute(text("SELECT n FROM cache_generation WHERE id = 1")).scalar_one()


def give(author: User, recipient: User, **kw) -> Feedback:  # type: ignore[no-untyped-def]
    data = FeedbackInput(recipient_id=recipient.id, **{"text": "Thanks for the demo", "kind": "praise",
                                                          "visibility": "private", **kw})
    item = give_feedback(author, data)
    db.session.commit()
    return item


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="Boss Person", email="boss@example.com")
    return {
        "boss": boss,
        "me": make_user(name="李娜", email="li@example.com", manager=boss),
        "mate": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
        "other": make_user(name="Zhang Wei", email="zhang@example.com"),
    }


# --- the change counter --------------------------------------------------------------------

def test_a_committed_change_counts_once_and_a_read_does_not(app: Flask, team) -> None:  # type: ignore[no-untyped-def]
    before = gen()
    db.session.execute(select(User)).all()
    assert gen() == before  # a read-only commit
    team["me"].title = "Engineer"
    assert gen() == before + 1  # an ORM change
    db.session.execute(update(User).where(User.id == team["me"].id).values(title="Lead"))
    assert gen() == before + 2  # a Core UPDATE through the session
    team["me"].title = "Nope"
    db.session.flush()
    db.session.rollback()
    assert gen() == before + 2  # rolled back: nothing changed


def test_a_failed_savepoint_inside_a_committed_change_still_counts(app: Flask, team) -> None:  # type: ignore[no-untyped-def]
    before = gen()
    team["me"].title = "Engineer"
    duplicate = User(email=team["mate"].email, password_hash="x")
    duplicate.set_name("Dup")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(duplicate)
        db.session.flush()
    assert gen() == before + 1
    assert db.session.get(User, team["me"].id).title == "Engineer"  # type: ignore[union-attr]


# --- pages ---------------------------------------------------------------------------------

def test_the_second_visit_is_served_from_the_cache_with_fresh_dates_and_token(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    give(team["mate"], team["me"])
    c = login(team["me"])
    first = c.get("/").get_data(as_text=True)
    hits = pagecache.PAGES.hits
    second = c.get("/").get_data(as_text=True)
    assert pagecache.PAGES.hits == hits + 1
    assert "\x00" not in first and "\x00" not in second
    assert "Thanks for the demo" in second
    assert re.search(r"<time [^>]*>(just now|\d+ seconds? ago|in 0 seconds)</time>", second)
    # The token in the cached page is this session's own: a post with it is accepted.
    token = re.search(r'name="csrf-token" content="([^"]+)"', second).group(1)  # type: ignore[union-attr]
    c.csrf = token
    item = db.session.scalars(select(Feedback)).one()
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "👍"})
    assert r.status_code in (200, 303)
    assert db.session.scalar(select(Reaction).where(Reaction.target_id == item.id)) is not None


def test_relative_dates_move_on_while_the_page_is_cached(app: Flask, team, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    give(team["mate"], team["me"])
    c = login(team["me"])
    c.get("/")
    from perfapp.core import i18n

    later = utcnow() + timedelta(minutes=5)
    monkeypatch.setattr(i18n, "utcnow", lambda: later)
    assert "5 minutes ago" in c.get("/").get_data(as_text=True)


def test_a_change_shows_on_the_next_request(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    me = login(team["me"])
    assert "Thanks for the demo" not in me.get("/").get_data(as_text=True)
    mate = login(team["mate"])
    r = mate.submit("/feedback/new", {"recipient_id": team["me"].id, "text": "Thanks for the demo",
                                      "kind": "praise", "visibility": "private"})
    assert r.status_code == 303
    page = me.get("/").get_data(as_text=True)
    assert "Thanks for the demo" in page
    # A reaction by someone else changes the count on the cached card.
    item = db.session.scalars(select(Feedback)).one()
    mate.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "🔥"})
    assert re.search(r'value="🔥"[^>]*>🔥<span class="rx-n">1</span>', me.get("/").get_data(as_text=True))


def test_pages_are_per_viewer(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    give(team["mate"], team["me"], text="Private to 李娜")
    me, other = login(team["me"]), login(team["other"])
    assert "Private to 李娜" in me.get("/").get_data(as_text=True)
    assert "Private to 李娜" not in other.get("/").get_data(as_text=True)
    assert "Private to 李娜" not in other.get(f"/people/{team['me'].id}").get_data(as_text=True)


def test_a_confidential_card_seen_by_its_author_is_never_served_to_the_recipient(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    give(team["mate"], team["me"], text="Brave call", visibility="public", confidential=True)
    author, me, boss = login(team["mate"]), login(team["me"]), login(team["boss"])
    profile = f"/people/{team['me'].id}"
    assert "Emma Wilson" in author.get(profile).get_data(as_text=True)
    for viewer in (me, boss):
        for headers in ({}, {"HX-Request": "true", "HX-Target": "feed-more"}):
            page = viewer.get(profile, headers=headers).get_data(as_text=True)
            assert "Brave call" in page
            assert "Emma Wilson" not in page and f"/people/{team['mate'].id}" not in page


def test_page_and_fragment_are_cached_apart(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    give(team["mate"], team["me"])
    c = login(team["me"])
    full = c.get("/").get_data(as_text=True)
    fragment = c.get("/", headers={"HX-Request": "true", "HX-Target": "feed-more"}).get_data(as_text=True)
    assert "<html" in full and "<html" not in fragment
    assert "<html" in c.get("/").get_data(as_text=True)
    assert "<html" not in c.get("/", headers={"HX-Request": "true", "HX-Target": "feed-more"}).get_data(as_text=True)


def test_a_language_switch_shows_at_once(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    c = login(team["me"])
    assert 'lang="en"' in c.get("/").get_data(as_text=True)
    team["me"].locale = "zh_Hans_CN"
    db.session.commit()
    assert 'lang="zh-Hans"' in c.get("/").get_data(as_text=True)


def test_flashed_messages_show_once(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    c = login(team["me"])
    c.get("/")
    with c.session_transaction() as session:
        session["_flashes"] = [("success", "Flash once")]
    assert "Flash once" in c.get("/").get_data(as_text=True)
    assert "Flash once" not in c.get("/").get_data(as_text=True)


def test_nothing_is_cached_when_switched_off(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    c = login(team["me"])
    app.config["PAGE_CACHE"] = False
    try:
        hits, misses = pagecache.PAGES.hits, pagecache.PAGES.misses
        c.get("/")
        c.get("/")
        assert (pagecache.PAGES.hits, pagecache.PAGES.misses) == (hits, misses)
    finally:
        app.config["PAGE_CACHE"] = True


def test_logged_out_visitors_are_not_served_a_cached_page(app: Flask, team, login, client) -> None:  # type: ignore[no-untyped-def]
    login(team["me"]).get("/")
    r = client.get("/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


# --- cards ---------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_cached_cards_are_what_the_template_renders(app: Flask, team, make_user, make_tag, make_project, locale) -> None:  # type: ignore[no-untyped-def]
    """Every variation a feed card has, for every kind of viewer: the cache path's HTML equals
    a plain render of feedback/_item.html (with the same relative dates and token)."""
    from perfapp.feedback.cards import feedback_card

    tag = make_tag()
    project = make_project(members=(team["me"], team["mate"]))
    hr = make_user(name="人事", email="hr@example.com", role="hr")
    items = [
        give(team["mate"], team["me"], visibility="public", tag_ids=[tag.id]),
        give(team["mate"], team["me"], visibility="public", confidential=True, emoji=["🔥", "🎯"]),
        give(team["mate"], team["me"], visibility="manager", kind="constructive", behaviour="Late",
             impact="Waiting", suggestion="Earlier", project_id=project.id, milestone_id=project.milestones[0].id),
        give(team["boss"], team["mate"], visibility="public", text="<b>bold</b> & <script>x</script>"),
    ]
    db.session.add(Reaction(target_type="feedback", target_id=items[0].id, user_id=team["boss"].id, emoji="👍"))
    items[3].hidden = True
    db.session.commit()
    for viewer in (team["me"], team["mate"], team["boss"], hr):
        for _round in range(2):  # the first renders into the cache, the second reads it
            with app.test_request_context("/"):
                from flask import g

                viewer.locale = locale
                g._login_user = viewer  # current_user, as Flask-Login sets it for a request
                for item in items:
                    item = db.session.get(Feedback, item.id)
                    if not item.can_be_read_by(viewer):  # type: ignore[union-attr]
                        continue
                    cached = str(feedback_card(item))  # type: ignore[arg-type]
                    app.config["FRAGMENT_CACHE"] = False
                    try:
                        plain = render_template("feedback/_item.html", item=item, no_promote=False)
                    finally:
                        app.config["FRAGMENT_CACHE"] = True
                    assert cached == plain
                    assert "\x00" not in cached
        db.session.rollback()


def test_markers_cannot_be_forged_from_text(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    forged = "\x00" + "0" * 16 + ":csrf:\x00 and :ago:2020-01-01T00:00:00"
    give(team["mate"], team["me"], text="hello " + forged.replace("\x00", ""))
    page = login(team["me"]).get("/").get_data(as_text=True)
    assert ":csrf:" in page  # shown as text, not replaced
    assert fragments._MARK.search("\x00" + "0" * 16 + ":csrf:\x00") is None


def test_cached_pages_are_compressed_once_while_nothing_moves(app: Flask, team, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Production compresses with Flask-Compress (switched off in tests): a hit compresses the
    filled page itself and keeps the bytes while the filled page stays the same."""
    import brotli

    from perfapp.extensions import compress

    give(team["mate"], team["me"], text="Old news")
    db.session.execute(update(Feedback).values(created_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    c = login(team["me"])
    plain = c.get("/").get_data(as_text=True)  # the miss: stored
    for name, value in {"COMPRESS_REGISTER": True, "COMPRESS_BR_MODE": 0, "COMPRESS_BR_LEVEL": 4,
                        "COMPRESS_BR_WINDOW": 22, "COMPRESS_BR_BLOCK": 0, "COMPRESS_LEVEL": 6}.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.setattr(compress, "enabled_algorithms", ("br", "gzip"), raising=False)
    from perfapp.core import i18n

    clock = {"now": utcnow()}
    monkeypatch.setattr(i18n, "utcnow", lambda: clock["now"])
    first = c.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert first.headers["Content-Encoding"] == "br"
    assert brotli.decompress(first.get_data()).decode() == plain
    entry = next(e for e in pagecache.PAGES.data.values() if e.packed and e.packed[0][2] == "br")
    packed = entry.packed
    second = c.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert second.get_data() == first.get_data() and entry.packed is packed  # reused within the second
    clock["now"] += timedelta(seconds=1)
    third = c.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert entry.packed is not packed and third.get_data() == first.get_data()  # made again, same page
    assert "Content-Encoding" not in c.get("/", headers={"Accept-Encoding": "identity"}).headers


def test_a_session_keeps_one_csrf_token_and_it_is_accepted(app: Flask, team, login) -> None:  # type: ignore[no-untyped-def]
    import time

    def token(c) -> str:  # type: ignore[no-untyped-def]
        page = c.get(f"/people/{team['mate'].id}").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    me, other = login(team["me"]), login(team["other"])
    first = token(me)
    time.sleep(1.1)  # Flask-WTF's signature carries the second it was made
    assert token(me) == first
    assert token(other) != first
    give(team["mate"], team["me"], visibility="public")
    item = db.session.scalars(select(Feedback)).one()
    me.csrf = first
    assert me.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "👍"}).status_code in (200, 303)
    other.csrf = first  # someone else's token is refused
    assert other.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "👍"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Reaction)) == 1


@pytest.mark.parametrize("how", ["logged out elsewhere", "deactivated"])
def test_a_cached_page_is_never_served_to_a_session_that_ended(app: Flask, team, login, how) -> None:  # type: ignore[no-untyped-def]
    from perfapp.auth.models import LoginSession

    c = login(team["me"])
    assert c.get("/").status_code == 200
    assert c.get("/").status_code == 200  # now from the cache
    if how == "deactivated":
        team["me"].active = False
    else:  # "log out everywhere", or HR ending the sessions: the rows go
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == team["me"].id))
    db.session.commit()
    for path in ("/", f"/people/{team['mate'].id}", "/walls/"):
        r = c.get(path)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], path
