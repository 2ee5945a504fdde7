"""What the service worker precaches, and the versions that make browsers update it."""
from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import current_app, url_for
from flask_babel import force_locale

from perfapp.config import BASE_DIR
from perfapp.core import assets
from perfapp.core.i18n import html_lang

# The app shell: every page needs these, so they are cached at install, not on first use.
SHELL_FILES = (
    "css/app.css",
    "js/app.js",
    "js/outbox.js",
    "js/voice.js",
    "js/push.js",
    "js/copy.js",
    "js/time.js",
    "vendor/htmx/htmx.min.js",
    "icons/sprite.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-192.png",
    "icons/maskable-512.png",
    "icons/apple-touch-icon.png",
)
MANIFEST_FILES = ("icons/icon-192.png", "icons/icon-512.png",
                  "icons/maskable-192.png", "icons/maskable-512.png")
# What the offline page is made of besides the shell files: when one changes, so does the page.
OFFLINE_TEMPLATES = ("base.html", "pwa/offline.html")


@lru_cache(maxsize=1)
def workbox_dir() -> str:
    """The vendored Workbox folder under static/, e.g. "vendor/workbox-v7.4.1" (make vendor keeps one)."""
    found = sorted(p.name for p in (assets.STATIC_DIR / "vendor").glob("workbox-v*") if p.is_dir())
    if len(found) != 1:
        raise RuntimeError(f"expected one static/vendor/workbox-v* folder, found {found}")
    return f"vendor/{found[0]}"


@lru_cache(maxsize=8)
def _offline_sources_hash(locale: str) -> str:
    digest = hashlib.sha256(locale.encode())
    for name in OFFLINE_TEMPLATES:
        digest.update((BASE_DIR / "templates" / name).read_bytes())
    catalog = BASE_DIR / "translations" / locale / "LC_MESSAGES" / "messages.mo"
    if catalog.exists():
        digest.update(catalog.read_bytes())
    return digest.hexdigest()[:12]


def offline_revision(locale: str) -> str:
    """Changes with the shell files, the offline page's templates, its language and that catalog."""
    return f"{assets.assets_version(list(SHELL_FILES))}-{_offline_sources_hash(locale)}-{locale}"


def offline_url(locale: str) -> str:
    """The offline page in one language: the URL decides it, not the fetch's headers."""
    return url_for("pwa.offline", lang=locale)


def offline_pages() -> dict[str, str]:
    """{html lang: offline page URL} for every language, the default language first,
    e.g. {"en": "/offline?lang=en", "zh-Hans": "/offline?lang=zh_Hans_CN"}."""
    pages = {}
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for locale in sorted(current_app.config["LANGUAGES"], key=lambda loc: loc != default):
        with force_locale(locale):
            pages[html_lang()] = offline_url(locale)
    return pages


def precache_entries() -> list[dict[str, str]]:
    """Workbox precache manifest: versioned static URLs with their content hash, and the
    offline page in every language (the worker shows the one the person last read)."""
    entries = [{"url": assets.static_url(name), "revision": assets.file_hash(name)} for name in SHELL_FILES]
    entries += [{"url": offline_url(locale), "revision": offline_revision(locale)}
                for locale in current_app.config["LANGUAGES"]]
    return entries


def service_worker_version() -> str:
    """One hash over everything precached: the worker's text changes whenever any of it does."""
    digest = hashlib.sha256(workbox_dir().encode())
    for entry in precache_entries():
        digest.update(f"{entry['url']} {entry['revision']}\n".encode())
    return digest.hexdigest()[:12]


def manifest_version() -> str:
    """Changes with the manifest's icons, so browsers fetch it again."""
    return assets.assets_version(list(MANIFEST_FILES))


def workbox_urls() -> tuple[str, str]:
    """(workbox-sw.js URL, module path prefix); the folder name carries the version."""
    prefix = url_for("static", filename=workbox_dir() + "/")
    return prefix + "workbox-sw.js", prefix
