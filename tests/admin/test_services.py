"""Administration use cases without HTTP: people, departments, tags."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.auth import services as auth
from perfapp.auth.models import Invite, LoginSession
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.feedback.tags import TagInput, create_tag, set_tag_active, tags_by_kind, update_tag
from perfapp.people.accounts import (
    PersonInput,
    can_manage,
    create_person,
    deactivate_person,
    list_people,
    reactivate_person,
    resend_invite,
    update_person,
)
from perfapp.people.departments import (
    DepartmentInput,
    create_department,
    department_tree,
    update_department,
)
from perfapp.people.models import Department, User
from perfapp.people.services import search_people
from tests.conftest import PASSWORD, assert_rejected, count


@pytest.fixture()
def hr(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Helen HR", role="hr")


@pytest.fixture()
def admin(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Adam Admin", role="admin")


def person_input(**kw) -> PersonInput:  # type: ignore[no-untyped-def]
    kw.setdefault("name", "李娜")
    kw.setdefault("email", "Li.Na@Example.com")
    return PersonInput(**kw)


# --- people -----------------------------------------------------------------------

def test_create_person_adds_them_with_an_invite(hr) -> None:  # type: ignore[no-untyped-def]
    dept = Department(name_zh="研发", name_en="R&D")
    db.session.add(dept)
    db.session.flush()
    person, token = create_person(hr, person_input(
        title="  Engineer ", department_id=dept.id, manager_id=hr.id, locale="zh_Hans_CN",
        timezone="Asia/Tokyo"))
    db.session.commit()
    assert person.email == "li.na@example.com"
    assert (person.title, person.department_id, person.manager_id) == ("Engineer", dept.id, hr.id)
    assert (person.role, person.locale, person.timezone, person.active) == ("employee", "zh_Hans_CN", "Asia/Tokyo", True)
    assert person.password_hash is None
    assert " lina " in person.search_key and " li.na " in person.search_key
    invite = auth.find_invite(token)
    assert invite is not None and invite.user_id == person.id and invite.invited_by_id == hr.id


def test_empty_locale_follows_the_browser(hr) -> None:  # type: ignore[no-untyped-def]
    person, _token = create_person(hr, person_input(locale=""))
    assert person.locale is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 81}, "name"),
    ({"email": ""}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"email": "two@@example.com"}, "email"),
    ({"email": "a b@example.com"}, "email"),
    ({"email": "x" * 250 + "@example.com"}, "email"),
    ({"email": "HELEN.TAKEN@example.com"}, "email"),
    ({"title": "x" * 121}, "title"),
    ({"department_id": 999}, "department_id"),
    ({"department_id": -1}, "department_id"),
    ({"manager_id": 999}, "manager_id"),
    ({"manager_id": -1}, "manager_id"),
    ({"role": "boss"}, "role"),
    ({"locale": "fr"}, "locale"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": ""}, "timezone"),
])
def test_create_person_rejects_bad_input(admin, make_user, changes, field) -> None:  # type: ignore[no-untyped-def]
    make_user(email="helen.taken@example.com")
    assert_rejected(lambda: create_person(admin, person_input(**changes)), field, User, Invite)


def test_all_errors_are_reported_at_once(hr) -> None:  # type: ignore[no-untyped-def]
    error = assert_rejected(
        lambda: create_person(hr, PersonInput(name="", email="bad", timezone="nowhere")),
        "name", User)
    assert set(error.errors) == {"name", "email", "timezone"}


def test_deactivated_manager_is_refused_for_new_people(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    gone = make_user(name="Gone", active=False)
    assert_rejected(lambda: create_person(hr, person_input(manager_id=gone.id)), "manager_id", User)


@pytest.mark.parametrize("role", ["hr", "admin"])
def test_only_an_admin_grants_hr_and_admin(hr, admin, role) -> None:  # type: ignore[no-untyped-def]
    assert_rejected(lambda: create_person(hr, person_input(role=role)), "role", User, Invite)
    person, _token = create_person(admin, person_input(role=role))
    assert person.role == role


def test_hr_cannot_promote_an_employee(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    employee = make_user(name="Eve", email="eve@example.com")
    assert_rejected(lambda: update_person(hr, employee, person_input(
        name="Eve", email="eve@example.com", role="hr")), "role")
    assert db.session.get(User, employee.id).role == "employee"


def test_hr_cannot_touch_hr_or_admin_accounts(hr, admin, make_user) -> None:  # type: ignore[no-untyped-def]
    other_hr = make_user(name="Other HR", role="hr")
    for target in (admin, other_hr):
        data = person_input(name="Renamed", email=target.email, role=target.role)
        with pytest.raises(PermissionError):
            update_person(hr, target, data)
        with pytest.raises(PermissionError):
            deactivate_person(hr, target)
        with pytest.raises(PermissionError):
            resend_invite(hr, target)
    assert not can_manage(hr, admin)
    assert can_manage(hr, hr) and can_manage(admin, other_hr)


def test_admin_changes_roles_but_not_their_own(admin, make_user) -> None:  # type: ignore[no-untyped-def]
    employee = make_user(name="Eve", email="eve@example.com")
    update_person(admin, employee, person_input(name="Eve", email="eve@example.com", role="hr"))
    assert employee.role == "hr"
    assert_rejected(lambda: update_person(admin, admin, person_input(
        name=admin.name, email=admin.email, role="employee")), "role")
    assert db.session.get(User, admin.id).role == "admin"


def test_employees_cannot_use_admin_services(make_user) -> None:  # type: ignore[no-untyped-def]
    employee = make_user()
    with pytest.raises(PermissionError):
        create_person(employee, person_input())
    with pytest.raises(PermissionError):
        create_department(employee, DepartmentInput(name_zh="研发", name_en="R&D"))
    with pytest.raises(PermissionError):
        create_tag(employee, TagInput(name_zh="担当", name_en="Ownership"))
    assert count(User) == 1 and count(Department) == 0 and count(Tag) == 0


def test_update_person_keeps_the_search_key_in_step(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    person = make_user(name="Old Name", email="old@example.com")
    update_person(hr, person, person_input(name=" 张伟 ", email="Zhang.Wei@example.com"))
    db.session.commit()
    assert person.name == "张伟" and person.email == "zhang.wei@example.com"
    assert " zhangwei " in person.search_key and " zw " in person.search_key
    assert " zhang.wei " in person.search_key and "old" not in person.search_key
    assert search_people(hr, "zhangw") == [person]


def test_update_person_may_keep_their_own_email(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    person = make_user(email="same@example.com")
    update_person(hr, person, person_input(name="Same", email="SAME@example.com"))
    assert person.email == "same@example.com"


def test_manager_cannot_be_themselves_or_close_a_loop(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    top = make_user(name="Top", email="top@example.com")
    middle = make_user(name="Middle", manager=top)
    bottom = make_user(name="Bottom", manager=middle)

    def set_manager(person: User, manager: User):  # type: ignore[no-untyped-def]
        return lambda: update_person(hr, person, person_input(
            name=person.name, email=person.email, manager_id=manager.id))

    assert_rejected(set_manager(top, top), "manager_id")
    assert_rejected(set_manager(top, bottom), "manager_id")
    assert_rejected(set_manager(top, middle), "manager_id")
    assert db.session.get(User, top.id).manager_id is None
    set_manager(bottom, top)()  # moving up the tree is fine
    assert bottom.manager_id == top.id


def test_a_deactivated_manager_may_stay(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(name="Boss")
    person = make_user(name="Report", email="report@example.com", manager=boss)
    boss.active = False
    db.session.commit()
    update_person(hr, person, person_input(name="Report 2", email=person.email, manager_id=boss.id))
    assert person.name == "Report 2" and person.manager_id == boss.id


def test_deactivate_logs_out_everywhere_and_hides_them(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    person = make_user(name="Paul Gone", email="paul@example.com")
    auth.start_session(person, "phone")
    auth.start_session(person, "laptop")
    auth.start_session(hr, "hr phone")
    db.session.commit()
    deactivate_person(hr, person)
    db.session.commit()
    assert person.active is False
    assert db.session.scalar(select(func.count()).where(LoginSession.user_id == person.id)) == 0
    assert count(LoginSession) == 1
    assert search_people(hr, "paul") == []
    with pytest.raises(FormError):
        auth.authenticate("paul@example.com", PASSWORD)


def test_nobody_can_deactivate_themselves(hr, admin) -> None:  # type: ignore[no-untyped-def]
    for actor in (hr, admin):
        assert_rejected(lambda a=actor: deactivate_person(a, a), "form")
        assert db.session.get(User, actor.id).active is True


def test_reactivate_lets_them_log_in_again(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    person = make_user(email="back@example.com", active=False)
    reactivate_person(hr, person)
    db.session.commit()
    assert auth.authenticate("back@example.com", PASSWORD).id == person.id


def test_resend_invite_makes_a_fresh_link(hr) -> None:  # type: ignore[no-untyped-def]
    person, first = create_person(hr, person_input())
    second = resend_invite(hr, person)
    db.session.commit()
    assert first != second
    assert auth.find_invite(first) is None
    assert auth.find_invite(second).user_id == person.id
    auth.accept_invite(auth.find_invite(second), "a good password")
    db.session.commit()
    assert auth.find_invite(second) is None  # once only


def test_no_invites_for_deactivated_people(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    person = make_user(active=False)
    assert_rejected(lambda: resend_invite(hr, person), "form", Invite)


def test_list_people_searches_and_pages(hr, make_user) -> None:  # type: ignore[no-untyped-def]
    for n in range(23):
        make_user(name=f"Member {n:02d}", title="Designer" if n % 2 else "Engineer")
    li = make_user(name="李娜", email="lina@corp.example.com", title="Product lead")
    gone = make_user(name="Aaron Gone", active=False)

    first = list_people("", page=1)
    assert (first.total, first.pages, len(first.items)) == (26, 2, 20)
    assert all(p.active for p in first.items)
    assert not first.has_prev and first.has_next
    last = list_people("", page=2)
    assert last.items[-1] == gone  # deactivated people come last
    assert list_people("", page=99).number == 2
    assert list_people("", page=-3).number == 1

    assert list_people("lina").items == [li]
    assert list_people("LN").items == [li]
    assert list_people("corp.example").items == [li]
    assert list_people("product LEAD").items == [li]
    assert list_people("designer").total == 11
    assert list_people("%").total == 0
    assert list_people("nobody here").items == []


# --- departments ------------------------------------------------------------------

def test_departments_form_a_tree(hr) -> None:  # type: ignore[no-untyped-def]
    rd = create_department(hr, DepartmentInput(name_zh="研发", name_en="R&D"))
    sales = create_department(hr, DepartmentInput(name_zh="销售", name_en="Sales"))
    web = create_department(hr, DepartmentInput(name_zh="前端", name_en="Web", parent_id=rd.id))
    app = create_department(hr, DepartmentInput(name_zh="移动", name_en="Apps", parent_id=rd.id))
    ios = create_department(hr, DepartmentInput(name_zh=" iOS ", name_en="iOS", parent_id=app.id))
    db.session.commit()
    assert ios.name_zh == "iOS"
    tree = [(d.name_en, depth) for d, depth in department_tree()]
    assert tree == [("R&D", 0), ("Apps", 1), ("iOS", 2), ("Web", 1), ("Sales", 0)]
    update_department(hr, web, DepartmentInput(name_zh="网站", name_en="Web", parent_id=sales.id))
    assert [(d.name_en, depth) for d, depth in department_tree()][-1] == ("Web", 1)
    assert web.name_zh == "网站"


@pytest.mark.parametrize(("changes", "field"), [
    ({"name_zh": ""}, "name_zh"),
    ({"name_en": " "}, "name_en"),
    ({"name_zh": "研" * 81}, "name_zh"),
    ({"name_en": "x" * 81}, "name_en"),
    ({"parent_id": 999}, "parent_id"),
    ({"parent_id": -1}, "parent_id"),
])
def test_department_bad_input(hr, changes, field) -> None:  # type: ignore[no-untyped-def]
    data = DepartmentInput(name_zh="研发", name_en="R&D")
    for key, value in changes.items():
        setattr(data, key, value)
    assert_rejected(lambda: create_department(hr, data), field, Department)


def test_department_cannot_move_inside_itself(hr) -> None:  # type: ignore[no-untyped-def]
    top = create_department(hr, DepartmentInput(name_zh="总部", name_en="HQ"))
    child = create_department(hr, DepartmentInput(name_zh="研发", name_en="R&D", parent_id=top.id))
    grandchild = create_department(hr, DepartmentInput(name_zh="前端", name_en="Web", parent_id=child.id))
    db.session.commit()
    for parent in (top, child, grandchild):
        assert_rejected(lambda p=parent: update_department(
            hr, top, DepartmentInput(name_zh="总部", name_en="HQ", parent_id=p.id)), "parent_id")
    assert db.session.get(Department, top.id).parent_id is None


# --- tags -------------------------------------------------------------------------

def test_tags_by_kind_and_key(hr, make_tag) -> None:  # type: ignore[no-untyped-def]
    make_tag("Teamwork", "团队合作", kind="free")
    tag = create_tag(hr, TagInput(name_zh=" 学习 ", name_en="Learning  Fast", kind="capability"))
    db.session.commit()
    assert (tag.name_zh, tag.name_en, tag.key, tag.active) == ("学习", "Learning Fast", "learning fast", True)
    grouped = tags_by_kind()
    assert [t.name_en for t in grouped["capability"]] == ["Learning Fast"]
    assert [t.name_en for t in grouped["free"]] == ["Teamwork"]
    assert grouped["value"] == []


def test_update_tag_and_promote_a_free_tag(hr, make_tag) -> None:  # type: ignore[no-untyped-def]
    free = make_tag("teamwork", "teamwork", kind="free")
    update_tag(hr, free, TagInput(name_zh="团队合作", name_en="Teamwork", kind="value", active=False))
    db.session.commit()
    assert (free.kind, free.name_zh, free.key, free.active) == ("value", "团队合作", "teamwork", False)
    set_tag_active(hr, free, True)
    assert free.active is True


@pytest.mark.parametrize(("changes", "field"), [
    ({"name_zh": ""}, "name_zh"),
    ({"name_en": ""}, "name_en"),
    ({"name_zh": "担" * 33}, "name_zh"),
    ({"name_en": "x" * 33}, "name_en"),
    ({"kind": "free"}, "kind"),
    ({"kind": "mood"}, "kind"),
    ({"name_en": "OWNERSHIP"}, "name_en"),
])
def test_tag_bad_input(hr, make_tag, changes, field) -> None:  # type: ignore[no-untyped-def]
    make_tag("Ownership", "担当")
    data = TagInput(name_zh="学习", name_en="Learning", kind="value")
    for key, value in changes.items():
        setattr(data, key, value)
    error = assert_rejected(lambda: create_tag(hr, data), field, Tag)
    if changes.get("name_en") == "OWNERSHIP":
        assert "Ownership" in error.errors["name_en"]


def test_renaming_a_tag_onto_another_is_refused(hr, make_tag) -> None:  # type: ignore[no-untyped-def]
    make_tag("Ownership", "担当")
    other = make_tag("Courage", "勇气")
    assert_rejected(lambda: update_tag(hr, other, TagInput(
        name_zh="勇气", name_en="ownership", kind="value")), "name_en")
    update_tag(hr, other, TagInput(name_zh="勇气", name_en="COURAGE", kind="value"))
    assert other.key == "courage"
