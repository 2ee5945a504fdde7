"""Flask-Login wiring: the cookie carries a random session token, not the user id."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from sqlalchemy import ClauseElement, Integer, bindparam, event, inspect, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from perfapp.core import pages
from perfapp.core.changes import ORG, stamp_columns
from perfapp.core.db import Prepared, attach
from perfapp.core.security import unauthorized_response
from perfapp.people.models import User


def _columns(model: type[Any]) -> dict[str, Any]:
    """A model's column attributes by name (`stored_name`, say), with their columns (`name`)."""
    return {prop.key: prop.columns[0] for prop in inspect(model).column_attrs}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from perfapp.auth.models import LoginSession
    from perfapp.moderation.services import open_reports_of, prefetch_open_reports
    from perfapp.notify.services import unread_of
    from perfapp.people.models import Department, manages_anyone, prefetch_viewer_state

    # Built once: every logged-in request runs it. Besides the person (and their department, which
    # the ORM would join) it reads what every page's shell asks about the viewer (whether they
    # manage anyone, the unread count on the Home tab) and what every page of cards does (the
    # posts they reported, hidden for them), so those are not statements of their own: each
    # statement costs more in SQLAlchemy than in the database. Columns, not entities: it runs on
    # the cursor (db.Prepared) and the person is attached to the session from its row.
    person, department = _columns(User), _columns(Department)
    by_token = (select(*person.values(), *department.values(),
                       manages_anyone(User.id), unread_of(User.id), open_reports_of(User.id))
                .join(LoginSession, LoginSession.user_id == User.id)
                .outerjoin(Department, Department.id == User.department_id)
                .where(LoginSession.token_hash == bindparam("token_hash"), User.active.is_(True)))
    split = len(person), len(person) + len(department)

    # A page found before its view by the changes (perfapp.core.pages) reads them here too: the
    # viewer's and the organisation's, and those of the page's person and channel when it has
    # them. One statement per shape, built once: a subquery bound to NULL still costs PostgreSQL
    # an index probe and the driver a column. (A shared channel, the praise wall's, is read apart,
    # at most once a second per worker: pages.channel_changes.)
    shapes: dict[tuple[bool, bool], tuple[Prepared, tuple[bool, bool]]] = {}
    plain = Prepared(by_token)

    def with_changes(about: dict[str, int | None]) -> tuple[Prepared, tuple[bool, bool]]:
        shape = (about["about"] is not None, about["channel"] is not None)
        if shape not in shapes:
            ids = [User.id, literal(ORG)] + [bindparam(name, type_=Integer)
                                             for name, wanted in zip(("about", "channel"), shape, strict=True)
                                             if wanted]
            shapes[shape] = (Prepared(by_token.add_columns(*stamp_columns(*ids))), shape)
        return shapes[shape]

    def changes_of(row: Any, shape: tuple[bool, bool]) -> pages.Changes:
        """The page's changes, from the columns stamp_columns added (the viewer's, ORG's, then
        the page's person's and channel's where its shape has them)."""
        read = iter(row[split[1] + 3:])
        viewer, org = (next(read), next(read)), (next(read), next(read))
        about, channel = ((next(read), next(read)) if wanted else (None, 0) for wanted in shape)
        return pages.Changes(viewer, about, channel, org)

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        binds: dict[str, Any] = {"token_hash": token_hash(token)}
        shape = None
        statement = plain
        if pages.checks_changes():
            about = pages.about_request()
            statement, shape = with_changes(about)
            binds.update((name, value) for name, value in about.items() if value is not None)
        row = statement.one_or_none(binds)
        if row is None:
            return None
        user = attach(User, dict(zip(person, row, strict=False)))
        if row[split[0]] is not None:  # their department (the ORM's joined load)
            set_committed_value(user, "department",
                                attach(Department, dict(zip(department, row[split[0]:split[1]], strict=False))))
        elif "department" not in user.__dict__:
            set_committed_value(user, "department", None)
        manages_anyone, unread_count, open_reports = row[split[1]:split[1] + 3]
        if shape is not None:
            pages.changes_read(changes_of(row, shape))
        user.session_token = token
        prefetch_viewer_state(user, is_manager=bool(manages_anyone), unread=int(unread_count or 0))
        prefetch_open_reports(user.id, open_reports)
        return user

    # 302 to the login page for a page navigation, 401 for everything else (perfapp.core.security).
    login_manager.unauthorized_handler(unauthorized_response)
    if not event.contains(Session, "before_commit", _viewer_before_commit):
        event.listen(Session, "before_commit", _viewer_before_commit)
        event.listen(Session, "after_commit", _viewer_after_commit)
        event.listen(Session, "after_transaction_end", _viewer_after_transaction_end)


_VIEWER = "perfapp_viewer_kept"


def _viewer_before_commit(session: Session) -> None:
    """The viewer's row (and department) as this request holds them, kept over its commit.

    A commit expires every loaded object, and a write's answer then read the viewer again, a
    statement for the person and their department (the language, flask-login's is_active, the
    page's shell): about a fifth of a feedback post's CPU with the other reloads. The request
    loaded the viewer and changed them, if at all, through this object, so what it holds is what
    was committed; values set as SQL expressions are left to load."""
    if not has_request_context() or session.in_nested_transaction():
        return
    user = g.get("_login_user")
    if not isinstance(user, User) or inspect(user).session is not session:
        return
    kept = [(obj, {key: value for key, value in state.dict.items()
                   if key in state.mapper.column_attrs and not isinstance(value, ClauseElement)})
            for obj in (user, user.__dict__.get("department")) if obj is not None
            for state in (inspect(obj),)]
    session.info[_VIEWER] = kept


def _viewer_after_commit(session: Session) -> None:
    """The commit happened: put the kept values back once it has expired everything (which it
    does after this event, before the transaction ends: _viewer_after_transaction_end)."""
    if not session.in_nested_transaction() and _VIEWER in session.info:
        session.info[_VIEWER + "_committed"] = session.info.pop(_VIEWER)


def _viewer_after_transaction_end(session: Session, transaction: Any) -> None:
    session.info.pop(_VIEWER, None)  # a rollback: what was kept may not have been written
    if transaction.parent is not None:
        return
    for obj, values in session.info.pop(_VIEWER + "_committed", ()):
        state = inspect(obj)
        if state.session is not session or state.was_deleted:
            continue
        for key, value in values.items():
            set_committed_value(obj, key, value)
