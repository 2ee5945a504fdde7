"""Translated error pages; htmx requests get a small fragment instead of a page."""
from __future__ import annotations

import contextlib

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import Forbidden, HTTPException

from perfapp.core.htmx import is_htmx, wants_json
from perfapp.extensions import db

#: Seconds a client should wait before retrying while the database is away.
RETRY_AFTER_SECONDS = 5


def error_response(status: int, message: str) -> Response:
    """A translated error: JSON {"error": message} for programmatic senders, else a page or fragment."""
    if wants_json():
        response = jsonify(error=message)
        response.status_code = status
        response.vary.add("Accept")
        return response
    template = "errors/_error.html" if is_htmx() else "errors/page.html"
    response = make_response(render_template(template, status=status, message=message), status)
    response.vary.add("HX-Request")
    return response


def init_errors(app: Flask) -> None:
    init_unavailable(app)

    @app.errorhandler(CSRFError)
    def csrf_error(_e: CSRFError) -> Response:
        return error_response(400, _("This form has expired. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        messages = {
            400: _("That request could not be understood."),
            403: _("You don't have access to this page."),
            404: _("We couldn't find that page."),
            405: _("That action isn't allowed here."),
            413: _("That upload is too large."),
            429: _("Too many attempts. Please wait a moment and try again."),
        }
        code = e.code or 500
        if code == 403 and e.description and e.description != Forbidden.description:
            return error_response(code, e.description)  # already translated (perfapp.audit.guard.refuse)
        return error_response(code, messages.get(code, _("Something went wrong. Please try again.")))


def storage_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL (disk or max_page_count reached), PostgreSQL's disk_full (53100)."""
    orig = getattr(error, "orig", None)
    text = str(orig or error).lower()
    return "database or disk is full" in text or getattr(orig, "sqlstate", None) == "53100"


def database_unavailable(error: DBAPIError) -> bool:
    """The database can't be reached or can't store more, as opposed to a bug in a query.

    OperationalError covers refused connections, a server shutting down, SQLite's locked or full
    file; a dropped connection shows up as any DBAPIError with connection_invalidated."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError) or bool(error.connection_invalidated)


def unavailable_response(full: bool) -> Response:
    """A translated 503 rendered without touching the database.

    The person's own language setting lives in the database, so the language comes from the
    cookie or the browser here; the page stands alone (no tab bar, no unread count)."""
    from perfapp.core.i18n import choose_locale

    with contextlib.suppress(DBAPIError):  # a dead connection is discarded by the pool
        db.session.rollback()  # the failed transaction
    with force_locale(choose_locale(None)):
        message = (_("Storage is full, so nothing was saved. Your administrator has been alerted; "
                     "please try again later.") if full else
                   _("perfapp is briefly unavailable, so nothing was saved. Please try again in a moment."))
        if wants_json():
            response = jsonify(error=message)
            response.vary.add("Accept")
        else:
            # Rendered without the context processors: Flask-Login's would load the person from
            # the database that just failed (and fail again, as a 500).
            name = "errors/_error.html" if is_htmx() else "errors/unavailable.html"
            html = current_app.jinja_env.get_template(name).render(status=503, message=message)
            response = make_response(html)
    response.status_code = 503
    response.vary.add("HX-Request")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_unavailable(app: Flask) -> None:
    @app.errorhandler(DBAPIError)
    def database_error(e: DBAPIError) -> Response:
        if not database_unavailable(e):
            raise e  # a real bug: the usual 500 (and its log entry)
        full = storage_full(e)
        current_app.logger.error("database unavailable (%s) on %s %s: %s",
                                 "storage full" if full else "unreachable", request.method, request.path,
                                 e.orig or e)
        return unavailable_response(full)
