"""Translated error pages; htmx requests get a small fragment instead of a page."""
from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from perfapp.core.htmx import is_htmx, wants_json


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
        return error_response(code, messages.get(code, _("Something went wrong. Please try again.")))
