"""Admin pages over HTTP: permissions, plain forms and htmx fragments, 422s that change nothing."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from perfapp.auth.models import Invite, LoginSession
from perfapp.core import signals
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import Department, User
from perfapp.projects.models import Milestone, Project
from tests.conftest import PASSWORD, htmx_headers

_INVITE_URL = re.compile(r"https?://[^\s<\"]+/auth/invite/[A-Za-z0-9_\-]+")


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The body with HTML entities decoded, so messages read as they are written."""
    return unescape(response.get_data(as_text=True))


def is_fragment(response) -> bool:  # type: ignore[no-untyped-def]
    return "<html" not in text(response) and "HX-Request" in response.headers.get("Vary", "")


@pytest.fixture()
def hr(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Helen HR", email="helen@example.com", role="hr")


@pytest.fixture()
def hr_client(hr, login):  # type: ignore[no-untyped-def]
    return login(hr)


@pytest.fixture()
def world(make_user, make_project, make_tag):  # type: ignore[no-untyped-def]
    """One of each thing the admin pages edit."""
    dept = Department(name_zh="研发", name_en="R&D")
    db.session.add(dept)
    db.session.commit()
    employee = make_user(name="李娜", email="lina@example.com", department=dept)
    return {"dept": dept, "employee": employee, "project": make_project(members=(employee,)),
            "tag": make_tag(), "admin": make_user(name="Adam Admin", role="admin")}


def admin_urls(w: dict) -> list[str]:
    return [
        "/admin/", "/admin/people", "/admin/people/new", f"/admin/people/{w['employee'].id}",
        "/admin/departments", f"/admin/departments/{w['dept'].id}", "/admin/projects",
        "/admin/projects/new", f"/admin/projects/{w['project'].id}",
        f"/admin/milestones/{w['project'].milestones[0].id}", "/admin/tags", f"/admin/tags/{w['tag'].id}",
    ]


def person_form(**kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = {"name": "Wang Fang", "email": "wang.fang@example.com", "title": "Designer",
            "role": "employee", "locale": "", "timezone": "Asia/Shanghai"}
    form.update(kw)
    return form


# --- permissions ------------------------------------------------------------------

def test_hr_sees_every_page(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    for url in admin_urls(world):
        response = hr_client.get(url)
        assert response.status_code == 200, url
        assert "HX-Request" in response.headers["Vary"]


def test_index_links_to_each_section(hr_client) -> None:  # type: ignore[no-untyped-def]
    page = text(hr_client.get("/admin/"))
    for url in ("/admin/people", "/admin/departments", "/admin/projects", "/admin/tags",
                "/integrations/queue", "/moderation/", "/audit/"):
        assert f'href="{url}"' in page
    # Every section the menu names opens for HR (a link to a page that refuses is a dead end).
    for url in re.findall(r'<a href="(/[^"]+)"', page.split('aria-label="Administration"', 1)[1].split("</nav>")[0]):
        assert hr_client.get(url).status_code == 200, url


def test_employees_get_403(world, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world["employee"])
    for url in admin_urls(world):
        assert c.get(url).status_code == 403, url
    assert c.get("/admin/people", headers=htmx_headers("people-results")).status_code == 403
    response = c.submit("/admin/people/new", person_form())
    assert response.status_code == 403
    assert c.submit(f"/admin/tags/{world['tag'].id}/active", {"active": "0"}).status_code == 403
    assert count(User) == 2 and db.session.get(Tag, world["tag"].id).active


def test_anonymous_is_sent_to_login(client, world) -> None:  # type: ignore[no-untyped-def]
    for url in admin_urls(world):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    response = client.get("/admin/people", headers=htmx_headers("people-results"))
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_missing_csrf_is_400_and_changes_nothing(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    before = count(User)
    assert hr_client.submit("/admin/people/new", person_form(), csrf=False).status_code == 400
    assert hr_client.submit("/admin/people/new", person_form(csrf_token="forged")).status_code == 400
    assert hr_client.submit(f"/admin/people/{world['employee'].id}/active", {"active": "0"},
                            csrf=False, htmx=True, target="person-account").status_code == 400
    assert count(User) == before and db.session.get(User, world["employee"].id).active


def test_hr_cannot_grant_admin(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    before = count(User)
    response = hr_client.submit("/admin/people/new", person_form(role="admin"))
    assert response.status_code == 422
    assert "Only an admin can grant or change the HR and admin roles." in text(response)
    assert count(User) == before and count(Invite) == 0
    employee = world["employee"]
    response = hr_client.submit(f"/admin/people/{employee.id}",
                                person_form(name=employee.name, email=employee.email, role="hr"),
                                htmx=True, target="person-form")
    assert response.status_code == 422 and is_fragment(response)
    assert db.session.get(User, employee.id).role == "employee"


def test_hr_cannot_change_an_admin_account(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    admin = world["admin"]
    page = text(hr_client.get(f"/admin/people/{admin.id}"))
    assert "Only an admin can change HR and admin accounts." in page and "disabled" in page
    response = hr_client.submit(f"/admin/people/{admin.id}", person_form(email="helen2@example.com",
                                                                          role="admin"))
    assert response.status_code == 403
    assert hr_client.submit(f"/admin/people/{admin.id}/invite").status_code == 403
    assert hr_client.submit(f"/admin/people/{admin.id}/active", {"active": "0"}).status_code == 403
    assert db.session.get(User, admin.id).email != "helen2@example.com" and count(Invite) == 0


def test_admin_grants_hr(world, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world["admin"])
    employee = world["employee"]
    assert '<select id="f-role"' in text(c.get(f"/admin/people/{employee.id}"))
    response = c.submit(f"/admin/people/{employee.id}",
                        person_form(name=employee.name, email=employee.email, role="hr"))
    assert response.status_code == 303
    assert db.session.get(User, employee.id).role == "hr"


# --- people -----------------------------------------------------------------------

def test_people_list_searches_and_serves_a_fragment(hr_client, world, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user(name="Zed Gone", active=False)
    page = text(hr_client.get("/admin/people"))
    assert "李娜" in page and "lina@example.com" in page and "R&D" in page
    assert "Deactivated" in page and 'id="people-q"' in page
    response = hr_client.get("/admin/people?q=lin", headers=htmx_headers("people-results"))
    assert is_fragment(response)
    assert "李娜" in text(response) and "Zed Gone" not in text(response)
    assert 'id="people-results"' in text(response)
    boosted = hr_client.get("/admin/people?q=lin", headers=htmx_headers("people-results", boosted=True))
    assert "<html" in text(boosted)
    assert "No one matches" in text(hr_client.get("/admin/people?q=nobody"))


def test_people_list_pages(hr_client, make_user) -> None:  # type: ignore[no-untyped-def]
    for n in range(21):
        make_user(name=f"Member {n:02d}")
    first = text(hr_client.get("/admin/people"))
    assert "Page 1 of 2" in first and 'href="/admin/people?page=2"' in first
    second = text(hr_client.get("/admin/people?page=2&q=member"))
    assert "Page 2 of 2" in second and 'href="/admin/people?q=member&page=1"' in second


def test_add_person_shows_the_invite_link_once(hr_client, world, client) -> None:  # type: ignore[no-untyped-def]
    response = hr_client.submit("/admin/people/new", person_form(
        department_id=str(world["dept"].id), manager_id=str(world["employee"].id)))
    assert response.status_code == 303
    person = db.session.scalar(select(User).where(User.email == "wang.fang@example.com"))
    assert person.manager_id == world["employee"].id and person.department_id == world["dept"].id
    assert response.headers["Location"].endswith(f"/admin/people/{person.id}")
    page = text(hr_client.get(response.headers["Location"]))
    assert "Wang Fang was added." in page  # the flash
    links = _INVITE_URL.findall(page)
    assert len(links) == 1 and links[0].startswith("http://localhost/")
    assert "Copy link" in page
    assert not _INVITE_URL.search(text(hr_client.get(response.headers["Location"])))

    # the link works once
    path = links[0].removeprefix("http://localhost")
    assert client.get(path).status_code == 200
    client.refresh_csrf(path)
    accepted = client.submit(path, {"password": "a new password", "password2": "a new password"})
    assert accepted.status_code == 303
    assert client.get("/").status_code == 200  # logged in as the new person
    assert client.get(path).status_code == 404


def test_add_person_over_htmx_answers_with_the_link(hr_client) -> None:  # type: ignore[no-untyped-def]
    response = hr_client.submit("/admin/people/new", person_form(), htmx=True, target="person-form")
    assert response.status_code == 200 and is_fragment(response)
    body = text(response)
    assert 'id="person-form"' in body and len(_INVITE_URL.findall(body)) == 1
    assert 'hx-swap-oob="beforeend:#toasts"' in body and "Wang Fang was added." in body
    assert count(Invite) == 1


def test_add_person_with_bad_input_is_422_and_keeps_what_was_typed(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    before = count(User)
    bad = person_form(name="", email="LINA@example.com", title="x" * 121, timezone="Nowhere/Land",
                      manager_id="999")
    response = hr_client.submit("/admin/people/new", bad)
    assert response.status_code == 422 and "<html" in text(response)
    body = text(response)
    for message in ("Please fill this in.", "Someone already uses lina@example.com.",
                    "Use at most 120 characters.", "Choose a timezone from the list.",
                    "We couldn't find that person."):
        assert message in body
    assert 'value="LINA@example.com"' in body and 'aria-invalid="true"' in body
    fragment = hr_client.submit("/admin/people/new", bad, htmx=True, target="person-form")
    assert fragment.status_code == 422 and is_fragment(fragment)
    assert "Please fill this in." in text(fragment)
    assert count(User) == before and count(Invite) == 0


def test_edit_person(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    employee = world["employee"]
    page = text(hr_client.get(f"/admin/people/{employee.id}"))
    assert 'value="lina@example.com"' in page and "Deactivate" in page
    response = hr_client.submit(f"/admin/people/{employee.id}", person_form(
        name="李娜娜", email="lina@example.com", locale="zh_Hans_CN", timezone="Asia/Taipei"))
    assert response.status_code == 303
    db.session.refresh(employee)
    assert (employee.name, employee.locale, employee.timezone) == ("李娜娜", "zh_Hans_CN", "Asia/Taipei")
    assert " linana " in employee.search_key
    response = hr_client.submit(f"/admin/people/{employee.id}", person_form(name="Li Na", email="lina@example.com"),
                                htmx=True, target="person-form")
    assert response.status_code == 200 and is_fragment(response)
    assert 'id="person-form"' in text(response)
    assert 'id="person-account" class="card stack" aria-label="Account" hx-swap-oob="true"' in text(response)
    assert "Saved." in text(response)


def test_manager_loop_is_422(hr_client, world, make_user) -> None:  # type: ignore[no-untyped-def]
    employee = world["employee"]
    report = make_user(name="Report", manager=employee)
    response = hr_client.submit(f"/admin/people/{employee.id}", person_form(
        name=employee.name, email=employee.email, manager_id=str(report.id)), htmx=True, target="person-form")
    assert response.status_code == 422
    assert "Report already reports to this person, directly or not." in text(response)
    assert db.session.get(User, employee.id).manager_id is None


def test_deactivate_logs_them_out_and_hides_them(hr_client, world, login, make_user) -> None:  # type: ignore[no-untyped-def]
    employee = world["employee"]
    their_phone = login(employee)
    colleague = login(make_user(name="Colleague"))
    assert "李娜" in text(colleague.get("/people/search?q=lina"))

    response = hr_client.submit(f"/admin/people/{employee.id}/active", {"active": "0"},
                                htmx=True, target="person-account")
    assert response.status_code == 200 and is_fragment(response)
    assert "Reactivate" in text(response) and "logged out everywhere" in text(response)
    assert db.session.get(User, employee.id).active is False
    assert db.session.scalar(select(func.count()).where(LoginSession.user_id == employee.id)) == 0

    assert their_phone.get("/").status_code == 302  # their session is gone
    assert "李娜" not in text(colleague.get("/people/search?q=lina"))
    again = their_phone.submit("/auth/login", {"email": "lina@example.com", "password": PASSWORD})
    assert again.status_code == 422 and "deactivated" in text(again)

    response = hr_client.submit(f"/admin/people/{employee.id}/active", {"active": "1"})
    assert response.status_code == 303
    assert their_phone.submit("/auth/login", {"email": "lina@example.com", "password": PASSWORD}).status_code == 303


def test_nobody_can_deactivate_themselves(hr_client, hr) -> None:  # type: ignore[no-untyped-def]
    assert "Deactivate" not in text(hr_client.get(f"/admin/people/{hr.id}"))
    for htmx in (False, True):
        response = hr_client.submit(f"/admin/people/{hr.id}/active", {"active": "0"},
                                    htmx=htmx, target="person-account")
        assert response.status_code == 422
        assert "You can't deactivate yourself." in text(response)
        assert is_fragment(response) == htmx
    assert db.session.get(User, hr.id).active and hr_client.get("/admin/").status_code == 200


def test_resend_invite(hr_client, world, client) -> None:  # type: ignore[no-untyped-def]
    employee = world["employee"]
    employee.password_hash = None  # invited, never chose a password
    first = hr_client.submit(f"/admin/people/{employee.id}/invite", htmx=True, target="person-account")
    assert first.status_code == 200 and is_fragment(first)
    old_link = _INVITE_URL.search(text(first)).group(0)
    second = hr_client.submit(f"/admin/people/{employee.id}/invite")
    assert second.status_code == 303
    new_link = _INVITE_URL.search(text(hr_client.get(second.headers["Location"]))).group(0)
    assert new_link != old_link
    assert client.get(old_link.removeprefix("http://localhost")).status_code == 404
    assert client.get(new_link.removeprefix("http://localhost")).status_code == 200


def test_no_invite_for_a_deactivated_person(hr_client, make_user) -> None:  # type: ignore[no-untyped-def]
    gone = make_user(name="Gone", active=False)
    response = hr_client.submit(f"/admin/people/{gone.id}/invite")
    assert response.status_code == 422 and "Reactivate Gone before inviting them." in text(response)
    assert count(Invite) == 0


def test_unknown_person_is_404(hr_client) -> None:  # type: ignore[no-untyped-def]
    assert hr_client.get("/admin/people/999").status_code == 404
    assert hr_client.submit("/admin/people/999/active", {"active": "0"}).status_code == 404


# --- departments ------------------------------------------------------------------

def test_departments_tree_and_create(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    rd = world["dept"]
    response = hr_client.submit("/admin/departments", {"name_zh": "前端", "name_en": "Web",
                                                       "parent_id": str(rd.id)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/departments")
    page = text(hr_client.get("/admin/departments"))
    assert "Added “Web”." in page and 'data-depth="1"' in page
    response = hr_client.submit("/admin/departments", {"name_zh": "销售", "name_en": "Sales"},
                                htmx=True, target="department-form")
    assert response.status_code == 200 and is_fragment(response)
    assert 'id="department-tree"' in text(response) and 'hx-swap-oob="true"' in text(response)
    assert "Sales" in text(response)
    assert count(Department) == 3


def test_department_bad_input_is_422(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    rd = world["dept"]
    child = Department(name_zh="前端", name_en="Web", parent_id=rd.id)
    db.session.add(child)
    db.session.commit()
    response = hr_client.submit("/admin/departments", {"name_zh": "", "name_en": "x" * 81})
    assert response.status_code == 422
    assert "Please fill this in." in text(response) and "Use at most 80 characters." in text(response)
    response = hr_client.submit(f"/admin/departments/{rd.id}",
                                {"name_zh": "研发", "name_en": "R&D", "parent_id": str(child.id)},
                                htmx=True, target="department-form")
    assert response.status_code == 422 and is_fragment(response)
    assert "A department can't sit inside itself." in text(response)
    assert count(Department) == 2 and db.session.get(Department, rd.id).parent_id is None
    # the edit page doesn't offer the department itself or anything under it as a parent
    page = text(hr_client.get(f"/admin/departments/{rd.id}"))
    assert f'<option value="{child.id}"' not in page


def test_edit_department(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    rd = world["dept"]
    response = hr_client.submit(f"/admin/departments/{rd.id}", {"name_zh": "技术", "name_en": "Tech"},
                                htmx=True, target="department-form")
    assert response.status_code == 200 and "Saved." in text(response)
    assert db.session.get(Department, rd.id).name_en == "Tech"


# --- projects and milestones ----------------------------------------------------------

def test_create_project(hr_client, world, make_user) -> None:  # type: ignore[no-untyped-def]
    other = make_user(name="Other")
    form = {"name": "Gemini", "description": "Two seats", "member_ids": [str(world["employee"].id), str(other.id)]}
    response = hr_client.submit("/admin/projects/new", form)
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.name == "Gemini"))
    assert {m.id for m in project.members} == {world["employee"].id, other.id}
    assert response.headers["Location"].endswith(f"/admin/projects/{project.id}")
    response = hr_client.submit("/admin/projects/new", {**form, "name": "Mercury"}, htmx=True, target="project-form")
    assert response.status_code == 200 and is_fragment(response)
    assert "Add milestones" in text(response)
    assert count(Project) == 3


def test_project_bad_input_is_422(hr_client, world, make_user) -> None:  # type: ignore[no-untyped-def]
    gone = make_user(name="Gone Person", active=False)
    before = count(Project)
    response = hr_client.submit("/admin/projects/new", {"name": "", "member_ids": [str(gone.id)]})
    assert response.status_code == 422
    assert "Please fill this in." in text(response) and "Gone Person has been deactivated." in text(response)
    response = hr_client.submit("/admin/projects/new", {"name": "X", "member_ids": ["999"]},
                                htmx=True, target="project-form")
    assert response.status_code == 422 and is_fragment(response)
    assert "We couldn't find one of those people." in text(response)
    assert count(Project) == before


def test_project_page_uses_the_many_picker(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    page = text(hr_client.get(f"/admin/projects/{world['project'].id}"))
    assert 'data-picker="many"' in page and 'data-max="200"' in page
    assert f'name="member_ids" value="{world["employee"].id}"' in page


def test_edit_and_archive_project(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    project = world["project"]
    response = hr_client.submit(f"/admin/projects/{project.id}", {"name": "Apollo 11", "member_ids": []},
                                htmx=True, target="project-form")
    assert response.status_code == 200 and is_fragment(response)
    db.session.refresh(project)
    assert project.name == "Apollo 11" and project.members == []
    response = hr_client.submit(f"/admin/projects/{project.id}/archived", {"archived": "1"},
                                htmx=True, target="project-archive")
    assert response.status_code == 200 and "Reopen project" in text(response)
    assert db.session.get(Project, project.id).archived
    page = text(hr_client.get("/admin/projects"))
    assert "Archived" in page and "Apollo 11" in page
    response = hr_client.submit(f"/admin/projects/{project.id}/archived", {"archived": "0"})
    assert response.status_code == 303 and not db.session.get(Project, project.id).archived


def test_milestones(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    project = world["project"]
    events: list = []

    def heard(_sender, milestone, actor) -> None:  # type: ignore[no-untyped-def]
        events.append((milestone.name, actor.email))

    response = hr_client.submit(f"/admin/projects/{project.id}/milestones",
                                {"name": "Beta", "due_date": "2026-05-01"}, htmx=True, target="milestones")
    assert response.status_code == 200 and is_fragment(response)
    assert "Beta" in text(response) and "Launch" in text(response)
    beta = db.session.scalar(select(Milestone).where(Milestone.name == "Beta"))

    signals.milestone_reached.connect(heard)
    try:
        response = hr_client.submit(f"/admin/milestones/{beta.id}/reached", {"reached": "1"},
                                    htmx=True, target=f"milestone-{beta.id}")
    finally:
        signals.milestone_reached.disconnect(heard)
    assert response.status_code == 200 and is_fragment(response)
    assert f'id="milestone-{beta.id}"' in text(response) and "Undo" in text(response)
    assert events == [("Beta", "helen@example.com")]
    assert db.session.get(Milestone, beta.id).reached_at is not None

    response = hr_client.submit(f"/admin/milestones/{beta.id}/reached", {"reached": "0"})
    assert response.status_code == 303
    assert db.session.get(Milestone, beta.id).reached_at is None

    response = hr_client.submit(f"/admin/milestones/{beta.id}", {"name": "Beta 2", "due_date": ""},
                                htmx=True, target="milestone-form")
    assert response.status_code == 200 and "Saved." in text(response)
    assert db.session.get(Milestone, beta.id).due_date is None


def test_milestone_bad_input_is_422(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    project = world["project"]
    before = count(Milestone)
    response = hr_client.submit(f"/admin/projects/{project.id}/milestones", {"name": "", "due_date": "soon"})
    assert response.status_code == 422
    body = text(response)
    assert "Please fill this in." in body and "Enter a date like 2026-03-31." in body
    assert 'value="soon"' in body
    assert 'value="Apollo"' in body  # the project form above still shows the saved name
    response = hr_client.submit(f"/admin/projects/{project.id}/milestones", {"name": "x" * 121},
                                htmx=True, target="milestones")
    assert response.status_code == 422 and is_fragment(response)
    assert count(Milestone) == before
    milestone = project.milestones[0]
    response = hr_client.submit(f"/admin/milestones/{milestone.id}", {"name": "", "due_date": "2026-13-01"},
                                htmx=True, target="milestone-form")
    assert response.status_code == 422 and db.session.get(Milestone, milestone.id).name == "Launch"


# --- tags -------------------------------------------------------------------------

def test_tags_page_and_create(hr_client, world, make_tag) -> None:  # type: ignore[no-untyped-def]
    make_tag("Teamwork", "团队", kind="free")
    page = text(hr_client.get("/admin/tags"))
    assert "Capabilities" in page and "Values" in page and "Free tags" in page and "#Ownership" in page
    response = hr_client.submit("/admin/tags", {"name_zh": "学习", "name_en": "Learning",
                                                "kind": "capability", "active": "1"})
    assert response.status_code == 303
    tag = db.session.scalar(select(Tag).where(Tag.key == "learning"))
    assert tag.kind == "capability" and tag.active
    response = hr_client.submit("/admin/tags", {"name_zh": "勇气", "name_en": "Courage", "kind": "value"},
                                htmx=True, target="tag-form")
    assert response.status_code == 200 and is_fragment(response)
    assert 'id="tag-lists"' in text(response) and "#Courage" in text(response)
    assert not db.session.scalar(select(Tag).where(Tag.key == "courage")).active


def test_tag_bad_input_is_422(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    before = count(Tag)
    response = hr_client.submit("/admin/tags", {"name_zh": "担当", "name_en": "ownership", "kind": "value"})
    assert response.status_code == 422
    assert "There is already a tag called “Ownership”." in text(response)
    response = hr_client.submit("/admin/tags", {"name_zh": "", "name_en": "x" * 33, "kind": "free"},
                                htmx=True, target="tag-form")
    assert response.status_code == 422 and is_fragment(response)
    for message in ("Please fill this in.", "Use at most 32 characters.", "Choose capability or value."):
        assert message in text(response)
    assert count(Tag) == before


def test_edit_and_toggle_tag(hr_client, world) -> None:  # type: ignore[no-untyped-def]
    tag = world["tag"]
    response = hr_client.submit(f"/admin/tags/{tag.id}/active", {"active": "0"}, htmx=True, target=f"tag-{tag.id}")
    assert response.status_code == 200 and is_fragment(response)
    assert 'aria-checked="false"' in text(response)
    assert not db.session.get(Tag, tag.id).active
    response = hr_client.submit(f"/admin/tags/{tag.id}", {"name_zh": "主人翁", "name_en": "Owner", "kind": "value",
                                                          "active": "1"})
    assert response.status_code == 303
    db.session.refresh(tag)
    assert (tag.name_zh, tag.key, tag.active) == ("主人翁", "owner", True)


@pytest.mark.parametrize("htmx", [False, True])
def test_pages_and_errors_in_chinese(hr_client, hr, htmx) -> None:  # type: ignore[no-untyped-def]
    hr.locale = "zh_Hans_CN"
    db.session.commit()
    for url in ("/admin/", "/admin/people", "/admin/tags"):
        response = hr_client.get(url)
        assert response.status_code == 200 and 'lang="zh-Hans"' in text(response)
    response = hr_client.submit("/admin/tags", {"name_zh": "", "name_en": "x" * 33, "kind": ""},
                                htmx=htmx, target="tag-form")
    assert response.status_code == 422
    messages = re.findall(r'class="field-error"[^>]*>([^<]+)<', text(response))
    assert len(messages) == 3 and not any(m.isascii() for m in messages), messages
    assert 'value="' + "x" * 33 + '"' in text(response)
