"""Page weight over the wire: what a phone downloads for the home page and for one htmx step.

    .venv/bin/python -m bench.size [--database-url URL]

Serves the app the way `make run` does (static files precompressed for whitenoise, HTML
compressed by flask-compress) with gunicorn on 127.0.0.1, drives Debian's Chromium through
Playwright (never `playwright install`), logs in as employee@example.com, clears the cache
and loads the home page, summing the compressed bytes of every response (CDP
Network.loadingFinished encodedDataLength: body plus headers as received). Then it measures
two htmx steps on their own: infinite scroll (the next page of the feed as a fragment) and
a tab change in the bottom bar (a boosted navigation, tapped at the top of the page). Service workers are blocked so every
byte is a network byte. Same database defaults as bench/pages.py.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.server import (
    EMAIL,
    OUT,
    PASSWORD,
    compress_static,
    database_url,
    ensure_seeded,
    gunicorn,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST_LOAD_TARGET, STEP_TARGET = 60_000, 10_000  # bytes (KB = 1000 bytes)


@dataclass
class Wire:
    """Responses seen through CDP: url, type, encoding and bytes on the wire."""

    responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def on_response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        self.responses[event["requestId"]] = {
            "url": response["url"], "type": event.get("type", ""), "status": response["status"],
            "encoding": headers.get("content-encoding", "-"), "bytes": 0,
            "cached": response.get("fromDiskCache") or response.get("fromServiceWorker"),
        }

    def on_finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]]["bytes"] = int(event["encodedDataLength"])

    def take(self) -> list[dict[str, Any]]:
        rows = list(self.responses.values())
        self.responses.clear()
        return rows


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # htmx settles and swaps after the response


def report(label: str, rows: list[dict[str, Any]], target: int, base: str) -> dict[str, Any]:
    total = sum(r["bytes"] for r in rows)
    verdict = "ok" if total <= target else "MISSED"
    print(f"\n{label}: {len(rows)} responses, {total:,} bytes on the wire "
          f"(target ≤ {target:,}: {verdict})")
    for r in sorted(rows, key=lambda r: -r["bytes"]):
        print(f"  {r['bytes']:>7,}  {r['status']}  {r['encoding']:<5} {r['type']:<11} "
              f"{r['url'].replace(base, '')[:70]}")
    return {"label": label, "bytes": total, "target": target, "responses": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="bytes over the wire for the home page and htmx steps")
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else sqlite bench/out/load.db")
    parser.add_argument("--people", type=int, default=10_000, help="seed size for an empty database")
    parser.add_argument("--feedback", type=int, default=1_000_000, help="seed size for an empty database")
    args = parser.parse_args()

    url = database_url(args.database_url)
    ensure_seeded(url, args.people, args.feedback)
    compress_static()
    results = []
    with gunicorn(url) as server, sync_playwright() as pw:
        base = server.base
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB",
                                      service_workers="block", base_url=base)
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.press("#password", "Enter")  # the login form (the appbar has a language form too)
        if "/auth/login" in page.url:
            raise SystemExit("login failed: not a seed-load database?")
        settle(page)

        cdp = context.new_cdp_session(page)
        wire = Wire()
        cdp.on("Network.responseReceived", wire.on_response)
        cdp.on("Network.loadingFinished", wire.on_finished)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto("/")
        settle(page)
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        results.append(report("first load of / (empty cache)", wire.take(), FIRST_LOAD_TARGET, base))

        # Loading the page again fills the cache the way a first visit would have.
        page.goto("/")
        settle(page)
        wire.take()
        with page.expect_response(lambda r: "before=" in r.url):
            page.locator("#feed-more").scroll_into_view_if_needed()
        settle(page)
        results.append(report("htmx: infinite scroll on the home feed", wire.take(), STEP_TARGET, base))

        # From the top of the page: scrolled down, the wall's own "load more" would be in view
        # at once and its next page would count as part of the tab change.
        page.evaluate("window.scrollTo(0, 0)")
        with page.expect_response(lambda r: r.url.endswith("/walls/")):
            page.click('.tabbar a[data-tab="walls"]')
        settle(page)
        results.append(report("htmx: tab bar to the praise wall (boosted)", wire.take(), STEP_TARGET, base))
        browser.close()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "size.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
