"""Reactions and comments over HTTP, with and without htmx: counts in place, 404s, 422s, confidentiality."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.moderation.models import PostingSuspension
from perfapp.reactions import services
from perfapp.reactions.models import Comment, Reaction
from tests.conftest import htmx_headers


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def like_count(html: str, key: str) -> str | None:
    match = re.search(rf'id="rx-{key}-like"[^>]*>.*?</button>', html, re.S)
    assert match, html[:2000]
    n = re.search(r'class="rx-n">(\d+)<', match.group(0))
    return n.group(1) if n else None


def as_zh(user) -> None:  # type: ignore[no-untyped-def]
    user.locale = "zh_Hans_CN"
    db.session.commit()


def test_the_feed_shows_the_bar_and_the_counts(team, make_feedback, login) -> None:
    item = make_feedback()
    services.set_reaction(team["other"], "feedback", item.id, "👍", True)
    services.set_reaction(team["boss"], "feedback", item.id, "🔥", True)
    services.add_comment(team["boss"], "feedback", item.id, "Well done")
    db.session.commit()
    page = login(team["recipient"]).get("/").get_data(as_text=True)
    key = f"feedback-{item.id}"
    assert f'id="rx-{key}"' in page and like_count(page, key) == "1"
    assert 'aria-pressed="false"' in page and "🔥<span class=\"rx-n\">1</span>" in page
    assert f'id="rx-n-{key}"' in page and '<span class="rx-n">1</span>' in page
    assert f'id="rx-said-{key}"' in page and 'aria-live="polite"' in page
    assert "Well done" not in page  # the thread loads when opened


@pytest.mark.parametrize("htmx", [True, False])
def test_react_sets_the_state_asked_for_and_the_count_changes_in_place(team, make_feedback, login, htmx) -> None:
    item = make_feedback()
    key = f"feedback-{item.id}"
    c = login(team["other"])
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}, htmx=htmx, target=f"rx-{key}")
    if htmx:
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and "<html" not in body
        assert body.lstrip().startswith(f'<form id="rx-{key}"') and like_count(body, key) == "1"
        # The pressed button now asks for "off": tapping it again takes the like back.
        assert f'id="rx-{key}-like" class="rx-btn rx-like" name="off" value="👍" aria-pressed="true"' in body
        assert f'<p id="rx-said-{key}" hx-swap-oob="innerHTML">You reacted with 👍.</p>' in body
    else:
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/feedback/{item.id}")
    assert count(Reaction) == 1
    # A double tap (or a stale tab) sends "on" again: the like stays.
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}, htmx=htmx, target=f"rx-{key}")
    assert r.status_code == (200 if htmx else 303) and count(Reaction) == 1
    # A page from before the rule sends a bare emoji: it only ever adds.
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "👍"}, htmx=htmx, target=f"rx-{key}")
    assert r.status_code == (200 if htmx else 303) and count(Reaction) == 1
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"off": "👍"}, htmx=htmx, target=f"rx-{key}")
    assert r.status_code == (200 if htmx else 303)
    if htmx:
        body = r.get_data(as_text=True)
        assert like_count(body, key) is None and "Reaction removed." in body
        assert f'id="rx-{key}-like" class="rx-btn rx-like" name="on" value="👍" aria-pressed="false"' in body
    assert count(Reaction) == 0
    # Taking back what isn't there (the other tab already did) changes nothing and is no error.
    r = c.submit(f"/reactions/feedback/{item.id}/react", {"off": "👍"}, htmx=htmx, target=f"rx-{key}")
    assert r.status_code == (200 if htmx else 303) and count(Reaction) == 0


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("emoji", ["", "😀", "<script>"])
def test_unknown_emoji_is_a_translated_422(team, make_feedback, login, htmx, emoji) -> None:
    item = make_feedback()
    as_zh(team["other"])
    r = login(team["other"]).submit(f"/reactions/feedback/{item.id}/react", {"emoji": emoji},
                                    htmx=htmx, target=f"rx-feedback-{item.id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in body) is (not htmx)
    assert "请从这一排里选一个回应" in body
    assert "<script>" not in body
    assert count(Reaction) == 0


def test_people_who_cant_read_an_item_get_404_everywhere(team, make_feedback, login) -> None:
    private = make_feedback(visibility="private", text="just for you")
    hidden = make_feedback(text="reported", hidden=True)
    for who in ("other", "boss", "hr"):
        c = login(team[who])
        for item in (private, hidden) if who != "hr" else (private,):
            base = f"/reactions/feedback/{item.id}"
            assert c.get(base).status_code == 404
            assert c.get(base, headers=htmx_headers(f"thread-feedback-{item.id}")).status_code == 404
            assert c.submit(f"{base}/react", {"emoji": "👍"}).status_code == 404
            assert c.submit(f"{base}/react", {"emoji": "👍"}, htmx=True,
                            target=f"rx-feedback-{item.id}").status_code == 404
            assert c.submit(f"{base}/comments", {"text": "hi"}).status_code == 404
            assert c.submit(f"{base}/comments", {"text": "hi"}, htmx=True).status_code == 404
    c = login(team["other"])
    for url in ("/reactions/nothing/1", "/reactions/feedback/999999", "/reactions/comment/1"):
        assert c.get(url).status_code == 404
        assert c.submit(url + "/react", {"emoji": "👍"}).status_code == 404
        assert c.submit(url + "/comments", {"text": "hi"}).status_code == 404
    assert count(Reaction) == 0 and count(Comment) == 0
    # The counts don't leak through pages either.
    assert f"rx-feedback-{private.id}" not in c.get("/").get_data(as_text=True)
    assert login(team["recipient"]).get(f"/reactions/feedback/{private.id}").status_code == 200


def test_the_thread_page_and_fragment(team, make_feedback, login) -> None:
    item = make_feedback()
    services.add_comment(team["boss"], "feedback", item.id, "Agreed!")
    services.set_reaction(team["boss"], "feedback", item.id, "🙏", True)
    db.session.commit()
    c = login(team["other"])
    page = c.get(f"/reactions/feedback/{item.id}").get_data(as_text=True)
    assert "<html" in page and "Great launch demo" in page and "Agreed!" in page and "王伟" in page
    assert "<details class=\"rx-comments\" open>" in page
    r = c.get(f"/reactions/feedback/{item.id}", headers=htmx_headers(f"thread-feedback-{item.id}"))
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and body.lstrip().startswith(f'<div id="thread-feedback-{item.id}"')
    assert "Agreed!" in body and "🙏" in body and 'name="text"' in body
    # The detail page shows the thread open too.
    detail = c.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert "Agreed!" in detail


@pytest.mark.parametrize("htmx", [True, False])
def test_comment_is_added(team, make_feedback, login, htmx) -> None:
    item = make_feedback()
    key = f"feedback-{item.id}"
    c = login(team["other"])
    r = c.submit(f"/reactions/feedback/{item.id}/comments", {"text": "  <b>Bravo</b> 👏 "}, htmx=htmx,
                 target=f"thread-{key}")
    body = r.get_data(as_text=True)
    if htmx:
        assert r.status_code == 200 and "<html" not in body
        assert body.lstrip().startswith(f'<div id="thread-{key}"') and "&lt;b&gt;Bravo&lt;/b&gt; 👏" in body
        assert f'<span id="rx-n-{key}" class="rx-count" hx-swap-oob="true"><span class="rx-n">1</span>' in body
        assert 'hx-swap-oob="innerHTML">Comment added.</p>' in body
    else:
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/reactions/feedback/{item.id}")
        page = c.get(r.headers["Location"]).get_data(as_text=True)
        assert "Comment added." in page and "&lt;b&gt;Bravo&lt;/b&gt; 👏" in page
    assert db.session.scalar(select(Comment.text)) == "<b>Bravo</b> 👏"


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(("text", "message"), [("", "先写点评论"), ("   ", "先写点评论"), ("长" * 501, "500")])
def test_bad_comment_is_a_translated_422_that_keeps_the_text(team, make_feedback, login, htmx, text, message) -> None:
    item = make_feedback()
    as_zh(team["other"])
    r = login(team["other"]).submit(f"/reactions/feedback/{item.id}/comments", {"text": text}, htmx=htmx,
                                    target=f"thread-feedback-{item.id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in body) is (not htmx)
    assert message in body and 'aria-invalid="true"' in body
    if text.strip():
        assert text in body
    assert count(Comment) == 0


@pytest.mark.parametrize("htmx", [True, False])
def test_a_suspended_person_gets_a_translated_refusal(team, make_feedback, login, htmx) -> None:
    item = make_feedback()
    db.session.add(PostingSuspension(user_id=team["other"].id, until=utcnow() + timedelta(days=2)))
    as_zh(team["other"])
    r = login(team["other"]).submit(f"/reactions/feedback/{item.id}/comments", {"text": "hi"}, htmx=htmx,
                                    target=f"thread-feedback-{item.id}")
    assert r.status_code == 422 and "之前你不能发布内容" in r.get_data(as_text=True)
    assert count(Comment) == 0


def test_csrf_is_required(team, make_feedback, login) -> None:
    item = make_feedback()
    c = login(team["other"])
    assert c.submit(f"/reactions/feedback/{item.id}/react", {"emoji": "👍"}, csrf=False).status_code == 400
    assert c.submit(f"/reactions/feedback/{item.id}/comments", {"text": "hi"}, csrf=False).status_code == 400
    assert count(Reaction) == 0 and count(Comment) == 0


@pytest.mark.parametrize("htmx", [True, False])
def test_delete_own_comment_only(team, make_feedback, login, htmx) -> None:
    item = make_feedback()
    mine = services.add_comment(team["other"], "feedback", item.id, "mine")
    theirs = services.add_comment(team["boss"], "feedback", item.id, "theirs")
    db.session.commit()
    c = login(team["other"])
    assert c.submit(f"/reactions/comments/{theirs.id}/delete", htmx=htmx).status_code == 404
    r = c.submit(f"/reactions/comments/{mine.id}/delete", htmx=htmx, target=f"thread-feedback-{item.id}")
    if htmx:
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and "theirs" in body and ">mine<" not in body
    else:
        assert r.status_code == 303
    assert list(db.session.scalars(select(Comment.text))) == ["theirs"]


def test_confidential_author_never_appears_on_the_recipient_side(team, make_feedback, login) -> None:
    item = make_feedback(confidential=True, text="You saved the launch")
    author = team["author"]
    services.add_comment(author, "feedback", item.id, "From me, secretly")
    services.set_reaction(author, "feedback", item.id, "🎯", True)
    db.session.commit()
    for who in ("recipient", "boss", "other"):
        c = login(team[who])
        pages = [
            c.get("/").get_data(as_text=True),
            c.get(f"/feedback/{item.id}").get_data(as_text=True),
            c.get(f"/reactions/feedback/{item.id}").get_data(as_text=True),
            c.get(f"/reactions/feedback/{item.id}",
                  headers=htmx_headers(f"thread-feedback-{item.id}")).get_data(as_text=True),
            c.get("/notify/").get_data(as_text=True),
            c.submit(f"/reactions/feedback/{item.id}/comments", {"text": "thanks"}, htmx=True,
                     target=f"thread-feedback-{item.id}").get_data(as_text=True),
        ]
        for html in pages:
            assert "Emma" not in html and "emma@" not in html and f"/people/{author.id}\"" not in html
        assert "From me, secretly" in pages[2] and "Someone (confidential)" in pages[2]
    inbox = login(team["recipient"]).get("/notify/").get_data(as_text=True)
    assert "Someone (confidential) commented on the feedback you received" in inbox
    # The author sees themselves; HR sees who it was.
    assert "Emma Wilson" in login(author).get(f"/reactions/feedback/{item.id}").get_data(as_text=True)
    hr_page = login(team["hr"]).get(f"/reactions/feedback/{item.id}").get_data(as_text=True)
    assert re.search(r'class="comment-who">Emma Wilson</a>', hr_page)


def test_a_page_of_reacted_items_costs_the_same_as_a_few(team, make_feedback, login) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            item = make_feedback(recipient_id=team["recipient"].id)
            services.set_reaction(team["other"], "feedback", item.id, "👍", True)
            services.set_reaction(team["boss"], "feedback", item.id, "💡", True)
            services.add_comment(team["boss"], "feedback", item.id, "nice")
        db.session.commit()

    c = login(team["recipient"])

    def statements() -> int:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert c.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    add(2)
    few = statements()
    add(15)
    assert statements() == few
