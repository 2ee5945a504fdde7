"""Health check, manifest, service worker and offline page over HTTP."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from perfapp.core import assets
from perfapp.extensions import db
from perfapp.pwa import services

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture()
def sql_statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def status_of(client, url: str) -> int:  # type: ignore[no-untyped-def]
    """GET a file and close it (WhiteNoise streams files; an open one is a ResourceWarning)."""
    response = client.get(url)
    response.close()
    return response.status_code


def sw_precache(body: str) -> list[dict[str, str]]:
    match = re.search(r"precacheAndRoute\((\[.*?\])\)", body)
    assert match, "no precache manifest in the service worker"
    return json.loads(match.group(1))


def offline_entries(body: str) -> dict[str, str]:
    """{offline page URL: revision} from the worker's precache manifest."""
    return {e["url"]: e["revision"] for e in sw_precache(body) if e["url"].startswith("/offline")}


# --- /healthz ------------------------------------------------------------------

def test_healthz_is_ok_without_touching_the_database(client, sql_statements) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert sql_statements == []


def test_healthz_logged_in_still_makes_no_query(make_user, login, sql_statements) -> None:
    c = login(make_user())
    sql_statements.clear()
    assert c.get("/healthz").status_code == 200
    assert sql_statements == []


# --- manifest --------------------------------------------------------------------

def test_manifest_is_installable(client) -> None:
    response = client.get("/manifest.webmanifest", headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    assert response.headers["Cache-Control"] == "no-cache"
    data = json.loads(response.get_data(as_text=True))
    assert data["name"] and data["short_name"] == "perfapp"
    assert data["display"] == "standalone"
    assert data["start_url"].startswith("/") and data["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", data["background_color"])
    icons = {(i["sizes"], i["purpose"]) for i in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    for icon in data["icons"]:
        assert icon["type"] == "image/png"
        assert status_of(client, icon["src"]) == 200


def test_manifest_follows_the_language(client) -> None:
    en = json.loads(client.get("/manifest.webmanifest", headers=EN).get_data(as_text=True))
    zh = json.loads(client.get("/manifest.webmanifest", headers=ZH).get_data(as_text=True))
    assert en["lang"] == "en"
    assert zh["lang"] == "zh-Hans"
    response = client.get("/manifest.webmanifest", headers=ZH)
    assert {"Cookie", "Accept-Language"} <= set(response.vary)


def test_pages_link_a_versioned_manifest_per_language(client) -> None:
    link = re.compile(r'<link rel="manifest" href="(/manifest\.webmanifest\?[^"]+)">')
    en = link.search(client.get("/auth/login", headers=EN).get_data(as_text=True))
    zh = link.search(client.get("/auth/login", headers=ZH).get_data(as_text=True))
    assert en and zh
    assert "v=" + services.manifest_version() in en.group(1)
    assert en.group(1) != zh.group(1)
    # The link's language wins over the headers of the browser's manifest fetch.
    url = zh.group(1).replace("&amp;", "&")
    data = json.loads(client.get(url, headers=EN).get_data(as_text=True))
    assert data["lang"] == "zh-Hans"


# --- /sw.js -------------------------------------------------------------------------

def test_service_worker_headers(client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"


def test_service_worker_uses_the_vendored_workbox(client) -> None:
    body = client.get("/sw.js").get_data(as_text=True)
    folder = services.workbox_dir()
    assert re.fullmatch(r"vendor/workbox-v\d+\.\d+\.\d+", folder)
    assert f'importScripts("/static/{folder}/workbox-sw.js")' in body
    assert f'modulePathPrefix: "/static/{folder}/"' in body
    assert "debug: false" in body
    # Every module the worker touches is vendored, in its production build.
    modules = re.search(r"const \{ (.*?) \} = workbox;", body)
    assert modules
    names = {"core": "core", "precaching": "precaching", "routing": "routing",
             "strategies": "strategies", "expiration": "expiration",
             "navigationPreload": "navigation-preload"}
    for prop in modules.group(1).split(", "):
        path = assets.STATIC_DIR / folder / f"workbox-{names[prop]}.prod.js"
        assert path.is_file(), path
        assert status_of(client, f"/static/{folder}/workbox-{names[prop]}.prod.js") == 200
    assert status_of(client, f"/static/{folder}/workbox-sw.js") == 200
    assert (assets.STATIC_DIR / folder / "LICENSE").is_file()
    assert not list((assets.STATIC_DIR / folder).glob("*.map"))
    assert not list((assets.STATIC_DIR / folder).glob("*.dev.js"))


def test_service_worker_precaches_the_shell_pages_use(client) -> None:
    body = client.get("/sw.js", headers=EN).get_data(as_text=True)
    precached = {e["url"]: e["revision"] for e in sw_precache(body)}
    assert {"/offline?lang=en", "/offline?lang=zh_Hans_CN"} <= set(precached)
    assert ('const OFFLINE_PAGES = {"en": "/offline?lang=en", '
            '"zh-Hans": "/offline?lang=zh_Hans_CN"};') in body
    page = client.get("/auth/login", headers=EN).get_data(as_text=True)
    used = set(re.findall(r'(?:href|src)="(/static/[^"#]+)"', page))
    assert used, "the login page links no static files"
    assert used <= set(precached), used - set(precached)
    for url, revision in precached.items():
        if url.startswith("/static/"):
            assert url.endswith("?v=" + revision)
            assert status_of(client, url) == 200


def test_service_worker_is_the_same_for_everyone(client, make_user, login) -> None:
    """One stable text at one URL (a worker whose URL changes races the browser's own update
    checks); it precaches the offline page in every language instead."""
    en = client.get("/sw.js", headers=EN).get_data(as_text=True)
    zh = client.get("/sw.js", headers=ZH).get_data(as_text=True)
    mine = login(make_user(locale="zh_Hans_CN")).get("/sw.js").get_data(as_text=True)
    assert en == zh == mine
    revisions = offline_entries(en)
    assert revisions["/offline?lang=en"].endswith("-en")
    assert revisions["/offline?lang=zh_Hans_CN"].endswith("-zh_Hans_CN")


def test_service_worker_changes_when_an_asset_changes(client, monkeypatch) -> None:
    before = client.get("/sw.js", headers=EN).get_data(as_text=True)
    real = assets.file_hash

    def changed(filename: str) -> str:
        return "0123456789" if filename == "css/app.css" else real(filename)

    monkeypatch.setattr(assets, "file_hash", changed)
    after = client.get("/sw.js", headers=EN).get_data(as_text=True)
    assert after != before
    entries = {e["url"]: e["revision"] for e in sw_precache(after)}
    assert entries["/static/css/app.css?v=0123456789"] == "0123456789"
    old_offline, new_offline = offline_entries(before), offline_entries(after)
    assert set(old_offline) == set(new_offline)
    for url, revision in new_offline.items():
        assert revision != old_offline[url]  # the offline pages link the new CSS


def test_service_worker_caches_only_gets_and_routes_pages_and_static(client) -> None:
    body = client.get("/sw.js").get_data(as_text=True)
    assert "networkTimeoutSeconds: 3" in body
    assert "new strategies.NetworkFirst(" in body
    assert "new strategies.CacheFirst(" in body
    assert '"POST"' not in re.sub(r'if \(request\.method !== "POST"\) return;', "", body)
    assert "HX-Target" in body  # fragments are keyed by their target
    assert "/auth/logout" in body  # logging out forgets cached pages


def test_service_worker_is_public_and_makes_no_session(client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# --- /offline ---------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "lang"), [(ZH, "zh-Hans"), (EN, "en")])
def test_offline_page_in_the_persons_language(client, headers, lang) -> None:
    response = client.get("/offline", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in page
    assert 'href="/"' in page  # "Try again"
    if lang == "en":
        assert "You're offline" in page or "You&#39;re offline" in page


def test_offline_page_follows_the_persons_setting(make_user, login) -> None:
    c = login(make_user(locale="zh_Hans_CN"))
    page = c.get("/offline", headers=EN).get_data(as_text=True)
    assert '<html lang="zh-Hans"' in page


@pytest.mark.parametrize(("lang", "html"), [("zh_Hans_CN", "zh-Hans"), ("zh-Hans", "zh-Hans"), ("en", "en"),
                                          ("fr", "en"), ("x<script>", "en")])
def test_offline_page_url_names_the_language(client, lang, html) -> None:
    """What the worker precaches is decided by its URL, whatever the fetch's headers say."""
    other = EN if html != "en" else ZH
    if lang not in ("en", "zh_Hans_CN", "zh-Hans"):
        other = EN  # an unknown ?lang= is ignored: the headers decide
    page = client.get("/offline", query_string={"lang": lang}, headers=other).get_data(as_text=True)
    assert f'<html lang="{html}"' in page
    assert "x<script>" not in page
