"""Kept pages (perfapp.core.pages): a page is served again only while everything it shows is the
same, to the same viewer, in the same language; any change shows on the very next request; a
kept page is sent compressed exactly as a rendered one would be."""
from __future__ import annotations

import gzip
import re
from datetime import time
from typing import Any

import brotli
import pytest
from markupsafe import Markup

from perfapp.core import pages
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import request_feedback
from perfapp.notify.models import Notification
from perfapp.people.models import User

FEED_MORE = {"HX-Request": "true", "HX-Target": "feed-more"}


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    return {"boss": boss, "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
            "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss)}


def give(author: User, recipient: User, text: str, **kw: Any) -> Feedback:
    item = Feedback(author_id=author.id, recipient_id=recipient.id, kind="praise", visibility="public",
                    text=text, created_at=utcnow(), **kw)
    db.session.add(item)
    db.session.commit()
    return item


def home(client, **headers: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_unchanged_home_is_served_again_without_rendering(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = home(lina)
    renders.clear()
    assert home(lina) == first
    assert renders == []  # neither the page nor a card was rendered again


@pytest.mark.parametrize("change", ["new feedback", "reaction", "unread read", "request", "language", "hidden tips"])
def test_a_change_shows_on_the_next_request(org, login, change) -> None:  # type: ignore[no-untyped-def]
    item = give(org["emma"], org["lina"], "Great launch")
    lina, emma = login(org["lina"]), login(org["emma"])
    before = home(lina)
    if change == "new feedback":
        give(org["boss"], org["lina"], "Thanks for the demo")
        assert "Thanks for the demo" in home(lina)
    elif change == "reaction":
        assert emma.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}).status_code == 303
        assert '<span class="rx-n">1</span>' in home(lina)
    elif change == "unread read":
        db.session.add(Notification(user_id=org["lina"].id, kind="feedback_received", feedback_id=item.id))
        db.session.commit()
        assert re.search(r'id="unread" class="badge"\s+aria-label="1 unread">1<', home(lina))
        db.session.query(Notification).update({"read_at": utcnow()})
        db.session.commit()
        assert home(lina) == before  # read again: the page it was
    elif change == "request":
        request_feedback(org["boss"], [org["lina"].id], "the demo")
        db.session.commit()
        assert "1 person asked for your feedback" in home(lina)
    elif change == "language":
        assert '<html lang="en"' in before and "<span>Home</span>" in before
        user = db.session.get(User, org["lina"].id)
        user.locale = "zh_Hans_CN"
        db.session.commit()
        after = home(lina)
        assert '<html lang="zh' in after and "<span>Home</span>" not in after
    else:
        assert 'id="getting-started"' in before
        assert lina.submit("/onboarding/dismiss").status_code == 303
        home(lina)  # the page with the "hidden" message, shown once
        assert 'id="getting-started"' not in home(lina)
    if change != "unread read":
        assert home(lina) != before


def test_a_page_is_never_served_to_another_viewer(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "For Lina only")
    give(org["lina"], org["emma"], "For Emma only")
    lina, emma = login(org["lina"]), login(org["emma"])
    assert "For Lina only" in home(lina)
    emmas = home(emma)
    assert "For Emma only" in emmas and "For Lina only" not in emmas
    assert f'data-user="{org["emma"].id}"' in emmas


def test_a_flashed_message_shows_once_and_is_not_kept(org, login) -> None:  # type: ignore[no-untyped-def]
    lina = login(org["lina"])
    home(lina)
    assert lina.submit("/onboarding/dismiss").status_code == 303
    assert "Tips hidden" in home(lina)
    assert "Tips hidden" not in home(lina)


def test_the_fragment_and_the_page_are_kept_apart(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    full = home(lina)
    fragment = home(lina, **FEED_MORE)
    assert "<html" in full and "<html" not in fragment and "Great launch" in fragment
    assert home(lina) == full and home(lina, **FEED_MORE) == fragment


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_kept_page_is_sent_compressed_as_asked(org, login, encoding) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    plain = home(lina)
    for _ in range(2):  # rendered, then kept
        response = lina.get("/", headers={"Accept-Encoding": f"{encoding}, identity"})
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"] and "HX-Request" in response.headers["Vary"]
        data = response.get_data()
        assert int(response.headers["Content-Length"]) == len(data) < len(plain.encode()) / 2
        text = (brotli.decompress(data) if encoding == "br" else gzip.decompress(data)).decode()
        assert text == plain


def test_with_the_cache_off_every_request_renders(app, org, login, renders) -> None:  # type: ignore[no-untyped-def]
    lina = login(org["lina"])
    home(lina)
    app.config["PAGE_CACHE"] = False
    renders.clear()
    try:
        home(lina)
        home(lina)
        assert renders.count("feedback/home.html") == 2
    finally:
        app.config["PAGE_CACHE"] = True


def test_the_fingerprint_takes_plain_values_only(org) -> None:  # type: ignore[no-untyped-def]
    value = {"b": [1, "x", time(9)], "a": (None, {"k": 2.5})}
    assert pages.fingerprint(value) == pages.fingerprint({"a": (None, {"k": 2.5}), "b": (1, "x", time(9))})
    assert len(pages.fingerprint(value)) == 16
    # Values that render differently digest differently: escaped text and markup, 1 and "1",
    # True and 1, a list split differently.
    assert pages.fingerprint("<b>hi</b>") != pages.fingerprint(Markup("<b>hi</b>"))
    assert pages.fingerprint(1) != pages.fingerprint("1") != pages.fingerprint(True)
    assert pages.fingerprint(["ab", "c"]) != pages.fingerprint(["a", "bc"])
    assert pages.fingerprint([["a"], "b"]) != pages.fingerprint([["a", "b"]])
    with pytest.raises(pages.Unkeyable):
        pages.fingerprint({"person": org["lina"]})  # an ORM object: its state is not part of a key


def test_a_page_with_a_value_that_is_not_plain_is_not_kept(app, org, renders) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        assert pages.key("feedback/home.html", {"person": org["lina"]}) is None
        assert pages.key("feedback/home.html", {"n": 1}) is not None


def test_the_praise_wall_is_kept_and_shows_new_praise_next(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = lina.get("/walls/").get_data(as_text=True)
    renders.clear()
    assert lina.get("/walls/").get_data(as_text=True) == first and renders == []
    give(org["boss"], org["emma"], "Calm under pressure")
    assert "Calm under pressure" in lina.get("/walls/").get_data(as_text=True)
    # another viewer's wall: their own page (their CSRF token, their "My badges" link)
    emma = login(org["emma"]).get("/walls/").get_data(as_text=True)
    assert f'/walls/people/{org["emma"].id}' in emma and f'/walls/people/{org["lina"].id}"' not in emma


@pytest.mark.parametrize("encoding", ["br", ""])
def test_going_back_to_an_unchanged_page_gets_304(org, login, encoding) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    headers = {"Accept-Encoding": encoding} if encoding else {}
    first = lina.get("/", headers=headers)
    etag = first.headers["ETag"]
    again = lina.get("/", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    give(org["boss"], org["lina"], "Thanks for the demo")
    changed = lina.get("/", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    # the other encoding's copy has its own tag
    other = lina.get("/", headers={"Accept-Encoding": "gzip"} if not encoding else {})
    assert other.headers["ETag"] != changed.headers["ETag"]


@pytest.mark.parametrize("change", ["praise", "rename", "flowers"])
def test_a_profile_is_kept_and_shows_changes_next(org, login, renders, change) -> None:  # type: ignore[no-untyped-def]
    from perfapp.recognition.flowers import FlowerInput, give_flowers

    give(org["boss"], org["emma"], "Great launch")
    lina = login(org["lina"])
    url = f"/people/{org['emma'].id}"
    first = lina.get(url).get_data(as_text=True)
    renders.clear()
    assert lina.get(url).get_data(as_text=True) == first
    assert "people/profile.html" not in renders  # only the small sections other domains add
    if change == "praise":
        give(org["boss"], org["emma"], "Calm under pressure")
        assert "Calm under pressure" in lina.get(url).get_data(as_text=True)
    elif change == "rename":
        db.session.get(User, org["boss"].id).set_name("Wang Wei")  # her manager, named in the head
        db.session.commit()
        assert "Wang Wei" in lina.get(url).get_data(as_text=True)
    else:
        give_flowers(db.session.get(User, org["boss"].id),
                     FlowerInput(receiver_id=org["emma"].id, count=3, message="Thanks for the launch!"))
        db.session.commit()
        assert re.search(r'id="profile-flowers">3<', lina.get(url).get_data(as_text=True))


@pytest.mark.parametrize("change", ["badge", "flowers", "rename", "language"])
def test_a_badge_wall_is_kept_and_shows_changes_next(org, login, renders, change) -> None:  # type: ignore[no-untyped-def]
    from perfapp.recognition.badges import AwardInput, award_badge
    from perfapp.recognition.flowers import FlowerInput, give_flowers
    from perfapp.recognition.models import Badge

    helper = Badge(name_zh="热心助人", name_en="Helper", description_en="Helps", icon="star", colour="#e5484d",
                   awarders="anyone", monthly_limit=5)
    db.session.add(helper)
    db.session.commit()
    award_badge(db.session.get(User, org["boss"].id), AwardInput(helper.id, org["emma"].id, "Unblocked the release"))
    db.session.commit()
    lina = login(org["lina"])
    url = f"/walls/people/{org['emma'].id}"
    first = lina.get(url).get_data(as_text=True)
    assert "Helper" in first and "×2" not in first
    renders.clear()
    assert lina.get(url).get_data(as_text=True) == first
    assert "walls/person.html" not in renders  # only the small section integrations adds
    if change == "badge":
        award_badge(db.session.get(User, org["lina"].id), AwardInput(helper.id, org["emma"].id, "Fixed the build"))
        db.session.commit()
        assert "×2" in lina.get(url).get_data(as_text=True)
    elif change == "flowers":
        give_flowers(db.session.get(User, org["boss"].id),
                     FlowerInput(receiver_id=org["emma"].id, count=3, message="Thanks for the launch!"))
        db.session.commit()
        assert re.search(r'<b>3</b>', lina.get(url).get_data(as_text=True))
    elif change == "rename":
        db.session.get(User, org["emma"].id).set_name("Emma Li")
        db.session.commit()
        assert "Emma Li" in lina.get(url).get_data(as_text=True)
    else:
        page = lina.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert "热心助人" in page and "Helper" not in page
    # another viewer gets their own page: on their own wall "My badges" is the current tab
    emma = login(org["emma"]).get(url).get_data(as_text=True)
    assert re.search(r'aria-current="page">My badges<', emma)
    assert not re.search(r'aria-current="page">My badges<', lina.get(url).get_data(as_text=True))


def test_the_praise_wall_puts_new_cards_into_the_page_kept_around_them(app, org, login, renders) -> None:  # type: ignore[no-untyped-def]
    """Every public write changes every viewer's wall: the cards are spliced into the page kept
    around them (the shell, the top values, the filter), which is not rendered again."""
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = lina.get("/walls/", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    renders.clear()
    spliced = pages.stats["spliced"]
    give(org["boss"], org["emma"], "Calm under pressure")
    again = lina.get("/walls/", headers={"Accept-Encoding": "br"})
    html = brotli.decompress(again.get_data()).decode()
    assert "Calm under pressure" in html and "Great launch" in html
    assert "walls/praise.html" not in renders and pages.stats["spliced"] == spliced + 1
    assert str(pages.PLACEHOLDER) not in html and html.count('id="feed"') == 1
    assert again.headers["ETag"] != first.headers["ETag"]
    # the same page rendered from scratch is the same page
    pages.clear()
    assert lina.get("/walls/").get_data(as_text=True) == html


def test_a_spliced_page_with_the_cache_off_is_whole(app, org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    app.config["PAGE_CACHE"] = False
    try:
        html = login(org["lina"]).get("/walls/").get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE"] = True
    assert "Great launch" in html and str(pages.PLACEHOLDER) not in html


def test_a_page_that_changes_replaces_its_kept_copy(org, login) -> None:  # type: ignore[no-untyped-def]
    """One kept page per viewer and URL: versions that will never be served again do not pile up
    (and push out pages that would)."""
    lina = login(org["lina"])
    pages.clear()
    home(lina)
    lina.get("/walls/")
    kept = len(pages._store())
    for n in range(3):
        give(org["emma"], org["lina"], f"Thanks {n}")
        assert f"Thanks {n}" in home(lina) and f"Thanks {n}" in lina.get("/walls/").get_data(as_text=True)
    assert len(pages._store()) == kept


def test_digested_html_is_keyed_by_what_it_holds() -> None:
    """pages.Digested: HTML shared by many requests, keyed by the digest made with it."""
    from markupsafe import Markup

    from perfapp.core.pages import Digested, fingerprint

    frame, other = Markup("<section>Top values</section>"), Markup("<section>Newest badges</section>")
    assert fingerprint(Digested(frame)) == fingerprint(Digested(Markup(str(frame))))
    assert fingerprint(Digested(frame)) != fingerprint(Digested(other))
    assert Markup("{}").format(Digested(frame)) == frame  # written as the HTML it holds
