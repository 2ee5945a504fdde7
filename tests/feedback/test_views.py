"""Feedback pages over HTTP: compose, detail, feeds, asking — with and without htmx."""
from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<div hx-get="/x" hx-trigger="load">boom</div>',
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "{{ 7*7 }}",
]


def feedback_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    return {
        "boss": boss,
        "author": make_user(name="Emma Wilson", email="emma@example.com"),
        "recipient": make_user(name="李娜", email="lina@example.com", manager=boss),
        "other": make_user(name="张敏", email="zhang@example.com"),
    }


def test_compose_page_and_prefill(team, login, make_project) -> None:
    project = make_project()
    c = login(team["author"])
    page = c.get(f"/feedback/new?to={team['recipient'].id}&project={project.id}"
                 f"&milestone={project.milestones[0].id}").get_data(as_text=True)
    assert f'name="recipient_id" value="{team["recipient"].id}"' in page
    assert f'<option value="{project.id}" selected>' in page
    assert "👍" in page and "🎯" in page


def test_give_plain_form_redirects_to_detail(team, login) -> None:
    c = login(team["author"])
    r = c.submit("/feedback/new", {"recipient_id": team["recipient"].id, "text": "Thanks!",
                                   "emoji": ["👍", "🙏"], "free_tags": "协作, Teamwork"})
    assert r.status_code == 303
    fb = db.session.scalar(select(Feedback))
    assert r.headers["Location"].endswith(f"/feedback/{fb.id}")
    assert fb.emoji == "👍 🙏" and {t.name_en for t in fb.tags} == {"协作", "Teamwork"}


def test_give_with_htmx_returns_the_sent_fragment(team, login) -> None:
    c = login(team["author"])
    r = c.submit("/feedback/new", {"recipient_id": team["recipient"].id, "emoji": "🔥"},
                 htmx=True, target="compose")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "feedback-sent"
    assert 'id="compose"' in body and "<html" not in body and "李娜" in body
    assert feedback_count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_validation_error_is_422_translated_and_keeps_input(team, login, htmx) -> None:
    c = login(team["author"])
    team["author"].locale = "zh_Hans_CN"
    db.session.commit()
    r = c.submit("/feedback/new", {"recipient_id": team["recipient"].id, "text": "x" * 4001,
                                   "free_tags": "mine"}, htmx=htmx, target="compose")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert ("<html" in body) is (not htmx)
    assert "字" in body  # the length message in Chinese
    assert "x" * 4001 in body and 'value="mine"' in body  # nothing typed is lost
    assert feedback_count() == 0


@pytest.mark.parametrize("data", [
    {"text": "hello", "recipient_id": "987654"},
    {"text": "hello", "recipient_id": "abc"},
    {"text": "hello", "recipient_id": ""},
    {"text": ""},
    {"text": "hello", "project_id": "987654"},
    {"text": "hello", "free_tags": ",".join(f"t{i}" for i in range(11))},
    {"text": "hello", "free_tags": "x" * 33},
])
def test_bad_posts_are_422_and_store_nothing(team, login, data) -> None:
    c = login(team["author"])
    data = dict(data)
    data.setdefault("recipient_id", team["recipient"].id)
    r = c.submit("/feedback/new", data)
    assert r.status_code == 422
    assert 'class="field-error"' in r.get_data(as_text=True)
    assert feedback_count() == 0


@pytest.mark.parametrize("token", [None, "forged"])
def test_csrf_is_required(team, login, token) -> None:
    c = login(team["author"])
    data = {"recipient_id": team["recipient"].id, "text": "hello"}
    if token:
        data["csrf_token"] = token
    r = c.submit("/feedback/new", data, csrf=False)
    assert r.status_code == 400
    assert "expired" in r.get_data(as_text=True)
    assert feedback_count() == 0


def test_anonymous_is_sent_to_login_and_htmx_gets_401(client) -> None:
    r = client.get("/feedback/new")
    assert r.status_code == 302 and r.headers["Location"] == "/auth/login?next=/feedback/new"
    r = client.get("/", headers={"HX-Request": "true"})
    assert r.status_code == 401 and "/auth/login" in r.headers["HX-Redirect"]


@pytest.mark.parametrize("payload", XSS)
def test_text_is_escaped_everywhere(team, login, payload) -> None:
    c = login(team["author"])
    r = c.submit("/feedback/new", {"recipient_id": team["recipient"].id, "text": payload,
                                   "behaviour": payload, "free_tags": payload[:32]})
    assert r.status_code == 303, r.get_data(as_text=True)
    fb = db.session.scalar(select(Feedback))
    viewer = login(team["recipient"])
    for url in ("/", f"/feedback/{fb.id}", "/walls/", f"/people/{team['recipient'].id}", "/notify/"):
        body = viewer.get(url).get_data(as_text=True)
        assert str(escape(payload)) in body, url  # shown as text...
        if escape(payload) != payload:
            assert payload not in body, url  # ...never as markup
        assert 'hx-get="/x"' not in body and "<script>alert" not in body  # the payload's own markup


def test_private_feedback_is_404_for_outsiders_in_every_form(team, login) -> None:
    fb = give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                     text="secret words", kind="suggestion",
                                                     visibility="private"))
    db.session.commit()
    for who in ("other", "boss"):
        c = login(team[who])
        assert c.get(f"/feedback/{fb.id}").status_code == 404
        assert c.get(f"/feedback/{fb.id}", headers={"HX-Request": "true"}).status_code == 404
        assert c.get(f"/feedback/{fb.id}", headers={"Accept": "application/json"}).status_code == 404
        for url in ("/", "/walls/", f"/people/{team['recipient'].id}"):
            assert "secret words" not in c.get(url).get_data(as_text=True)
    assert "secret words" in login(team["recipient"]).get(f"/feedback/{fb.id}").get_data(as_text=True)


def test_manager_visibility_reaches_the_current_manager_only(team, login) -> None:
    fb = give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                     text="for the two of you", kind="suggestion",
                                                     visibility="manager"))
    db.session.commit()
    assert login(team["boss"]).get(f"/feedback/{fb.id}").status_code == 200
    assert "for the two of you" in login(team["boss"]).get("/").get_data(as_text=True)
    assert login(team["other"]).get(f"/feedback/{fb.id}").status_code == 404


def test_confidential_author_never_reaches_recipient_side(team, login) -> None:
    fb = give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                     text="honest note", kind="constructive",
                                                     visibility="manager", confidential=True))
    db.session.commit()
    author = team["author"]
    leaks = (author.name, author.email, f"/people/{author.id}\"", f">{author.initials}<")
    for who in ("recipient", "boss"):
        c = login(team[who])
        pages = [
            c.get("/"), c.get("/", headers={"HX-Request": "true", "HX-Target": "feed-more"}),
            c.get(f"/feedback/{fb.id}"), c.get(f"/feedback/{fb.id}", headers={"HX-Request": "true"}),
            c.get(f"/feedback/{fb.id}", headers={"Accept": "application/json"}),
            c.get("/notify/"), c.get(f"/people/{team['recipient'].id}"),
            c.get("/feedback/999999"),
        ]
        for r in pages:
            body = r.get_data(as_text=True)
            for leak in leaks:
                assert leak not in body, (who, r.request.path, leak)
        data = c.get(f"/feedback/{fb.id}", headers={"Accept": "application/json"}).get_json()
        assert data["author"] is None and data["text"] == "honest note"
    own = login(author).get(f"/feedback/{fb.id}", headers={"Accept": "application/json"}).get_json()
    assert own["author"]["id"] == author.id


def test_feed_fragment_for_infinite_scroll(team, login) -> None:
    for i in range(25):
        give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id, text=f"note {i}"))
    db.session.commit()
    c = login(team["recipient"])
    page = c.get("/").get_data(as_text=True)
    assert page.count('class="card fb') == 20 and 'id="feed-more"' in page
    cursor = page.split('hx-get="/?before=')[1].split('"')[0]
    frag = c.get(f"/?before={cursor}", headers={"HX-Request": "true", "HX-Target": "feed-more"})
    body = frag.get_data(as_text=True)
    assert "<html" not in body and body.count('class="card fb') == 5
    assert "HX-Request" in frag.headers["Vary"]
    # The same URL without htmx (or boosted) is a whole page.
    assert "<html" in c.get(f"/?before={cursor}").get_data(as_text=True)
    boosted = c.get(f"/?before={cursor}", headers={"HX-Request": "true", "HX-Boosted": "true",
                                                    "HX-Target": "feed-more"})
    assert "<html" in boosted.get_data(as_text=True)


def test_given_page_lists_what_i_wrote(team, login) -> None:
    give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id, text="from emma"))
    give_feedback(team["other"], FeedbackInput(recipient_id=team["recipient"].id, text="from zhang"))
    db.session.commit()
    body = login(team["author"]).get("/feedback/given").get_data(as_text=True)
    assert "from emma" in body and "from zhang" not in body


def test_ask_answer_decline_over_http(team, login, make_user) -> None:
    asker = login(team["recipient"])
    r = asker.submit("/feedback/ask", {"recipient_ids": [team["author"].id, team["other"].id],
                                       "about": "My launch demo"})
    assert r.status_code == 303
    asks = db.session.scalars(select(FeedbackAsk).order_by(FeedbackAsk.id)).all()
    assert len(asks) == 2
    author = login(team["author"])
    inbox = author.get("/notify/").get_data(as_text=True)
    assert "My launch demo" in inbox and f"/feedback/new?ask={asks[0].id}" in inbox
    compose = author.get(f"/feedback/new?ask={asks[0].id}").get_data(as_text=True)
    assert f'name="ask_id" value="{asks[0].id}"' in compose
    assert f'name="recipient_id" value="{team["recipient"].id}"' in compose
    r = author.submit("/feedback/new", {"recipient_id": team["recipient"].id, "ask_id": asks[0].id,
                                        "text": "Clear and calm", "kind": "suggestion",
                                        "visibility": "private"})
    assert r.status_code == 303
    other = login(team["other"])
    r = other.submit(f"/feedback/asks/{asks[1].id}/decline", htmx=True, target=f"ask-{asks[1].id}")
    assert r.status_code == 200 and "Declined" in r.get_data(as_text=True)
    r = other.submit(f"/feedback/asks/{asks[1].id}/decline", htmx=True, target=f"ask-{asks[1].id}")
    assert r.status_code == 409
    # Someone it wasn't sent to can't decline it.
    assert author.submit(f"/feedback/asks/{asks[1].id}/decline").status_code == 404
    db.session.expire_all()
    assert [a.status for a in asks] == ["answered", "declined"]


def test_ask_bad_input(team, login, make_user) -> None:
    c = login(team["recipient"])
    many = [make_user().id for _ in range(11)]
    for data in ({"recipient_ids": many, "about": "x"}, {"recipient_ids": [], "about": "x"},
                 {"recipient_ids": [team["author"].id], "about": ""},
                 {"recipient_ids": [team["author"].id], "about": "x", "project_id": "98765"}):
        r = c.submit("/feedback/ask", data)
        assert r.status_code == 422
        assert 'class="field-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FeedbackAsk)) == 0
    request_feedback(team["recipient"], [team["author"].id], "x")
