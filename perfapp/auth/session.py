"""Flask-Login wiring: the cookie carries a random session token, not the user id."""
from __future__ import annotations

import hashlib

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
    # viewer's, the page's person's and channel's, the organisation's, and the page's shared
    # channel's (the praise wall's: everything public).
    with_changes = by_token.add_columns(*stamp_columns(
        User.id, bindparam("about", type_=Integer), bindparam("channel", type_=Integer), literal(ORG),
        bindparam("shared", type_=Integer)))

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        checked = pages.checks_changes()
        row = db.session.execute(with_changes if checked else by_token,
                                 {"token_hash": token_hash(token), **(pages.about_request() if checked else {})}
                                 ).one_or_none()
        if row is None:
            return None
        user, manages_anyone, unread_count, open_reports = row[:4]
        if checked:
            # The page's: the viewer's, its person's, its channel's, ORG's; the shared: ORG's, its own.
            pages.changes_read(tuple(row[4:12]), tuple(row[10:14]))
        user.session_token = token
        prefetch_viewer_state(user, is_manager=bool(manages_anyone), unread=int(unread_count or 0))
        prefetch_open_reports(user.id, open_reports)
        return user

    # 302 to the login page for a page navigation, 401 for everything else (perfapp.core.security).
    login_manager.unauthorized_handler(unauthorized_response)
