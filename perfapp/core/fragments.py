"""A fragment cache for the cards that lists repeat (feed items, flowers, badge awards).

Rendering a feed card through Jinja costs about half a millisecond; a feed page has twenty, and
the home feed, walls and profiles are most of what people open. A card's HTML is a pure function
of a few values: the row's own columns (which never change after it is written), the names it
shows (people, tags, projects, badges), the reaction bar's numbers, what the viewer may do
(see the author, report, promote), and the language. Each card kind builds a *key* holding every
one of those values (perfapp.feedback.cards and friends); cards with equal keys have equal HTML,
whoever looks, so the cache is shared between viewers without sharing anything a viewer may not
see: a confidential card's key says whether the author is shown, and the author is only in the
HTML where it does.

Two things in a card change from one request to the next and are left out of the cached HTML:
relative dates ("3 minutes ago", and the title in the viewer's timezone) and the CSRF token in
the reaction form. While a card renders for the cache, `ago` and `csrf_token` write markers (with
a per-process random nonce, so no stored text can forge one) that `fill` replaces on every use.

The cache lives in each worker process (an LRU of a few thousand cards, a few MB), so there is
nothing to invalidate: a changed value makes a new key, and the old entry ages out. This departs
from ARCHITECTURE.md's "render with templates" only in keeping the rendered text; tests render
every card kind both ways and compare (tests/test_fragments.py).
"""
from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

V = TypeVar("V")
_NONCE = secrets.token_hex(8)
_MARK = re.compile("\x00" + _NONCE + r":(ago|csrf):([^\x00]*)\x00")

# True while a card renders for the cache (ContextVar: each gunicorn thread has its own).
_recording: ContextVar[bool] = ContextVar("fragment_recording", default=False)


def recording() -> bool:
    return _recording.get()


def ago_marker(value: datetime) -> Markup:
    return Markup(f"\x00{_NONCE}:ago:{value.isoformat()}\x00")


def csrf_marker() -> Markup:
    return Markup(f"\x00{_NONCE}:csrf:\x00")


class LRU(Generic[V]):
    """A small thread-safe LRU, bounded by the summed weight of its values (by default, their
    number). Used for cards here and for pages in perfapp.core.pagecache."""

    def __init__(self, max_weight: int, weight: Callable[[V], int] = lambda _value: 1,
                 valid: Callable[[V], bool] = lambda _value: True) -> None:
        self.max_weight, self.weight, self.valid = max_weight, weight, valid
        self.total = 0
        self.data: OrderedDict[Hashable, V] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self.lock:
            found = self.data.get(key)
            if found is None or not self.valid(found):
                self.misses += 1
                return None
            self.hits += 1
            self.data.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self.lock:
            old = self.data.pop(key, None)
            if old is not None:
                self.total -= self.weight(old)
            self.data[key] = value
            self.total += self.weight(value)
            while self.total > self.max_weight and self.data:
                self.total -= self.weight(self.data.popitem(last=False)[1])

    def clear(self) -> None:
        with self.lock:
            self.data.clear()
            self.total = 0
            self.hits = self.misses = 0


_CACHE: LRU[str] = LRU(4096)


def person_key(person: Any) -> tuple[Any, ...]:
    """What a card shows of a person (the avatar's initials and hue follow from these)."""
    return (person.id, person.name) if person is not None else ()


def _fill(html: str) -> str:
    if "\x00" not in html:
        return html
    from perfapp.core.i18n import ago_iso

    csrf: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "ago":
            return str(ago_iso(match.group(2)))
        if not csrf:
            csrf.append(current_app.jinja_env.globals["csrf_token"]())  # type: ignore[operator]
        return csrf[0]

    return _MARK.sub(replace, html)


def card(template: str, key: tuple[Any, ...], context: Callable[[], dict[str, Any]]) -> Markup:
    """The card `template` renders with `context()`, from the cache when `key` was seen before.

    `key` must hold every value the template's output depends on, besides the language (added
    here) and relative dates and the CSRF token (filled in on every use).
    """
    if not current_app.config.get("FRAGMENT_CACHE", True):
        return Markup(render_template(template, **context()))
    full_key = (template, str(get_locale()), key)
    html = _CACHE.get(full_key)
    if html is None:
        token = _recording.set(True)
        try:
            html = render_template(template, **context())
        finally:
            _recording.reset(token)
        _CACHE.put(full_key, html)
    if _recording.get():
        return Markup(html)  # inside a card being recorded: the outer card fills the markers
    return Markup(_fill(html))
