"""Moderation use cases: report a row, the HR queue, decisions (audited), posting suspensions."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import Select, String, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement

from perfapp.audit.services import record
from perfapp.core import signals
from perfapp.core.db import run, utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.moderation.registry import REPORTABLE, Reportable
from perfapp.notify.models import Notification
from perfapp.notify.services import notify
from perfapp.people.models import User

MAX_REASON = 500
MAX_SUSPENSION_DAYS = 365
# One report hides a post from its reporter only (one upset reader, or the recipient, can't take
# praise off the wall for everyone); this many different people hide it from everyone until HR
# decides (Config.REPORTS_TO_HIDE overrides it).
REPORTS_TO_HIDE = 3


def reports_to_hide() -> int:
    return int(current_app.config.get("REPORTS_TO_HIDE", REPORTS_TO_HIDE))
ACTIONS = ("restore", "delete", "suspend")


def suspended_until(user: User):
    """The end of the person's current posting suspension, or None."""
    return db.session.scalar(
        select(func.max(PostingSuspension.until))
        .where(PostingSuspension.user_id == user.id, PostingSuspension.until > utcnow())
    )


def ensure_can_post(user: User) -> None:
    """Refuse (FormError on "form") while the person's right to post is suspended."""
    until = suspended_until(user)
    if until is not None:
        raise FormError({"form": _("You can't post until %(date)s.", date=format_datetime(until, "short"))})


# --- reporting ---------------------------------------------------------------------

def _row(target_type: str, target_id: int) -> tuple[Reportable, Any]:
    kind = REPORTABLE.get(target_type)
    obj = db.session.get(kind.model, target_id) if kind is not None else None
    if kind is None or obj is None:
        raise LookupError((target_type, target_id))
    return kind, obj


def reportable_for(viewer: User, target_type: str, target_id: int) -> tuple[Reportable, Any]:
    """The registration and the row, if it exists and the viewer may see it; else LookupError (404)."""
    kind, obj = _row(target_type, target_id)
    if not kind.can_read(obj, viewer):
        raise LookupError((target_type, target_id))
    return kind, obj


def reportable_type(target_type: str) -> bool:
    """Whether posts of this type can be reported at all (by anyone but their author)."""
    return target_type in REPORTABLE


def can_report(viewer: User, target_type: str, obj: Any) -> bool:
    """Whether to offer the report button: a registered type, and not the viewer's own post."""
    return reportable_type(target_type) and REPORTABLE[target_type].author_id(obj) != viewer.id


def report(reporter: User, target_type: str, target_id: int, reason: str) -> Report:
    """Report a row with a reason: hidden from the reporter at once; from everyone once
    REPORTS_TO_HIDE different people reported it, until HR decides."""
    kind, obj = reportable_for(reporter, target_type, target_id)
    if kind.author_id(obj) == reporter.id:
        raise FormError({"form": _("You can't report your own post.")})
    reason = reason.strip()
    if not reason:
        raise FormError({"reason": _("Say briefly what is wrong with it.")})
    if len(reason) > MAX_REASON:
        raise FormError({"reason": _("Keep it under %(n)d characters.", n=MAX_REASON)})
    row = Report(target_type=target_type, target_id=target_id, reporter_id=reporter.id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise FormError({"form": _("You have already reported this.")}) from None
    _forget_open_reports()
    reporters = db.session.scalar(
        select(func.count(func.distinct(Report.reporter_id))).where(
            Report.target_type == target_type, Report.target_id == target_id, Report.resolved_at.is_(None)))
    if (reporters or 0) >= reports_to_hide():
        obj.hidden = True
    db.session.flush()
    hr_ids = db.session.scalars(
        select(User.id).where(User.role.in_(("hr", "admin")), User.active.is_(True), User.id != reporter.id)
    )
    for hr_id in hr_ids:
        notify(hr_id, "content_reported", ref_type="report", ref_id=row.id, dedupe_key=f"report:{row.id}")
    return row


def reported_by(viewer: Any, target_type: str, target_id: int) -> bool:
    """Whether the viewer reported this row and HR hasn't decided yet: it is hidden for them."""
    return (target_type, target_id) in reported_set(viewer)


def reported_set(viewer: Any) -> frozenset[tuple[str, int]]:
    """The (type, id) of every row the viewer reported that HR hasn't decided on yet.

    Read once per request (cards ask for every row of a page)."""
    if not getattr(viewer, "is_authenticated", False):
        return frozenset()
    if not has_request_context():
        return _open_reports_of(viewer.id)
    cached = g.get("_open_reports")
    if cached is None or cached[0] != viewer.id:
        cached = (viewer.id, _open_reports_of(viewer.id))
        g._open_reports = cached
    return cached[1]


def open_reports_of(user_id: Any) -> Any:
    """The open reports of the person `user_id` names (a column of an outer query: the login query
    reads them with the person, so pages with cards need no statement of their own) as one string,
    "type:id" joined by commas, or NULL for none (most people)."""
    pair = Report.target_type + ":" + func.cast(Report.target_id, String)
    return (select(_joined_by_commas(pair))
            .where(Report.reporter_id == user_id, Report.resolved_at.is_(None)).scalar_subquery())


class _joined_by_commas(FunctionElement[str]):
    """Text values joined by commas: func.aggregate_strings, but with its separator written in the
    SQL, not a parameter rendered at execution (the login query is compiled once: db.Prepared)."""

    type = String()
    inherit_cache = True


@compiles(_joined_by_commas)
def _group_concat(element: Any, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_joined_by_commas, "postgresql")
def _string_agg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def prefetch_open_reports(viewer_id: int, packed: str | None) -> None:
    """Keep for this request what the login query read with the person (see open_reports_of)."""
    found = frozenset((kind, int(target_id)) for kind, _sep, target_id
                      in (pair.rpartition(":") for pair in packed.split(","))) if packed else frozenset()
    g._open_reports = (viewer_id, found)


def _forget_open_reports() -> None:
    """A report was made, decided or dropped: this request reads the viewer's open reports again."""
    if has_request_context():
        g.pop("_open_reports", None)


@cache
def _open_reports() -> Select:
    return select(Report.target_type, Report.target_id).where(
        Report.reporter_id == bindparam("user_id"), Report.resolved_at.is_(None))


def _open_reports_of(user_id: int) -> frozenset[tuple[str, int]]:
    rows = run(_open_reports(), {"user_id": user_id})
    return frozenset((target_type, target_id) for target_type, target_id in rows)


def _drop_report_notes(report_ids: list[int]) -> None:
    if report_ids:
        db.session.execute(delete(Notification).where(Notification.ref_type == "report",
                                                      Notification.ref_id.in_(report_ids)))


def forget_reports(target_type: str, target_ids: list[int]) -> None:
    """Drop the reports (and HR's inbox entries) on rows that no longer exist; the audit log stays."""
    if not target_ids:
        return
    where = (Report.target_type == target_type, Report.target_id.in_(target_ids))
    _drop_report_notes(list(db.session.scalars(select(Report.id).where(*where))))
    db.session.execute(delete(Report).where(*where))
    _forget_open_reports()


# --- the HR queue --------------------------------------------------------------------

@dataclass
class Case:
    """A reported row and its open reports, as HR sees it in the queue."""

    target_type: str
    target_id: int
    obj: Any
    kind: Reportable
    reports: list[Report] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.target_type}-{self.target_id}"

    @property
    def reported_at(self) -> datetime:
        return self.reports[0].created_at


def _require_hr(user: User) -> None:
    if not user.is_hr:
        raise PermissionError(user.id)


def open_cases(viewer: User, limit: int = 50) -> list[Case]:
    """Reported rows waiting for a decision, oldest report first (one load per reportable type)."""
    _require_hr(viewer)
    reports = db.session.scalars(
        select(Report).where(Report.resolved_at.is_(None))
        .options(joinedload(Report.reporter)).order_by(Report.created_at, Report.id).limit(limit * 10)
    ).all()
    grouped: dict[tuple[str, int], list[Report]] = {}
    for r in reports:
        if r.target_type in REPORTABLE:
            grouped.setdefault((r.target_type, r.target_id), []).append(r)
    by_type: dict[str, list[int]] = {}
    for target_type, target_id in list(grouped)[:limit]:
        by_type.setdefault(target_type, []).append(target_id)
    rows: dict[tuple[str, int], Any] = {}
    for target_type, ids in by_type.items():
        model: Any = REPORTABLE[target_type].model  # a mapped class with an id
        for obj in db.session.scalars(select(model).where(model.id.in_(ids))):
            rows[(target_type, obj.id)] = obj
    return [Case(t, i, rows[(t, i)], REPORTABLE[t], grouped[(t, i)])
            for t, i in list(grouped)[:limit] if (t, i) in rows]


def open_case(viewer: User, target_type: str, target_id: int) -> Case:
    """One reported row with its open reports; LookupError if there is none."""
    _require_hr(viewer)
    kind, obj = _row(target_type, target_id)
    reports = list(db.session.scalars(
        select(Report).where(Report.target_type == target_type, Report.target_id == target_id,
                             Report.resolved_at.is_(None)).order_by(Report.created_at, Report.id)
    ))
    return Case(target_type, target_id, obj, kind, reports)


def _parse_days(raw: str | int | None) -> int | None:
    try:
        days = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return days if 1 <= days <= MAX_SUSPENSION_DAYS else None


def check_decision(actor: User, target_type: str, target_id: int, action: str, reason: str = "",
                   days: str | int | None = None) -> int | None:
    """Refuse a decision that can't be taken (FormError), changing nothing; the suspension days."""
    _require_hr(actor)
    kind, obj = _row(target_type, target_id)
    errors: dict[str, str] = {}
    reason = reason.strip()
    if action not in ACTIONS:
        errors["action"] = _("Choose restore, delete, or delete and suspend.")
    if len(reason) > MAX_REASON:
        errors["reason"] = _("Keep it under %(n)d characters.", n=MAX_REASON)
    elif action in ("delete", "suspend") and not reason:
        errors["reason"] = _("Say why, for the audit log.")
    suspend_days = _parse_days(days) if action == "suspend" else None
    if action == "suspend" and suspend_days is None:
        errors["days"] = _("Suspend for 1 to %(n)d days.", n=MAX_SUSPENSION_DAYS)
    elif action == "suspend" and kind.author_id(obj) is None:
        # e.g. customer praise that arrived by itself from a person whose account is gone
        errors["days"] = _("Nobody posted this, so nobody can be suspended.")
    if errors:
        raise FormError(errors)
    return suspend_days


def decide(actor: User, target_type: str, target_id: int, action: str, reason: str = "",
           days: str | int | None = None) -> ModerationDecision:
    """HR's decision on a reported row: restore it, delete it, or delete it and suspend its author."""
    suspend_days = check_decision(actor, target_type, target_id, action, reason, days)
    kind, obj = _row(target_type, target_id)
    reason = reason.strip()
    # Lock the open reports (PostgreSQL), so two HR people can't both decide the same case.
    open_reports = list(db.session.scalars(
        select(Report).where(Report.target_type == target_type, Report.target_id == target_id,
                             Report.resolved_at.is_(None)).with_for_update()
    ))
    if not open_reports:
        raise FormError({"form": _("This report was already decided.")})

    author_id = kind.author_id(obj)
    decision = ModerationDecision(actor_id=actor.id, target_type=target_type, target_id=target_id,
                                  action=action, reason=reason, subject_id=author_id,
                                  suspended_days=suspend_days)
    db.session.add(decision)
    was_hidden = bool(obj.hidden)
    if action == "restore":
        obj.hidden = False
        now = utcnow()
        for r in open_reports:
            r.resolved_at = now
        _forget_open_reports()
        _drop_report_notes([r.id for r in open_reports])
    else:
        if kind.on_delete is not None:
            kind.on_delete(obj)
        signals.content_deleted.send(target_type, target_type=target_type, target_id=target_id)
        db.session.delete(obj)
        forget_reports(target_type, [target_id])
        if suspend_days is not None:
            db.session.add(PostingSuspension(
                user_id=author_id, until=utcnow() + timedelta(days=suspend_days), reason=reason,
                created_by_id=actor.id,
            ))
    db.session.flush()
    record("moderation.decided", actor=actor,
           subject=db.session.get(User, author_id) if author_id is not None else None,
           details={"target_type": target_type, "target_id": target_id, "decision": action,
                    "days": suspend_days, "decision_id": decision.id})
    # The author hears the outcome: that it was removed, or that it is back for everyone (they
    # saw it disappear). A post only its reporter stopped seeing comes back without a word.
    if author_id is not None and author_id != actor.id and (action != "restore" or was_hidden):
        notify(author_id, "moderation_decision", ref_type="moderation", ref_id=decision.id,
               dedupe_key=f"moderation:{decision.id}")
    return decision


def audit_log(viewer: User, before_id: int | None = None, limit: int = 50) -> tuple[list[ModerationDecision], int | None]:
    """Moderation decisions, newest first (keyset on id)."""
    _require_hr(viewer)
    query = select(ModerationDecision).options(
        joinedload(ModerationDecision.actor), joinedload(ModerationDecision.subject))
    if before_id:
        query = query.where(ModerationDecision.id < before_id)
    rows = list(db.session.scalars(query.order_by(ModerationDecision.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


# --- inbox entries -------------------------------------------------------------------

def load_reports_for_inbox(ids: list[int], viewer: User) -> dict[int, Report]:
    """Open reports, for HR's inbox (a decided one drops out of it)."""
    if not viewer.is_hr:
        return {}
    return {r.id: r for r in db.session.scalars(
        select(Report).where(Report.id.in_(ids), Report.resolved_at.is_(None)))}


def load_decisions_for_inbox(ids: list[int], viewer: User) -> dict[int, ModerationDecision]:
    """Decisions about the viewer's own posts (nobody else's)."""
    return {d.id: d for d in db.session.scalars(
        select(ModerationDecision).where(ModerationDecision.id.in_(ids),
                                         ModerationDecision.subject_id == viewer.id))}
