"""Flask-Login wiring: the cookie carries a random session token, not the user id."""
from __future__ import annotations

import hashlib

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from sqlalchemy import bindparam, select

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

    # Built once: every request that is not a page-cache hit runs it. Only the person is loaded
    # (the session row is only a key).
    by_token = (select(User).join(LoginSession, LoginSession.user_id == User.id)
                .where(LoginSession.token_hash == bindparam("token_hash"), User.active.is_(True)))

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        user = db.session.execute(by_token, {"token_hash": token_hash(token)}).scalar_one_or_none()
        if user is None:
            return None
        user.session_token = token
        return user

    # 302 to the login page for a page navigation, 401 for everything else (perfapp.core.security).
    login_manager.unauthorized_handler(unauthorized_response)
