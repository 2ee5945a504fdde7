"""The HR/admin gate: refuse with 403 and keep the attempt in the audit log.

Every HR-only page goes through here (`hr_required` on admin's, recognition's, audit's and
notify's pages; moderation's and integrations' own HR checks call `refuse`), so each refused attempt is recorded the same way.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from perfapp.audit.services import record
from perfapp.core.db import write_transaction
from perfapp.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def refuse(reason: str = "role") -> NoReturn:
    """Answer 403, recording who tried which page (endpoint, not URL: a URL can hold a person's id).

    Anything the request changed before is dropped first. The entry is committed here, because
    the error response that follows commits nothing; on SQLite the write transaction begins
    IMMEDIATE even for a GET, so it queues for the lock instead of failing mid-way.
    """
    db.session.rollback()
    if current_user.is_authenticated:
        with write_transaction():
            record("access.denied", actor=current_user._get_current_object(),
                   details={"endpoint": request.endpoint or "", "method": request.method,
                            "reason": reason})
            db.session.commit()
    # The error page says why in the person's language (perfapp.core.errors shows a 403's description).
    abort(403, description=_("This page is for HR.") if reason == "role" else None)


def hr_required(view: Callable[P, R]) -> Callable[P, R]:
    """Only HR and admins; a use case raising PermissionError (e.g. HR changing an admin) is a 403 too."""

    @wraps(view)
    @login_required
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_hr:
            refuse()
        try:
            return view(*args, **kwargs)
        except PermissionError:
            refuse("permission")

    return wrapper
