"""Project use cases without HTTP: projects, members, milestones."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from perfapp.core import signals
from perfapp.extensions import db
from perfapp.projects import services
from perfapp.projects.models import Milestone, Project
from perfapp.projects.services import MilestoneInput, ProjectInput
from tests.conftest import assert_rejected


@pytest.fixture()
def hr(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Helen HR", role="hr")


def test_create_and_update_project(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    a, b, c = make_user(name="Ann"), make_user(name="Bob"), make_user(name="Cy")
    project = services.create_project(hr, ProjectInput(name=" Apollo ", description=" Moon ",
                                                       member_ids=[b.id, a.id, a.id]))
    db.session.commit()
    assert (project.name, project.description, project.archived) == ("Apollo", "Moon", False)
    assert [m.name for m in project.members] == ["Ann", "Bob"]
    services.update_project(hr, project, ProjectInput(name="Apollo 2", member_ids=[c.id]))
    db.session.commit()
    assert project.name == "Apollo 2" and [m.id for m in project.members] == [c.id]
    services.set_project_archived(hr, project, True)
    assert project.archived is True
    assert services.list_projects()[-1] == project


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"description": "x" * 2001}, "description"),
    ({"member_ids": [999]}, "member_ids"),
    ({"member_ids": [-1]}, "member_ids"),
    ({"member_ids": list(range(1, 202))}, "member_ids"),
])
def test_project_bad_input(hr, changes, field) -> None:  # type: ignore[no-untyped-def]
    data = ProjectInput(name="Apollo", **{k: v for k, v in changes.items() if k != "name"})
    if "name" in changes:
        data.name = changes["name"]
    assert_rejected(lambda: services.create_project(hr, data), field, Project)


def test_deactivated_people_cannot_join_but_may_stay(hr, make_user, make_project) -> None:  # type: ignore[no-untyped-def]
    stays, gone_new = make_user(name="Stays"), make_user(name="Gone")
    project = make_project(members=(stays,))
    stays.active = gone_new.active = False
    db.session.commit()
    assert_rejected(lambda: services.update_project(
        hr, project, ProjectInput(name="Apollo", member_ids=[stays.id, gone_new.id])), "member_ids")
    services.update_project(hr, project, ProjectInput(name="Apollo", member_ids=[stays.id]))
    assert [m.id for m in project.members] == [stays.id]


@pytest.fixture()
def reached_events() -> Iterator[list[dict]]:
    events: list[dict] = []

    def receiver(sender, **kw) -> None:  # type: ignore[no-untyped-def]
        events.append({"sender": sender, **kw})

    signals.milestone_reached.connect(receiver)
    yield events
    signals.milestone_reached.disconnect(receiver)


def test_milestones_are_added_reached_and_undone(hr, make_project, reached_events) -> None:  # type: ignore[no-untyped-def]
    project = make_project(milestones=())
    milestone = services.add_milestone(hr, project, MilestoneInput(name=" Beta ", due_date="2026-03-31"))
    db.session.commit()
    assert (milestone.name, milestone.due_date, milestone.reached_at) == ("Beta", date(2026, 3, 31), None)
    services.reach_milestone(hr, milestone)
    services.reach_milestone(hr, milestone)  # a second tap changes nothing and tells nobody
    assert milestone.reached_at is not None
    assert reached_events == [{"sender": milestone, "milestone": milestone, "actor": hr}]
    services.unreach_milestone(hr, milestone)
    assert milestone.reached_at is None
    services.update_milestone(hr, milestone, MilestoneInput(name="GA", due_date=""))
    assert (milestone.name, milestone.due_date) == ("GA", None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"due_date": "31/03/2026"}, "due_date"),
    ({"due_date": "2026-02-30"}, "due_date"),
    ({"due_date": "1066-10-14"}, "due_date"),
])
def test_milestone_bad_input(hr, make_project, changes, field) -> None:  # type: ignore[no-untyped-def]
    project = make_project(milestones=())
    data = MilestoneInput(name="Beta", due_date="2026-03-31")
    for key, value in changes.items():
        setattr(data, key, value)
    assert_rejected(lambda: services.add_milestone(hr, project, data), field, Milestone)


# --- who may do what -------------------------------------------------------------------------------

def test_managers_start_projects_they_own_employees_cannot(make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(name="Boss")
    report = make_user(name="Report", manager=boss)
    other = make_user(name="Other")
    project = services.create_project(boss, ProjectInput(name="Apollo", member_ids=[report.id],
                                                         roles={report.id: " Design "}))
    db.session.commit()
    assert project.owner_id == boss.id
    assert services.member_roles(project) == [(report, "Design")]
    assert services.can_edit_project(boss, project) and not services.can_edit_project(report, project)
    assert services.can_view_project(report, project) and not services.can_view_project(other, project)
    assert [p.id for p in services.my_projects(report)] == [project.id] == [p.id for p in services.my_projects(boss)]
    assert services.my_projects(other) == []
    with pytest.raises(PermissionError):
        services.create_project(report, ProjectInput(name="Mine"))
    milestone = services.add_milestone(boss, project, MilestoneInput(name="Beta"))
    db.session.commit()
    refused = [lambda: services.update_project(report, project, ProjectInput(name="X")),
               lambda: services.add_milestone(report, project, MilestoneInput(name="Gamma")),
               lambda: services.reach_milestone(report, milestone),
               lambda: services.set_project_archived(other, project, True)]
    for call in refused:
        with pytest.raises(PermissionError):
            call()
    db.session.rollback()
    assert db.session.get(Project, project.id).name == "Apollo" and milestone.reached_at is None


def test_roles_are_kept_across_edits_and_checked(hr, make_user, make_project) -> None:  # type: ignore[no-untyped-def]
    a, b = make_user(name="Ann"), make_user(name="Bob")
    project = make_project(members=(a,))
    services.update_project(hr, project, ProjectInput(name="Apollo", member_ids=[a.id, b.id], roles={a.id: "Lead"}))
    db.session.commit()
    assert dict(services.member_roles(project)) == {a: "Lead", b: ""}
    assert_rejected(lambda: services.update_project(
        hr, project, ProjectInput(name="Apollo", member_ids=[a.id], roles={a.id: "x" * 61})), f"role-{a.id}")
    assert dict(services.member_roles(project)) == {a: "Lead", b: ""}
