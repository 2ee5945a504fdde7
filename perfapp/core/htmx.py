"""One URL serves the page and its fragment (Hypermedia Systems' Contact.app rule)."""
from __future__ import annotations

from typing import Any

import flask
from flask import Response, make_response, render_template, request

from perfapp.extensions import htmx


def wants_fragment(target: str) -> bool:
    """True for a plain htmx request aimed at `target` (not boosted, not a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request and htmx.target == target


def render(page: str, fragment: str | None = None, target: str | None = None,
           status: int = 200, **context: Any) -> Response:
    """Render the full page, or only its fragment when htmx asks for that target."""
    if fragment and target and wants_fragment(target):
        body = render_template(fragment, **context)
    else:
        body = render_template(page, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_json() -> bool:
    """True when a programmatic sender (the outbox, the service worker) asks for JSON."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def redirect(location: str, code: int = 302) -> Response:
    """flask.redirect, typed as what it returns: the app's response class (flask.Response), which
    flask annotates as werkzeug's base Response."""
    response = flask.redirect(location, code)
    assert isinstance(response, Response)
    return response
