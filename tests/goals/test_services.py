"""Goal use cases without HTTP: create, align (many-to-many, no cycles), roll up, check in, assign, remind."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import CheckIn, Goal, GoalLink, KeyResult
from perfapp.notify.models import Notification
from perfapp.people.models import Department

Q4 = (date(2026, 10, 1), date(2026, 12, 31))
TODAY = date(2026, 11, 15)


def krs(*specs: tuple[str, float, float]) -> list[services.KeyResultInput]:
    return [services.KeyResultInput(title=t, start=s, target=e) for t, s, e in specs]


def make_goal(actor, title="Grow", owner_type="person", owner=None, parents=(), key_results=None, **kw):  # type: ignore[no-untyped-def]
    data = services.GoalInput(title=title, owner_type=owner_type, period=kw.pop("period", Q4),
                              owner_id=(owner or actor).id if owner_type == "person" else None,
                              key_results=key_results if key_results is not None else [],
                              parents=[services.ParentInput(*p) if isinstance(p, tuple) else services.ParentInput(p.id)
                                       for p in parents], **kw)
    goal = services.create_goal(actor, data)
    db.session.commit()
    return goal


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_anyone_creates_their_own_goal_with_key_results(make_user):
    me = make_user()
    goal = make_goal(me, key_results=krs(("Users", 100, 200), ("NPS", 30, 50)))
    assert goal.owner_id == me.id and goal.created_by_id == me.id
    assert [kr.title for kr in goal.key_results] == ["Users", "NPS"]
    assert goal.progress == 0


def test_key_result_kinds_measure_progress():
    assert KeyResult(kind="number", start_value=100, target_value=200, current_value=150).measured == 0.5
    assert KeyResult(kind="percent", start_value=80, target_value=40, current_value=60).measured == 0.5  # downwards
    assert KeyResult(kind="currency", start_value=0, target_value=1000, current_value=5000).measured == 1.0
    assert KeyResult(kind="done", start_value=0, target_value=1, current_value=1).measured == 1.0


@pytest.mark.parametrize("spec,field", [
    (services.KeyResultInput(title="Flat", start=5, target=5), "kr-0"),
    (services.KeyResultInput(title="Neg", start=0, target=5, weight=-1), "kr-0"),
    (services.KeyResultInput(title="", start=0, target=5), "kr-0"),
    (services.KeyResultInput(title="Odd", kind="vibes", start=0, target=5), "kr-0"),
])
def test_bad_key_results_are_refused_and_nothing_saved(make_user, spec, field):
    me = make_user()
    with pytest.raises(FormError) as error:
        make_goal(me, key_results=[spec])
    db.session.rollback()
    assert field in error.value.errors
    assert count(Goal) == 0 and count(KeyResult) == 0


def test_only_hr_sets_company_goals_and_managers_their_department(make_user):
    dept = Department(name_zh="研发", name_en="R&D")
    db.session.add(dept)
    db.session.commit()
    boss = make_user(department=dept)
    make_user(manager=boss, department=dept)
    employee = make_user(department=dept)
    hr = make_user(role="hr")
    with pytest.raises(FormError):
        make_goal(employee, owner_type="company")
    db.session.rollback()
    with pytest.raises(FormError):
        make_goal(employee, owner_type="department", department_id=dept.id)
    db.session.rollback()
    assert make_goal(boss, owner_type="department", department_id=dept.id).department_id == dept.id
    assert make_goal(hr, owner_type="company").owner_type == "company"


def test_someone_else_cannot_set_my_goals_but_my_manager_can(make_user):
    boss = make_user()
    me = make_user(manager=boss)
    peer = make_user()
    with pytest.raises(FormError) as error:
        make_goal(peer, owner=me)
    assert "owner_type" in error.value.errors
    db.session.rollback()
    assert make_goal(boss, owner=me).owner_id == me.id


def test_alignment_is_many_to_many_and_progress_rolls_up_with_weights(make_user):
    hr = make_user(role="hr")
    me = make_user()
    a = make_goal(hr, "Revenue", owner_type="company", key_results=krs(("ARR", 0, 100)))
    b = make_goal(hr, "Quality", owner_type="company")
    kr = a.key_results[0]
    mine = make_goal(me, "Ship", parents=[(a.id, kr.id, None), (b.id, None, 3.0)], key_results=krs(("Deals", 0, 10)))
    assert {(link.parent_id, link.kr_id, link.weight) for link in db.session.scalars(select(GoalLink))} == {
        (a.id, kr.id, None), (b.id, None, 3.0)}
    services.check_in(me, mine, services.CheckInInput(confidence=8, values={mine.key_results[0].id: 5}), today=TODAY)
    db.session.commit()
    assert mine.progress == pytest.approx(0.5)
    assert a.key_results[0].rolled_progress == pytest.approx(0.5)
    assert a.progress == pytest.approx(0.5)   # its only key result is carried by mine
    assert b.progress == pytest.approx(0.5)   # mine is its only contribution


def test_weights_on_key_results_and_contributions(make_user):
    me = make_user()
    goal = make_goal(me, key_results=[services.KeyResultInput("A", start=0, target=10, weight=3),
                                      services.KeyResultInput("B", start=0, target=10, weight=1)])
    a, b = goal.key_results
    services.check_in(me, goal, services.CheckInInput(confidence=7, values={a.id: 10, b.id: 0}), today=TODAY)
    assert goal.progress == pytest.approx(0.75)


def test_alignment_cycles_are_refused_with_a_message(make_user):
    me = make_user()
    top = make_goal(me, "Top")
    middle = make_goal(me, "Middle", parents=[top])
    bottom = make_goal(me, "Bottom", parents=[middle])
    with pytest.raises(FormError) as error:
        services.align(me, top, bottom)
    assert "loop" in error.value.errors["parents"]
    with pytest.raises(FormError):
        services.align(me, top, top)
    db.session.rollback()
    assert count(GoalLink) == 2


def test_negative_contribution_weight_is_refused(make_user):
    me = make_user()
    top = make_goal(me, "Top")
    child = make_goal(me, "Child")
    with pytest.raises(FormError):
        services.align(me, child, top, weight=-2)
    db.session.rollback()
    assert count(GoalLink) == 0


def test_status_follows_progress_against_time_and_confidence():
    assert services.derive_status(0.5, 0.5, 8) == "on_track"
    assert services.derive_status(0.3, 0.5, 8) == "at_risk"
    assert services.derive_status(0.1, 0.5, 8) == "off_track"
    assert services.derive_status(0.9, 0.5, 2) == "off_track"
    assert services.derive_status(0.9, 0.5, 5) == "at_risk"


def test_check_in_derives_status_and_override_needs_a_reason(make_user):
    me = make_user()
    goal = make_goal(me, key_results=krs(("Deals", 0, 10)))
    kr = goal.key_results[0]
    services.check_in(me, goal, services.CheckInInput(confidence=3, values={kr.id: 1}), today=TODAY)
    assert goal.status == "off_track"
    services.check_in(me, goal, services.CheckInInput(confidence=9, values={kr.id: 6}), today=TODAY)
    assert goal.status == "on_track"
    with pytest.raises(FormError) as error:
        services.check_in(me, goal, services.CheckInInput(confidence=9, status="at_risk"), today=TODAY)
    assert "reason" in error.value.errors
    services.check_in(me, goal, services.CheckInInput(confidence=9, status="at_risk", reason="Supplier late"),
                      today=TODAY)
    assert goal.status == "at_risk" and goal.status_overridden and goal.status_reason == "Supplier late"
    assert count(CheckIn) == 3


def test_check_ins_outside_the_period_and_bad_confidence_are_refused(make_user):
    me = make_user()
    goal = make_goal(me, key_results=krs(("Deals", 0, 10)))
    with pytest.raises(FormError) as error:
        services.check_in(me, goal, services.CheckInInput(confidence=5, values={goal.key_results[0].id: 3}),
                          today=date(2027, 1, 3))
    assert "form" in error.value.errors
    with pytest.raises(FormError):
        services.check_in(me, goal, services.CheckInInput(confidence=11), today=TODAY)
    db.session.rollback()
    assert count(CheckIn) == 0
    assert db.session.get(Goal, goal.id).key_results[0].current_value == 0


def test_only_the_owner_their_manager_and_hr_check_in(make_user):
    boss = make_user()
    me = make_user(manager=boss)
    peer = make_user()
    goal = make_goal(me)
    with pytest.raises(PermissionError):
        services.check_in(peer, goal, services.CheckInInput(confidence=5, progress=10), today=TODAY)
    services.check_in(boss, goal, services.CheckInInput(confidence=5, progress=40), today=TODAY)
    assert goal.progress == pytest.approx(0.4)


def test_private_goals_are_seen_by_owner_manager_and_hr_only(make_user):
    boss = make_user()
    me = make_user(manager=boss)
    peer = make_user()
    hr = make_user(role="hr")
    goal = make_goal(me, visibility="private")
    assert services.can_see(me, goal) and services.can_see(boss, goal) and services.can_see(hr, goal)
    assert not services.can_see(peer, goal)
    assert services.goals_of(peer, me, today=TODAY) == []
    assert services.goals_of(boss, me, today=TODAY) == [goal.id]


def test_assign_one_goal_to_many_people_and_a_department(make_user):
    dept = Department(name_zh="销售", name_en="Sales")
    db.session.add(dept)
    db.session.commit()
    hr = make_user(role="hr")
    team = [make_user(department=dept) for _i in range(3)]
    other = make_user()
    source = make_goal(hr, "Q4 pipeline", owner_type="department", department_id=dept.id,
                       key_results=krs(("Leads", 0, 50)))
    copies = services.assign(hr, source, person_ids=[other.id], department_id=dept.id)
    db.session.commit()
    assert sorted(c.owner_id for c in copies) == sorted([other.id] + [p.id for p in team])
    assert all(c.source_id == source.id and c.key_results[0].title == "Leads" for c in copies)
    assert count(GoalLink) == 4
    # A second assignment gives nobody a second copy.
    assert services.assign(hr, source, department_id=dept.id) == []


def test_only_managers_and_hr_assign_and_not_to_deactivated_people(make_user):
    boss = make_user()
    report = make_user(manager=boss)
    gone = make_user(manager=boss, active=False)
    employee = make_user()
    source = make_goal(boss, "Tidy the backlog")
    with pytest.raises(PermissionError):
        services.assign(employee, source, person_ids=[report.id])
    with pytest.raises(FormError) as error:
        services.assign(boss, source, person_ids=[report.id, gone.id])
    assert "no longer active" in error.value.errors["person_ids"]
    db.session.rollback()
    assert count(Goal) == 1
    with pytest.raises(FormError):
        services.assign(boss, source, person_ids=[employee.id])  # not their report
    db.session.rollback()
    assert len(services.assign(boss, source, person_ids=[report.id])) == 1


def test_goal_for_deactivated_person_is_refused(make_user):
    hr = make_user(role="hr")
    gone = make_user(active=False)
    with pytest.raises(FormError) as error:
        make_goal(hr, owner=gone)
    assert "no longer active" in error.value.errors["owner_type"]


def test_periods_follow_the_organisation_cycle(make_user):
    assert services.period_for("quarter", date(2026, 11, 15)) == Q4
    assert services.period_for("month", date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert services.period_for("two_months", date(2026, 12, 5)) == (date(2026, 11, 1), date(2026, 12, 31))
    assert services.period_for("year", date(2026, 6, 1)) == (date(2026, 1, 1), date(2026, 12, 31))
    hr = make_user(role="hr")
    with pytest.raises(FormError):
        services.save_settings(hr, "fortnight", 7)
    with pytest.raises(PermissionError):
        services.save_settings(make_user(), "month", 7)
    services.save_settings(hr, "month", 10)
    assert services.settings().cycle == "month" and services.settings().stale_days == 10


def test_weekly_reminder_to_owners_of_stale_goals_and_the_managers_view(make_user):
    boss = make_user()
    me = make_user(manager=boss)
    fresh = make_user(manager=boss)
    stale = make_goal(me, "Old")
    stale.created_at = datetime(2026, 11, 1)
    recent = make_goal(fresh, "New")
    recent.created_at = datetime(2026, 11, 1)
    recent.last_checkin_at = datetime(2026, 11, 14)
    db.session.commit()
    now = datetime(2026, 11, 15, 9)
    assert [g.id for g in services.team_stale_goals(boss, now)] == [stale.id]
    assert services.send_checkin_reminders(now) == 1
    assert services.send_checkin_reminders(now) == 0  # once per week
    note = db.session.scalar(select(Notification))
    assert note.user_id == me.id and note.kind == "goal_checkin_reminder"


def test_the_periodic_task_sends_reminders_and_the_push_says_what_to_do(app, make_user):
    from perfapp.goals import tasks
    from perfapp.goals.wiring import _reminder_text

    me = make_user()
    goal = make_goal(me, "Quiet", period=services.period_for("quarter", datetime.now().date()))
    goal.created_at = datetime(2000, 1, 1)
    db.session.commit()
    tasks.goal_checkin_reminders.call_local()
    note = db.session.scalar(select(Notification).where(Notification.user_id == me.id))
    assert note is not None and note.kind == "goal_checkin_reminder"
    with app.test_request_context():
        text = _reminder_text(note, "en")
    assert text is not None and text.url == "/goals/"


def test_a_private_team_goal_is_seen_by_the_team_only(make_user):
    dept = Department(name_zh="法务", name_en="Legal")
    other = Department(name_zh="财务", name_en="Finance")
    db.session.add_all([dept, other])
    db.session.commit()
    hr = make_user(role="hr")
    member = make_user(department=dept)
    outsider = make_user(department=other)
    goal = make_goal(hr, "Quiet team goal", owner_type="department", department_id=dept.id, visibility="private")
    assert services.can_see(member, goal) and not services.can_see(outsider, goal)
    visible = select(Goal.id).where(services.visible_to(outsider))
    assert goal.id not in db.session.scalars(visible).all()
    assert goal.id in db.session.scalars(select(Goal.id).where(services.visible_to(member))).all()


def test_erasing_a_person_removes_their_goals_and_keeps_what_they_wrote_for_others(app, make_user):
    from perfapp.personal.erasure import erase_person
    from perfapp.reactions.models import Comment
    from perfapp.reactions.services import add_comment

    hr = make_user(role="hr")
    boss = make_user(name="Gone Boss")
    report = make_user(manager=boss)
    peer = make_user()
    top = make_goal(hr, "Company", owner_type="company")
    theirs = make_goal(boss, "Boss goal", parents=[top], key_results=krs(("Deals", 0, 10)))
    mine = make_goal(report, "Report goal", parents=[(theirs.id, theirs.key_results[0].id, None)])
    own_checkin = services.check_in(boss, theirs, services.CheckInInput(
        confidence=8, values={theirs.key_results[0].id: 10}, note="Gone Boss did it"), today=TODAY)
    services.check_in(boss, mine, services.CheckInInput(confidence=6, progress=40), today=TODAY)
    db.session.commit()
    add_comment(peer, "goal_checkin", own_checkin.id, "Great, Gone Boss!")
    db.session.commit()
    assert top.progress == pytest.approx(0.4)  # the key result is carried by the report's goal
    with app.test_request_context():
        erase_person(hr, boss, "Gone Boss")
        db.session.commit()
    assert db.session.get(Goal, theirs.id) is None
    assert count(Comment) == 0
    kept = db.session.scalar(select(CheckIn).where(CheckIn.goal_id == mine.id))
    assert kept is not None and kept.author_id not in (None, boss.id)
    assert db.session.get(Goal, mine.id) is not None
    assert db.session.scalar(select(func.count()).select_from(GoalLink).where(GoalLink.child_id == mine.id)) == 0
    assert db.session.get(Goal, top.id).progress == 0


def test_a_persons_export_holds_their_goals_and_check_ins(make_user):
    from perfapp.personal.export import collect

    me = make_user()
    goal = make_goal(me, "Exported goal", key_results=krs(("Deals", 0, 10)))
    services.check_in(me, goal, services.CheckInInput(confidence=7, values={goal.key_results[0].id: 4},
                                                      note="On my way"), today=TODAY)
    db.session.commit()
    data = collect(me)
    assert data["goals"][0]["title"] == "Exported goal" and data["goals"][0]["key_results"][0]["current"] == 4
    assert data["goal_check_ins"][0]["note"] == "On my way"
