"""Versioned static URLs: /static/x.css?v=<content hash>, so files can be cached for a year."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for
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
    if not app.debug:
        return
    file_hash.cache_clear()
