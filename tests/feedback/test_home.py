"""Home's balance: a give action first, requests folded into one line, what I received (not what I
gave) in the feed; with and without htmx, paging and the page cache as before."""
from __future__ import annotations

import re

import pytest

from perfapp.extensions import db
from perfapp.feedback import services
from perfapp.feedback.services import FeedbackInput
from perfapp.onboarding.services import dismiss
from tests.conftest import htmx_headers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def give(author, recipient, text: str = "Great demo"):  # type: ignore[no-untyped-def]
    item = services.give_feedback(author, FeedbackInput(recipient_id=recipient.id, text=text))
    db.session.commit()
    return item


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    me = make_user(name="李娜", email="lina@example.com")
    people = {"me": me, **{n: make_user(name=n, email=f"{n}@example.com") for n in ("emma", "zhang", "james")}}
    dismiss(me)  # past the first run: the getting-started cards would stand in for the give row
    db.session.commit()
    return people


def feed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/feedback/(\d+)" class="meta-item"', html)]


def test_home_leads_with_a_give_action_and_what_i_received(team, login) -> None:
    me, emma = team["me"], team["emma"]
    received = give(emma, me, "Thanks for the review")
    gave = give(me, emma, "Your demo was clear")
    c = login(me)
    html = c.get("/").get_data(as_text=True)
    give_row = html.index('class="home-give"')
    assert give_row < html.index('id="feed"')
    assert 'href="/feedback/new">' in html[give_row:give_row + 400]
    assert feed_ids(html) == [received.id]  # what I gave lives under Given
    assert feed_ids(c.get("/feedback/given").get_data(as_text=True)) == [gave.id]


def test_requests_fold_into_one_line(team, login) -> None:
    me = team["me"]
    for name in ("emma", "zhang", "james"):
        services.request_feedback(team[name], [me.id], f"How did {name}'s demo go?")
    db.session.commit()
    give(team["emma"], me)
    c = login(me)
    html = c.get("/").get_data(as_text=True)
    assert "3 people asked for your feedback" in html
    row = html.index('id="asks"')
    assert html[row - 60:row].rfind("<details") != -1  # folded by default (no `open`)
    assert row < html.index('id="feed"')
    # Home renders none of them: they load when the line is first opened (or as a page).
    assert html.count('class="card ask"') == 0 and 'hx-get="/feedback/asks"' in html
    fragment = c.get("/feedback/asks", headers=htmx_headers("asks-list")).get_data(as_text=True)
    assert fragment.count('class="card ask"') == 3 and "<html" not in fragment
    page = c.get("/feedback/asks").get_data(as_text=True)
    assert page.count('class="card ask"') == 3 and "<html" in page and 'data-back' in page
    assert "3 人请你给反馈" in c.get("/", headers=ZH).get_data(as_text=True)
    services.request_feedback(team["emma"], [team["zhang"].id], "Not for me")
    db.session.commit()
    assert "3 people asked" in c.get("/").get_data(as_text=True)


def test_one_request_reads_in_the_singular_and_none_shows_no_row(team, login) -> None:
    me = team["me"]
    c = login(me)
    assert 'id="asks"' not in c.get("/").get_data(as_text=True)
    services.request_feedback(team["emma"], [me.id], "Demo?")
    db.session.commit()
    assert "1 person asked for your feedback" in c.get("/").get_data(as_text=True)


def test_with_htmx_a_boosted_visit_is_the_whole_page_and_the_next_page_a_fragment(team, login) -> None:
    me, emma = team["me"], team["emma"]
    made = [give(emma, me, f"n{i}").id for i in range(23)]
    services.request_feedback(emma, [me.id], "Demo?")
    db.session.commit()
    c = login(me)
    boosted = c.get("/", headers=htmx_headers(boosted=True))
    assert boosted.status_code == 200 and "HX-Request" in boosted.headers.get("Vary", "")
    page = boosted.get_data(as_text=True)
    assert 'class="home-give"' in page and 'id="asks"' in page and "<nav class=\"tabbar\"" in page
    first = feed_ids(page)
    assert first == sorted(made, reverse=True)[:20]
    cursor = re.search(r'hx-get="/\?before=([^"]+)"', page).group(1)  # type: ignore[union-attr]
    more = c.get(f"/?before={cursor}", headers=htmx_headers(target="feed-more")).get_data(as_text=True)
    assert 'class="home-give"' not in more and 'id="asks"' not in more and "<html" not in more
    assert feed_ids(more) == sorted(made, reverse=True)[20:]


def test_without_htmx_the_next_page_is_a_whole_page_without_the_top_rows(team, login) -> None:
    me, emma = team["me"], team["emma"]
    made = [give(emma, me, f"n{i}").id for i in range(21)]
    services.request_feedback(emma, [me.id], "Demo?")
    db.session.commit()
    c = login(me)
    page = c.get("/").get_data(as_text=True)
    cursor = re.search(r'href="/\?before=([^"]+)"', page).group(1)  # type: ignore[union-attr]
    more = c.get(f"/?before={cursor}").get_data(as_text=True)
    assert "<html" in more and 'id="asks"' not in more
    assert feed_ids(more) == [min(made)]


def test_a_manager_still_sees_the_teams_shared_feedback(make_user, login) -> None:
    boss = make_user(name="王伟")
    report = make_user(name="李娜", manager=boss)
    author = make_user(name="Emma")
    shared = services.give_feedback(author, FeedbackInput(recipient_id=report.id, text="Nice", visibility="manager",
                                                          kind="suggestion"))
    db.session.commit()
    items, _ = services.home_feed(boss)
    assert [f.id for f in items] == [shared.id]
    assert services.home_feed(author)[0] == []  # the author finds it under Given
