"""Security headers on every response, and how a request without a session is refused.

Headers (set in one after_request hook):
- Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval'. Cards are cached and
  shared between requests (perfapp.core.cards), so a per-request nonce can't be used; instead
  the templates hold no inline script, event handler or style attribute (static JS and CSS
  classes only). `<script type="application/json">` data blocks are not executed.
- Permissions-Policy: the microphone for the app itself (voice notes), nothing else.
- Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy: same-origin.
- Strict-Transport-Security only when the session cookie is Secure (the app is behind HTTPS).
- Cache-Control: no-store on personal JSON, voice notes and anything answered 401.

A request without a session: a full-page navigation is redirected to the login page; anything
else (a voice note for an `<audio>`, JSON for fetch(), an htmx fragment, the push API) gets
401, since a login page in their place is useless or worse (an `<audio>` receiving HTML).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from cachetools import LRUCache
from flask import Flask, Request, Response, current_app, jsonify, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from perfapp.core.htmx import is_htmx, redirect, wants_json

F = TypeVar("F", bound=Callable[..., Any])

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
    "worker-src 'self'",
))
PERMISSIONS_POLICY = ", ".join((
    # Only features Chromium knows: an unknown one is logged as an error on every page.
    "microphone=(self)", "camera=()", "geolocation=()", "payment=()", "usb=()", "serial=()", "hid=()",
    "midi=()", "magnetometer=()", "gyroscope=()", "accelerometer=()",
    "display-capture=()", "publickey-credentials-get=()", "browsing-topics=()",
))
# No includeSubDomains: other hosts under the organisation's domain are not ours to decide for.
HSTS = "max-age=31536000"
_RESOURCE = "perfapp_resource"
_SIGNED = "csrf_signed"


def resource(view: F) -> F:
    """Mark a view as a non-page resource (a file, JSON, an API): without a session it answers
    401, never a redirect to the HTML login page. Put it on the outermost layer or any inner
    one: functools.wraps carries the mark outwards."""
    setattr(view, _RESOURCE, True)
    return view


def is_resource() -> bool:
    """True when this request's view is marked with @resource."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and bool(getattr(view, _RESOURCE, False))


def is_page_navigation() -> bool:
    """True when the browser is loading a whole page (a link, a typed URL, a plain form post),
    so a redirect to the login page is what the person should see."""
    if is_htmx():
        return False
    if is_resource():
        return False
    # Fetch metadata (every current browser): only a document navigation is a page.
    dest = request.headers.get("Sec-Fetch-Dest")
    if dest and dest != "document":
        return False
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode and mode != "navigate":
        return False
    accept = request.accept_mimetypes
    return not accept or (accept.accept_html and not wants_json())


def unauthorized_response() -> Response:
    """No (valid) session: 302 to login for a page; 401 otherwise (htmx: with HX-Redirect)."""
    message = _("Please log in to continue.")
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    if is_page_navigation():
        response: Response = redirect(url_for("auth.login", next=next_url))
    elif is_htmx():
        response = Response(message, 401, mimetype="text/plain")
        response.headers["HX-Redirect"] = url_for("auth.login", next=_page_behind_htmx())
    elif wants_json() or (request.accept_mimetypes.best or "").endswith("json"):
        response = jsonify(error=message)
        response.status_code = 401
    else:
        response = Response(message, 401, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    response.vary.update(("HX-Request", "Accept", "Sec-Fetch-Dest", "Sec-Fetch-Mode"))
    return response


def _page_behind_htmx() -> str | None:
    """Where to come back to after logging in: the page the htmx request was made from
    (HX-Current-URL), when it is ours; a fragment URL is not a page to return to."""
    current = request.headers.get("HX-Current-URL", "")
    root = request.host_url
    if current.startswith(root):
        path = "/" + current[len(root):]
        return path if not path.startswith("//") else None
    return None


class VerifiedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, each cookie's signature checked once per worker.

    A person sends the same cookie with every page view until their session changes; deriving the
    key and checking the HMAC again each time was 3% of a kept page's CPU, and parsing the Cookie
    header 2% more. What is kept, by the secret, the cookie's name and the whole Cookie header (it
    names the session cookie's value exactly), is the verified payload as text and when it was
    signed: each request decodes its own copy (a session's values are mutable: flash() appends in
    place), and a cookie older than the session lifetime is refused as before (by Flask's own
    check, on a miss)."""

    def __init__(self) -> None:
        self._verified: LRUCache[tuple[Any, str, str], tuple[str, datetime]] = LRUCache(maxsize=20_000)
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        header = request.environ.get("HTTP_COOKIE")
        if not header or not app.secret_key:
            return super().open_session(app, request)
        name = self.get_cookie_name(app)
        key = (app.secret_key, name, header)
        with self._lock:
            found = self._verified.get(key)
        max_age = app.permanent_session_lifetime.total_seconds()
        if found is not None and (datetime.now(UTC) - found[1]).total_seconds() <= max_age:
            return self.session_class(self.serializer.loads(found[0]))
        opened = super().open_session(app, request)
        cookie = request.cookies.get(name)
        signer = self.get_signing_serializer(app)
        if opened and cookie and signer is not None:  # verified (empty: bad, expired or nothing in it)
            _data, signed_at = signer.loads(cookie, max_age=int(max_age), return_timestamp=True)
            with self._lock:
                self._verified[key] = (self.serializer.dumps(dict(opened)), signed_at)
        return opened


def init_security(app: Flask) -> None:
    """The headers hook; behind HTTPS, the __Host- cookie names (see Config); cookie sessions
    verified once per worker (VerifiedCookieSessions)."""
    app.session_interface = VerifiedCookieSessions()
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Browsers keep a __Host- cookie only if it is Secure, has Path=/ and no Domain.
        app.config.update(
            SESSION_COOKIE_NAME="__Host-session", SESSION_COOKIE_PATH="/", SESSION_COOKIE_DOMAIN=None,
            REMEMBER_COOKIE_NAME="__Host-remember", REMEMBER_COOKIE_PATH="/", REMEMBER_COOKIE_DOMAIN=None,
            REMEMBER_COOKIE_SECURE=True,
        )
    app.after_request(security_headers)
    # Flask-WTF puts generate_csrf in every template context; a later context processor wins.
    app.jinja_env.globals["csrf_token"] = stable_csrf_token
    app.context_processor(lambda: {"csrf_token": stable_csrf_token})


def stable_csrf_token() -> str:
    """Flask-WTF's token, signed once per session and kept there.

    generate_csrf() signs the session's raw token with the current time on every request, so
    every page would differ every second and no ETag would ever match. Tokens don't expire
    (WTF_CSRF_TIME_LIMIT = None), so any signature of the raw token is as good as the next: the
    first one is kept in the session, and a page changes only when what it shows changes.
    """
    raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    kept = session.get(_SIGNED)
    if raw is None or kept is None or kept[0] != raw:
        token = generate_csrf()
        raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        session[_SIGNED] = (raw, token)
        return token
    return str(kept[1])


def security_headers(response: Response) -> Response:
    """The headers every response carries (see the module)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    mimetype = response.mimetype or ""
    if mimetype == "text/html":
        response.vary.add("HX-Request")
        headers.setdefault("Cache-Control", "no-cache, private")
        if request.method == "GET" and response.status_code == 200 and not response.direct_passthrough:
            # Conditional GET: going back, or to a tab whose page hasn't changed, gets 304 and the
            # browser's copy. Flask-Compress adds the encoding to the ETag and answers the
            # If-None-Match; without it (tests), werkzeug does.
            response.add_etag()
            if not current_app.config.get("COMPRESS_REGISTER", True):
                response.make_conditional(request)
    elif mimetype == "application/json" or mimetype.startswith("audio/"):
        # Personal JSON (feedback, counts, push devices) and voice notes: never kept by a cache,
        # shared or the browser's (a shared computer, a proxy).
        headers["Cache-Control"] = "no-store"
    return response
