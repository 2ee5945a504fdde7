"""The stories behind a badge: a short list on the badge's page, all of them in the library."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.moderation import services as moderation
from perfapp.recognition.models import Badge, BadgeAward
from perfapp.stories import services
from perfapp.stories.models import Story
from perfapp.stories.services import StoryInput
from tests.conftest import htmx_headers
from tests.feedback.test_queries import recorded_statements

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
SECTION = 'id="stories-behind-title"'


@pytest.fixture(autouse=True)
def _hidden_at_once(one_report_hides: None) -> None:
    """These tests are about what a hidden row does to stories; one report hides it here."""


@pytest.fixture()
def story(team):  # type: ignore[no-untyped-def]
    """story(award, title, publish=True, people=(lina,), minutes_ago=0) -> a story told from a badge award."""

    def make(obj: BadgeAward, title: str, publish: bool = True, people: tuple = (), minutes_ago: int = 0) -> Story:
        people = people or (team["lina"],)
        row = services.promote(team["boss"], StoryInput(
            source_type="badge_award", source_id=obj.id, title=title, text="She kept the shop open.",
            tag_ids=[team["customer"].id], person_ids=[p.id for p in people]))
        if publish:
            for person in people:
                services.respond(person, row.id, True)
            row.published_at = utcnow() - timedelta(minutes=minutes_ago)
        db.session.commit()
        return row

    return make


def other_badge() -> Badge:
    badge = Badge(name_zh="创新", name_en="Innovator", icon="rocket", colour="#0090ff")
    db.session.add(badge)
    db.session.commit()
    return badge


def badge_url(obj: BadgeAward) -> str:
    return f"/walls/badges/{obj.badge_id}"


# --- the library's badge filter --------------------------------------------------------------------

def test_only_published_visible_stories_of_the_badges_awards(team, award, story) -> None:
    first = award()
    story(first, "Shown, older", minutes_ago=5)
    newer = story(award(receiver_id=team["emma"].id, citation="x"), "Shown, newer", people=(team["emma"],))
    story(award(receiver_id=team["zhang"].id), "Waiting", publish=False, people=(team["zhang"],))
    reported = story(award(receiver_id=team["boss"].id), "Reported", people=(team["boss"],))
    moderation.report(team["zhang"], "story", reported.id, "Not true")
    story(award(badge_id=other_badge().id, receiver_id=team["hr"].id), "Another badge", people=(team["hr"],))
    db.session.commit()

    items, more = services.library(badge_id=first.badge_id, viewer=team["zhang"])
    assert [s.title for s in items] == ["Shown, newer", "Shown, older"] and more is None
    assert newer in items
    # HR sees the reported one too, as everywhere in the library, until moderation decides.
    hr_items, _more = services.library(badge_id=first.badge_id, viewer=team["hr"])
    assert {s.title for s in hr_items} == {"Shown, newer", "Shown, older", "Reported"}


def test_a_story_of_a_flower_is_never_a_badges(team, award, story) -> None:
    from perfapp.recognition.models import FlowerGift

    row = award()
    gift = FlowerGift(id=row.id, giver_id=team["emma"].id, receiver_id=team["lina"].id, count=1, message="m",
                      month="2026-11")  # the same id as the award: only the source type tells them apart
    db.session.add(gift)
    db.session.commit()
    flower_story = services.promote(team["boss"], StoryInput(source_type="flower", source_id=gift.id, title="Flowers",
                                                             text="t", person_ids=[team["lina"].id]))
    services.respond(team["lina"], flower_story.id, True)
    db.session.commit()
    assert services.library(badge_id=row.badge_id, viewer=team["zhang"])[0] == []


# --- the badge page --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, title, section", [(EN, "Stories behind this badge", SECTION),
                                                     (ZH, "这枚徽章背后的案例", SECTION)])
def test_the_badge_page_lists_the_stories_behind_it(team, award, story, login, headers, title, section) -> None:
    row = award()
    published = story(row, "The weekend the shop came back")
    story(award(receiver_id=team["zhang"].id), "Still waiting", publish=False, people=(team["zhang"],))
    reported = story(award(receiver_id=team["boss"].id), "Reported one", people=(team["boss"],))
    moderation.report(team["zhang"], "story", reported.id, "Not true")
    story(award(badge_id=other_badge().id, receiver_id=team["hr"].id), "Another badge", people=(team["hr"],))
    db.session.commit()

    for who in ("emma", "zhang"):
        r = login(team[who]).get(badge_url(row), headers=headers)
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and section in html and title in html
        assert f'href="/stories/{published.id}"' in html and "The weekend the shop came back" in html
        assert "李娜" in html  # who the story is about
        for absent in ("Still waiting", "Reported one", "Another badge"):
            assert absent not in html
        assert "/stories/?badge=" not in html  # one story: nothing more to see
        # The stories come before the holders, whose infinite scroll would otherwise hide them.
        assert html.index(section) < html.index('id="holders-title"')


def test_no_section_without_stories(team, award, story, login) -> None:
    row = award()
    story(award(receiver_id=team["zhang"].id), "Still waiting", publish=False, people=(team["zhang"],))
    html = login(team["emma"]).get(badge_url(row)).get_data(as_text=True)
    assert 'id="holders-title"' in html and SECTION not in html and "Still waiting" not in html


def test_htmx_requests(team, award, story, login) -> None:
    row = award()
    story(row, "Told")
    c = login(team["zhang"])
    # A boosted navigation and a history restore get the whole page, stories included.
    for headers in (htmx_headers(boosted=True), {**htmx_headers(), "HX-History-Restore-Request": "true"}):
        html = c.get(badge_url(row), headers=headers).get_data(as_text=True)
        assert "<html" in html and SECTION in html and "Told" in html
    # The holders' next page is a fragment of holders only.
    for query in ("?before=2100-01-01T00:00:00_999999", ""):
        r = c.get(badge_url(row) + query, headers=htmx_headers("feed-more"))
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "<html" not in html
        assert 'class="card holder"' in html and SECTION not in html and "Told" not in html
        assert "HX-Request" in r.headers["Vary"]


def test_a_story_published_after_a_visit_shows_on_the_next(team, award, story, login) -> None:
    row = award()
    pending = story(row, "Soon", publish=False)
    c = login(team["zhang"])
    assert SECTION not in c.get(badge_url(row)).get_data(as_text=True)
    services.respond(team["lina"], pending.id, True)
    db.session.commit()
    assert "Soon" in c.get(badge_url(row)).get_data(as_text=True)
    moderation.report(team["emma"], "story", pending.id, "Not true")
    db.session.commit()
    assert SECTION not in c.get(badge_url(row)).get_data(as_text=True)


@pytest.mark.parametrize("headers, see_all, heading", [
    (EN, "See all stories", "Stories behind the badge “Helper”"),
    (ZH, "查看全部案例", "“热心助人”徽章背后的案例"),
])
def test_see_all_opens_the_library_filtered_by_the_badge(team, award, story, login, headers, see_all,
                                                         heading) -> None:
    rows = [award(receiver_id=p.id) for p in (team["lina"], team["emma"], team["zhang"], team["boss"])]
    for i, (row, who) in enumerate(zip(rows, ("lina", "emma", "zhang", "boss"), strict=True)):
        story(row, f"Story {i}", people=(team[who],), minutes_ago=10 - i)
    story(award(badge_id=other_badge().id, receiver_id=team["hr"].id), "Another badge", people=(team["hr"],))
    c = login(team["emma"])
    html = c.get(badge_url(rows[0]), headers=headers).get_data(as_text=True)
    link = f'href="/stories/?badge={rows[0].badge_id}"'
    assert link in html and see_all in html
    assert [t for t in ("Story 3", "Story 2", "Story 1", "Story 0") if t in html] == ["Story 3", "Story 2", "Story 1"]
    assert html.index("Story 3") < html.index("Story 2") < html.index("Story 1")

    library = c.get(f"/stories/?badge={rows[0].badge_id}", headers=headers).get_data(as_text=True)
    assert heading in library
    assert all(f"Story {i}" in library for i in range(4)) and "Another badge" not in library
    assert f'href="/walls/badges/{rows[0].badge_id}"' in library  # back to the badge


@pytest.mark.parametrize("query", ["badge=999999", "badge=-1", "badge=x", "badge="])
def test_an_unknown_badge_filter_shows_the_whole_library(team, award, story, login, query) -> None:
    story(award(), "Told")
    r = login(team["zhang"]).get(f"/stories/?{query}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Told" in html and "Stories behind the badge" not in html


def test_the_library_next_page_keeps_the_badge_filter(team, award, story, login) -> None:
    row = award()
    story(row, "Told")
    r = login(team["zhang"]).get(f"/stories/?badge={row.badge_id}&before=2100-01-01T00:00:00_999999",
                                 headers=htmx_headers("feed-more"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "Told" in html


# --- no N+1 ----------------------------------------------------------------------------------------

def test_the_badge_page_costs_the_same_for_one_story_or_many(team, award, story, login) -> None:
    c = login(team["zhang"])
    row = award()

    def statements() -> list[str]:
        with recorded_statements() as recorded:
            html = c.get(badge_url(row)).get_data(as_text=True)
        assert SECTION in html
        return recorded

    story(row, "One", people=(team["lina"],), minutes_ago=9)
    few = statements()
    pairs: list[Any] = [(team["emma"], team["boss"]), (team["zhang"], team["hr"]), (team["boss"], team["emma"])]
    for i, people in enumerate(pairs):
        story(award(receiver_id=people[0].id, citation=f"c{i}"), f"Many {i}", people=people, minutes_ago=i)
    many = statements()
    assert len(few) == len(many), "\n".join(" ".join(q.split())[:140] for q in many)
