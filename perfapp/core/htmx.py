"""One URL serves the page and its fragment (Hypermedia Systems' Contact.app rule)."""
from __future__ import annotations

from typing import Any

import flask
from flask import Response, render_template, request

from perfapp.core import pages
from perfapp.extensions import htmx


def wants_fragment(target: str) -> bool:
    """True for a plain htmx request aimed at `target` (not boosted, not a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request and htmx.target == target


def render(page: str, fragment: str | None = None, target: str | None = None,
           status: int = 200, keep: bool = False, splice: str | None = None, **context: Any) -> Response:
    """Render the full page, or only its fragment when htmx asks for that target.

    keep=True: the page is kept per viewer and served again while everything it shows is the
    same (perfapp.core.pages; its template must read only its context and the shell's state).
    splice="name": that context value changes more often than the rest of the full page, which is
    kept apart and the value put into it (pages.answer); fragments render it as usual."""
    template = fragment if fragment and target and wants_fragment(target) else page
    spliced = context[splice] if keep and splice and template == page else None
    page_key = pages.key(template, context, splice if spliced is not None else None) if keep else None
    drawn = {**context, splice: pages.PLACEHOLDER} if spliced is not None and splice else context
    response = pages.answer(page_key, lambda: render_template(template, **drawn), status, spliced)
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
