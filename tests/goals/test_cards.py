"""Goal cards (lists, the goal tree) are cached by version and shared: a change shows for every
kind of viewer on the next request, and the list's query, not the card, decides who sees a goal."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import Goal
from perfapp.people.models import Department, User

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    sales = Department(name_zh="销售部", name_en="Sales")
    db.session.add(sales)
    db.session.commit()
    boss = make_user(name="Boss Bai", role="manager", department=sales)
    return {"boss": boss, "lina": make_user(name="Lina Li", manager=boss, department=sales),
            "emma": make_user(name="Emma Wu", manager=boss, department=sales),
            "zhang": make_user(name="Zhang Min"), "hr": make_user(name="HR Hu", role="hr"), "sales": sales}


def period() -> tuple:  # type: ignore[type-arg]
    return services.period_for("quarter", utcnow().date())


def make(actor: User, title: str, **kw) -> Goal:  # type: ignore[no-untyped-def]
    owner_type = kw.pop("owner_type", "person")
    goal = services.create_goal(actor, services.GoalInput(
        title=title, owner_type=owner_type, owner_id=actor.id if owner_type == "person" else None,
        period=period(), **kw))
    db.session.commit()
    return goal


def people(org) -> list[str]:  # type: ignore[no-untyped-def]
    return ["boss", "lina", "emma", "zhang", "hr"]


@pytest.mark.parametrize("change", ["title", "check-in", "owner name", "department name"])
def test_a_change_shows_on_the_next_request_for_every_viewer(org, login, change) -> None:  # type: ignore[no-untyped-def]
    company = make(org["hr"], "Grow revenue", owner_type="company")
    team = make(org["hr"], "Sales pipeline", owner_type="department", department_id=org["sales"].id,
                parents=[services.ParentInput(company.id)])
    mine = make(org["lina"], "Close ten deals", parents=[services.ParentInput(team.id)])
    clients = {name: login(org[name]) for name in people(org)}
    pages = {name: (f"/goals/people/{org['lina'].id}" if name != "lina" else "/goals/") for name in clients}
    for name, client in clients.items():  # cached for every viewer
        assert "Close ten deals" in client.get(pages[name]).get_data(as_text=True)
        assert "Grow revenue" in client.get("/goals/tree").get_data(as_text=True)

    def opened(goal: Goal) -> str:  # a tree row opening (the fragment)
        return clients["zhang"].get(f"/goals/tree/{goal.id}", headers={
            "HX-Request": "true", "HX-Target": f"kids-{goal.id}"}).get_data(as_text=True)

    assert "Lina Li" in opened(team) and "Sales" in opened(company)
    if change == "title":
        assert clients["lina"].submit(f"/goals/{mine.id}/edit", {
            "title": "Close twelve deals", "kind": "objective", "owner": "me", "visibility": "public",
            "period": services.period_key(*period()), "parent": [f"g:{team.id}"]}).status_code == 303
        company_goal = db.session.get(Goal, company.id)
        company_goal.title = "Grow revenue fast"
        db.session.commit()
        expect_list, expect_tree = "Close twelve deals", "Grow revenue fast"
    elif change == "check-in":
        assert clients["lina"].submit(f"/goals/{mine.id}/checkins", {
            "confidence": "8", "progress": "40"}).status_code == 303
        expect_list, expect_tree = "40%", "40%"  # rolled up to the company goal
    elif change == "owner name":
        db.session.get(User, org["lina"].id).set_name("Lina Chen")
        db.session.commit()
        expect_list, expect_tree = "Close ten deals", "Grow revenue"
        assert "Lina Chen" in opened(team) and "Lina Li" not in opened(team)
    else:
        db.session.get(Department, org["sales"].id).name_en = "Sales & Growth"
        db.session.commit()
        expect_list, expect_tree = "Close ten deals", "Sales &amp; Growth"
        assert expect_tree in opened(company)
        expect_tree = "Grow revenue"
    for name, client in clients.items():
        assert expect_list in client.get(pages[name]).get_data(as_text=True), name
        assert expect_tree in client.get("/goals/tree").get_data(as_text=True), name


def test_a_private_goal_reaches_only_who_may_see_it_through_the_shared_cache(org, login) -> None:  # type: ignore[no-untyped-def]
    make(org["lina"], "Secret growth plan", visibility="private")
    url = f"/goals/people/{org['lina'].id}"
    for name in ("hr", "boss"):  # cached first by those who may see it
        assert "Secret growth plan" in login(org[name]).get(url).get_data(as_text=True), name
    for name in ("zhang", "emma"):
        assert "Secret growth plan" not in login(org[name]).get(url).get_data(as_text=True), name
    assert "Secret growth plan" in login(org["lina"]).get("/goals/").get_data(as_text=True)


def test_a_contributor_count_is_each_viewers_own(org, login) -> None:  # type: ignore[no-untyped-def]
    company = make(org["hr"], "Grow revenue", owner_type="company")
    make(org["lina"], "Public part", parents=[services.ParentInput(company.id)])
    make(org["lina"], "Private part", visibility="private", parents=[services.ParentInput(company.id)])
    assert "2 contributors" in login(org["boss"]).get("/goals/tree").get_data(as_text=True)
    assert "1 contributor" in login(org["zhang"]).get("/goals/tree").get_data(as_text=True)


def test_the_language_is_part_of_the_card(org, login) -> None:  # type: ignore[no-untyped-def]
    make(org["lina"], "Close ten deals")
    client = login(org["zhang"])
    assert "No check-in yet" in client.get(f"/goals/people/{org['lina'].id}").get_data(as_text=True)
    assert "No check-in yet" not in client.get(f"/goals/people/{org['lina'].id}", headers=ZH).get_data(as_text=True)


def test_a_cached_goal_page_costs_a_few_statements(org, login) -> None:  # type: ignore[no-untyped-def]
    company = make(org["hr"], "Grow revenue", owner_type="company")
    for i in range(12):
        make(org["lina"], f"Goal {i}", parents=[services.ParentInput(company.id)])
    client = login(org["zhang"])
    client.get(f"/goals/people/{org['lina'].id}")
    client.get("/goals/tree")
    statements: list[str] = []

    def record(*args) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(f"/goals/people/{org['lina'].id}").status_code == 200
        person_page = len(statements)
        statements.clear()
        assert client.get("/goals/tree").status_code == 200
        tree_page = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # The session, the inbox count and the like, then the ids and the cards' versions: no row loads.
    assert person_page <= 8 and tree_page <= 9, (person_page, tree_page)
