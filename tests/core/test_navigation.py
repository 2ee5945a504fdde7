"""Every page that is not a tab has a back control to its parent, and the tab it belongs to is
highlighted (perfapp.core.navigation, templates/base.html): the url map is walked with real ids."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask

from perfapp.coaching import one_on_ones, records
from perfapp.core.navigation import TAB_PAGES, parent_url, tab_of
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.goals.models import CheckIn, Goal
from perfapp.integrations.models import CustomerPraise
from perfapp.meetings.models import Meeting
from perfapp.people.models import Department
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift
from perfapp.reviews.models import ReviewAssignment, ReviewCycle, ReviewQuestion
from perfapp.stories import services as stories
from perfapp.stories.services import StoryInput
from tests.conftest import htmx_headers

# Written out by hand (not read from the code under test): the tab each page belongs to.
EXPECTED_TAB = {
    "home": "home", "notify.inbox": "home", "feedback.given": "home", "feedback.detail": "home", "feedback.asks": "home",
    "reactions.thread": "home", "people.profile": "home", "people.search": "home", "moderation.report": "home",
    "feedback.compose": "give", "feedback.ask": "give", "feedback.outbox": "give",
    "recognition.flowers": "give", "recognition.award": "give",
    "walls.praise": "walls", "walls.wall_filter_form": "walls", "walls.person": "walls", "walls.citations": "walls",
    "walls.badges": "walls", "walls.badge": "walls", "recognition.flower_gift": "walls",
    "recognition.badge_award": "walls",
    "stories.index": "walls", "stories.detail": "walls", "stories.new": "walls", "integrations.praise": "walls",
    "people.me": "me", "people.settings": "me", "coaching.team": "me", "coaching.member": "me",
    "notify.settings": "me", "notify.organisation": "me", "integrations.queue": "me",
    "integrations.import_praise": "me", "audit.index": "me", "moderation.queue": "me", "moderation.log": "me",
    "recognition.allowance": "me", "recognition.badges": "me", "recognition.badge_edit": "me",
    "recognition.collusion": "me",
    "projects.index": "me", "projects.new": "me", "projects.detail": "me", "projects.edit": "me",
    "projects.milestone": "me", "projects.review": "me",
    "meetings.index": "me", "meetings.new": "me", "meetings.import_ics": "me", "meetings.detail": "me",
    "meetings.calendar": "me", "meetings.edit": "me",
    "coaching.one_on_ones_index": "me", "coaching.start_one_on_ones": "me", "coaching.one_on_one": "me",
    "coaching.records_index": "me", "coaching.new_record": "me", "coaching.record": "me",
    "coaching.edit_record": "me",
    "goals.mine": "me", "goals.person": "me", "goals.tree": "me", "goals.tree_node": "me", "goals.detail": "me",
    "goals.edit": "me", "goals.assign": "me", "goals.new": "me", "goals.settings": "me", "goals.checkin": "me",
    "reviews.index": "me", "reviews.answer": "me", "reviews.decline": "me", "reviews.nominate": "me",
    "reviews.team": "me", "reviews.results_page": "me", "reviews.cycles": "me", "reviews.new_cycle": "me",
    "reviews.cycle": "me", "reviews.edit_cycle": "me", "reviews.assignment_status": "me",
    "reviews.org_results": "me",
}


def expected_tab(endpoint: str) -> str | None:
    """The table above; every HR/admin console page sits under Me."""
    return "me" if endpoint.startswith("admin.") else EXPECTED_TAB.get(endpoint)


# Not pages of the logged-in app: files, JSON, the logged-out screens (auth has its own tests).
NOT_PAGES = {"static", "pwa.manifest", "pwa.service_worker", "pwa.healthz", "pwa.offline", "notify.unread",
             "feedback.voice_note", "recognition.badge_image", "meetings.feed",
             "auth.login", "auth.accept_invite",
             "auth.reset_password", "auth.forgot_password",
             "walls.flower", "walls.award",  # old links to gifts and awards, redirected to recognition
             "reviews.customer"}  # a customer's one-time review link: no account  # old links to gifts and awards, redirected to recognition
BACK = re.compile(r'<a class="admin-back" href="([^"]+)" data-back aria-label="([^"]+)">')
CURRENT_TAB = re.compile(r'data-tab="(\w+)" aria-current="page"')


@pytest.fixture()
def world(make_user, make_tag, make_project) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One of everything a page can show, as the admin (who may open every page) sees it."""
    admin = make_user(name="Ada Admin", email="admin@example.com", role="admin")
    lina = make_user(name="李娜", email="lina@example.com", manager=admin)
    emma = make_user(name="Emma Wilson", email="emma@example.com", manager=admin)
    tag = make_tag()
    project = make_project(members=(admin, lina, emma))  # the admin is on it, so the peer review opens
    item = Feedback(author_id=emma.id, recipient_id=lina.id, kind="praise", visibility="public",
                    text="Thank you for the release fix!")
    item.tags = [tag]
    unpromoted = Feedback(author_id=lina.id, recipient_id=emma.id, kind="praise", visibility="public",
                          text="Thanks for the review.")
    badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d", tag_id=tag.id)
    department = Department(name_zh="工程部", name_en="Engineering")
    goal = Goal(title="Ship it", owner_type="person", owner_id=lina.id, period_start=date(2026, 10, 1),
                period_end=date(2026, 12, 31))
    meeting = Meeting(title="Sync", starts_at=datetime(2026, 12, 1, 9), ends_at=datetime(2026, 12, 1, 10),
                      organizer_id=admin.id)
    meeting.attendees = [admin, lina]
    db.session.add_all([item, unpromoted, badge, department, meeting, goal])
    db.session.flush()
    checkin = CheckIn(goal_id=goal.id, author_id=lina.id, day=date(2026, 11, 2), progress=0.2, confidence=7,
                      status="on_track")
    db.session.add(checkin)
    db.session.flush()
    award = BadgeAward(badge_id=badge.id, giver_id=emma.id, receiver_id=lina.id, citation="Always there.",
                       month="2026-11")
    gift = FlowerGift(giver_id=emma.id, receiver_id=lina.id, count=3, message="谢谢！", tag_id=tag.id,
                      month="2026-11")
    praise = CustomerPraise(status="queued", origin="paste", sender_email="client@example.org",
                            body="Lina saved our launch.", created_by_id=admin.id)
    cycle = ReviewCycle(name="H2", status="closed", groups=["self", "manager", "peers"],
                        nominations_close_at=datetime(2026, 11, 1), closes_at=datetime(2026, 11, 20))
    cycle.questions = [ReviewQuestion(kind="rating", text="Delivers", anchors=["Low", "High"])]
    db.session.add_all([award, gift, praise, cycle])
    db.session.flush()
    review = ReviewAssignment(cycle_id=cycle.id, reviewee_id=lina.id, reviewer_id=admin.id, group="peers")
    db.session.add(review)
    db.session.commit()
    story = stories.promote(admin, StoryInput(source_type="feedback", source_id=item.id, title="A story",
                                              text="Told well.", tag_ids=[tag.id], person_ids=[lina.id]))
    db.session.commit()
    series = one_on_ones.start_series(admin, lina.id, "weekly", "2099-01-05", "10:00",
                                      now=datetime(2098, 12, 1))
    record = records.create_record(admin, records.RecordInput(
        person_id=emma.id, period_start="2026-07-01", period_end="2026-09-30", summary="A good half year."))
    db.session.commit()
    ids = {"feedback_id": item.id, "person_id": lina.id, "badge_id": badge.id, "award_id": award.id,
           "gift_id": gift.id, "story_id": story.id, "praise_id": praise.id, "project_id": project.id,
           "milestone_id": project.milestones[0].id, "department_id": department.id, "tag_id": tag.id,
           "target_id": item.id, "target_type": "feedback", "unpromoted_id": unpromoted.id,
           "meeting_id": meeting.id, "goal_id": goal.id, "checkin_id": checkin.id,
           "series_id": series.id, "record_id": record.id, "cycle_id": cycle.id,
           "assignment_id": review.id, "token": "x"}
    return {"admin": admin, "ids": ids}


def page_urls(app: Flask, ids: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET page of the logged-in app, filled in with real ids."""
    pages = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
                continue
            query = {"source_type": "feedback", "source_id": ids["unpromoted_id"]} if rule.endpoint == "stories.new" else {}
            pages.append((rule.endpoint, url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments}, **query)))
    return pages


def test_every_page_endpoint_is_placed(app: Flask, world) -> None:
    """A new page must be given a tab here (and so a parent): the table is the whole app."""
    endpoints = {endpoint for endpoint, _url in page_urls(app, world["ids"])}
    assert {e for e in endpoints if not expected_tab(e)} == set()
    assert set(EXPECTED_TAB) <= endpoints


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_page_has_its_tab_and_non_tabs_a_back_control(app: Flask, world, login, lang) -> None:
    c = login(world["admin"])
    checked = 0
    for endpoint, url in page_urls(app, world["ids"]):
        response = c.get(url, headers={"Accept-Language": lang})
        assert response.status_code == 200, (endpoint, url, response.status_code)
        html = response.get_data(as_text=True)
        assert CURRENT_TAB.findall(html) == [expected_tab(endpoint)], endpoint
        backs = BACK.findall(html)
        if endpoint in TAB_PAGES:
            assert backs == [], endpoint
            continue
        assert len(backs) == 1, (endpoint, backs)
        href, label = backs[0]
        assert href.startswith("/") and href.split("?")[0] != url.split("?")[0], (endpoint, href)
        assert label in ({"Back", "Back to my team"} if lang == "en" else {"返回", "返回我的团队"}), label
        checked += 1
    assert checked >= 35


def test_the_back_control_leads_to_a_sensible_parent(app: Flask, world, login) -> None:
    ids = world["ids"]
    c = login(world["admin"])
    expected = {
        f"/feedback/{ids['feedback_id']}": "/",
        f"/stories/{ids['story_id']}": "/stories/",
        "/stories/": "/walls/",
        f"/walls/badges/{ids['badge_id']}": "/walls/badges",
        f"/walls/people/{ids['person_id']}": "/walls/",
        f"/walls/people/{ids['person_id']}/badges/{ids['badge_id']}": f"/walls/people/{ids['person_id']}",
        "/walls/filter": "/walls/",
        f"/recognition/flowers/{ids['gift_id']}": "/walls/",
        f"/recognition/awards/{ids['award_id']}": "/walls/",
        "/people/settings": "/people/me",
        "/notify/": "/",
        f"/people/{ids['person_id']}": "/",
        f"/reactions/feedback/{ids['feedback_id']}": "/",
        "/integrations/queue": "/admin/",
        f"/integrations/praise/{ids['praise_id']}": "/integrations/queue",
        "/feedback/ask": "/feedback/new",
        f"/coaching/team/{ids['person_id']}": "/coaching/team",
    }
    for url, parent in expected.items():
        found = BACK.findall(c.get(url).get_data(as_text=True))
        assert [href for href, _label in found] == [parent], url


def test_the_chrome_is_the_same_on_a_boosted_navigation(app: Flask, world, login) -> None:
    """hx-boost swaps the whole body: the back control and the highlighted tab must come with it."""
    c = login(world["admin"])
    html = c.get(f"/stories/{world['ids']['story_id']}", headers=htmx_headers(boosted=True)).get_data(as_text=True)
    assert [h for h, _ in BACK.findall(html)] == ["/stories/"]
    assert CURRENT_TAB.findall(html) == ["walls"]


def test_pages_of_no_tab_have_no_back_control_and_no_highlight(app: Flask) -> None:
    assert tab_of("auth.login") is None and tab_of(None) is None
    with app.test_request_context():
        assert parent_url("auth.login") is None and parent_url("home") is None
        assert parent_url("walls.citations", {"person_id": 7, "badge_id": 2}) == "/walls/people/7"


def test_logged_out_pages_show_no_tab_bar(client) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    assert "data-tab" not in html and "data-back" not in html
