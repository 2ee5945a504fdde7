"""The HR audit log page, refused visits being recorded, and no route able to change an entry."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from perfapp.audit import services
from perfapp.audit.models import AuditEntry
from perfapp.extensions import db
from tests.conftest import htmx_headers


def _count(**where: str) -> int:
    query = select(func.count()).select_from(AuditEntry)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    return db.session.scalar(query) or 0


@pytest.fixture()
def people(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="Bob Boss")
    return {
        "hr": make_user(name="Hannah HR", role="hr"),
        "admin": make_user(name="Ada Admin", role="admin"),
        "boss": boss,
        "emp": make_user(name="Eve Employee", manager=boss),
    }


def test_hr_reads_the_log_with_names_resolved(people, login) -> None:
    services.record("person.role_changed", actor=people["admin"], subject=people["hr"],
                    details={"old": "employee", "new": "hr"})
    db.session.commit()
    c = login(people["hr"])
    page = c.get("/audit/").get_data(as_text=True)
    assert "Role changed" in page and "Ada Admin" in page and "Hannah HR" in page
    assert "Employee → HR" in page
    # Linked from the admin menu.
    assert 'href="/audit/"' in c.get("/admin/").get_data(as_text=True)


def test_the_log_in_chinese(people, login) -> None:
    people["hr"].locale = "zh_Hans_CN"
    services.record("person.deactivated", actor=people["hr"], subject=people["emp"])
    db.session.commit()
    page = login(people["hr"]).get("/audit/").get_data(as_text=True)
    assert "审计日志" in page and "已停用" in page and "Deactivated" not in page


def test_filters_by_action_and_person(people, login) -> None:
    services.record("person.invited", actor=people["hr"], subject=people["emp"])
    services.record("person.deactivated", actor=people["hr"], subject=people["boss"])
    db.session.commit()
    c = login(people["hr"])
    page = c.get("/audit/?action=person.deactivated").get_data(as_text=True)
    assert "Bob Boss" in page and "Eve Employee" not in page
    assert '<option value="person.deactivated" selected>' in page
    page = c.get(f"/audit/?person={people['emp'].id}").get_data(as_text=True)
    assert "Eve Employee" in page and "Bob Boss" not in page
    # Unknown filters are ignored, not errors.
    for query in ("action=drop+table", "person=abc", "person=-4", "person=99999999999999", "before=x",
                  "before=99999999999999999999"):
        assert c.get(f"/audit/?{query}").status_code == 200, query


def test_load_more_pages_with_and_without_htmx(people, login) -> None:
    for _ in range(services.PAGE_SIZE + 3):
        services.record("person.invited", actor=people["hr"], subject=people["emp"])
    db.session.commit()
    c = login(people["hr"])
    page = c.get("/audit/").get_data(as_text=True)
    assert page.count('class="audit-row"') == services.PAGE_SIZE
    [cursor] = re.findall(r'id="audit-more"[^>]*hx-get="/audit/\?before=(\d+)"', page)
    fragment = c.get(f"/audit/?before={cursor}", headers=htmx_headers("audit-more"))
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and body.count('class="audit-row"') == 3
    assert "audit-more" not in body and "HX-Request" in fragment.headers["Vary"]
    full = c.get(f"/audit/?before={cursor}").get_data(as_text=True)  # the no-JS link: a whole page
    assert "<html" in full and full.count('class="audit-row"') == 3


@pytest.mark.parametrize("who", ["emp", "boss"])
def test_employees_and_managers_get_403_and_the_attempt_is_recorded(people, login, who) -> None:
    c = login(people[who])
    assert c.get("/audit/").status_code == 403
    assert c.get("/audit/", headers=htmx_headers("audit-more")).status_code == 403
    db.session.expire_all()
    assert _count(action="access.denied", actor_ref=people[who].audit_ref) == 2
    [row] = services.entries(action="access.denied", limit=1)[0]
    assert row.entry.details == {"endpoint": "audit.index", "method": "GET", "reason": "role"}
    assert row.entry.client_address == "127.0.0.1"
    # Their own refused attempt is not shown to them anywhere, and the page shows no names.
    assert "Hannah HR" not in c.get("/audit/").get_data(as_text=True)


def test_every_hr_area_records_refused_visits(people, login, make_tag) -> None:
    tag = make_tag()
    c = login(people["emp"])
    urls = ["/admin/", "/admin/people", f"/admin/people/{people['hr'].id}", "/admin/departments",
            f"/admin/tags/{tag.id}", "/moderation/", "/moderation/log", "/notify/organisation",
            "/integrations/queue", "/recognition/admin/badges"]
    for url in urls:
        assert c.get(url).status_code == 403, url
    assert c.submit(f"/admin/people/{people['hr'].id}/active", {"active": "0"}).status_code == 403
    db.session.expire_all()
    rows, _ = services.entries(action="access.denied", limit=100)
    assert len(rows) == len(urls) + 1 and all(v.actor == people["emp"] for v in rows)
    assert rows[0].entry.details["method"] == "POST"
    # The URL (which can hold a person's id) is not kept, only the endpoint's name.
    assert all(str(people["hr"].id) not in str(v.entry.details) for v in rows)
    assert people["hr"].active


def test_hr_refused_on_an_admin_account_is_recorded(people, login) -> None:
    c = login(people["hr"])
    assert c.submit(f"/admin/people/{people['admin'].id}/active", {"active": "0"}).status_code == 403
    db.session.expire_all()
    [row] = services.entries(action="access.denied")[0]
    assert row.actor == people["hr"] and row.entry.details["reason"] == "permission"
    assert people["admin"].active


def test_logged_out_visitors_go_to_login_without_an_entry(client) -> None:
    assert client.get("/audit/").status_code == 302
    assert _count() == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_no_method_changes_the_log(people, login, method) -> None:
    entry = services.record("person.invited", actor=people["hr"], subject=people["emp"])
    db.session.commit()
    c = login(people["admin"])
    response = c.open(f"/audit/?id={entry.id}", method=method, data={"csrf_token": c.csrf},
                      headers={"X-CSRFToken": c.csrf or ""})
    assert response.status_code == 405
    db.session.expire_all()
    assert _count() == 1 and db.session.get(AuditEntry, entry.id).action == "person.invited"


def test_no_route_issues_update_or_delete_on_the_audit_log(app, people, login) -> None:
    """Every registered URL rule, with every method it accepts, as an admin: watch the SQL."""
    first = services.record("person.invited", actor=people["hr"], subject=people["emp"])
    db.session.commit()
    first_id, before = first.id, (first.action, first.actor_ref, first.subject_ref, first.at)
    touching = re.compile(r"^\s*(UPDATE\s+\"?audit_entry|DELETE\s+FROM\s+\"?audit_entry|TRUNCATE)", re.I)
    seen: list[str] = []

    def watch(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if touching.search(statement):
            seen.append(statement)

    c = login(people["admin"])
    event.listen(db.engine, "before_cursor_execute", watch)
    tried = 0
    try:
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.rule.startswith("/auth/logout"):
                continue
            args = {name: (1 if rule._converters[name].__class__.__name__ == "IntegerConverter" else "x")
                    for name in rule.arguments}
            url = rule.rule
            for name, value in args.items():
                url = re.sub(r"<(?:[^:<>]+:)?" + name + ">", str(value), url)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                tried += 1
                try:
                    c.open(url, method=method, data={"csrf_token": c.csrf},
                           headers={"X-CSRFToken": c.csrf or ""})
                except Exception:  # noqa: BLE001  (a route failing on dummy input is not this test's concern)
                    db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert tried > 50 and seen == []
    db.session.expire_all()
    kept = db.session.get(AuditEntry, first_id)  # routes may add entries (appending is fine)
    assert (kept.action, kept.actor_ref, kept.subject_ref, kept.at) == before


def test_no_code_writes_update_or_delete_on_the_audit_entry_model() -> None:
    """Belt and braces: the source never builds an UPDATE/DELETE of AuditEntry."""
    from pathlib import Path

    import perfapp

    names = r"\b(AuditEntry|audit_entry)\b"
    pattern = re.compile(rf"\b(update|delete|truncate)\b.*{names}|{names}.*\b(update|delete)\b", re.I)
    offenders = []
    for path in Path(perfapp.__file__).parent.rglob("*.py"):
        if "migrations" in path.parts or (path.name == "models.py" and path.parent.name == "audit"):
            continue  # the triggers' own SQL
        offenders += [f"{path.name}: {line.strip()}" for line in path.read_text().splitlines()
                      if pattern.search(line)]
    assert offenders == []
