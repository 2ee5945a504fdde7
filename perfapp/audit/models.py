"""The audit log: an append-only record of who did what to whose account.

People are never referenced by id, name or email here but by the opaque pseudonym on their
person row (`User.audit_ref`). Erasing a person replaces that pseudonym, after which their
entries stay (the organisation's record of what happened) but point to no one.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, DateTime, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from perfapp.core.db import utcnow
from perfapp.extensions import Model

ACTIONS = (
    "person.invited", "person.role_changed", "person.reset_forced", "person.deactivated",
    "person.reactivated", "password.reset_requested", "password.set", "moderation.decided",
    "data.exported", "person.erased", "access.denied",
)


class AuditEntry(Model):
    __tablename__ = "audit_entry"
    # Read by tests/conftest.py: rows of this table can't be deleted, so it is emptied differently.
    __table_args__ = (
        Index("ix_audit_entry_action", "action", "id"),
        Index("ix_audit_entry_actor", "actor_ref", "id"),
        Index("ix_audit_entry_subject", "subject_ref", "id"),
        {"info": {"append_only": True}},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # naive UTC
    action: Mapped[str] = mapped_column(String(40))
    actor_ref: Mapped[str | None] = mapped_column(String(32))
    subject_ref: Mapped[str | None] = mapped_column(String(32))
    # Ids of things that are not people, old/new role, endpoint names: never names or emails.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(45))


# The database itself refuses to change or remove a row, whatever code runs against it. The
# same statements are in the migration (perfapp/migrations/versions/*_audit_log.py); these make
# create_all (the test suite, a first run) build them too.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only' USING DETAIL = TG_OP || ' refused';
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
"""
SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END""",
)

event.listen(AuditEntry.__table__, "after_create", DDL(PG_FUNCTION).execute_if(dialect="postgresql"))
event.listen(AuditEntry.__table__, "after_create", DDL(PG_TRIGGER).execute_if(dialect="postgresql"))
for _sql in SQLITE_TRIGGERS:
    event.listen(AuditEntry.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
