"""Editing a goal that was assigned: its copies take the new title, description and key-result
definitions; their values, check-ins and progress stay their own."""
from __future__ import annotations

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import CheckIn, Goal
from perfapp.people.models import Department
from tests.goals.test_services import Q4, TODAY, count, krs, make_goal


def source_and_copies(make_user):  # type: ignore[no-untyped-def]
    dept = Department(name_zh="销售", name_en="Sales")
    db.session.add(dept)
    db.session.commit()
    hr = make_user(role="hr")
    team = [make_user(department=dept) for _i in range(2)]
    source = make_goal(hr, "Q4 pipeline", owner_type="department", department_id=dept.id,
                       description="Fill it", key_results=krs(("Leads", 0, 50), ("Demos", 0, 10)))
    copies = services.assign(hr, source, department_id=dept.id)
    db.session.commit()
    # One of them has worked on theirs.
    mine = copies[0]
    services.check_in(team[0], mine, services.CheckInInput(
        confidence=7, values={mine.key_results[0].id: 25, mine.key_results[1].id: 5}), today=TODAY)
    db.session.commit()
    return hr, dept, team, source, copies


def edit(hr, source, dept, title, key_results):  # type: ignore[no-untyped-def]
    services.update_goal(hr, source, services.GoalInput(
        title=title, description="Fill it, then some", owner_type="department", department_id=dept.id, period=Q4,
        key_results=key_results))
    db.session.commit()


def test_a_source_edit_reaches_its_copies_but_not_their_values(make_user) -> None:  # type: ignore[no-untyped-def]
    hr, dept, _team, source, copies = source_and_copies(make_user)
    worked, untouched = copies
    before = worked.progress
    assert before > 0
    leads, demos = source.key_results
    edit(hr, source, dept, "Q4 pipeline (revised)", [
        services.KeyResultInput(title="Qualified leads", start=0, target=100, unit="leads", id=leads.id),
        services.KeyResultInput(title="Demos", start=0, target=10, id=demos.id),
        services.KeyResultInput(title="Case study", kind="done"),
    ])
    db.session.expire_all()
    for copy in (db.session.get(Goal, worked.id), db.session.get(Goal, untouched.id)):
        assert copy.title == "Q4 pipeline (revised)" and copy.description == "Fill it, then some"
        assert [(kr.title, kr.target_value, kr.unit, kr.kind) for kr in copy.key_results] == [
            ("Qualified leads", 100, "leads", "number"), ("Demos", 10, "", "number"), ("Case study", 1.0, "", "done")]
    worked = db.session.get(Goal, worked.id)
    assert [kr.current_value for kr in worked.key_results] == [25, 5, 0]  # their values stay
    # Progress is theirs, measured against the new definitions: (25/100 + 5/10 + 0) / 3.
    assert abs(worked.progress - 0.25) < 1e-9 and worked.progress != before
    assert count(CheckIn) == 1 and db.session.get(Goal, untouched.id).progress == 0
    assert db.session.get(Goal, source.id).title == "Q4 pipeline (revised)"


def test_a_removed_key_result_goes_from_the_copies_too(make_user) -> None:  # type: ignore[no-untyped-def]
    hr, dept, _team, source, copies = source_and_copies(make_user)
    leads = source.key_results[0]
    edit(hr, source, dept, "Q4 pipeline", [services.KeyResultInput(title="Leads", start=0, target=50, id=leads.id)])
    db.session.expire_all()
    worked = db.session.get(Goal, copies[0].id)
    assert [(kr.title, kr.current_value) for kr in worked.key_results] == [("Leads", 25)]
    assert abs(worked.progress - 0.5) < 1e-9


def test_a_refused_edit_changes_no_copy(make_user) -> None:  # type: ignore[no-untyped-def]
    hr, dept, _team, source, copies = source_and_copies(make_user)
    try:
        edit(hr, source, dept, "Renamed", [services.KeyResultInput(title="Flat", start=5, target=5)])
    except FormError:
        db.session.rollback()
    db.session.expire_all()
    assert {g.title for g in db.session.query(Goal)} == {"Q4 pipeline"}


def test_editing_a_copy_leaves_the_source_and_the_other_copies_alone(make_user) -> None:  # type: ignore[no-untyped-def]
    _hr, _dept, team, source, copies = source_and_copies(make_user)
    mine = copies[0]
    services.update_goal(team[0], mine, services.GoalInput(
        title="My pipeline", owner_id=team[0].id, period=Q4,
        key_results=[services.KeyResultInput(title=kr.title, start=kr.start_value, target=kr.target_value, id=kr.id)
                     for kr in mine.key_results]))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Goal, source.id).title == "Q4 pipeline" and db.session.get(Goal, copies[1].id).title == "Q4 pipeline"


def test_the_edit_form_reaches_the_copies(make_user, login) -> None:  # type: ignore[no-untyped-def]
    hr, dept, _team, source, copies = source_and_copies(make_user)
    kr_ids = [str(kr.id) for kr in source.key_results]
    response = login(hr).submit(f"/goals/{source.id}/edit", {
        "title": "Pipeline, renamed", "kind": "objective", "owner": f"department:{dept.id}", "visibility": "public",
        "period": services.period_key(*Q4), "kr_id": kr_ids, "kr_title": ["Leads", "Demos"],
        "kr_kind": ["number", "number"], "kr_start": ["0", "0"], "kr_target": ["50", "20"], "kr_unit": ["", ""],
        "kr_weight": ["", ""]})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    copy = db.session.get(Goal, copies[1].id)
    assert copy.title == "Pipeline, renamed" and copy.key_results[1].target_value == 20
