"""The audit log without HTTP: recording, reading, pseudonyms, and the database refusing changes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from perfapp.audit import services
from perfapp.audit.models import AuditEntry
from perfapp.extensions import db
from perfapp.people.accounts import (
    PersonInput,
    create_person,
    deactivate_person,
    reactivate_person,
    resend_invite,
    update_person,
)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_record_references_people_by_pseudonym_only(make_user) -> None:
    hr = make_user(name="Hannah HR", role="hr")
    emp = make_user(name="Eve Employee", email="eve@example.com")
    entry = services.record("person.role_changed", actor=hr, subject=emp,
                            details={"old": "employee", "new": "hr"})
    db.session.commit()
    assert entry.actor_ref == hr.audit_ref and entry.subject_ref == emp.audit_ref
    assert entry.details == {"old": "employee", "new": "hr"} and entry.client_address is None
    assert entry.at is not None
    stored = repr([getattr(entry, c) for c in ("action", "actor_ref", "subject_ref", "details", "client_address")])
    for leak in ("Eve", "eve@example.com", "Hannah"):
        assert leak not in stored
    # Pseudonyms are random 16-byte hex, one per person, unrelated to the id.
    assert len(hr.audit_ref) == 32 and int(hr.audit_ref, 16) >= 0 and hr.audit_ref != emp.audit_ref


def test_unknown_actions_are_refused(make_user) -> None:
    with pytest.raises(ValueError):
        services.record("person.whatever", actor=make_user())
    assert _count() == 0


def test_entries_newest_first_with_keyset_pages_and_filters(make_user) -> None:
    hr, a, b = make_user(role="hr"), make_user(), make_user()
    for i in range(5):
        services.record("person.invited", actor=hr, subject=a if i % 2 else b)
    services.record("access.denied", actor=a, details={"endpoint": "admin.people"})
    db.session.commit()

    page, cursor = services.entries(limit=4)
    assert [v.entry.action for v in page][:1] == ["access.denied"] and len(page) == 4 and cursor
    rest, end = services.entries(limit=4, before_id=cursor)
    assert len(rest) == 2 and end is None
    ids = [v.entry.id for v in page + rest]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6

    only_denied, _ = services.entries(action="access.denied")
    assert [(v.actor, v.subject) for v in only_denied] == [(a, None)]
    about_a, _ = services.entries(person=a)  # as subject (2 invites) or as actor (1 denial)
    assert len(about_a) == 3
    invites_of_b, _ = services.entries(action="person.invited", person=b)
    assert len(invites_of_b) == 3 and all(v.subject == b and v.actor == hr for v in invites_of_b)


@pytest.mark.parametrize("cursor", [0, -1, 1])
def test_odd_cursors_give_an_empty_page(make_user, cursor) -> None:
    services.record("person.invited", actor=make_user())
    db.session.commit()
    assert services.entries(before_id=cursor) == ([], None)


def test_a_huge_cursor_starts_from_the_newest(make_user) -> None:
    services.record("person.invited", actor=make_user())
    db.session.commit()
    assert len(services.entries(before_id=10**30)[0]) == 1


def test_forgetting_a_person_keeps_their_entries_but_unlinks_them(make_user) -> None:
    hr, gone = make_user(role="hr"), make_user(name="Gone Person")
    services.record("person.deactivated", actor=hr, subject=gone)
    services.record("access.denied", actor=gone)
    db.session.commit()
    old_ref = gone.audit_ref
    services.forget_person(gone)
    db.session.commit()
    assert gone.audit_ref != old_ref
    rows, _ = services.entries()
    assert len(rows) == 2
    assert all(v.subject is None for v in rows) and all(v.actor in (hr, None) for v in rows)
    assert services.entries(person=gone) == ([], None)
    # Nothing in the log holds the person's new pseudonym (or their id).
    refs = db.session.execute(select(AuditEntry.actor_ref, AuditEntry.subject_ref)).all()
    assert gone.audit_ref not in {r for row in refs for r in row}


def _raw(sql: str) -> None:
    with db.engine.connect() as conn, conn.begin():
        conn.execute(text(sql))


@pytest.mark.parametrize("sql", [
    "UPDATE audit_entry SET action = 'person.erased'",
    "UPDATE audit_entry SET actor_ref = NULL",
    "DELETE FROM audit_entry",
    "DELETE FROM audit_entry WHERE action = 'person.invited'",
])
def test_the_database_refuses_to_change_or_delete_entries(make_user, sql) -> None:
    """A trigger on both engines: even code (or a person with a SQL console) that tries fails."""
    services.record("person.invited", actor=make_user(), details={"new": True})
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(sql)
    db.session.expire_all()
    [entry] = db.session.scalars(select(AuditEntry))
    assert (entry.action, entry.details) == ("person.invited", {"new": True}) and entry.actor_ref


def test_admin_use_cases_are_recorded(make_user) -> None:
    admin_person = make_user(role="admin")
    data = PersonInput(name="New Person", email="new@example.com", role="employee",
                             timezone="Asia/Shanghai")
    person, _token = create_person(admin_person, data)
    data.role = "hr"
    update_person(admin_person, person, data)
    update_person(admin_person, person, data)  # no change of role: nothing recorded
    resend_invite(admin_person, person)
    deactivate_person(admin_person, person)
    reactivate_person(admin_person, person)
    db.session.commit()
    rows, _ = services.entries()
    got = [(v.entry.action, v.entry.details, v.actor, v.subject) for v in reversed(rows)]
    assert got == [
        ("person.invited", {"new": True}, admin_person, person),
        ("person.role_changed", {"old": "employee", "new": "hr"}, admin_person, person),
        ("person.invited", {}, admin_person, person),
        ("person.deactivated", {}, admin_person, person),
        ("person.reactivated", {}, admin_person, person),
    ]


def test_emptying_the_table_for_tests_keeps_the_triggers(make_user) -> None:
    """How test cleanup, seed wipes and restores empty it (perfapp.core.db.empty_table)."""
    from perfapp.core.db import empty_table

    actor = make_user()
    services.record("person.invited", actor=actor)
    db.session.commit()
    with db.engine.begin() as conn:
        empty_table(conn, AuditEntry.__table__)
    assert _count() == 0
    services.record("person.invited", actor=actor)
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_entry")
    assert _count() == 1
