"""Offline drafting on a phone (zh and en, 360×740): drafts survive reloads and closed tabs,
feedback sent offline waits in the outbox and goes exactly once when the connection returns
(from the page, or from the service worker's background sync), and what the server refuses
stays in the outbox with its reason."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from tests.browser.test_journeys import pick_person
from tests.browser.test_pwa import wait_for_service_worker
from tests.browser.test_voice import (  # noqa: F401
    file_in_form,
    mic_browser,
    mic_phone,
    record,
    recorder,
    voice_dir,
)

LANGS = ["zh", "en"]
SYNC_TAG = "workbox-background-sync:perfapp-outbox"
TEXT = {"zh": "谢谢你连夜整理的发布清单", "en": "Thanks for the launch checklist"}

# The outbox as IndexedDB holds it (works on any page of the origin, with or without outbox.js).
ITEMS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("perfapp-outbox", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("items", { keyPath: "id" });
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction("items").objectStore("items").getAll();
    req.onsuccess = () => { open.result.close(); resolve(req.result.map((it) => ({
      id: it.id, state: it.state, text: it.fields && it.fields.text, error: it.error,
      recipient: it.fields && it.fields.recipient && it.fields.recipient.name,
      voice: !!(it.voice && it.voice.blob), voiceSize: it.voice && it.voice.blob ? it.voice.blob.size : 0 }))); };
  };
})"""


def items(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(ITEMS)  # type: ignore[no-any-return]


def wait_for_items(page: Page, predicate: str, timeout: float = 10) -> None:
    """Until the stored items satisfy `predicate` (a JS expression over `items`).

    Polled from here: wait_for_function takes a returned Promise itself for a truthy answer.
    """
    check = f"async () => {{ const items = await ({ITEMS})(); return !!({predicate}); }}"
    deadline = time.monotonic() + timeout
    while not page.evaluate(check):
        assert time.monotonic() < deadline, f"outbox never matched {predicate!r}: {items(page)}"
        page.wait_for_timeout(100)


def wait_until(page: Page, check: str, timeout: float = 10) -> None:
    """Until an async JS function answers true."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(check):
        assert time.monotonic() < deadline, f"never true: {check}"
        page.wait_for_timeout(100)


def feedback_rows(in_app) -> list[tuple[int, str, str | None]]:  # type: ignore[no-untyped-def]
    def rows() -> list[tuple[int, str, str | None]]:
        return [(f.recipient_id, f.text, getattr(f, "voice_key", None)) for f in db.session.scalars(select(Feedback))]

    return in_app(rows)  # type: ignore[no-any-return]


def feedback_count(in_app) -> int:  # type: ignore[no-untyped-def]
    return in_app(lambda: db.session.scalar(select(func.count()).select_from(Feedback)))  # type: ignore[no-any-return]


def outbox_row(page: Page) -> Any:
    return page.locator("[data-outbox-list] .outbox-item")


def go_offline_on_compose(p, org, log_in) -> Page:  # type: ignore[no-untyped-def]
    """Log in, open the compose sheet online (the worker keeps it and the outbox page), pick
    李娜 (the picker searches the server), then lose the connection."""
    page = p.page
    log_in(page, org.emma)
    wait_for_service_worker(page)
    page.goto("/feedback/new")
    wait_until(page, "async () => !!(await caches.match('/feedback/outbox'))")
    pick_person(page, "lina", org.lina.name)
    wait_for_items(page, "items.length === 1 && items[0].state === 'draft' && items[0].recipient")
    p.context.set_offline(True)
    page.reload()  # from the service worker's cache
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    return page


def send_offline(page: Page, text: str, tr, lang: str, org) -> None:  # type: ignore[no-untyped-def]
    page.locator("#text").fill(text)
    page.locator("label.emoji-toggle", has_text="🙏").click()
    page.locator(".sendbar button[type=submit]").click()
    queued = page.locator("#compose.outbox-queued")
    expect(queued).to_be_visible()
    expect(queued.locator("h2")).to_have_text(tr("Saved in your outbox", lang))
    expect(queued).to_contain_text(org.lina.name)
    wait_for_items(page, "items.length === 1 && items[0].state === 'queued'")


# --- drafts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_draft_survives_reloads_and_a_closed_tab_and_sending_clears_it(
        phone, org, lang, shot, tr, log_in, in_app) -> None:
    p = phone(lang)
    page = p.page
    log_in(page, org.emma)
    page.goto("/feedback/new")
    pick_person(page, "lina", org.lina.name)
    page.locator("#text").fill(TEXT[lang])
    page.locator("label.emoji-toggle", has_text="🙏").click()
    page.locator("details.more-options > summary").click()
    page.locator("label:has(input[name=kind][value=suggestion])").click()
    page.locator("label:has(input[name=visibility][value=manager])").click()
    page.locator("[data-show-name]").uncheck()  # the draft stores it as "confidential"
    page.locator(f"label:has(input[name=tag_ids][value='{org.tag_id}'])").click()
    page.locator("#free_tags").fill("协作, launch")
    page.locator("details.template > summary").click()
    page.locator("#behaviour").fill("Stayed late to finish the checklist")
    page.select_option("#milestone_id", str(org.milestone_id))  # picks the project too
    wait_for_items(page, "items.length === 1 && items[0].state === 'draft' && "
                         "items[0].text && items[0].text.length > 5")
    page.wait_for_timeout(600)  # the last change's save (debounced)

    def check_restored(page: Page) -> None:
        expect(page.locator(".draft-restored")).to_be_visible()
        expect(page.locator(".draft-restored")).to_contain_text(
            re.compile(re.escape(tr("Draft restored (saved %(time)s).", lang, time="@").split("@")[0])))
        expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
        expect(page.locator(".picker-search")).to_be_hidden()
        expect(page.locator("#text")).to_have_value(TEXT[lang])
        expect(page.locator("input[name=emoji][value='🙏']")).to_be_checked()
        expect(page.locator("input[name=emoji][value='👍']")).not_to_be_checked()
        expect(page.locator("details.more-options")).to_have_attribute("open", "")
        expect(page.locator("input[name=kind][value=suggestion]")).to_be_checked()
        expect(page.locator("input[name=visibility][value=manager]")).to_be_checked()
        expect(page.locator("input[name=visibility][value=public]")).to_be_disabled()  # app.js still applies
        expect(page.locator("[data-show-name]")).not_to_be_checked()
        expect(page.locator("[data-audience-name]")).to_be_visible()
        expect(page.locator(f"input[name=tag_ids][value='{org.tag_id}']")).to_be_checked()
        expect(page.locator("#free_tags")).to_have_value("协作, launch")
        expect(page.locator("#behaviour")).to_have_value("Stayed late to finish the checklist")
        expect(page.locator("#project_id")).to_have_value(str(org.project_id))
        expect(page.locator("#milestone_id")).to_have_value(str(org.milestone_id))

    page.reload()
    check_restored(page)
    page.locator(".draft-restored").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "compose-restored", lang)

    # The tab is closed; a new one opens the compose sheet: still there.
    page.close()
    page = p.context.new_page()
    page.goto("/feedback/new")
    check_restored(page)
    draft_id = items(page)[0]["id"]
    link = page.locator("[data-outbox-link]")
    expect(link.locator("[data-outbox-count]")).to_have_text("1")
    link.scroll_into_view_if_needed()
    shot(page, "compose-outbox-link", lang)

    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_be_visible()
    wait_for_items(page, "items.length === 0")
    rows = feedback_rows(in_app)
    assert [(r[0], r[1]) for r in rows] == [(org.lina.id, TEXT[lang])]

    def check_row() -> None:
        fb = db.session.scalar(select(Feedback))
        assert fb.kind == "suggestion" and fb.visibility == "manager" and fb.emoji == "🙏"
        assert fb.confidential
        assert fb.milestone_id == org.milestone_id and fb.project_id == org.project_id
        assert fb.behaviour == "Stayed late to finish the checklist"
        assert {t.id for t in fb.tags} >= {org.tag_id} and len(fb.tags) == 3

    in_app(check_row)
    # The send carried the draft's id as its Idempotency-Key: a retry replays, nothing new.
    replay = page.evaluate("""async (id) => {
      const r = await fetch("/feedback/new", {method: "POST", body: new URLSearchParams({x: "1"}),
        headers: {"Idempotency-Key": id, "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content,
                  "Accept": "application/json"}});
      return r.status;
    }""", draft_id)
    assert replay == 422  # same key, different payload
    assert feedback_count(in_app) == 1

    # A new compose sheet starts empty.
    page.goto("/feedback/new")
    expect(page.locator("#text")).to_have_value("")
    expect(page.locator(".draft-restored")).to_have_count(0)


def test_start_over_discards_the_draft(phone, org, log_in) -> None:
    p = phone("en")
    page = p.page
    log_in(page, org.emma)
    page.goto(f"/feedback/new?to={org.james.id}")
    page.locator("#text").fill("Great demo")
    wait_for_items(page, "items.length === 1 && items[0].text === 'Great demo'")
    # Opened for someone else: James's draft is not put into 李娜's sheet.
    page.goto(f"/feedback/new?to={org.lina.id}")
    expect(page.locator("#text")).to_have_value("")
    expect(page.locator(".draft-restored")).to_have_count(0)
    page.goto(f"/feedback/new?to={org.james.id}")
    expect(page.locator("#text")).to_have_value("Great demo")
    page.locator("[data-draft-start-over]").click()
    page.wait_for_load_state()
    expect(page.locator("#text")).to_have_value("")
    expect(page.locator(".draft-restored")).to_have_count(0)
    assert items(page) == []


def test_a_draft_is_sent_from_the_outbox(phone, org, tr, log_in, in_app) -> None:
    p = phone("zh")
    page = p.page
    log_in(page, org.emma)
    page.goto(f"/feedback/new?to={org.james.id}")
    page.locator("#text").fill("Great demo")
    wait_for_items(page, "items.length === 1 && items[0].text === 'Great demo'")
    page.locator("[data-outbox-link]").click()
    page.wait_for_url("**/feedback/outbox")
    row = outbox_row(page)
    expect(row).to_have_attribute("data-state", "draft")
    expect(row.locator(".outbox-state")).to_have_text(tr("Draft", "zh"))
    expect(row.locator("[data-slot=name]")).to_have_text(tr("To %(name)s", "zh", name=org.james.name))
    row.locator("[data-action=send]").click()
    expect(row).to_have_attribute("data-state", "sent")
    wait_for_items(page, "items.length === 0")
    assert [(r[0], r[1]) for r in feedback_rows(in_app)] == [(org.james.id, "Great demo")]


# --- offline: queued, then sent exactly once ----------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_sent_offline_waits_in_the_outbox_and_goes_once_when_online(
        phone, org, lang, shot, tr, log_in, in_app) -> None:
    p = phone(lang)
    page = go_offline_on_compose(p, org, log_in)
    send_offline(page, TEXT[lang], tr, lang, org)
    shot(page, "compose-queued", lang)
    assert feedback_count(in_app) == 0

    # The outbox page opens offline (the worker kept it) and lists the waiting item.
    page.locator("#compose.outbox-queued a[href='/feedback/outbox']").click()
    page.wait_for_url("**/feedback/outbox")
    expect(page.locator("h1.appbar-title")).to_have_text(tr("Drafts & outbox", lang))
    expect(page.locator("[data-outbox-offline]")).to_be_visible()
    row = outbox_row(page)
    expect(row).to_have_count(1)
    expect(page.locator("[data-outbox-empty]")).to_be_hidden()
    expect(row).to_have_attribute("data-state", "queued")
    expect(row.locator(".outbox-state")).to_have_text(tr("Waiting for connection", lang))
    expect(row.locator("[data-slot=name]")).to_have_text(tr("To %(name)s", lang, name=org.lina.name))
    expect(row.locator("[data-slot=text]")).to_contain_text(TEXT[lang])
    shot(page, "outbox-waiting", lang)

    page.reload()  # still offline: served by the worker, the item still there
    expect(outbox_row(page)).to_have_count(1)
    assert feedback_count(in_app) == 0

    p.context.set_offline(False)  # "online": the page sends it
    expect(row).to_have_attribute("data-state", "sent")
    expect(row.locator(".outbox-state")).to_have_text(tr("Sent", lang))
    expect(page.locator("[data-outbox-offline]")).to_be_hidden()
    wait_for_items(page, "items.length === 0")
    shot(page, "outbox-sent", lang)
    rows = feedback_rows(in_app)
    assert [(r[0], r[1]) for r in rows] == [(org.lina.id, TEXT[lang])]
    view = row.locator("[data-action=view]")
    expect(view).to_have_attribute("href", re.compile(r"^/feedback/\d+$"))

    # Nothing is sent twice: a reload, another start, a background sync find nothing to send.
    page.goto("/feedback/outbox")
    expect(page.locator("[data-outbox-empty]")).to_be_visible()
    dispatch_sync(p.context, page)
    page.wait_for_timeout(500)
    assert feedback_count(in_app) == 1


def test_a_lost_answer_is_not_sent_twice(phone, org, log_in, in_app, live_server) -> None:
    """The server got the feedback but the phone never heard back: the retry is a replay."""
    from flask import request, request_finished

    p = phone("en")
    page = p.page
    log_in(page, org.emma)
    wait_for_service_worker(page)
    page.goto("/feedback/new")
    pick_person(page, "lina", org.lina.name)
    page.locator("#text").fill("Answer lost on the way")
    # The first POST reaches the server, but its answer is dropped on the way back.
    dropped: list[int] = []

    def drop(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method == "POST" and not dropped:
            route.fetch()  # the server handles it...
            dropped.append(1)
            route.abort("connectionreset")  # ...and the phone sees a network error
        else:
            route.continue_()

    statuses: list[int] = []

    def record(_sender, response, **_kw) -> None:  # type: ignore[no-untyped-def]
        if request.path == "/feedback/new" and request.method == "POST":
            statuses.append(response.status_code)

    page.route("**/feedback/new", drop)
    request_finished.connect(record, live_server.app)
    try:
        page.locator(".sendbar button[type=submit]").click()
        expect(page.locator("#compose.outbox-queued")).to_be_visible()
        wait_for_items(page, "items.length === 0")  # the retry (same key) answered: sent
    finally:
        request_finished.disconnect(record, live_server.app)
    assert feedback_count(in_app) == 1
    assert statuses[0] == 200 and statuses[-1] in (200, 201) and len(statuses) >= 2


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_item_stays_with_the_servers_reason(phone, org, lang, shot, tr, log_in, in_app) -> None:
    p = phone(lang)
    page = go_offline_on_compose(p, org, log_in)
    send_offline(page, TEXT[lang], tr, lang, org)

    def deactivate() -> None:
        from perfapp.people.models import User

        db.session.get(User, org.lina.id).active = False
        db.session.commit()

    in_app(deactivate)  # meanwhile, HR deactivated 李娜
    page.locator("#compose.outbox-queued a[href='/feedback/outbox']").click()
    page.wait_for_url("**/feedback/outbox")
    p.context.set_offline(False)
    row = outbox_row(page)
    expect(row).to_have_attribute("data-state", "failed")
    expect(row.locator(".outbox-state")).to_have_text(tr("Couldn't send", lang))
    expect(row.locator("[data-slot=error]")).to_have_text(
        tr("%(name)s is no longer active.", lang, name=org.lina.name))
    shot(page, "outbox-failed", lang)
    page.reload()
    expect(outbox_row(page)).to_have_attribute("data-state", "failed")  # never silently dropped
    assert [it["state"] for it in items(page)] == ["failed"]
    assert feedback_count(in_app) == 0

    # Edit opens the compose sheet with it; the person writes to someone else instead.
    outbox_row(page).locator("[data-action=edit]").click()
    page.wait_for_url("**/feedback/new#draft=*")
    expect(page.locator("#text")).to_have_value(TEXT[lang])
    expect(page.locator("#picked .picked-chip", has_text=org.lina.name)).to_be_visible()
    page.locator("#picked [data-unpick]").click()
    pick_person(page, "zhang" if lang == "zh" else "james", org.zhang.name if lang == "zh" else org.james.name)
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_be_visible()
    wait_for_items(page, "items.length === 0")
    other = org.zhang if lang == "zh" else org.james
    assert [(r[0], r[1]) for r in feedback_rows(in_app)] == [(other.id, TEXT[lang])]


def test_discard_removes_an_item(phone, org, tr, log_in, in_app) -> None:
    p = phone("en")
    page = go_offline_on_compose(p, org, log_in)
    send_offline(page, "To be discarded", tr, "en", org)
    page.locator("#compose.outbox-queued a[href='/feedback/outbox']").click()
    page.wait_for_url("**/feedback/outbox")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    outbox_row(page).locator("[data-action=discard]").click()
    expect(outbox_row(page)).to_have_count(0)
    expect(page.locator("[data-outbox-empty]")).to_be_visible()
    assert dialogs == [tr("Discard this feedback? It can't be undone.", "en")]
    p.context.set_offline(False)
    page.wait_for_timeout(800)
    assert items(page) == [] and feedback_count(in_app) == 0


def test_queued_feedback_is_never_sent_by_the_next_person(phone, org, tr, log_in, in_app) -> None:
    """Emma's queued feedback on a shared phone is not sent as James after she logs out."""
    p = phone("en")
    page = go_offline_on_compose(p, org, log_in)
    send_offline(page, "Emma's words", tr, "en", org)
    # Back online, but her tries fail (a flaky network) until she has logged out.
    p.context.route("**/feedback/new", lambda route: route.abort() if route.request.method == "POST"
                    else route.continue_())
    p.context.set_offline(False)
    page.goto("/people/me")
    page.locator("form[action='/auth/logout'] button").click()
    page.wait_for_url("**/auth/login*")
    p.context.unroute("**/feedback/new")
    log_in(page, org.james)
    page.goto("/feedback/outbox")
    expect(page.locator("[data-outbox-empty]")).to_be_visible()  # not his to see
    dispatch_sync(p.context, page)  # the worker tries every item, whoever is logged in
    page.wait_for_timeout(1000)
    assert feedback_count(in_app) == 0
    # Still hers and still waiting: "queued", or "sending" when her page was unloaded mid-try
    # (logging out navigates away); such an item is tried again once it is two minutes stale.
    assert [(it["state"] in ("queued", "sending"), it["text"]) for it in items(page)] == [(True, "Emma's words")]


# --- the service worker's background sync ------------------------------------------------------

def dispatch_sync(context, page: Page) -> None:  # type: ignore[no-untyped-def]
    """Fire the outbox's background sync in the service worker, as the browser would."""
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(200)
    live = [r for r in registrations if not r["isDeleted"]]
    assert live, registrations
    origin = re.match(r"https?://[^/]+", page.url).group(0)  # type: ignore[union-attr]
    cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": origin, "registrationId": live[0]["registrationId"], "tag": SYNC_TAG, "lastChance": False})
    cdp.detach()


@pytest.mark.parametrize("lang", LANGS)
def test_background_sync_sends_with_no_page_open(phone, org, lang, tr, log_in, in_app) -> None:
    p = phone(lang)
    page = go_offline_on_compose(p, org, log_in)
    send_offline(page, TEXT[lang], tr, lang, org)
    # Leave for a page without outbox.js (the precached offline page), so only the worker can send.
    page.goto("/offline?lang=en")
    assert page.evaluate("typeof window.perfappOutbox") == "undefined"
    p.context.set_offline(False)
    dispatch_sync(p.context, page)
    wait_for_items(page, "items.length === 0")
    assert [(r[0], r[1]) for r in feedback_rows(in_app)] == [(org.lina.id, TEXT[lang])]
    dispatch_sync(p.context, page)  # again: nothing left, nothing new
    page.wait_for_timeout(500)
    assert feedback_count(in_app) == 1


# --- with a voice note ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_offline_with_a_voice_note(mic_phone, org, lang, shot, tr, log_in, in_app, voice_dir) -> None:  # noqa: F811
    """Offline: compose with text and a voice note, reload, see the draft, send → outbox;
    online → exactly one feedback row, and its voice note plays."""
    p = mic_phone(lang)
    page = go_offline_on_compose(p, org, log_in)
    page.locator("#text").fill(TEXT[lang])
    record(page, 2.2, hold=False, on_the_way=lambda: None)
    size = file_in_form(page)["size"]
    wait_for_items(page, f"items.length === 1 && items[0].voice && items[0].voiceSize === {size} "
                         f"&& items[0].text === {TEXT[lang]!r}")
    page.reload()
    expect(page.locator("#text")).to_have_value(TEXT[lang])
    expect(recorder(page)).to_have_attribute("data-state", "recorded")
    assert file_in_form(page)["size"] == size  # back in the form's file input
    expect(page.locator("[data-voice-time]")).to_have_text(re.compile(r"0:0[23]"))
    shot(page, "compose-restored-voice", lang)

    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.outbox-queued")).to_be_visible()
    wait_for_items(page, "items.length === 1 && items[0].state === 'queued' && items[0].voice")
    page.locator("#compose.outbox-queued a[href='/feedback/outbox']").click()
    page.wait_for_url("**/feedback/outbox")
    expect(outbox_row(page).locator("[data-slot=voice]")).to_have_text(
        re.compile(re.escape(tr("Voice note %(time)s", lang, time="0:0")) + r"[23]"))
    assert feedback_count(in_app) == 0

    p.context.set_offline(False)
    expect(outbox_row(page)).to_have_attribute("data-state", "sent")
    wait_for_items(page, "items.length === 0")
    rows = feedback_rows(in_app)
    assert len(rows) == 1 and rows[0][0] == org.lina.id and rows[0][1] == TEXT[lang] and rows[0][2]
    assert (voice_dir / rows[0][2]).stat().st_size > 1000

    # The sent item's View link opens it; the voice note plays.
    outbox_row(page).locator("[data-action=view]").click()
    audio = page.locator(".voice-note audio").first
    expect(audio).to_be_attached()
    audio.evaluate("a => a.play()")
    page.wait_for_function("a => a.duration > 0 && isFinite(a.duration) && a.currentTime > 0",
                           arg=audio.element_handle())
    assert 1.5 <= audio.evaluate("a => a.duration") <= 3.5
