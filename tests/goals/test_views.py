"""Goal pages over HTTP: with and without htmx, who may see and do what, bad input."""
from __future__ import annotations

from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import CheckIn, Goal, GoalLink
from perfapp.people.models import Department
from tests.conftest import htmx_headers


def period_key() -> str:
    return services.period_key(*services.period_for("quarter", utcnow().date()))


def make_goal(actor, title="Grow", **kw):  # type: ignore[no-untyped-def]
    owner_type = kw.pop("owner_type", "person")
    data = services.GoalInput(title=title, owner_type=owner_type,
                              owner_id=kw.pop("owner", actor).id if owner_type == "person" else None,
                              period=services.period_for("quarter", utcnow().date()), **kw)
    goal = services.create_goal(actor, data)
    db.session.commit()
    return goal


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_pages_need_login(client):
    assert client.get("/goals/").status_code in (302, 401)


def test_my_goals_page_and_new_goal_form(make_user, login):
    me = make_user(name="Li Na")
    make_goal(me, "Launch the app")
    c = login(me)
    page = c.get("/goals/").get_data(as_text=True)
    assert "Launch the app" in page and "New goal" in page
    form = c.get("/goals/new")
    assert form.status_code == 200 and 'name="kr_title"' in form.get_data(as_text=True)


def test_create_objective_with_key_results_aligned_to_two_company_goals(make_user, login):
    hr = make_user(role="hr")
    me = make_user()
    a = make_goal(hr, "Revenue", owner_type="company")
    b = make_goal(hr, "Customers", owner_type="company")
    c = login(me)
    response = c.submit("/goals/new", {
        "title": "Win the north", "kind": "objective", "owner": "me", "period": period_key(), "visibility": "public",
        "kr_id": ["", "", ""], "kr_title": ["Deals", "Demos", "Case study"], "kr_kind": ["number", "percent", "done"],
        "kr_start": ["0", "10", ""], "kr_target": ["20", "60", ""], "kr_unit": ["deals", "", ""],
        "kr_weight": ["", "2", ""], "parent": [f"g:{a.id}", f"g:{b.id}"],
    })
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    goal = db.session.scalar(select(Goal).where(Goal.title == "Win the north"))
    assert [kr.title for kr in goal.key_results] == ["Deals", "Demos", "Case study"]
    assert {link.parent_id for link in db.session.scalars(select(GoalLink))} == {a.id, b.id}
    detail = c.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Revenue" in detail and "Customers" in detail


def test_bad_goal_input_is_422_translated_and_saves_nothing(make_user, login):
    me = make_user(locale="zh_Hans_CN")
    c = login(me)
    response = c.submit("/goals/new", {
        "title": "Flat", "owner": "me", "period": period_key(),
        "kr_id": [""], "kr_title": ["Same"], "kr_kind": ["number"], "kr_start": ["5"], "kr_target": ["5"],
        "kr_unit": [""], "kr_weight": ["-1"],
    })
    assert response.status_code == 422
    assert "目标值必须与起始值不同" in response.get_data(as_text=True)
    assert count(Goal) == 0


def test_adding_a_key_result_row_saves_nothing(make_user, login):
    c = login(make_user())
    response = c.submit("/goals/new", {"title": "Draft", "owner": "me", "period": period_key(), "more": "1",
                                       "kr_id": [""], "kr_title": ["One"], "kr_kind": ["number"],
                                       "kr_start": ["0"], "kr_target": ["1"], "kr_unit": [""], "kr_weight": [""]})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('name="kr_title"') == 3
    assert count(Goal) == 0


def test_employee_cannot_create_company_goal(make_user, login):
    c = login(make_user())
    response = c.submit("/goals/new", {"title": "Take over", "owner": "company", "period": period_key()})
    assert response.status_code == 422 and count(Goal) == 0


def test_private_goals_are_invisible_to_colleagues(make_user, login):
    boss = make_user()
    me = make_user(manager=boss)
    peer = make_user()
    goal = make_goal(me, "Secret plan", visibility="private")
    assert login(peer).get(f"/goals/{goal.id}").status_code == 404
    assert "Secret plan" not in login(peer).get(f"/goals/people/{me.id}").get_data(as_text=True)
    assert login(boss).get(f"/goals/{goal.id}").status_code == 200
    assert login(make_user(role="hr")).get(f"/goals/{goal.id}").status_code == 200


def test_check_in_twice_changes_status(make_user, login):
    me = make_user()
    goal = make_goal(me, key_results=[services.KeyResultInput("Deals", start=0, target=10)])
    kr = goal.key_results[0]
    c = login(me)
    assert c.submit(f"/goals/{goal.id}/checkins", {f"value-{kr.id}": "0", "confidence": "2"}).status_code == 303
    assert db.session.get(Goal, goal.id).status == "off_track"
    assert c.submit(f"/goals/{goal.id}/checkins", {f"value-{kr.id}": "10", "confidence": "9"}).status_code == 303
    assert db.session.get(Goal, goal.id).status == "on_track"
    page = c.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "<svg viewBox=\"0 0 320 120\"" in page and "gchart-dot st-on_track" in page
    assert " style=" not in page


def test_bad_check_in_is_422_and_colleague_cannot_check_in(make_user, login):
    me = make_user()
    goal = make_goal(me)
    response = login(me).submit(f"/goals/{goal.id}/checkins", {"progress": "40", "confidence": "12"})
    assert response.status_code == 422 and count(CheckIn) == 0
    response = login(me).submit(f"/goals/{goal.id}/checkins", {"progress": "abc", "confidence": "5"})
    assert response.status_code == 422 and count(CheckIn) == 0
    assert login(make_user()).submit(f"/goals/{goal.id}/checkins", {"progress": "40", "confidence": "5"}).status_code == 403
    assert count(CheckIn) == 0


def test_check_in_page_has_reactions(make_user, login):
    me = make_user()
    goal = make_goal(me)
    services.check_in(me, goal, services.CheckInInput(confidence=6, progress=30, note="Halfway there"))
    db.session.commit()
    row = db.session.scalar(select(CheckIn))
    page = login(make_user()).get(f"/goals/checkins/{row.id}").get_data(as_text=True)
    assert "Halfway there" in page and "rx-foot" in page


def test_only_managers_and_hr_assign(make_user, login):
    dept = Department(name_zh="销售", name_en="Sales")
    db.session.add(dept)
    db.session.commit()
    boss = make_user(department=dept)
    reports = [make_user(manager=boss, department=dept) for _i in range(2)]
    goal = make_goal(boss, "Team goal", owner_type="department", department_id=dept.id)
    employee = reports[0]
    assert login(employee).get(f"/goals/{goal.id}/assign").status_code == 403
    assert login(employee).submit(f"/goals/{goal.id}/assign", {"department_id": dept.id}).status_code == 403
    c = login(boss)
    assert c.get(f"/goals/{goal.id}/assign").status_code == 200
    response = c.submit(f"/goals/{goal.id}/assign", {"department_id": dept.id})
    assert response.status_code == 303
    assert count(Goal) == 1 + 3  # boss and both reports are in the department


def test_assign_to_nobody_is_422(make_user, login):
    hr = make_user(role="hr")
    goal = make_goal(hr, "Company", owner_type="company")
    response = login(hr).submit(f"/goals/{goal.id}/assign", {})
    assert response.status_code == 422 and count(Goal) == 1


def test_tree_page_and_fragment(make_user, login):
    hr = make_user(role="hr")
    me = make_user()
    top = make_goal(hr, "North star", owner_type="company")
    make_goal(me, "My part", parents=[services.ParentInput(top.id)])
    c = login(me)
    page = c.get("/goals/tree")
    assert page.status_code == 200 and "North star" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    fragment = c.get(f"/goals/tree/{top.id}", headers=htmx_headers(f"kids-{top.id}"))
    body = fragment.get_data(as_text=True)
    assert "My part" in body and "<html" not in body and "HX-Request" in fragment.headers["Vary"]
    full = c.get(f"/goals/tree/{top.id}").get_data(as_text=True)
    assert "<html" in full and "My part" in full
    boosted = c.get(f"/goals/tree/{top.id}", headers=htmx_headers(f"kids-{top.id}", boosted=True))
    assert "<html" in boosted.get_data(as_text=True)


def test_managers_see_team_stale_goals(make_user, login):
    boss = make_user()
    me = make_user(manager=boss)
    goal = make_goal(me, "Forgotten goal")
    goal.created_at = utcnow().replace(year=utcnow().year - 1)
    db.session.commit()
    page = login(boss).get("/goals/").get_data(as_text=True)
    assert "Forgotten goal" in page


def test_settings_for_hr_only(make_user, login):
    assert login(make_user()).get("/goals/settings").status_code == 403
    c = login(make_user(role="hr"))
    assert c.submit("/goals/settings", {"cycle": "month", "stale_days": "0"}).status_code == 422
    assert c.submit("/goals/settings", {"cycle": "month", "stale_days": "10"}).status_code == 303
    assert services.settings().cycle == "month"


def test_gets_do_not_write(make_user, login):
    from tests.recognition.test_gets_never_write import writes

    boss = make_user()
    me = make_user(manager=boss)
    hr = make_user(role="hr")
    top = make_goal(hr, "Company", owner_type="company")
    goal = make_goal(me, parents=[services.ParentInput(top.id)])
    row = services.check_in(me, goal, services.CheckInInput(confidence=5, progress=20))
    db.session.commit()
    pages = ["/goals/", f"/goals/{goal.id}", "/goals/tree", f"/goals/tree/{top.id}", f"/goals/{goal.id}/edit",
             f"/goals/people/{me.id}", "/goals/new", f"/goals/checkins/{row.id}"]
    for person, urls in ((me, pages), (boss, pages + [f"/goals/{top.id}/assign"]), (hr, ["/goals/settings"])):
        c = login(person)
        for url in urls:
            for headers in ({}, htmx_headers(), htmx_headers(f"kids-{top.id}")):
                with writes() as seen:
                    response = c.get(url, headers=headers)
                assert response.status_code in (200, 303), (url, response.status_code)
                assert seen == [], (url, headers, seen)


def test_owner_edits_and_archives_colleague_cannot(make_user, login):
    me = make_user()
    peer = make_user()
    goal = make_goal(me, "Old title", key_results=[services.KeyResultInput("Deals", start=0, target=10)])
    kr = goal.key_results[0]
    assert login(peer).get(f"/goals/{goal.id}/edit").status_code == 403
    assert login(peer).submit(f"/goals/{goal.id}/archive").status_code == 403
    c = login(me)
    form = c.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    assert 'value="Old title"' in form
    response = c.submit(f"/goals/{goal.id}/edit", {
        "title": "New title", "owner": "me", "period": period_key(), "kind": "objective", "visibility": "private",
        "kr_id": [str(kr.id)], "kr_title": ["Deals won"], "kr_kind": ["number"], "kr_start": ["0"],
        "kr_target": ["12"], "kr_unit": [""], "kr_weight": [""]})
    assert response.status_code == 303
    goal = db.session.get(Goal, goal.id)
    assert goal.title == "New title" and goal.visibility == "private"
    assert [(k.id, k.title, k.target_value) for k in goal.key_results] == [(kr.id, "Deals won", 12)]
    assert c.submit(f"/goals/{goal.id}/archive").status_code == 303
    assert db.session.get(Goal, goal.id).archived


def test_alignment_loop_through_the_form_is_422(make_user, login):
    me = make_user()
    top = make_goal(me, "Top")
    child = make_goal(me, "Child", parents=[services.ParentInput(top.id)])
    c = login(me)
    response = c.submit(f"/goals/{top.id}/edit", {"title": "Top", "owner": "me", "period": period_key(),
                                                  "parent": [f"g:{child.id}"]})
    assert response.status_code == 422 and "loop" in response.get_data(as_text=True)
    assert count(GoalLink) == 1


def test_reminder_shows_in_the_inbox(make_user, login):
    me = make_user()
    goal = make_goal(me, "Quiet goal")
    goal.created_at = utcnow().replace(year=utcnow().year - 1)
    db.session.commit()
    assert services.send_checkin_reminders(utcnow()) == 1
    db.session.commit()
    assert "Time for a goal check-in" in login(me).get("/notify/").get_data(as_text=True)


def test_teammates_react_and_comment_on_a_check_in(make_user, login):
    from perfapp.reactions.models import Comment

    me = make_user()
    goal = make_goal(me)
    row = services.check_in(me, goal, services.CheckInInput(confidence=6, progress=30))
    db.session.commit()
    peer = login(make_user())
    assert peer.submit(f"/reactions/goal_checkin/{row.id}/comments", {"text": "Nice progress!"}).status_code in (200, 303)
    assert count(Comment) == 1
    private = make_goal(me, "Hidden", visibility="private")
    hidden_row = services.check_in(me, private, services.CheckInInput(confidence=6, progress=30))
    db.session.commit()
    assert peer.get(f"/goals/checkins/{hidden_row.id}").status_code == 404
    assert peer.submit(f"/reactions/goal_checkin/{hidden_row.id}/comments", {"text": "Peek"}).status_code == 404
    assert count(Comment) == 1


def test_tree_lists_team_goals_that_support_no_company_goal(make_user, login):
    dept = Department(name_zh="运营", name_en="Operations")
    db.session.add(dept)
    db.session.commit()
    hr = make_user(role="hr")
    make_goal(hr, "Loose team goal", owner_type="department", department_id=dept.id)
    page = login(make_user()).get("/goals/tree").get_data(as_text=True)
    assert "Loose team goal" in page and "Team goals not aligned to a company goal" in page


def test_assigning_to_a_deactivated_person_is_422_and_assigns_nobody(make_user, login):
    hr = make_user(role="hr")
    active = make_user()
    gone = make_user(active=False)
    goal = make_goal(hr, "Company", owner_type="company")
    response = login(hr).submit(f"/goals/{goal.id}/assign", {"person_ids": [active.id, gone.id]})
    assert response.status_code == 422 and count(Goal) == 1


def test_lists_cost_the_same_queries_for_few_or_many_goals(make_user, login):
    from sqlalchemy import event

    hr = make_user(role="hr")
    me = make_user()
    c = login(me)

    def queries(url: str) -> int:
        seen: list[str] = []

        def count_statement(*_args) -> None:  # type: ignore[no-untyped-def]
            seen.append("q")

        event.listen(db.engine, "before_cursor_execute", count_statement)
        try:
            assert c.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
        return len(seen)

    def add(n: int) -> None:
        for i in range(n):
            top = make_goal(hr, f"Company {i}", owner_type="company")
            make_goal(me, f"Mine {i}", parents=[services.ParentInput(top.id)])

    add(2)
    few = (queries("/goals/tree"), queries(f"/goals/people/{hr.id}"), queries("/goals/"))
    add(8)
    assert (queries("/goals/tree"), queries(f"/goals/people/{hr.id}"), queries("/goals/")) == few != (0, 0, 0)
