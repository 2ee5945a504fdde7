"""A page cache for the most-read logged-in pages, made stale by any committed change.

The home feed, profiles, walls and the people picker are read far more often than anything
changes (people reload, go back, switch tabs). `@cached_page` keeps each page's HTML per
viewer, URL, htmx target and language in the worker's memory, stamped with the database's
*generation*: a counter (table cache_generation, one row) that every transaction changing
anything increments before it commits, whichever process or host runs it. A cached page is
used only while the generation, the organisation's date and its one-minute lifetime are the
same, so a change is visible on the very next request, as it would be without the cache; the
one-minute lifetime bounds what depends on the clock alone (a request expiring, say).

Per-request parts (relative dates, the CSRF token) are left out of the stored HTML and filled
in on every use (perfapp.core.fragments). Pages that flash a message, touch the session or
answer anything but a 200 are not stored.

Bumping: SQLAlchemy session events note that a transaction wrote (a flush with changes, or an
INSERT/UPDATE/DELETE executed through the session) and, just before it commits, add one to
the counter in the same transaction. Writes outside the session (bulk seeding) don't bump;
they happen before a server starts.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cache, wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, make_response, request, session
from flask_compress.flask_compress import _choose_algorithm, _compress_data
from flask_login import current_user
from sqlalchemy import TextClause, bindparam, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from perfapp.core import i18n
from perfapp.core.fragments import LRU, _fill, _recording
from perfapp.core.i18n import choose_locale
from perfapp.extensions import compress, db

F = TypeVar("F", bound=Callable[..., Any])
LIFETIME = 60.0  # seconds
_WROTE = "perfapp_wrote"
_BUMP = text("UPDATE cache_generation SET n = n + 1 WHERE id = 1")
_KEPT_HEADERS = ("Content-Type", "Vary", "HX-Push-Url", "HX-Trigger", "HX-Retarget", "HX-Reswap")


class _Entry:
    """A cached page: its HTML with markers, the headers to repeat, and the last answer made
    from it ((second, CSRF token, encoding), the filled and maybe compressed body)."""

    __slots__ = ("expires", "body", "headers", "packed")

    def __init__(self, body: str, headers: list[tuple[str, str]]) -> None:
        self.expires = time.monotonic() + LIFETIME
        self.body, self.headers = body, headers
        self.packed: tuple[tuple[Any, ...], str | bytes] | None = None


# Bounded by the characters the pages hold; an entry past its lifetime counts as missing.
PAGES: LRU[_Entry] = LRU(24_000_000, weight=lambda entry: len(entry.body),
                         valid=lambda entry: entry.expires >= time.monotonic())


def _org_date() -> str:
    return datetime.now(ZoneInfo(current_app.config["ORG_TIMEZONE"])).date().isoformat()


@cache
def _light_statement() -> Any:
    from perfapp.auth.models import LoginSession
    from perfapp.core.models import CacheGeneration
    from perfapp.people.models import User

    person, login, counter = User.__table__, LoginSession.__table__, CacheGeneration.__table__
    return (select(person.c.id, person.c.locale, counter.c.n)
            .select_from(login.join(person, person.c.id == login.c.user_id))
            .join(counter, counter.c.id == 1)
            .where(login.c.token_hash == bindparam("token_hash"), person.c.active.is_(True)))


def _light_viewer() -> tuple[int, str | None, int] | None:
    """(person id, their language setting, the change counter) for this session's login, by one
    plain query outside the ORM session (no transaction on PostgreSQL: one round trip), or None
    when it is not an ordinary logged-in session (the view's own login check then decides).

    A hit needs nothing else from the database, so it never loads the person: logging out,
    deactivation and every other change are writes, which the counter sees.
    """
    from perfapp.auth.session import token_hash

    token = session.get("_user_id")  # Flask-Login's key for what the user loader takes
    if not token:
        return None
    options = {} if db.engine.dialect.name == "sqlite" else {"isolation_level": "AUTOCOMMIT"}
    with db.engine.connect().execution_options(**options) as conn:
        row = conn.execute(_light_statement(), {"token_hash": token_hash(token)}).first()
    return None if row is None else (row[0], row[1], row[2])


def cached_page(view: F) -> F:
    """Serve a logged-in GET page from the cache while nothing has changed (see the module).

    Put it above @login_required: a hit is answered before the person is loaded."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if (not current_app.config.get("PAGE_CACHE", True) or request.method != "GET"
                or "_flashes" in session):
            return view(*args, **kwargs)
        viewer = _light_viewer()
        if viewer is None:
            return view(*args, **kwargs)
        person_id, person_locale, stamp = viewer
        headers = request.headers
        key = (request.full_path, headers.get("HX-Request"), headers.get("HX-Target"),
               headers.get("HX-Boosted"), headers.get("HX-History-Restore-Request"),
               person_id, choose_locale(person_locale), stamp, _org_date())
        found = PAGES.get(key)
        if found is not None:
            return _answer(found)
        modified = session.modified
        token = _recording.set(True)
        try:
            response = make_response(view(*args, **kwargs))
        finally:
            _recording.reset(token)
        if response.direct_passthrough or not response.mimetype.startswith("text/"):
            return response
        body = response.get_data(as_text=True)
        if (response.status_code == 200 and "Set-Cookie" not in response.headers
                and session.modified == modified and "_flashes" not in session
                and current_user.is_authenticated and current_user.id == person_id):
            PAGES.put(key, _Entry(body, [(k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS]))
        response.set_data(_fill(body))
        return response

    return wrapper  # type: ignore[return-value]


def _answer(entry: _Entry) -> Response:
    """A cached page as a response.

    The filled page (relative dates, the session's CSRF token) is kept with the entry, compressed,
    for the rest of the current second: relative dates count whole seconds at the finest, so
    within one second the page would come out the same (to the viewer, if not to the byte at a
    boundary). A new second, another session's token or another encoding fill it again.
    """
    algorithm = None
    if current_app.config.get("COMPRESS_REGISTER", True):  # as create_app registers Flask-Compress
        algorithm = _choose_algorithm(compress.enabled_algorithms, request.headers.get("Accept-Encoding", ""))
    stamp = (i18n.utcnow().replace(microsecond=0), current_app.jinja_env.globals["csrf_token"](), algorithm)
    packed = entry.packed
    if packed is None or packed[0] != stamp:
        filled = _fill(entry.body)
        data = filled if algorithm is None else _compress_data(current_app, filled.encode(), algorithm)
        packed = entry.packed = (stamp, data)
    response = Response(packed[1], 200)
    if algorithm is not None:
        response.headers["Content-Encoding"] = algorithm  # Flask-Compress leaves it as it is
    for name, value in entry.headers:
        response.headers[name] = value
    return response


def _note_write(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    statement = state.statement
    if isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() in ("SELECT", "PRAGMA"):
        return
    state.session.info[_WROTE] = True


def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


def _bump(session: Session) -> None:
    """Before the outermost commit: add one to the generation, in the same transaction."""
    if session.in_nested_transaction():
        # A savepoint's commit (this event fires for those too): the outermost commit counts it.
        # (Committing the outermost transaction with a savepoint still open would skip the
        # count too; nothing here does that: savepoints are `with begin_nested()` blocks.)
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
    if session.info.pop(_WROTE, False):
        session.connection().execute(_BUMP)


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def init_pagecache(app: Flask) -> None:
    """Count committed changes on the app's sessions (Flask-SQLAlchemy's session class)."""
    with app.app_context():
        session_class = db.session.session_factory.class_  # type: ignore[attr-defined]
    if getattr(session_class, "_perfapp_generation", False):
        return
    session_class._perfapp_generation = True
    event.listen(session_class, "do_orm_execute", _note_write)
    event.listen(session_class, "after_flush", _note_flush)
    event.listen(session_class, "before_commit", _bump)
    event.listen(session_class, "after_transaction_end", _forget)
