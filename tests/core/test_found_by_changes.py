"""Pages found by their changes alone (perfapp.core.pages.stamped without a stamp): a profile, a
badge wall, a person's goals and the goal tree are answered with the login query alone while
nothing about their person, their channel or the viewer changed; every change to what they show
appears on the very next request, and a page is never answered to a viewer who may no longer
see it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from perfapp.core import cards, pages
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.goals.models import Goal
from perfapp.people.models import Department, User
from perfapp.recognition.badges import AwardInput, BadgeInput, award_badge, create_badge
from perfapp.recognition.flowers import FlowerInput, give_flowers
from tests.core.test_found_before_view import later  # noqa: F401 (a fixture)
from tests.core.test_pages import give
from tests.feedback.test_queries import recorded_statements
from tests.goals.test_views import make_goal


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    eng = Department(name_zh="工程部", name_en="Engineering")
    db.session.add(eng)
    db.session.commit()
    boss = make_user(name="王伟", email="boss@example.com", department=eng)
    return {"boss": boss, "hr": make_user(name="Hana HR", role="hr", email="hr@example.com"),
            "lina": make_user(name="李娜", email="lina@example.com", manager=boss, department=eng),
            "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss, department=eng),
            "zhang": make_user(name="Zhang Wei", email="zhang@example.com"), "eng": eng}


def page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def answered_by_login_alone(client, url: str, body: str) -> None:  # type: ignore[no-untyped-def]
    """The page is the kept one, answered with the login query (and its changes) alone."""
    before = pages.stats["found by its changes"]
    with recorded_statements() as statements:
        assert page(client, url) == body
    ran = [s for s in statements if s.strip().upper() != "BEGIN"]
    assert pages.stats["found by its changes"] == before + 1
    assert len(ran) == 1 and "login_session" in ran[0] and "person_change" in ran[0]


def rename(model, row_id: int, **values) -> None:  # type: ignore[no-untyped-def]
    row = db.session.get(model, row_id)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.commit()


def test_a_profile_is_found_by_its_changes_and_shows_each_change_next(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    url = f"/people/{org['lina'].id}"
    body = page(zhang, url)
    answered_by_login_alone(zhang, url, body)
    give(org["emma"], org["boss"], "Someone else's praise")  # not on Lina's profile
    answered_by_login_alone(zhang, url, body)

    give(org["emma"], org["lina"], "Second praise")  # praise to her
    assert "Second praise" in (body := page(zhang, url))
    rename(User, org["lina"].id, title="Staff engineer")  # her head
    assert "Staff engineer" in (body := page(zhang, url))
    give_flowers(org["emma"], FlowerInput(receiver_id=org["lina"].id, count=3, message="Thanks"))
    db.session.commit()
    assert page(zhang, url) != body  # her flowers
    body = page(zhang, url)
    rename(Department, org["eng"].id, name_en="Platform")  # the organisation's names
    assert "Platform" in page(zhang, url)
    boss = login(org["boss"])
    boss_url = f"/people/{org['boss'].id}"
    assert "Zhang Wei" not in page(boss, boss_url)
    rename(User, org["zhang"].id, manager_id=org["boss"].id)  # a new report on the boss's profile
    assert "Zhang Wei" in page(boss, boss_url)
    rename(User, org["zhang"].id, stored_name="Zhang San")  # a report renamed
    assert "Zhang San" in page(boss, boss_url)


def test_a_badge_wall_shows_a_new_badge_and_a_renamed_badge_next(org, login) -> None:  # type: ignore[no-untyped-def]
    badge = create_badge(org["hr"], BadgeInput(name_zh="伙伴", name_en="Great partner", icon="award"))
    db.session.commit()
    zhang = login(org["zhang"])
    url = f"/walls/people/{org['lina'].id}"
    body = page(zhang, url)
    answered_by_login_alone(zhang, url, body)
    assert "Great partner" not in body
    award_badge(org["emma"], AwardInput(badge.id, org["lina"].id, "Helped the launch"))
    db.session.commit()
    assert "Great partner" in (body := page(zhang, url))
    answered_by_login_alone(zhang, url, body)
    rename(type(badge), badge.id, name_en="Best partner")  # a badge definition: the ORG channel
    assert "Best partner" in page(zhang, url)


def test_a_persons_goals_follow_any_goal_and_privacy_next(org, login) -> None:  # type: ignore[no-untyped-def]
    goal = make_goal(org["lina"], "Ship the mobile app")
    emma = login(org["emma"])
    url = f"/goals/people/{org['lina'].id}"
    body = page(emma, url)
    assert "Ship the mobile app" in body
    answered_by_login_alone(emma, url, body)
    give(org["zhang"], org["boss"], "Unrelated praise")
    answered_by_login_alone(emma, url, body)
    rename(Goal, goal.id, title="Ship the phone app")
    assert "Ship the phone app" in (body := page(emma, url))
    answered_by_login_alone(emma, url, body)
    rename(Goal, goal.id, visibility="private")  # Emma is neither Lina, her manager nor HR
    assert "Ship the phone app" not in page(emma, url)
    boss = login(org["boss"])
    assert "Ship the phone app" in page(boss, url)  # her manager still sees it


def test_a_colleagues_pages_are_not_the_viewers_own(org, login) -> None:  # type: ignore[no-untyped-def]
    """Praise to the viewer moves their changes, not a colleague's goals, profile or badge wall
    (nothing on them is read from the viewer's records); who manages the colleague (the colleague's changes) still
    decides at once what the viewer may see."""
    make_goal(org["lina"], "Ship the mobile app", visibility="private")
    make_goal(org["lina"], "Write the launch notes")
    zhang = login(org["zhang"])
    url = f"/goals/people/{org['lina'].id}"
    body = page(zhang, url)
    assert "Write the launch notes" in body and "Ship the mobile app" not in body
    profile, badges = f"/people/{org['lina'].id}", f"/walls/people/{org['lina'].id}"
    kept = {other: page(zhang, other) for other in (profile, badges)}
    give(org["emma"], org["zhang"], "Thanks for the review")  # to the viewer
    answered_by_login_alone(zhang, url, body)
    for other, html in kept.items():
        answered_by_login_alone(zhang, other, html)
    rename(User, org["lina"].id, manager_id=org["zhang"].id)  # Zhang now manages Lina
    assert "Ship the mobile app" in page(zhang, url)
    assert "Ship the mobile app" not in page(login(org["emma"]), url)


def test_the_goal_tree_shows_a_new_company_goal_next_and_each_viewer_their_own(org, login) -> None:  # type: ignore[no-untyped-def]
    make_goal(org["hr"], "Grow revenue", owner_type="company")
    lina = login(org["lina"])
    body = page(lina, "/goals/tree")
    assert "Grow revenue" in body
    answered_by_login_alone(lina, "/goals/tree", body)
    make_goal(org["hr"], "Delight customers", owner_type="company")
    assert "Delight customers" in page(lina, "/goals/tree")
    emma = login(org["emma"])
    assert "Delight customers" in page(emma, "/goals/tree")


def test_a_tag_rename_reaches_a_kept_profile(org, login) -> None:  # type: ignore[no-untyped-def]
    tag = Tag(key="teamwork-x", name_zh="协作", name_en="Teamwork")
    db.session.add(tag)
    db.session.commit()
    item = give(org["emma"], org["lina"], "Great launch")
    item.tags.append(tag)
    db.session.commit()
    zhang = login(org["zhang"])
    url = f"/people/{org['lina'].id}"
    assert "Teamwork" in (body := page(zhang, url))
    answered_by_login_alone(zhang, url, body)
    rename(Tag, tag.id, name_en="Collaboration")
    assert "Collaboration" in page(zhang, url)


def test_after_the_recheck_time_the_view_runs_again(org, login, later) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    zhang = login(org["zhang"])
    url = f"/people/{org['lina'].id}"
    body = page(zhang, url)
    answered_by_login_alone(zhang, url, body)
    later()
    with recorded_statements() as statements:
        assert page(zhang, url) == body
    assert len([s for s in statements if s.strip().upper() != "BEGIN"]) > 1  # the view's own queries
    answered_by_login_alone(zhang, url, body)  # and kept again for its changes


def test_never_another_sessions_page_and_nothing_with_the_cache_off(org, login, app) -> None:  # type: ignore[no-untyped-def]
    goal = make_goal(org["lina"], "Private plan")
    rename(Goal, goal.id, visibility="private")
    url = f"/goals/people/{org['lina'].id}"
    boss = login(org["boss"])
    assert "Private plan" in page(boss, url)
    emma = login(org["emma"])
    assert "Private plan" not in page(emma, url)  # the boss's kept page is not Emma's
    app.config["PAGE_CACHE"] = False
    try:
        found = pages.stats["found by its changes"]
        assert "Private plan" in page(boss, url) and "Private plan" in page(boss, url)
        assert pages.stats["found by its changes"] == found
    finally:
        app.config["PAGE_CACHE"] = True


def test_changes_name_what_each_page_reads(org) -> None:  # type: ignore[no-untyped-def]
    """The triggers behind the pages above: flowers and badges name who receives them, goals the
    GOALS channel, a department the ORG channel, a person's head themselves and their manager."""
    from perfapp.core.changes import GOALS, ORG
    from tests.core.test_changes import changed

    lina, emma, boss = org["lina"], org["emma"], org["boss"]
    got = changed(lambda: give_flowers(emma, FlowerInput(receiver_id=lina.id, count=1, message="Thank you")))
    assert lina.id in got and emma.id in got
    assert set(changed(lambda: make_goal(lina, "Plan"))) == {GOALS}
    assert set(changed(lambda: rename(Department, org["eng"].id, name_zh="平台部"))) == {ORG}
    assert set(changed(lambda: rename(User, lina.id, title="Lead"))) == {lina.id, boss.id}
    assert set(changed(lambda: rename(User, lina.id, timezone="Europe/Berlin"))) == set()
    assert db.session.scalar(select(Goal.id)) is not None


@pytest.mark.parametrize("url", ["/", "/walls/", "/people/{lina}", "/walls/people/{lina}", "/goals/people/{lina}",
                                 "/goals/tree"])
def test_a_workers_first_page_is_answered_whichever_it_is(app, org, login, monkeypatch, url: str) -> None:  # type: ignore[no-untyped-def]
    """A fresh worker has made no store of kept pages or cards yet. The praise wall, found before
    its view, made the page store while holding the lock that making it took: the worker hung for
    good on its first request, and every later one waited on that lock."""
    give(org["emma"], org["lina"], "Great launch")
    zhang = login(org["zhang"])
    url = url.format(lina=org["lina"].id)
    # A fresh worker: no stores yet, and locks of this test's own (a thread stuck on one does not
    # stop the tests after this one).
    for module in (pages, cards):
        monkeypatch.setattr(module, "_cache", None)
        monkeypatch.setattr(module, "_lock", threading.Lock())
        monkeypatch.setattr(module, "_making_store", threading.Lock(), raising=False)
    answered: list[str] = []

    def first_request() -> None:
        with app.app_context():
            answered.append(page(zhang, url))

    worker = threading.Thread(target=first_request, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), f"a fresh worker's first request of {url} hung"
    assert answered[0].rstrip().endswith("</html>")  # the whole page
    assert page(zhang, url) == answered[0]  # and it was kept: the next one is the same page
