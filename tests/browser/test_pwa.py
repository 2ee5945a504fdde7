"""The app as an installed PWA: service worker, installability, offline pages in the person's language."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LOCALES, PHONE

HTML_LANG = {"zh": "zh-Hans", "en": "en"}
CONTROLLED = "() => navigator.serviceWorker.controller !== null"


def wait_for_service_worker(page: Page) -> None:
    """Until the worker is active and controls this page.

    It claims the pages open when it activates, but a page whose navigation started just
    before that (a quick login) stays uncontrolled until it is loaded again.
    """
    state = page.evaluate("async () => (await navigator.serviceWorker.ready).active.state")
    assert state in ("activating", "activated")
    if not page.evaluate(CONTROLLED):
        page.reload()
    page.wait_for_function(CONTROLLED)


def precached_offline_pages(page: Page) -> list[str]:
    """The languages of the offline pages in the worker's precache."""
    return sorted(page.evaluate("""async () => {
      const langs = [];
      for (const name of await caches.keys())
        for (const request of await (await caches.open(name)).keys()) {
          const url = new URL(request.url);
          if (url.pathname === "/offline") langs.push(url.searchParams.get("lang"));
        }
      return langs;
    }"""))


def wait_for_worker_to_know_language(page: Page, lang: str) -> None:
    """app.js tells the worker the page's language on every load; the worker keeps it."""
    page.wait_for_function("""async (lang) => {
      const saved = await caches.match("/__sw/lang", { cacheName: "perfapp-state" });
      return !!saved && (await saved.text()) === lang;
    }""", arg=lang, polling=100)


def seed_feedback(org) -> None:  # type: ignore[no-untyped-def]
    from perfapp.extensions import db
    from perfapp.feedback.services import FeedbackInput, give_feedback
    from perfapp.people.models import User

    author = db.session.get(User, org.emma.id)
    give_feedback(author, FeedbackInput(recipient_id=org.lina.id, text="Thanks for the launch checklist",
                                        emoji=["🙏"], kind="praise", visibility="public"))
    db.session.commit()


def test_installable(playwright, live_server, org, tmp_path, shot) -> None:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
        base_url=live_server.url, locale=LOCALES["en"], **PHONE,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/auth/login")
        wait_for_service_worker(page)
        assert [w.url for w in context.service_workers] == [live_server.url + "/sw.js"]
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        assert re.search(r"/manifest\.webmanifest\?lang=en&v=\w+$", manifest["url"])
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        shot(page, "installable-login", "en")
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_offline_pages(phone, org, lang, shot, tr, log_in, in_app) -> None:
    in_app(seed_feedback, org)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    wait_for_service_worker(page)
    assert precached_offline_pages(page) == ["en", "zh_Hans_CN"]
    wait_for_worker_to_know_language(page, HTML_LANG[lang])
    # Visit some pages while online, under the worker: a full load, and a boosted tap.
    page.goto("/")
    expect(page.locator("article.fb", has_text="launch checklist")).to_be_visible()
    page.locator("nav.tabbar a[data-tab=me]").click()
    page.wait_for_url("**/people/me")
    expect(page.locator(".profile-name")).to_have_text(org.lina.name)

    p.context.set_offline(True)
    # Never visited: the offline page, in her language.
    page.goto("/walls/")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator(".offline h2")).to_have_text(tr("You're offline", lang))
    assert page.url.endswith("/walls/")
    expect(page.locator("nav.tabbar")).to_have_count(0)  # precached anonymously (no stale badge)
    shot(page, "offline", lang)
    # Visited: still there, from the cache (both the loaded page and the boosted one).
    page.goto("/people/me")
    expect(page.locator(".profile-name")).to_have_text(org.lina.name)
    page.goto("/")
    expect(page.locator("article.fb", has_text="launch checklist")).to_be_visible()
    shot(page, "offline-cached-home", lang)
    # A boosted tap to a page never visited falls back to a real navigation, so the offline page.
    page.locator("nav.segmented a[href='/feedback/given']").click()
    page.wait_for_url("**/feedback/given")
    expect(page.locator(".offline h2")).to_have_text(tr("You're offline", lang))

    p.context.set_offline(False)
    page.reload()
    expect(page.locator(".offline")).to_have_count(0)
    expect(page.locator("nav.segmented a[aria-current=page]")).to_have_attribute("href", "/feedback/given")


def test_precaching_never_touches_the_session(phone, org, live_server, log_in) -> None:
    """The worker installs while the person logs in; a credentialed fetch of a page that
    renders a CSRF token could answer with a Set-Cookie that overwrites the new session."""
    from flask import request, request_started

    precache_fetches: list[tuple[str, list[str]]] = []

    def record(_sender, **_kw) -> None:  # type: ignore[no-untyped-def]
        if request.path == "/offline" or request.path.startswith("/static/"):
            precache_fetches.append((request.full_path, sorted(request.cookies)))

    request_started.connect(record, live_server.app)
    try:
        p = phone("en")
        log_in(p.page, org.emma)
        wait_for_service_worker(p.page)
        # The page's CSRF token still matches the session: an htmx POST goes through.
        p.page.goto("/feedback/new")
        p.page.locator("#picker-q").fill("lina")
        p.page.locator("#picker-results [data-pick]").first.click()
        p.page.locator("#text").fill("Thanks!")
        p.page.locator(".sendbar button[type=submit]").click()
        expect(p.page.locator("#compose.sent")).to_be_visible()
    finally:
        request_started.disconnect(record, live_server.app)
    offline = [f for f in precache_fetches if f[0].startswith("/offline")]
    assert {path for path, _ in offline} == {"/offline?lang=en", "/offline?lang=zh_Hans_CN"}
    assert all(cookies == [] for _, cookies in offline), offline


def test_offline_page_follows_a_language_switch(phone, org, tr, log_in, shot) -> None:
    p = phone("en")
    page = p.page
    log_in(page, org.james)
    wait_for_service_worker(page)
    wait_for_worker_to_know_language(page, "en")
    page.goto("/people/settings")
    page.locator("label.radio-row", has_text="简体中文").click()
    page.locator("form.card button.btn-primary").click()
    page.wait_for_url("**/people/settings")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    wait_for_worker_to_know_language(page, "zh-Hans")
    p.context.set_offline(True)
    page.goto("/walls/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".offline h2")).to_have_text(tr("You're offline", "zh"))
    shot(page, "offline-after-switch", "zh")


def test_logging_out_forgets_cached_pages(phone, org, log_in) -> None:
    p = phone("en")
    page = p.page
    log_in(page, org.lina)
    wait_for_service_worker(page)
    page.goto("/people/me")
    cached = "async (url) => !!(await (await caches.open('perfapp-pages')).match(url))"
    page.wait_for_function(cached, arg="/people/me")
    page.locator("form[action='/auth/logout'] button").click()
    page.wait_for_url("**/auth/login")
    assert page.evaluate(cached, "/people/me") is False
    # Nor did the POST itself get cached, or the redirect's login page under another URL.
    assert page.evaluate(cached, "/auth/logout") is False


def test_fragments_are_cached_apart_from_pages(phone, org, log_in, shot) -> None:
    """A URL answers with a page or an htmx fragment (Vary: HX-Request): offline, each request
    gets back what it asked for, never the other one."""
    p = phone("en")
    page = p.page
    log_in(page, org.emma)
    wait_for_service_worker(page)
    page.goto("/feedback/new")
    page.locator("#picker-q").fill("lina")
    expect(page.locator("#picker-results [data-pick]", has_text=org.lina.name)).to_be_visible()
    keys = page.evaluate("""async () =>
      (await (await caches.open("perfapp-pages")).keys()).map((r) => r.url.replace(location.origin, ""))""")
    assert "/feedback/new" in keys
    (search_key,) = [k for k in keys if k.startswith("/people/search")]
    assert "q=lina" in search_key and "__hx-target=picker-results" in search_key

    p.context.set_offline(True)
    # The same URL as a page was never loaded: the offline page, not the cached fragment.
    page.goto(search_key.split("&__hx-target")[0])
    expect(page.locator(".offline")).to_be_visible()
    # The compose page from the cache, and the picker answering "lina" from the cache too.
    page.goto("/feedback/new")
    page.locator("#picker-q").fill("lina")
    expect(page.locator("#picker-results [data-pick]", has_text=org.lina.name)).to_be_visible()
    shot(page, "offline-picker", "en")
