"""The praise wall found before its view (perfapp.core.pages.stamped with a part): the page around
the wall is kept per viewer and found by the viewer's changes; the wall is made from what every
viewer shares (walls.views.WallBody), read once per public change; each viewer's cards are planned
from shared rows, so their own reactions, reports and posts still show as theirs; the pieces are
sent as one gzip stream identical to the page the view renders."""
from __future__ import annotations

import gzip
import re
import threading
import time

import brotli
import pytest
from sqlalchemy import func, select

from perfapp.core import cards, pages
from perfapp.core.changes import PersonChange
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import User
from perfapp.reactions.services import set_reaction
from tests.core.test_found_before_view import later  # noqa: F401 (a fixture)
from tests.core.test_pages import give
from tests.feedback.test_queries import recorded_statements

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    return {"boss": boss, "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
            "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
            "zhang": make_user(name="Zhang Wei", email="zhang@example.com")}


def wall(client, **headers: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/walls/", headers={**GZIP, **headers})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip"
    return gzip.decompress(response.get_data()).decode()


def from_scratch(client) -> str:  # type: ignore[no-untyped-def]
    """The page as the view renders it with nothing kept."""
    pages.clear()
    cards.clear()
    response = client.get("/walls/", headers={"Accept-Encoding": "identity"})
    return response.get_data(as_text=True)


def statements_of(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """The page and the statements its request ran, but for the public channel's read
    (test_the_public_channel_is_read_*: the tests read it with every request)."""
    with recorded_statements() as statements:
        html = wall(client)
    return html, [s for s in statements if s.strip().upper() != "BEGIN" and not is_channel_read(s)]


def is_channel_read(statement: str) -> bool:
    return "person_change" in statement and "login_session" not in statement and "max(person_change.id)" in statement


def test_an_unchanged_wall_is_the_login_query_alone_and_the_views_page(app, org, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "PAGE_SHARED_RECHECK_SECONDS", 60)  # the channel as the first request read it
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    first = wall(zhang)  # the view: the page around the wall is kept for zhang's changes
    found = pages.stats["found by its changes"]
    html, ran = statements_of(zhang)
    assert pages.stats["found by its changes"] == found + 1
    assert len(ran) == 1 and "login_session" in ran[0] and "person_change" in ran[0]
    assert html == first == from_scratch(zhang)
    assert str(pages.PLACEHOLDER) not in html and html.count('id="feed"') == 1


def test_a_public_write_shows_next_for_every_viewer(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    zhang, lina = login(org["zhang"]), login(org["lina"])
    wall(zhang), wall(lina), wall(zhang), wall(lina)
    give(org["boss"], org["emma"], "Calm under pressure")
    found = pages.stats["found by its changes"]
    html, ran = statements_of(zhang)
    assert "Calm under pressure" in html and "Great launch" in html
    assert pages.stats["found by its changes"] == found + 1 and len(ran) > 1  # the shared rows read again
    shared = pages.stats["shared found"]
    again, ran = statements_of(lina)  # lina's wall is made from what zhang's request read
    assert "Calm under pressure" in again and len(ran) == 1 and pages.stats["shared found"] == shared + 1
    assert html == from_scratch(zhang)
    # a private note is not public: nothing public changed
    wall(zhang)
    db.session.add(Feedback(author_id=org["boss"].id, recipient_id=org["emma"].id, kind="praise",
                            visibility="private", text="Just between us", created_at=utcnow()))
    db.session.commit()
    assert len(statements_of(zhang)[1]) == 1


def test_each_viewer_sees_their_own_reactions_reports_and_posts(org, login) -> None:  # type: ignore[no-untyped-def]
    item = give(org["emma"], org["lina"], "Great launch")
    zhang, emma, boss = login(org["zhang"]), login(org["emma"]), login(org["boss"])
    for client in (zhang, emma, boss, zhang, emma, boss):
        wall(client)
    set_reaction(org["zhang"], "feedback", item.id, "👍", True)
    db.session.commit()
    mine, theirs = wall(zhang), wall(emma)
    assert 'aria-pressed="true"' in mine
    assert 'aria-pressed="true"' not in theirs
    assert mine == from_scratch(zhang)
    from perfapp.moderation.services import (
        report,  # here: imported first it imports feedback circularly
    )

    wall(zhang), wall(emma)
    report(org["boss"], "feedback", item.id, "Not appropriate")
    db.session.commit()
    hidden = "it is hidden for you"
    assert hidden in wall(boss) and "Great launch" not in wall(boss)
    assert hidden not in wall(zhang) and "Great launch" in wall(zhang)
    # her own post offers her no report button; someone else's does
    assert wall(emma) == from_scratch(emma)
    assert wall(zhang) == from_scratch(zhang)


def test_brotli_only_browsers_get_the_views_page_and_fragments_are_not_joined(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    wall(zhang), wall(zhang)
    response = zhang.get("/walls/", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "Great launch" in brotli.decompress(response.get_data()).decode()
    fragment = zhang.get("/walls/", headers={"HX-Request": "true", "HX-Target": "feed-more", **GZIP})
    assert fragment.status_code == 200
    text = gzip.decompress(fragment.get_data()).decode() if fragment.headers.get("Content-Encoding") == "gzip" \
        else fragment.get_data(as_text=True)
    assert "Great launch" in text and "<html" not in text


def test_an_unchanged_wall_answers_304_and_after_the_recheck_time_is_made_again(org, login, later) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    wall(zhang)
    kept = zhang.get("/walls/", headers=GZIP)
    assert zhang.get("/walls/", headers={**GZIP, "If-None-Match": kept.headers["ETag"]}).status_code == 304
    later()
    html, ran = statements_of(zhang)  # the page around and the shared rows: both checked again
    assert len(ran) > 1 and "Great launch" in html


def test_another_sessions_wall_is_never_answered(org, login) -> None:  # type: ignore[no-untyped-def]
    """Zhang and the boss share what the wall shows, not the page around it (their names, their
    CSRF tokens)."""
    give(org["emma"], org["lina"], "Great launch")
    zhang, boss = login(org["zhang"]), login(org["boss"])
    wall(zhang), wall(zhang)
    theirs = wall(zhang)
    page = wall(boss)
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"', page)
    assert token and token.group(1) not in theirs and page != theirs
    assert page == from_scratch(boss)


def test_a_write_about_the_viewer_keeps_the_page_around_the_wall(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    """The page around the wall (the shell, the tabs, the actions) shows nothing of the viewer's
    records: a write about them (their reaction to praise they received moves their changes)
    gives them the new wall in the page kept around it."""
    item = give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    wall(lina)
    changes = db.session.scalar(select(func.count()).select_from(PersonChange).where(PersonChange.person_id == org["lina"].id))
    assert lina.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PersonChange)
                             .where(PersonChange.person_id == org["lina"].id)) > changes
    renders.clear()
    found = pages.stats["found by its changes"]
    html = wall(lina)
    assert 'aria-pressed="true"' in html  # her reaction, on the new wall
    assert pages.stats["found by its changes"] == found + 1  # before the view, in the page kept around
    assert "walls/praise.html" not in renders and "base.html" not in renders
    assert html == from_scratch(lina)


def test_threads_of_a_worker_wait_for_one_maker_of_a_shared_value(app) -> None:  # type: ignore[no-untyped-def]
    made: list[int] = []
    got: list[str] = []

    def make() -> str:
        made.append(1)
        time.sleep(0.2)  # the others arrive while it is made
        return "the wall"

    def ask() -> None:
        with app.test_request_context("/walls/"):
            pages.changes_read(pages.Changes(*[(1, 1)] * 4))
            got.append(pages.shared_value("a test's wall", "key", make))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == ["the wall"] * 4 and made == [1]


def test_while_one_thread_makes_a_shared_value_again_the_others_answer_the_one_before(app) -> None:  # type: ignore[no-untyped-def]
    """A bystander is not held up while another thread makes the wall again (it gets the wall made
    before, as if it had come a moment earlier); a viewer who wrote since waits for the new one."""
    def ask(changes: int, make, wrote: bool = False, got: list | None = None) -> str:  # type: ignore[no-untyped-def]
        with app.test_request_context("/walls/"):
            if wrote:
                from flask import session
                session["_wrote"] = time.time() + 1  # after any read of the channel so far
            pages.changes_read(pages.Changes(*[(changes, changes)] * 4))
            value = pages.shared_value("a test's wall", "key", make)
            if got is not None:
                got.append((value, time.monotonic()))
            return value

    assert ask(1, lambda: "the wall before") == "the wall before"
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.4)
        return "the new wall"

    maker_got: list = []
    maker = threading.Thread(target=ask, args=(2, slow), kwargs={"got": maker_got})
    maker.start()
    assert started.wait(5)
    began = time.monotonic()
    never = lambda: pytest.fail("made twice")  # noqa: E731
    assert ask(2, never) == "the wall before"  # a bystander, at once
    assert time.monotonic() - began < 0.3
    writer_got: list = []
    writer = threading.Thread(target=ask, args=(2, never), kwargs={"wrote": True, "got": writer_got})
    writer.start()
    maker.join()
    writer.join()
    assert maker_got[0][0] == "the new wall" and writer_got[0][0] == "the new wall"  # the writer waited for it
    assert ask(2, never) == "the new wall"  # made: everyone gets it


def test_the_public_channel_is_read_once_a_while_and_at_once_for_whoever_wrote(app, org, login, later, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A worker reads the praise wall's channel at most once per PAGE_SHARED_RECHECK_SECONDS, not
    with every request: another person's public write shows on a bystander's wall after that, on
    its author's at once (their session says they wrote since the worker last read it)."""
    monkeypatch.setitem(app.config, "PAGE_SHARED_RECHECK_SECONDS", 60)
    zhang, emma, lina = login(org["zhang"]), login(org["emma"]), login(org["lina"])
    # The organisation's first praise also makes its automatic badges (a change to its names).
    assert emma.submit("/feedback/new", {"recipient_id": org["lina"].id, "text": "Great launch", "kind": "praise",
                                         "visibility": "public"}, htmx=True).status_code == 200
    wall(zhang), wall(emma), wall(lina)
    sent = emma.submit("/feedback/new", {"recipient_id": org["lina"].id, "text": "Calm under pressure",
                                         "kind": "praise", "visibility": "public"}, htmx=True)
    assert sent.status_code == 200
    with recorded_statements() as statements:
        html = wall(zhang)
    ran = [s for s in statements if s.strip().upper() != "BEGIN"]
    assert "Calm under pressure" not in html and len(ran) == 1  # the channel as last read: the login query alone
    assert "Calm under pressure" not in wall(lina)  # its recipient is told apart (the inbox, Home)
    assert "Calm under pressure" in wall(emma)  # its author, at once
    # The read for her covers the write: everyone gets it now, without waiting.
    assert "Calm under pressure" in wall(zhang) and "Calm under pressure" in wall(lina)
    give(org["boss"], org["emma"], "Thorough review")  # not through a request: nobody's session wrote
    assert "Thorough review" not in wall(zhang) and "Thorough review" not in wall(emma)
    later()
    html = wall(zhang)
    assert "Thorough review" in html and html == from_scratch(zhang)


def test_a_failed_write_is_not_remembered_as_one(app, org, login) -> None:  # type: ignore[no-untyped-def]
    emma = login(org["emma"])
    wall(emma)
    with emma.session_transaction() as stored:
        logged_in = stored.get("_wrote", 0.0)
    refused = emma.submit("/feedback/new", {"recipient_id": org["lina"].id, "text": "", "kind": "praise",
                                            "visibility": "public"}, htmx=True)
    assert refused.status_code == 422
    with emma.session_transaction() as stored:
        assert stored.get("_wrote", 0.0) == logged_in
    assert wall(emma)  # a page view writes nothing
    with emma.session_transaction() as stored:
        assert stored.get("_wrote", 0.0) == logged_in
    assert emma.submit("/feedback/new", {"recipient_id": org["lina"].id, "text": "Thanks", "kind": "praise",
                                         "visibility": "public"}, htmx=True).status_code == 200
    with emma.session_transaction() as stored:
        assert stored["_wrote"] > logged_in


def test_the_new_wall_is_made_with_its_new_cards(org, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The thread making the wall again also renders its new cards (for its viewer, a bystander
    here) while the others answer the wall made before: the rest of its request renders none."""
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    wall(zhang)
    give(org["boss"], org["emma"], "Calm under pressure")
    made = pages.shared_value
    seen: dict[str, int] = {}

    def watched(name, key, make):  # type: ignore[no-untyped-def]
        def counted():  # type: ignore[no-untyped-def]
            before = cards.stats["rendered"]
            value = make()
            seen["in the making"] = cards.stats["rendered"] - before
            return value
        return made(name, key, counted)

    monkeypatch.setattr(pages, "shared_value", watched)
    rendered = cards.stats["rendered"]
    html = wall(zhang)
    assert "Calm under pressure" in html
    assert seen["in the making"] >= 1 and cards.stats["rendered"] - rendered == seen["in the making"]


def test_the_wall_is_made_once_per_change_in_every_language(org, login, make_user, renders) -> None:  # type: ignore[no-untyped-def]
    """One making per change serves readers of both languages: a Chinese bystander after an
    English one renders neither the wall nor its cards, and still reads every word in Chinese
    (the strips, the cards, "load more"), the same page as with nothing made before."""
    for n in range(11):  # one more than a wall page: "load more" shows
        give(org["emma"], org["lina"], f"Great launch {n}")
    zhao = make_user(name="赵磊", email="zhao@example.com", locale="zh_Hans_CN")
    english, chinese = login(org["zhang"]), login(zhao)
    wall(english)
    assert renders.in_language("walls/_wall.html") == {"en": 1, "zh_Hans_CN": 1}
    assert renders.in_language("feedback/_item.html") == {"en": 10, "zh_Hans_CN": 10}
    renders.clear()
    html = wall(chinese)
    assert "walls/_wall.html" not in renders and "feedback/_item.html" not in renders
    assert "加载更多" in html and "Load more" not in html and "表扬墙" in html
    assert html == from_scratch(chinese)
    renders.clear()
    give(org["boss"], org["emma"], "Calm under pressure")  # a change: made again, from a Chinese reader
    assert "Calm under pressure" in wall(chinese)
    assert renders.in_language("walls/_wall.html") == {"zh_Hans_CN": 1, "en": 1}
    english_html = wall(english)
    assert "Calm under pressure" in english_html and "Load more" in english_html and "加载更多" not in english_html
    assert renders.count("walls/_wall.html") == 2  # nothing made again for the English reader


def test_a_new_card_is_loaded_once_for_every_language(org, login) -> None:  # type: ignore[no-untyped-def]
    """The making renders a new card in each language from one load of its record (the other
    language's rendering takes the record this request loaded)."""
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    wall(zhang)
    give(org["boss"], org["emma"], "Calm under pressure")
    rendered, reused = cards.stats["rendered"], cards.stats["from kept records"]
    with recorded_statements() as statements:
        assert "Calm under pressure" in wall(zhang)
    assert cards.stats["rendered"] - rendered == 2  # the new card, in English and in Chinese
    assert cards.stats["from kept records"] - reused == 1  # the second from the first's record
    loads = [s for s in statements if s.lstrip().startswith("SELECT feedback.id, feedback.author_id")]
    assert len(loads) == 1, loads  # the new card's record, loaded once (feedback.services.load_items)
    # and what the strips above the cards show is read once for both languages
    newest = [s for s in statements if s.lstrip().startswith("SELECT badge_award.id, badge_award.version")]
    assert len(newest) == 1, newest
