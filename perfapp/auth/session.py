"""Flask-Login wiring: the cookie carries a random session token, not the user id."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from sqlalchemy import Integer, bindparam, literal, select

from perfapp.core import pages
from perfapp.core.changes import ORG, stamp_columns
from perfapp.core.security import unauthorized_response
from perfapp.extensions import db
from perfapp.people.models import User


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
    from perfapp.people.models import manages_anyone, prefetch_viewer_state

    # Built once: every logged-in request runs it. Besides the person it reads what every page's
    # shell asks about the viewer (whether they manage anyone, the unread count on the Home tab)
    # and what every page of cards does (the posts they reported, hidden for them), so those are
    # not statements of their own: each statement costs more in SQLAlchemy than in the database.
    by_token = (select(User, manages_anyone(User.id), unread_of(User.id), open_reports_of(User.id))
                .join(LoginSession, LoginSession.user_id == User.id)
                .where(LoginSession.token_hash == bindparam("token_hash"), User.active.is_(True)))

    # A page found before its view by the changes (perfapp.core.pages) reads them here too: the
    # viewer's and the organisation's, and those of the page's person and channel when it has
    # them. One statement per shape, built once: a subquery bound to NULL still costs PostgreSQL
    # an index probe and the driver a column. (A shared channel, the praise wall's, is read apart,
    # at most once a second per worker: pages.channel_changes.)
    shapes: dict[tuple[bool, bool], Any] = {}

    def with_changes(about: dict[str, int | None]) -> Any:
        shape = (about["about"] is not None, about["channel"] is not None)
        if shape not in shapes:
            ids = [User.id, literal(ORG)] + [bindparam(name, type_=Integer)
                                             for name, wanted in zip(("about", "channel"), shape, strict=True)
                                             if wanted]
            shapes[shape] = (by_token.add_columns(*stamp_columns(*ids)), shape)
        return shapes[shape]

    def changes_of(row: Any, shape: tuple[bool, bool]) -> tuple[Any, ...]:
        """The page's changes: the viewer's, its person's, its channel's, ORG's ((None, 0) where
        the page has none), as pages.VIEWER_CHANGES and ORG_CHANGES name them."""
        read = iter(row[4:])
        viewer, org = (next(read), next(read)), (next(read), next(read))
        about, channel = ((next(read), next(read)) if wanted else (None, 0) for wanted in shape)
        return (*viewer, *about, *channel, *org)

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        binds: dict[str, Any] = {"token_hash": token_hash(token)}
        shape = None
        statement = by_token
        if pages.checks_changes():
            about = pages.about_request()
            statement, shape = with_changes(about)
            binds.update((name, value) for name, value in about.items() if value is not None)
        row = db.session.execute(statement, binds).one_or_none()
        if row is None:
            return None
        user, manages_anyone, unread_count, open_reports = row[:4]
        if shape is not None:
            pages.changes_read(changes_of(row, shape))
        user.session_token = token
        prefetch_viewer_state(user, is_manager=bool(manages_anyone), unread=int(unread_count or 0))
        prefetch_open_reports(user.id, open_reports)
        return user

    # 302 to the login page for a page navigation, 401 for everything else (perfapp.core.security).
    login_manager.unauthorized_handler(unauthorized_response)
