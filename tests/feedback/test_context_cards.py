"""Feedback given on a goal (its page or a check-in) or after a meeting says so on its card, to
those who may see that goal or meeting; a renamed goal or meeting shows on the next request."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.goals import services as goals
from perfapp.goals.models import CheckIn, Goal
from perfapp.meetings import services as services_meetings
from perfapp.meetings.models import Meeting
from perfapp.people.models import User
from tests.core.test_cards import card_html


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com", role="manager")
    return {
        "boss": boss,
        "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
        "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
        "zhang": make_user(name="张敏", email="zhang@example.com"),
        "hr": make_user(name="HR Hu", email="hr@example.com", role="hr"),
    }


def goal_of(owner: User, title: str, visibility: str = "public") -> Goal:
    goal = goals.create_goal(owner, goals.GoalInput(
        title=title, owner_id=owner.id, visibility=visibility,
        period=goals.period_for("quarter", utcnow().date())))
    db.session.commit()
    return goal


def checkin_on(goal: Goal, author: User) -> CheckIn:
    row = goals.check_in(author, goal, goals.CheckInInput(confidence=8, progress=30, note="Halfway"))
    db.session.commit()
    return row


def give(client: Any, recipient: User, **context: Any) -> Any:
    return client.submit("/feedback/new", {"recipient_id": recipient.id, "kind": "praise", "visibility": "public",
                                           "text": "Nice work on this", **context})


def only_feedback() -> Feedback:
    return db.session.scalars(select(Feedback)).one()


def test_feedback_on_a_check_in_names_its_goal_and_links_to_it(org, login) -> None:  # type: ignore[no-untyped-def]
    goal = goal_of(org["lina"], "Ship the mobile app")
    checkin = checkin_on(goal, org["lina"])
    emma = login(org["emma"])
    compose = emma.get(f"/feedback/new?to={org['lina'].id}&checkin={checkin.id}").get_data(as_text=True)
    assert "Ship the mobile app" in compose and f'name="checkin_id" value="{checkin.id}"' in compose
    assert give(emma, org["lina"], goal_id=goal.id, checkin_id=checkin.id).status_code == 303
    item = only_feedback()
    assert (item.goal_id, item.checkin_id) == (goal.id, checkin.id)
    card = card_html(login(org["zhang"]).get("/walls/").get_data(as_text=True), item.id)
    assert "On goal: Ship the mobile app" in card and f'href="/goals/{goal.id}"' in card
    zh = card_html(login(org["zhang"]).get("/walls/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True),
                   item.id)
    assert "Ship the mobile app" in zh and "On goal" not in zh


def test_a_check_in_alone_gives_the_goal(org, login) -> None:  # type: ignore[no-untyped-def]
    goal = goal_of(org["lina"], "Ship the mobile app")
    checkin = checkin_on(goal, org["lina"])
    assert give(login(org["emma"]), org["lina"], checkin_id=checkin.id).status_code == 303
    assert only_feedback().goal_id == goal.id


def test_feedback_from_a_goal_page_links_back(org, login) -> None:  # type: ignore[no-untyped-def]
    goal = goal_of(org["lina"], "Ship the mobile app")
    emma = login(org["emma"])
    page = emma.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert f"/feedback/new?to={org['lina'].id}&amp;goal={goal.id}" in page
    assert give(emma, org["lina"], goal_id=goal.id).status_code == 303
    assert only_feedback().goal_id == goal.id and only_feedback().checkin_id is None


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("bad", ["private_goal", "other_goals_checkin", "missing_checkin", "garbage"])
def test_a_goal_one_cannot_see_is_refused_and_nothing_is_saved(org, login, bad, htmx) -> None:  # type: ignore[no-untyped-def]
    secret = goal_of(org["lina"], "Secret plan", visibility="private")
    mine = goal_of(org["emma"], "Emma's goal")
    other = checkin_on(goal_of(org["lina"], "Another goal"), org["lina"])
    context = {"private_goal": {"goal_id": secret.id},
               "other_goals_checkin": {"goal_id": mine.id, "checkin_id": other.id},
               "missing_checkin": {"checkin_id": 999999},
               "garbage": {"goal_id": "-3"}}[bad]
    zhang = login(org["zhang"])
    zhang.get("/", headers={"Accept-Language": "zh-CN"})
    response = zhang.submit("/feedback/new", {"recipient_id": org["lina"].id, "kind": "praise",
                                              "visibility": "public", "text": "Nice", **context},
                            htmx=htmx, target="compose" if htmx else None, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Secret plan" not in body
    assert any(text in body for text in ("找不到", "另一个目标")), body[:3000]
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_a_private_goals_title_never_reaches_who_cannot_see_it(org, login) -> None:  # type: ignore[no-untyped-def]
    secret = goal_of(org["lina"], "Secret plan", visibility="private")
    # Her manager may see it and gives public praise on it.
    assert give(login(org["boss"]), org["lina"], goal_id=secret.id).status_code == 303
    item = only_feedback()
    for name in ("zhang", "emma", "zhang"):
        page = login(org[name]).get("/walls/").get_data(as_text=True)
        card = card_html(page, item.id)
        assert "Nice work on this" in card and "Secret plan" not in page and "On goal" not in card, name
    for name in ("lina", "boss", "hr"):
        page = login(org[name]).get(f"/feedback/{item.id}").get_data(as_text=True)
        assert "On goal: Secret plan" in page, name
    # Made public: everyone sees the title on the next request (facets, not the version, changed).
    db.session.get(Goal, secret.id).visibility = "public"
    db.session.commit()
    assert "On goal: Secret plan" in card_html(login(org["zhang"]).get("/walls/").get_data(as_text=True), item.id)


def meeting_with(organizer: User, *people: User, title: str = "Sprint review") -> Meeting:
    start = utcnow() - timedelta(hours=2)
    meeting = Meeting(title=title, starts_at=start, ends_at=start + timedelta(hours=1), organizer_id=organizer.id)
    meeting.attendees = [organizer, *people]
    db.session.add(meeting)
    db.session.commit()
    return meeting


def test_feedback_after_a_meeting_names_it_to_its_attendees_only(org, login) -> None:  # type: ignore[no-untyped-def]
    meeting = meeting_with(org["emma"], org["lina"], title="Pricing offsite")
    emma = login(org["emma"])
    assert give(emma, org["lina"], meeting_id=meeting.id).status_code == 303
    item = only_feedback()
    for name in ("emma", "lina"):
        card = card_html(login(org[name]).get("/walls/").get_data(as_text=True), item.id)
        assert "After meeting: Pricing offsite" in card and f'href="/meetings/{meeting.id}"' in card, name
    for name in ("zhang", "boss", "hr"):
        page = login(org[name]).get("/walls/").get_data(as_text=True)
        assert "Nice work on this" in card_html(page, item.id) and "Pricing offsite" not in page, name


@pytest.mark.parametrize("what", ["goal", "meeting"])
def test_a_rename_shows_on_the_next_request_for_every_viewer(org, login, what) -> None:  # type: ignore[no-untyped-def]
    if what == "goal":
        goal = goal_of(org["lina"], "Old title")
        give(login(org["emma"]), org["lina"], goal_id=goal.id)
        readers = list(org)
    else:
        meeting = meeting_with(org["emma"], org["lina"], title="Old title")
        give(login(org["emma"]), org["lina"], meeting_id=meeting.id)
        readers = ["emma", "lina"]
    item_id = only_feedback().id
    clients = {name: login(org[name]) for name in readers}
    pages = {name: ("/" if name == "lina" else "/walls/") for name in readers}
    for name, client in clients.items():
        assert "Old title" in card_html(client.get(pages[name]).get_data(as_text=True), item_id), name
    version = only_feedback().version
    if what == "goal":
        edited = login(org["lina"]).submit(f"/goals/{goal.id}/edit", {
            "title": "New title", "kind": "objective", "owner": "me", "visibility": "public",
            "period": goals.period_key(goal.period_start, goal.period_end)})
        assert edited.status_code == 303, edited.get_data(as_text=True)[:2000]
    else:
        values = services_meetings.form_values(meeting, org["emma"].timezone)
        edited = login(org["emma"]).submit(f"/meetings/{meeting.id}/edit", {
            **values, "title": "New title", "attendee_ids": [org["lina"].id]})
        assert edited.status_code == 303, edited.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert only_feedback().version > version
    for name, client in clients.items():
        card = card_html(client.get(pages[name]).get_data(as_text=True), item_id)
        assert "New title" in card and "Old title" not in card, name
