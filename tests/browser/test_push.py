"""Web Push end to end with a real push-protocol peer (the `web-push-testing` npm package).

Headless Chromium cannot reach a real push service, so the test plays the browser's part of
subscribing: PushManager.subscribe (replaced by an init script) asks the local test service
for a subscription made with the app's VAPID key, and the app's own push.js posts it to the
server as usual. The app then encrypts, signs and POSTs through its real path; the test
service decrypts; the payload goes to the real service worker with CDP
ServiceWorker.deliverPushMessage; a tap on the shown notification opens the right page.
"""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from perfapp.core.i18n import autospace
from tests.browser.conftest import LiveServer, Org, Phone
from tests.browser.test_pwa import wait_for_service_worker

ROOT = Path(__file__).resolve().parents[2]
SERVER_JS = ROOT / "node_modules" / "web-push-testing" / "src" / "bin" / "server.js"

# Plays the browser's push subscription: the test service makes it with the key the app asks
# for; it survives reloads (localStorage) like a real one. Also counts permission prompts.
FAKE_PUSH_MANAGER = """
(() => {
  window.__permissionAsks = 0;
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = function () { window.__permissionAsks += 1; return ask(); };
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const wrap = (s) => s && {
    endpoint: s.endpoint, expirationTime: null, keys: s.keys,
    toJSON() { return { endpoint: s.endpoint, expirationTime: null, keys: s.keys }; },
    async unsubscribe() { localStorage.removeItem("__testPushSub"); return true; },
  };
  PushManager.prototype.subscribe = async function (options) {
    const s = await window.__testPushSubscribe(b64url(options.applicationServerKey));
    localStorage.setItem("__testPushSub", JSON.stringify(s));
    return wrap(s);
  };
  PushManager.prototype.getSubscription = async function () {
    return wrap(JSON.parse(localStorage.getItem("__testPushSub") || "null"));
  };
})();
"""

NOTIFICATIONS = "async () => (await (await navigator.serviceWorker.ready).getNotifications())" \
                ".map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url, lang: n.lang }))"


class PushTestingService:
    """The npm package's server, on 127.0.0.1 (it hands out endpoints on http://localhost:PORT)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://localhost:{port}"
        self.subscriptions: list[dict[str, Any]] = []

    def post(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.url.replace("localhost", "127.0.0.1") + path, method="POST",
                                         data=json.dumps(data or {}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local test service)
                body = response.read()
                return response.status, json.loads(body) if body.strip().startswith(b"{") else body
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def subscribe(self, application_server_key: str) -> dict[str, Any]:
        status, body = self.post("/subscribe", {"applicationServerKey": application_server_key,
                                                "userVisibleOnly": "true"})
        assert status == 200, body
        self.subscriptions.append(body["data"])
        return {"endpoint": body["data"]["endpoint"], "keys": body["data"]["keys"]}

    def messages(self, client_hash: str) -> list[dict[str, Any]]:
        status, body = self.post("/get-notifications", {"clientHash": client_hash})
        assert status == 200, body
        return [json.loads(m) for m in body["data"]["messages"]]

    def wait_for_messages(self, client_hash: str, count: int, kind: str | None = None) -> list[dict[str, Any]]:
        """What this subscription received (of this kind: other domains nudge on the same events)."""
        deadline = time.monotonic() + 10
        while True:
            found = [m for m in self.messages(client_hash) if kind is None or m["kind"] == kind]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def push_testing_service() -> Iterator[PushTestingService]:
    if not SERVER_JS.exists():
        pytest.skip("node_modules/web-push-testing is missing (make test runs npm ci)")
    port = _free_port()
    process = subprocess.Popen(["node", str(SERVER_JS), str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = PushTestingService(port)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if service.post("/status")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield service
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture()
def push_allowed(live_server: LiveServer) -> Iterator[None]:
    """Admit the local test service, the way only the test configuration may."""
    config = live_server.app.config
    saved = config["PUSH_HOST_ALLOWLIST"], config["PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE"]
    config["PUSH_HOST_ALLOWLIST"] = (*saved[0], "localhost")
    config["PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE"] = True
    yield
    config["PUSH_HOST_ALLOWLIST"], config["PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE"] = saved


def push_phone(phone: Callable[[str], Phone], live_server: LiveServer, service: PushTestingService,
               lang: str) -> Phone:
    p = phone(lang)
    p.context.grant_permissions(["notifications"], origin=live_server.url)
    p.context.expose_function("__testPushSubscribe", service.subscribe)
    p.context.add_init_script(FAKE_PUSH_MANAGER)
    return p


def turn_on_push(page: Page, tr: Callable[..., str], lang: str) -> None:
    page.goto("/notify/settings")
    wait_for_service_worker(page)
    assert page.evaluate("window.__permissionAsks") == 0  # nothing asked before the tap
    page.get_by_role("button", name=tr("Turn on push notifications", lang)).click()
    expect(page.locator("[data-push-status]")).to_have_text(tr("Push notifications are on for this device.", lang))
    assert page.evaluate("window.__permissionAsks") == 1
    expect(page.get_by_role("button", name=tr("Turn off on this device", lang))).to_be_visible()
    # The devices list refreshes itself (push-changed) and shows this phone.
    expect(page.locator("#push-devices .push-device-row")).to_have_count(1)


def registration_id(cdp: Any, page: Page, scope: str) -> str:
    found: dict[str, str] = {}

    def seen(event: dict[str, Any]) -> None:
        for reg in event["registrations"]:
            if reg["scopeURL"] == scope and not reg.get("isDeleted"):
                found["id"] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert "id" in found, "no service worker registration"
    return found["id"]


def deliver_to_service_worker(p: Phone, live_server: LiveServer, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """CDP ServiceWorker.deliverPushMessage, then what the worker shows."""
    cdp = p.context.new_cdp_session(p.page)
    reg = registration_id(cdp, p.page, live_server.url + "/")
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server.url, "registrationId": reg,
                                                  "data": json.dumps(payload)})
    deadline = time.monotonic() + 10
    while not (shown := p.page.evaluate(NOTIFICATIONS)) and time.monotonic() < deadline:
        p.page.wait_for_timeout(50)
    return shown


def tap_notification(p: Phone) -> None:
    """What a tap does: the worker's notificationclick, dispatched on the shown notification
    (headless Chromium has no notification to click; CDP has no command for it)."""
    (worker,) = p.context.service_workers
    worker.evaluate("""async () => {
      const [n] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n }));
    }""")


def subscription_count(in_app: Callable[..., Any], person_id: int) -> int:
    def count() -> int:
        from sqlalchemy import func, select

        from perfapp.extensions import db
        from perfapp.notify.models import PushSubscription

        return db.session.scalar(select(func.count()).select_from(PushSubscription)
                                 .where(PushSubscription.user_id == person_id)) or 0

    return in_app(count)


def quiet_hours_off(in_app: Callable[..., Any], person_id: int) -> None:
    """These journeys must not depend on the time of day they run at."""
    def switch() -> None:
        from perfapp.extensions import db
        from perfapp.notify.delivery import PREFERENCE_DEFAULTS
        from perfapp.notify.models import NotificationPreference

        db.session.merge(NotificationPreference(user_id=person_id, **{**PREFERENCE_DEFAULTS, "quiet_enabled": False}))
        db.session.commit()

    in_app(switch)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_push_end_to_end_with_a_real_push_protocol_peer(phone, live_server, org: Org, lang, tr, log_in, in_app,
                                                         shot, push_testing_service, push_allowed) -> None:
    service = push_testing_service
    p = push_phone(phone, live_server, service, lang)
    page = p.page
    log_in(page, org.lina)
    page.goto("/notify/settings")
    # Quiet hours off through the form (these journeys must not depend on the time of day).
    page.get_by_text(tr("No pushes at night", lang)).click()
    page.get_by_role("button", name=tr("Save", lang)).click()
    expect(page.locator("#toasts")).to_contain_text(tr("Notification settings saved.", lang))
    turn_on_push(page, tr, lang)
    shot(page, "push-settings", lang)
    assert subscription_count(in_app, org.lina.id) == 1
    client_hash = service.subscriptions[-1]["clientHash"]
    expect(page.locator("#unread")).to_be_hidden()

    # A colleague gives Lina feedback: the app encrypts and sends it through its real path.
    def give() -> int:
        from perfapp.extensions import db
        from perfapp.feedback.services import FeedbackInput, give_feedback
        from perfapp.people.models import User

        item = give_feedback(db.session.get(User, org.emma.id),
                             FeedbackInput(recipient_id=org.lina.id, text="Thanks for the launch checklist"))
        db.session.commit()
        return item.id

    feedback_id = in_app(give)
    (payload,) = service.wait_for_messages(client_hash, 1, kind="feedback_received")
    # Push titles are our sentences: where a Latin name meets Chinese, a space goes between them.
    assert payload["title"] == autospace(tr("%(name)s gave you feedback", lang, name="Emma Wilson"))
    assert payload["body"] == "Thanks for the launch checklist"
    assert payload["url"] == f"/feedback/{feedback_id}"
    assert payload["lang"] == ("zh-Hans" if lang == "zh" else "en")

    # The real service worker shows it, and open pages learn the new unread count.
    (shown,) = deliver_to_service_worker(p, live_server, payload)
    assert shown["title"] == payload["title"] and shown["body"] == payload["body"]
    assert shown["url"] == f"{live_server.url}/feedback/{feedback_id}"
    expect(page.locator("#unread")).to_be_visible()
    expect(page.locator("#unread")).to_have_text("1")

    # A tap opens the feedback in the open window.
    tap_notification(p)
    page.wait_for_url(f"**/feedback/{feedback_id}")
    expect(page.get_by_text("Thanks for the launch checklist")).to_be_visible()

    # The browser drops the subscription: the next push gets 410 and the app forgets it.
    assert service.post(f"/expire-subscription/{client_hash}")[0] == 200
    in_app(give)
    deadline = time.monotonic() + 10
    while subscription_count(in_app, org.lina.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert subscription_count(in_app, org.lina.id) == 0
    page.goto("/notify/settings")
    expect(page.locator("#push-devices .push-device-row")).to_have_count(0)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_milestone_reached_nudges_members_and_the_tap_opens_the_peer_review(
        phone, live_server, org: Org, lang, tr, log_in, in_app, shot, push_testing_service, push_allowed) -> None:
    service = push_testing_service
    quiet_hours_off(in_app, org.lina.id)
    lina = push_phone(phone, live_server, service, lang)
    log_in(lina.page, org.lina)
    turn_on_push(lina.page, tr, lang)
    client_hash = service.subscriptions[-1]["clientHash"]
    lina.page.goto("/")

    # HR marks the milestone reached on the admin pages.
    def make_hr() -> None:
        from perfapp.extensions import db
        from perfapp.people.models import User

        db.session.get(User, org.zhang.id).role = "hr"
        db.session.commit()

    in_app(make_hr)
    hr = phone(lang)
    log_in(hr.page, org.zhang)
    hr.page.goto(f"/admin/projects/{org.project_id}")
    hr.page.get_by_role("button", name=tr("Mark %(name)s reached", lang, name="Launch")).click()
    expect(hr.page.locator(f"#milestone-{org.milestone_id}")).to_contain_text(tr("Undo", lang))

    (payload,) = service.wait_for_messages(client_hash, 1, kind="milestone_nudge")
    review_url = f"/projects/{org.project_id}/milestones/{org.milestone_id}/review"
    assert payload["title"] == autospace(tr("%(project)s: %(milestone)s reached", lang, project="Apollo", milestone="Launch"))
    assert payload["body"] == tr("Review your teammates on %(milestone)s: three quick questions each, within 7 days.",
                                 lang, milestone="Launch")
    assert payload["url"] == review_url

    (shown,) = deliver_to_service_worker(lina, live_server, payload)
    assert shown["title"] == payload["title"] and shown["url"] == live_server.url + review_url
    tap_notification(lina)
    page = lina.page
    page.wait_for_url(f"**{review_url}")

    # The peer review opens on a teammate (王伟 and Emma; not Lina herself): three quick answers and a line.
    expect(page.locator(".review-people .suggest-chip")).to_have_count(2)
    page.locator(".review-people").get_by_role("link", name="Emma Wilson").click()
    page.wait_for_url("**to=*")
    shot(page, "push-milestone-review", lang)
    for key in ("delivered", "collaborated", "communicated"):
        page.locator(f"input[name={key}][value='3'] + span").click()
    page.locator("#f-went_well").fill("The launch went smoothly thanks to your checklist")
    page.get_by_role("button", name=tr("Send review", lang)).click()
    expect(page.locator(".toast")).to_contain_text(tr("Thanks — your review of %(name)s is saved.", lang,
                                                      name="Emma Wilson"))

    def sent() -> tuple[int, int | None, int | None] | None:
        from sqlalchemy import select

        from perfapp.extensions import db
        from perfapp.feedback.models import Feedback

        row = db.session.scalar(select(Feedback).where(Feedback.author_id == org.lina.id))
        return (row.recipient_id, row.project_id, row.milestone_id) if row else None

    deadline = time.monotonic() + 10
    while in_app(sent) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_app(sent) == (org.emma.id, org.project_id, org.milestone_id)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_turning_push_off_unsubscribes_and_forgets_the_device(phone, live_server, org: Org, lang, tr, log_in,
                                                              in_app, push_testing_service, push_allowed) -> None:
    p = push_phone(phone, live_server, push_testing_service, lang)
    log_in(p.page, org.emma)
    turn_on_push(p.page, tr, lang)
    assert subscription_count(in_app, org.emma.id) == 1
    p.page.reload()  # the page finds the browser's subscription again without asking anything
    expect(p.page.locator("[data-push-status]")).to_have_text(tr("Push notifications are on for this device.", lang))
    assert p.page.evaluate("window.__permissionAsks") == 0
    p.page.get_by_role("button", name=tr("Turn off on this device", lang)).click()
    expect(p.page.locator("[data-push-status]")).to_have_text(tr("Push notifications are off for this device.", lang))
    expect(p.page.get_by_role("button", name=tr("Turn on push notifications", lang))).to_be_visible()
    expect(p.page.locator("#push-devices .push-device-row")).to_have_count(0)
    assert subscription_count(in_app, org.emma.id) == 0
    assert p.page.evaluate("localStorage.getItem('__testPushSub')") is None  # the browser unsubscribed too
