"""Versioned static URLs: /static/x.css?v=<content hash>, so files can be cached for a year."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, url_for

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"


@lru_cache(maxsize=256)
def file_hash(filename: str) -> str:
    data = (STATIC_DIR / filename).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=file_hash(filename))


def assets_version(filenames: list[str]) -> str:
    """One hash over several files: the service worker's precache revision."""
    digest = hashlib.sha256()
    for name in filenames:
        digest.update(file_hash(name).encode())
    return digest.hexdigest()[:12]


def init_assets(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url
    if not app.debug:
        return
    file_hash.cache_clear()
