"""Every people list orders Chinese names by pinyin: 阿明 (a) … Lewis, 李娜 (li na), Lin … 张伟 (z)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User
from tests.conftest import htmx_headers

ORDER = ["阿明", "Lewis", "李娜", "Lin", "张伟"]
SHUFFLED = ["张伟", "Lin", "李娜", "Lewis", "阿明"]


def _in_order(page: str, names: list[str]) -> list[str]:
    """The names as they appear on the page, first occurrence each."""
    assert all(n in page for n in names), [n for n in names if n not in page]
    return sorted(names, key=page.index)


def _people(make_user: Any, **kw: Any) -> list[User]:
    return [make_user(name=n, **kw) for n in SHUFFLED]


def test_the_sort_key_follows_the_name_however_it_is_set(app, make_user) -> None:
    lina = make_user(name="李娜")
    assert lina.sort_key == "li na"
    lina.name = "Ángel"
    assert lina.sort_key == "angel"
    lina.set_name("  张伟 ")
    db.session.commit()
    assert db.session.scalar(select(User.sort_key).where(User.id == lina.id)) == "zhang wei"
    assert User(email="x@example.com", stored_name="阿明").sort_key == "a ming"


def test_hr_renaming_someone_moves_them_in_the_list(make_user, login) -> None:
    hr = make_user(name="Zoe HR", role="hr")
    people = _people(make_user)
    c = login(hr)
    zhang = people[0]
    response = c.submit(f"/admin/people/{zhang.id}", {
        "name": "艾伦", "email": zhang.email, "title": "", "role": "employee", "department_id": "",
        "manager_id": "", "locale": "", "timezone": "Asia/Shanghai"})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:400]
    db.session.expire_all()
    assert db.session.get(User, zhang.id).sort_key == "ai lun"
    page = c.get("/admin/people").get_data(as_text=True)
    assert _in_order(page, ["艾伦", "阿明", "Lewis"]) == ["阿明", "艾伦", "Lewis"]


def test_the_admin_people_list_sorts_by_pinyin(make_user, login) -> None:
    hr = make_user(name="Zoe HR", role="hr")
    _people(make_user)
    c = login(hr)
    for headers in ({}, htmx_headers("people-results")):
        page = c.get("/admin/people", headers=headers).get_data(as_text=True)
        assert _in_order(page, ORDER) == ORDER


def test_the_picker_ranks_equal_matches_by_pinyin(make_user, login) -> None:
    viewer = make_user(name="Viewer")
    _people(make_user)
    c = login(viewer)
    for headers in ({}, htmx_headers("picker-results")):
        page = c.get("/people/search?q=l", headers=headers).get_data(as_text=True)
        assert _in_order(page, ["Lewis", "李娜", "Lin"]) == ["Lewis", "李娜", "Lin"]


def test_a_managers_team_on_the_profile_and_the_pickers_suggestions_sort_by_pinyin(make_user, login) -> None:
    boss = make_user(name="Boss")
    _people(make_user, manager=boss)
    c = login(boss)
    profile = c.get(f"/people/{boss.id}").get_data(as_text=True)
    assert _in_order(profile, ORDER) == ORDER
    compose = c.get("/feedback/new").get_data(as_text=True)
    assert _in_order(compose, ORDER) == ORDER


def test_a_projects_teammates_sort_by_pinyin(make_user, make_project, login) -> None:
    viewer = make_user(name="Viewer")
    project = make_project(members=(viewer, *_people(make_user)))
    page = login(viewer).get(f"/feedback/new?project={project.id}").get_data(as_text=True)
    assert _in_order(page, ORDER) == ORDER


def test_hr_flower_allowances_sort_by_pinyin(make_user, login) -> None:
    from perfapp.recognition.flowers import list_quotas, set_quota

    hr = make_user(name="Zoe HR", role="hr")
    for person in _people(make_user):
        set_quota(hr, person.id, 3)
    db.session.commit()
    assert [q.user.name for q in list_quotas()] == ORDER
    page = login(hr).get("/recognition/admin/flowers").get_data(as_text=True)
    assert _in_order(page, ORDER) == ORDER


def test_no_people_list_orders_by_the_raw_name() -> None:
    """ORDER BY the name column sorts 李娜 after every Latin name (by code point): lists use sort_key."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "perfapp"
    raw = re.compile(r"order_by\([^)]*User\.(?:name|stored_name)\b|order_by=\"User\.name\"")
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if raw.search(line)]
    assert offenders == []
