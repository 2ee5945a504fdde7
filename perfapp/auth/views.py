"""Login, logout, invitation links, forgotten passwords."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash, make_response, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from perfapp.auth import bp, services
from perfapp.core.htmx import redirect
from perfapp.core.ratelimit import per_account, per_address
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import User


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home")
    return target


def _log_in(user, remember: bool) -> None:
    # A new session id on every login: drop whatever the anonymous session held.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    services.start_session(user, request.headers.get("User-Agent", ""))
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@per_account("RATELIMIT_LOGIN_ACCOUNT")
@per_address("RATELIMIT_LOGIN_ADDRESS")
def login() -> Response | str:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    errors: dict[str, str] = {}
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            user = services.authenticate(email, request.form.get("password", ""))
        except FormError as e:
            db.session.commit()  # keep the failure count
            errors = e.errors
        else:
            _log_in(user, remember=bool(request.form.get("remember")))
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), 303)
    return Response(
        render_template("auth/login.html", errors=errors, email=email),
        status=422 if errors else 200,
    )


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        services.end_session(current_user.session_token)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), 303)


def _link_gone(kind: str) -> Response:
    """A spent, expired or unknown invite/reset link: a translated page, 404, nothing changed."""
    db.session.rollback()
    response = make_response(render_template("auth/link_gone.html", kind=kind), 404)
    response.headers["Cache-Control"] = "no-store"
    return response


def _new_password(template: str, status_errors: dict[str, str], **context: object) -> Response:
    response = make_response(render_template(template, errors=status_errors, **context),
                             422 if status_errors else 200)
    # The page's URL holds a secret token: keep it out of caches (and the Referer, see base headers).
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_repeat() -> None:
    if request.form.get("password") != request.form.get("password2"):
        raise FormError({"password2": _("The two passwords don't match.")})


def _choose_password(template: str, complete: Callable[[str], User], welcome: str,
                     **context: Any) -> Response:
    """The new-password form of an invite or a reset link: set it, end every other session (the
    service does), log in here, go home."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            _check_repeat()
            user = complete(request.form.get("password", ""))
        except FormError as e:
            db.session.rollback()
            errors = e.errors
        else:
            if current_user.is_authenticated:
                logout_user()
            _log_in(user, remember=False)
            db.session.commit()
            flash(welcome, "success")
            return redirect(url_for("home"), 303)
    return _new_password(template, errors, **context)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Response:
    invite = services.find_invite(token)
    if invite is None:
        return _link_gone("invite")
    return _choose_password(
        "auth/invite.html", lambda password: services.accept_invite(invite, password),
        _("Welcome to perfapp, %(name)s!", name=invite.user.name), invite=invite)


@bp.route("/forgot", methods=["GET", "POST"])
@per_account("RATELIMIT_RESET_ACCOUNT")
@per_address("RATELIMIT_RESET_ADDRESS")
def forgot_password() -> Response:
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    errors: dict[str, str] = {}
    email = request.form.get("email", "") if request.method == "POST" else request.args.get("email", "")
    if request.method == "POST":
        clean = services.normalise_email(email)
        if "@" not in clean or len(clean) < 3:
            errors = {"email": _("Enter your email address, like name@example.com.")}
        else:
            services.request_reset(clean)
            db.session.commit()
            return redirect(url_for("auth.forgot_password", sent=1), 303)
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return make_response(render_template("auth/forgot.html", errors=errors, email=email[:254], sent=sent),
                         422 if errors else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    reset = services.find_reset(token)
    if reset is None:
        return _link_gone("reset")
    return _choose_password(
        "auth/reset.html", lambda password: services.complete_reset(reset, password),
        _("Your password has been changed. Any other device was logged out."), reset=reset)
