"""Writing and reading the audit log. Nothing here (or anywhere) updates or deletes an entry."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy import or_, select

from perfapp.audit.models import ACTIONS, AuditEntry
from perfapp.extensions import db

if TYPE_CHECKING:
    # Imported where used at run time: loading the people package loads its views, which load
    # moderation, which records decisions here (an import cycle at start-up otherwise).
    from perfapp.people.models import User

PAGE_SIZE = 50
MAX_ID = 2**31 - 1  # ids are 32-bit integers; a larger cursor from a URL means "from the newest"


def _client_address() -> str | None:
    if not has_request_context():
        return None  # CLI commands and background jobs
    return (request.remote_addr or "")[:45] or None


def record(action: str, *, actor: User | None, subject: User | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry (flushed; the caller commits with the change it describes)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        action=action,
        actor_ref=actor.audit_ref if actor is not None else None,
        subject_ref=subject.audit_ref if subject is not None else None,
        details=dict(details or {}),
        client_address=_client_address(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def forget_person(person: User) -> None:
    """Unlink the person from every audit entry about them or by them (erasure).

    The entries keep their old pseudonym, which now matches no one; the person row gets a new
    one, so nothing left (row, entry, backup of either taken later) can join the two again.
    """
    person.audit_ref = secrets.token_hex(16)
    db.session.flush()


@dataclass
class EntryView:
    """An entry with the people its pseudonyms still resolve to (None: no one, or erased)."""

    entry: AuditEntry
    actor: User | None
    subject: User | None


def entries(*, action: str | None = None, person: User | None = None, before_id: int | None = None,
            limit: int = PAGE_SIZE) -> tuple[list[EntryView], int | None]:
    """Newest entries first (keyset on id), optionally one action's or one person's (as actor or
    subject); returns the page and the id to continue before, or None at the end."""
    from perfapp.people.models import User

    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if person is not None:
        query = query.where(or_(AuditEntry.actor_ref == person.audit_ref,
                                AuditEntry.subject_ref == person.audit_ref))
    if before_id is not None:
        if before_id <= 1:
            return [], None
        query = query.where(AuditEntry.id < min(before_id, MAX_ID))
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    refs = {r for row in rows for r in (row.actor_ref, row.subject_ref) if r}
    people = {p.audit_ref: p for p in db.session.scalars(select(User).where(User.audit_ref.in_(refs)))} if refs else {}
    views = [EntryView(row, people.get(row.actor_ref or ""), people.get(row.subject_ref or "")) for row in rows]
    return views, (rows[-1].id if more and rows else None)
