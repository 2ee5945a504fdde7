"""Versioned static URLs: /static/x.css?v=<content hash>, so files can be cached for a year."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from functools import lru_cache
from pathlib import Path

from cachetools import LRUCache
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"


@lru_cache(maxsize=256)
def file_hash(filename: str) -> str:
    data = (STATIC_DIR / filename).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static_url(filename: str) -> str:
    """The versioned URL; built once per file, hash and script root (url_for costs ~15 µs)."""
    version = file_hash(filename)
    if not has_request_context():  # CLI, jobs: SERVER_NAME decides, no memo
        return url_for("static", filename=filename, v=version)
    urls = current_app.extensions["static_urls"]
    key = (request.root_path, filename, version)
    url = urls.get(key)
    if url is None:
        url = url_for("static", filename=filename, v=version)
        if len(urls) < 4096:
            urls[key] = url
    return url


_ICONS: dict[tuple[str, str, str], Markup] = {}


def icon(name: str, label: str | None = None, cls: str = "") -> Markup:
    """An icon from the sprite (escaped as a Jinja macro would).

    Unlabelled icons are kept by (sprite URL, name, class): a page shows a few dozen, many times over.
    """
    href = static_url("icons/sprite.svg")
    if label:
        return Markup(f'<svg class="icon {escape(cls)}" role="img" aria-label="{escape(label)}">'
                      f'<use href="{escape(href)}#{escape(name)}"/></svg>')
    plain = type(name) is str and type(cls) is str
    if plain and (found := _ICONS.get((href, name, cls))) is not None:
        return found
    svg = Markup(f'<svg class="icon {escape(cls)}" aria-hidden="true"><use href="{escape(href)}#{escape(name)}"/></svg>')
    if plain and len(_ICONS) < 2048:
        _ICONS[(href, name, cls)] = svg
    return svg


_SAME: LRUCache[Hashable, Markup] = LRUCache(maxsize=8192)
_same_lock = threading.Lock()


def same_html(name: str, *key: Hashable, caller: Callable[[], str]) -> Markup:
    """A call block's HTML, rendered once per worker for each key in each language and kept:
    `{% call same_html("tabbar", tab, unread) %}...{% endcall %}`.

    For what base.html shows around every page (its head's links and scripts, the tab bar): a
    few dozen static URLs, links and translations, the same for every person, that a page whose
    content changed rendered again each time (a tenth of a changed home page's CPU); and for the
    parts of a page that are the same for everyone who sees the same values (a profile's head,
    keyed by the plain ProfileHead). The block may read nothing but its key, the language and the
    static files' URLs: anything else that changes its HTML belongs in the key (or outside the
    block). The most recently used 8,192 are kept. Not kept while templates reload (debug): an
    edited block shows at once."""
    if current_app.jinja_env.auto_reload:
        return Markup(caller())
    slot = (name, key, str(get_locale()), request.root_path)
    with _same_lock:  # an LRU's lookup reorders it
        html = _SAME.get(slot)
    if html is None:
        html = Markup(caller())
        with _same_lock:
            _SAME[slot] = html
    return html


def assets_version(filenames: list[str]) -> str:
    """One hash over several files: the service worker's precache revision."""
    digest = hashlib.sha256()
    for name in filenames:
        digest.update(file_hash(name).encode())
    return digest.hexdigest()[:12]


def init_assets(app: Flask) -> None:
    app.extensions["static_urls"] = {}
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["icon"] = icon
    app.jinja_env.globals["same_html"] = same_html
    if not app.debug:
        return
    file_hash.cache_clear()
