"""Whole pages kept per viewer, found again by everything they show.

Rendering a page's template costs more than everything else a hot page does (its queries, its
cached cards, the request itself): about half of a home feed's CPU. Most requests in a living
organisation find the page unchanged since the viewer last saw it. So a hot page's view works
out *what* the page shows as plain values (counts, cursors, labels; its cards by their keys,
`perfapp.core.cards.Cards`) and asks `perfapp.core.htmx.render(..., keep=True)`. The page is
kept in a slot made of

- the template (and whether the full page or the htmx fragment is answered),
- the shell's state: what base.html shows around every page (`shell_state`): the language,
  the timezone, the viewer, their CSRF token, the URL, the htmx headers, and what domains
  register with `shell_value` (the unread count),

together with a digest of those values (`fingerprint`; a page with a value it cannot digest is
never kept). It is served again while the digest is the same and replaced when it differs:
nothing is invalidated, a change shows on the next request, and a slot holds one page, so pages
that change often do not crowd out the rest of an LRU bounded by bytes (PAGE_CACHE_BYTES per
worker). Pages are kept as sent, compressed for the encoding the browser accepts: a hit is
neither rendered nor compressed, and a 75 KB home page takes about 8 KB. A part that changes far
more often than the page around it can be spliced in (`answer`, the praise wall's feed). A page
with a flashed message is never kept (the message shows once). The rule for a template rendered
with keep=True: it reads only its context and the shell's state, nothing else from the request,
the session or the database (the tests render each kept page with and without the cache).

**Found before the view** (`stamped`). Finding a kept page as above still runs the view's queries
and works its cards out, about half of a hit's CPU. A view whose page is a function of one
loader's rows (Home: its one statement) registers that loader as the page's *stamp*: a
before_request hook then runs only the loader, digests its rows with the viewer's columns and the
shell's state, and answers the kept page when that digest is the one it was kept under, before
the view is called. The view reads the same rows through the same loader (`once`: read once per
request), so a page is kept under the digest of exactly the rows it was rendered from.

Cheaper still, **found by its changes**: database triggers append a row to person_change for each
person (or channel) whose pages a write changes (perfapp.core.changes). The login query reads
those of the viewer, of the person the page is about and of its channel; while they, the viewer
and the shell are as when the page was kept, it is answered with the login query alone, for at
most PAGE_RECHECK_VIEW_SECONDS (a bound for a write the triggers would miss), or until what it
shows changes by time alone (`changes_by_time_at`: Home's requests expire). Then its stamp runs
again; a page too wide for one loader (a profile, a goal list) registers without a stamp, and its
view runs again (and finds its kept page as above).
"""
from __future__ import annotations

import gzip
import hashlib
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, time
from functools import cache
from time import monotonic
from time import time as wall_clock
from typing import Any, NamedTuple

import brotli
from cachetools import LRUCache
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    make_response,
    request,
    session,
)
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import inspect as sqlalchemy_inspect
from werkzeug.http import generate_etag

from perfapp.core.db import utcnow

_lock = threading.Lock()
_making_store = threading.Lock()
#: kept pages found and rendered in this process (gunicorn.conf.py logs them when a worker exits)
stats: Counter[str] = Counter()
#: (slot, encoding or "around") -> (digest, encoding used, bytes, ETag)
_cache: LRUCache[Hashable, Any] | None = None
_HX = ("HX-Request", "HX-Boosted", "HX-Target", "HX-History-Restore-Request")
#: endpoint -> its page's stamp (see `stamped`; None: checked by changes alone)
_STAMPS: dict[str, Callable[[], Hashable | None] | None] = {}
#: endpoint -> (the view argument naming the person the page is about, the page's channel, the
#: channel of its spliced part)
_ABOUT: dict[str, tuple[str | None, int | None, int | None]] = {}
#: endpoint -> the function giving its spliced part before the view (see `stamped`)
_PARTS: dict[str, Callable[[], Any]] = {}
#: (name, key, shared changes) -> (when made, value): what every viewer's part is made from
_shared: LRUCache[Hashable, tuple[float, Any]] = LRUCache(maxsize=512)
_making: dict[Hashable, threading.Lock] = {}  # shared values being made, by their slot
#: (name, key) -> (when the channel it was made for was read (wall clock), when made, value): the
#: newest shared value, answered while the next is made (`shared_value`)
_latest: LRUCache[Hashable, tuple[float, float, Any]] = LRUCache(maxsize=512)
#: a spliced part's digest -> the part compressed (`_joined`): apart from the kept pages, as each
#: shared change makes new ones that replace no viewer's page (the old ones age out here without
#: pushing out the pages that will be served again)
_parts: LRUCache[bytes, Compressed] = LRUCache(maxsize=256)
#: endpoints whose pages show nothing read from the viewer's own records (`stamped(viewers_own=False)`)
_NOT_VIEWERS_OWN: set[str] = set()


class Unkeyable(Exception):
    """A context value that cannot be part of a key (an ORM object, say): the page is not kept."""


class Changes(NamedTuple):
    """The changes the login query reads for a page (perfapp.auth.session): for each of the
    viewer, the person the page is about, its channel and the organisation, the newest change's
    id and how many there are ((None, 0) where the page has no such person or channel)."""

    viewer: tuple[Any, Any]
    about: tuple[Any, Any]
    channel: tuple[Any, Any]
    org: tuple[Any, Any]


def fingerprint(value: Any) -> bytes:
    """A 16-byte digest of a plain value: scalars, text (Markup apart from str: one is escaped, the
    other not), dates, sequences, mappings and frozen dataclasses of them, and objects that name their
    content with a plain `page_key()` (a page's cards: their keys); anything else raises Unkeyable. A digest, not the values: a kept page's key would otherwise hold its cards' HTML
    (~70 KB a home page) besides the page itself."""
    digest = hashlib.blake2b(digest_size=16)
    _feed(digest, value)
    return digest.digest()


def _feed(digest: Any, value: Any) -> None:
    update = digest.update
    if value is None or isinstance(value, bool):
        update(b"N" if value is None else b"T" if value else b"F")
    elif isinstance(value, (int, float)):
        update(b"%c%s;" % (b"i" if isinstance(value, int) else b"f", repr(value).encode()))
    elif isinstance(value, str):
        data = value.encode()
        update(b"%c%d:" % (b"m" if isinstance(value, Markup) else b"s", len(data)))
        update(data)
    elif isinstance(value, (date, time)):  # datetime is a date
        update(b"d%s%s;" % (type(value).__name__.encode(), value.isoformat().encode()))
    elif isinstance(value, (list, tuple)):
        update(b"(")
        for item in value:
            _feed(digest, item)
        update(b")")
    elif isinstance(value, Mapping):
        update(b"{")
        for name in sorted(value, key=str):
            _feed(digest, str(name))
            _feed(digest, value[name])
        update(b"}")
    elif is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        _feed(digest, type(value).__qualname__)
        _feed(digest, tuple(getattr(value, f.name) for f in fields(value)))
    elif callable(page_key := getattr(value, "page_key", None)):  # e.g. perfapp.core.cards.Cards
        _feed(digest, type(value).__qualname__)
        _feed(digest, page_key())
    else:
        raise Unkeyable(type(value).__qualname__)


def shell_value(app: Flask, name: str, compute: Callable[[], Hashable]) -> None:
    """Register something base.html shows on every page (the unread count, say): a template
    global `name()` that computes it once per request, and a part of every kept page's key."""

    def once() -> Hashable:
        shown = g.setdefault("shell_shown", {})
        if name not in shown:
            shown[name] = compute()
        return shown[name]

    app.add_template_global(once, name)
    app.extensions.setdefault("perfapp_shell", {})[name] = once


def shell_state() -> tuple[Hashable, ...]:
    """What base.html shows around a page besides the page's own context."""
    from perfapp.core.security import stable_csrf_token

    authenticated = current_user.is_authenticated
    return (
        str(get_locale()), str(get_timezone()),
        current_user.get_id() if authenticated else None,
        stable_csrf_token(),
        request.full_path,
        tuple(request.headers.get(h) for h in _HX),
        tuple((name, once()) for name, once in sorted(current_app.extensions.get("perfapp_shell", {}).items())),
    )


def _store() -> LRUCache[Hashable, Any]:
    global _cache
    if _cache is None:
        with _making_store:  # not _lock: _store() is called with it held (a worker's first page)
            if _cache is None:
                _cache = LRUCache(maxsize=current_app.config.get("PAGE_CACHE_BYTES", 256_000_000),
                                  getsizeof=_size)
    return _cache


def _size(kept: Any) -> int:
    """Bytes an entry of the store holds: a kept page's, a page around its part's (its pieces)."""
    if isinstance(kept, Compressed):
        return len(kept.text) + len(kept.deflated)
    held = kept[2]
    return sum(_size(piece) for piece in held) if isinstance(held, tuple) else len(held)


def clear() -> None:
    """Forget every kept page (tests)."""
    with _lock:
        if _cache is not None:
            _cache.clear()
        _shared.clear()
        _latest.clear()
        _parts.clear()
        _channels.clear()


def key(template: str, context: Mapping[str, Any], spliced: str | None = None) -> tuple[Hashable, bytes] | None:
    """The page's key as (slot, digest), or None when it must not be kept (caching off, a flashed
    message waiting, a value that is not plain). The slot is the template and the shell's state
    (the viewer, the URL...): one page kept per slot, replaced when its digest of the context
    differs, so a page that changes often does not fill the cache with versions never served
    again. `spliced`: the context value left out of the digest (see `answer`)."""
    if not current_app.config.get("PAGE_CACHE", True) or session.get("_flashes"):
        return None
    try:
        return (template, shell_state(), spliced), fingerprint({k: v for k, v in context.items() if k != spliced})
    except Unkeyable:
        return None


#: where a spliced value goes in a kept page's text (user text is escaped: it never contains this)
PLACEHOLDER = Markup("<!--perfapp:spliced-->")


def _html(value: Any) -> str:
    return str(value.__html__()) if hasattr(value, "__html__") else str(escape(value))


def encoding() -> str | None:
    """The compression this request accepts ("br", "gzip" or None), as Flask-Compress would pick."""
    accepted = request.accept_encodings
    for name in current_app.config.get("COMPRESS_ALGORITHM", ("br", "gzip")):
        if name in ("br", "gzip") and accepted[name]:
            return name
    return None


def encode(body: str, how: str | None) -> tuple[str | None, bytes, str]:
    """The body as sent: compressed once here, at Flask-Compress's configured levels, so a kept
    page is neither rendered nor compressed again (and takes a tenth of the memory)."""
    data = body.encode()
    config = current_app.config
    if how is None or len(data) < config.get("COMPRESS_MIN_SIZE", 500):
        how = None
    elif how == "br":
        data = brotli.compress(data, mode=brotli.MODE_TEXT, quality=config.get("COMPRESS_BR_LEVEL", 4))
    else:
        data = gzip.compress(data, compresslevel=config.get("COMPRESS_LEVEL", 6), mtime=0)
    return how, data, generate_etag(data)


@dataclass(frozen=True)
class Parts:
    """Pieces of HTML spliced into a page as one (a feed's cards and its "load more" link)."""

    parts: tuple[Any, ...]

    def __html__(self) -> str:
        return "\n".join(_html(part) for part in self.parts)


class Digested:
    """HTML made once for many requests (the praise wall's frame around its cards), with its digest
    made once too: a page's key (`fingerprint`) reads the digest instead of hashing the text again
    on every request."""

    __slots__ = ("html", "digest")

    def __init__(self, html: Markup) -> None:
        self.html = html
        self.digest = fingerprint(html).hex()

    def __html__(self) -> Markup:
        return self.html

    def page_key(self) -> str:
        return self.digest


def answer(page_key: tuple[Hashable, bytes] | None, render: Callable[[], str], status: int, spliced: Any = None) -> Response:
    """The response for a page: the kept copy when there is one, else `render()` (kept when
    page_key is not None), compressed for this request either way.

    `spliced`: a part that changes far more often than the page around it (the praise wall's
    cards change with every public write anywhere, for every viewer). `render()` then writes
    PLACEHOLDER where it goes, and the page around it is kept apart, as text: when the part
    changes, the page is its kept text with the new part put in, compressed, not rendered again.
    The part must be a plain value (its fingerprint is the kept page's key) with `__html__`."""
    def whole(text: str) -> str:
        return text if spliced is None else text.replace(PLACEHOLDER, _html(spliced), 1)

    if page_key is None:
        return make_response(whole(render()), status)
    slot, digest = page_key
    how = encoding()
    store = _store()
    wanted = digest if spliced is None else digest + fingerprint(spliced)
    with _lock:
        entry = store.get((slot, how))
    if entry is not None and entry[0] == wanted:
        stats["found"] += 1
        kept = entry[1:]
    else:
        stats["rendered"] += 1
        if spliced is None:
            kept = encode(render(), how)
        else:
            with _lock:
                around = store.get((slot, "around"))
            if around is not None and around[0] == digest:
                stats["spliced"] += 1
                text = around[2].decode()
            else:
                text = render()
                with _lock:
                    store[(slot, "around")] = (digest, None, text.encode(), "")
            kept = encode(whole(text), how)
        with _lock:
            store[(slot, how)] = (wanted, *kept)
    stamp = g.pop("_stamped", None)
    if stamp is not None and status == 200 and spliced is None and request.endpoint not in _PARTS:
        slot, digest, quick, until = stamp
        with _lock:
            store[slot] = (digest, *kept, quick, until)
    elif stamp is not None and status == 200 and request.endpoint in _PARTS:
        slot, _digest, quick, until = stamp
        with _lock:
            around = store.get((page_key[0], "around"))
        if around is not None and around[0] == digest:  # the page around this part, as kept
            with _lock:
                store[slot] = (quick, until, _kept_around(around[2].decode()))
    return _sent(kept, status)


def _sent(kept: tuple[str | None, bytes, str], status: int) -> Response:
    used, data, etag = kept
    response = make_response(data, status)  # text/html, Flask's default
    if used:
        response.headers["Content-Encoding"] = used  # Flask-Compress leaves an encoded response alone
    response.vary.add("Accept-Encoding")
    if status == 200 and request.method == "GET":
        # The ETag of the bytes sent, worked out once; going back to an unchanged page gets 304.
        response.set_etag(etag)
        response.make_conditional(request)
    return response


def stamped(endpoint: str, stamp: Callable[[], Hashable | None] | None = None, *,
            about: str | None = None, channel: int | None = None, viewers_own: bool = True,
            part: Callable[[], Any] | None = None, shared: int | None = None) -> None:
    """Register a kept page to be found before its view (see the module's docstring).

    `stamp`: a function of the request that returns what the page shows besides the viewer and
    the shell's state, as a hashable value (rows of the view's own loader, read through `once`),
    or None when this request's page depends on more than that. Without one the page is found by
    the changes alone (below) and, after PAGE_RECHECK_VIEW_SECONDS, by running its view again.

    Changes (perfapp.core.changes) read for the page: the viewer's, those of the person named by
    the view argument `about` (a profile's person_id), and the `channel`'s (GOALS, say); the
    organisation's names (ORG) always. Every table the page reads must be among the triggers'
    (changes.WATCHED) for one of those: what a missed write changes shows only after the recheck.
    `viewers_own=False`: the page shows nothing read from the viewer's own records (only their
    row, which every request reads, and the shell), so their changes are not the page's: a page
    about a colleague is then not made again each time someone writes to its viewer.

    `part`: for a page whose spliced part (render(..., splice=...)) changes with every write of a
    `shared` channel, for every viewer (the praise wall): a function of the request giving that
    part (the view gives the same), or None when it cannot (the view then runs). The page around
    the part is found by the changes above; the part is made from what `shared_value` keeps for
    every viewer, and the two are joined compressed (`_joined`), neither rendered nor compressed
    again."""
    _STAMPS[endpoint] = stamp
    _ABOUT[endpoint] = (about, channel, shared)
    if not viewers_own:
        _NOT_VIEWERS_OWN.add(endpoint)
    if part is not None:
        _PARTS[endpoint] = part


def about_request() -> dict[str, int | None]:
    """The person and channel whose changes this request's page is checked against (bound in the
    login query): {"about": ..., "channel": ...}. (A shared channel is read apart: channel_changes.)"""
    name, channel, _shared = _ABOUT.get(request.endpoint or "", (None, None, None))
    subject = (request.view_args or {}).get(name) if name else None
    return {"about": subject if isinstance(subject, int) else None, "channel": channel}


def once(name: Hashable, load: Callable[[], Any]) -> Any:
    """`load()` read once per request under `name`: a stamp and its view share the rows."""
    loaded = g.setdefault("_loaded", {})
    if name not in loaded:
        loaded[name] = load()
    return loaded[name]


def _viewer_state() -> bytes:
    """The viewer's row as loaded (every column: a page's facets may read any) and what the login
    query read with it (perfapp.auth.session: whether they manage anyone, the posts they
    reported; the unread count is the shell's), as a digest."""
    viewer: Any = current_user._get_current_object()
    values = viewer.__dict__
    return fingerprint((tuple(values.get(name) for name in _columns(viewer.__class__)),
                        values.get("_is_manager"),  # managers may promote praise (a card's facet)
                        sorted(g.get("_open_reports", (None, ()))[1])))


@cache
def _columns(model: type) -> tuple[str, ...]:
    return tuple(sqlalchemy_inspect(model).column_attrs.keys())


def checks_changes() -> bool:
    """Whether this request is a stamped page's GET with kept pages on: its login query then also
    reads the person's changes, and found_before_view may answer it."""
    return (has_request_context() and request.method == "GET" and request.endpoint in _STAMPS
            and current_app.config.get("PAGE_CACHE", True))


def changes_read(changes: Changes) -> None:
    """The newest change and count of changes of the page as the login query read them (the
    viewer's, its person's, its channel's, the organisation's)."""
    g._changes = changes


#: shared channel -> (when read: the worker's clock and the wall clock, its newest change and count)
_channels: dict[int, tuple[float, float, tuple[Any, Any]]] = {}
_channel_lock = threading.Lock()
_WROTE = "_wrote"  # in the session: when this person last wrote (the wall clock, seconds)


def channel_changes(channel: int) -> tuple[float, float, tuple[Any, Any]]:
    """A shared channel's newest change and count (the praise wall's: every public write), with
    when they were read (the worker's clock and the wall clock, before the statement), read at
    most once per PAGE_SHARED_RECHECK_SECONDS by a worker, not by every request's login query: at
    a few public writes a second every read found a new wall, made again for each (and on
    PostgreSQL, counting the channel's rows since the last prune cost each request a heap visit
    per row). Read again at once for a person who wrote since the last read (`remember_writes`):
    whoever just posted praise, gave flowers or reacted sees it on the wall."""
    wrote = session.get(_WROTE, 0.0)
    fresh_for = current_app.config.get("PAGE_SHARED_RECHECK_SECONDS", 1.0)

    def fresh() -> tuple[float, float, tuple[Any, Any]] | None:
        kept = _channels.get(channel)
        return kept if kept is not None and monotonic() - kept[0] < fresh_for and wrote < kept[1] else None

    state = fresh()
    if state is None:
        with _channel_lock:  # one reader per worker: its other threads take what it read
            state = fresh()
            if state is None:
                from perfapp.core.changes import channel_state  # here: changes imports the models

                read_at = (monotonic(), wall_clock())  # before the statement: it sees what committed by then
                state = _channels[channel] = (*read_at, channel_state(channel))
    return state


def remember_writes(response: Response) -> Response:
    """after_request: a person's write that succeeded is remembered in their session (when), so
    their next page reads shared channels again rather than as a worker last read them."""
    if (request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400
            and current_user.is_authenticated):
        session[_WROTE] = wall_clock()
    return response


def shared_value(name: str, key: Hashable, make: Callable[[], Any]) -> Any:
    """What every viewer's part of a page is made from (`stamped(part=...)`), made once while the
    organisation's changes and the page's shared channel's (`channel_changes`) are the same, for
    at most PAGE_RECHECK_SECONDS (what only time changes shows within that). Without the changes
    read (kept pages off, a POST) it is made.

    While one thread makes it again, the worker's other threads answer from the one made before
    (for a viewer who wrote nothing since the channel was read for that one): they would otherwise
    wait the whole making (the praise wall's: its statements, templates and new cards, about once
    a second per worker at a few public writes a second), and every request queued behind them with
    them. A viewer who wrote since waits and sees their write."""
    changes = g.get("_changes") if checks_changes() else None
    shared = _ABOUT.get(request.endpoint or "", (None, None, None))[2]
    if changes is None or shared is None:
        return make()
    _read, read_at, state = channel_changes(shared)
    slot = (name, key, changes.org, state)
    fresh_for = current_app.config.get("PAGE_RECHECK_SECONDS", 20)

    def kept() -> tuple[bool, Any]:
        found = _shared.get(slot)
        return (True, found[1]) if found is not None and monotonic() - found[0] < fresh_for else (False, None)

    with _lock:
        ready, value = kept()
        if not ready and slot in _making:
            before = _latest.get((name, key))  # (channel read at, made at, value)
            if before is not None and session.get(_WROTE, 0.0) < before[0] and monotonic() - before[1] < fresh_for:
                stats["shared kept while made"] += 1
                return before[2]
        # One maker per value: the worker's other threads wait for it rather than make it too.
        maker = None if ready else _making.setdefault(slot, threading.Lock())
    if maker is not None:
        with maker:
            with _lock:
                ready, value = kept()
            if not ready:
                stats["shared made"] += 1
                try:
                    value = make()
                    with _lock:
                        made = monotonic()
                        _shared[slot] = (made, value)
                        latest = _latest.get((name, key))
                        if latest is None or latest[0] <= read_at:
                            _latest[(name, key)] = (read_at, made, value)
                finally:
                    with _lock:
                        _making.pop(slot, None)
                return value
    stats["shared found"] += 1
    return value


def found_before_view() -> Response | None:
    """before_request: the kept page of a stamped view, when what it shows is unchanged (else None,
    and the view runs; its page is then kept under this request's digest).

    Two checks, the cheaper first: the changes (perfapp.core.changes, read by the login query:
    the viewer's, the page's person's and channel's) with the viewer and the shell as they were
    when the page was last checked, until it changes by time alone or PAGE_RECHECK_VIEW_SECONDS
    pass; else the stamp itself (the view's statement), exact. A page without a stamp has only
    the first."""
    if not checks_changes() or session.get("_flashes") or not current_user.is_authenticated:
        return None
    stamp = _STAMPS.get(request.endpoint or "")
    if request.endpoint in _PARTS:
        return _found_around()
    try:
        around = (_viewer_state(), fingerprint(shell_state()))
    except Unkeyable:
        return None
    changes = g.get("_changes")
    if changes is not None and request.endpoint in _NOT_VIEWERS_OWN:
        changes = changes._replace(viewer=None)
    quick = hash((changes, around)) if changes is not None else None
    how = encoding()
    slot = ("stamped", request.endpoint, current_user.get_id(), request.full_path,
            tuple(request.headers.get(h) for h in _HX), how)
    store = _store()
    with _lock:
        entry = store.get(slot)
    now = monotonic()
    if entry is not None and quick is not None and entry[4] == quick and now < entry[5]:
        stats["found by its changes"] += 1
        return _found(entry)
    if stamp is None:  # checked by its changes alone: the view runs, and its page is kept for them
        if quick is not None:
            g._stamped = (slot, None, quick, now + _recheck())
        return None
    try:
        value = stamp()
        if value is None:
            return None
        # Python's hash of the rows (64 bits, per process like the store): a different page under
        # the same digest needs a collision within one viewer's one URL, 1 in 2**64 per change.
        digest = hash((value, around))
    except TypeError:  # an unhashable value in the rows
        return None
    until = now + _recheck()
    if (when := g.pop("_time_changes", None)) is not None:
        until = min(until, now + max(0.0, (when - utcnow()).total_seconds()))
    if entry is not None and entry[0] == digest:
        stats["found before the view"] += 1
        with _lock:
            store[slot] = (*entry[:4], quick, until)
        return _found(entry)
    g._stamped = (slot, digest, quick, until)
    return None


def changes_by_time_at(*when: datetime | None) -> None:
    """A stamp's page changes by time alone at the first of these (UTC) moments (Home: a request
    expires, a review cycle closes): it is answered on its changes until then at most."""
    due = [moment for moment in when if moment is not None]
    if due:
        g._time_changes = min(due)


def _recheck() -> float:
    """Seconds a kept page is answered on its changes alone (PAGE_RECHECK_VIEW_SECONDS, unless it
    changes by time alone sooner: `changes_by_time_at`): this bounds only a write the triggers
    would miss."""
    return float(current_app.config.get("PAGE_RECHECK_VIEW_SECONDS", 300))


def _found_around() -> Response | None:
    """A page with a spliced part (`stamped(part=...)`): the page around the part found by its
    changes, the part given by the endpoint's function, joined compressed; else None (the view
    runs, and answer() keeps the page around its part for these changes)."""
    try:
        around = (_viewer_state(), fingerprint(shell_state()))
    except Unkeyable:
        return None
    changes = g.get("_changes")
    if changes is None:
        return None
    # The page around a part is the shell and the page's frame: nothing in it is read from the
    # viewer's records, their person's or a channel's (the viewer's row and what the shell shows
    # are `around`), so only the organisation's changes (its names) are its own. Keyed by the
    # viewer's changes, it was rendered again for the author and the recipient of every public
    # write in every worker.
    quick = hash((changes.org, around))
    slot = ("around", request.endpoint, current_user.get_id(), request.full_path,
            tuple(request.headers.get(h) for h in _HX))
    store = _store()  # before taking _lock, as everywhere (the store is made on a worker's first page)
    with _lock:
        entry = store.get(slot)
    now = monotonic()
    joinable = encoding() is None or bool(request.accept_encodings["gzip"])  # else brotli, from the view
    if joinable and entry is not None and entry[0] == quick and now < entry[1]:
        value = _PARTS[request.endpoint or ""]()
        if value is not None:
            stats["found by its changes"] += 1
            return _joined(entry[2], value)
    g._stamped = (slot, None, quick, now + _recheck())
    return None


@dataclass(frozen=True)
class Compressed:
    """Text and its raw deflate stream, flushed to a byte boundary (Z_SYNC_FLUSH) or finished:
    such streams written one after another are one deflate stream, so a page is sent gzipped as
    its kept pieces compressed once each (RFC 1951 blocks; RFC 1952's trailer is the CRC-32 and
    length of the whole text, from the pieces' own)."""

    text: bytes
    deflated: bytes
    crc: int

    @classmethod
    def of(cls, text: str, last: bool = False) -> Compressed:
        data = text.encode()
        packer = zlib.compressobj(current_app.config.get("COMPRESS_LEVEL", 6), zlib.DEFLATED, -15)
        deflated = packer.compress(data) + packer.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        return cls(data, deflated, zlib.crc32(data))


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, OS unknown


def _kept_around(text: str) -> tuple[Compressed, Compressed]:
    """A page around its part (PLACEHOLDER), as the head and the tail to join it with."""
    head, tail = text.split(PLACEHOLDER, 1)
    return Compressed.of(head), Compressed.of(tail, last=True)


def _joined(around: tuple[Compressed, Compressed], value: Any) -> Response:
    """The page around `value` with it in place, gzipped from the pieces' kept deflate streams
    (the part's kept by its digest for every viewer who gets the same), or as text when the
    browser takes no gzip."""
    head, tail = around
    digest = fingerprint(value)
    with _lock:
        part = _parts.get(digest)
    if part is None:
        stats["part rendered"] += 1
        part = Compressed.of(_html(value))
        with _lock:
            _parts[digest] = part
    gzipped = encoding() is not None
    if gzipped:
        crc = zlib.crc32(tail.text, zlib.crc32(part.text, head.crc))
        size = len(head.text) + len(part.text) + len(tail.text)
        data = b"".join((_GZIP_HEADER, head.deflated, part.deflated, tail.deflated,
                         struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)))
    else:
        data = head.text + part.text + tail.text
    response = make_response(data, 200)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.vary.add("HX-Request")
    response.set_etag(generate_etag(b"%x.%x.%s" % (head.crc, tail.crc, digest.hex().encode())))
    response.make_conditional(request)
    return response


def _found(entry: tuple[Any, ...]) -> Response:
    response = _sent(entry[1:4], 200)
    response.vary.add("HX-Request")
    return response


def init_pages(app: Flask) -> None:
    """Answer stamped pages before their views (registered after every other before_request
    hook, so rate limits and the like still run first)."""
    app.before_request(found_before_view)
    app.after_request(remember_writes)
