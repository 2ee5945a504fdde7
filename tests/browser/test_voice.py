"""Voice notes in a real browser: Chromium's fake microphone records, the author plays it back
and sends it, and the recipient plays it on her own phone (zh and en, 360×740)."""
from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from perfapp.feedback.models import Feedback
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCALES,
    PHONE,
    LiveServer,
    Org,
    Phone,
    watch,
)
from tests.browser.test_journeys import only_row, pick_person

LANGS = ["zh", "en"]
MIC_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def mic_browser(playwright: Any) -> Iterator[Any]:
    """Chromium with a fake microphone (a beeping tone) that never asks for permission."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + MIC_ARGS)
    yield browser
    browser.close()


@pytest.fixture()
def voice_dir(live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(live_server.app.config, "VOICE_STORAGE_DIR", str(tmp_path / "voice"))
    return tmp_path / "voice"


@pytest.fixture()
def mic_phone(mic_browser: Any, live_server: LiveServer, org: Org) -> Iterator[Callable[[str], Phone]]:
    opened: list[Phone] = []

    def open_phone(lang: str) -> Phone:
        context = mic_browser.new_context(base_url=live_server.url, locale=LOCALES[lang], **PHONE)
        context.grant_permissions(["microphone"])
        context.set_default_timeout(10_000)
        p = watch(Phone(context=context, page=context.new_page(), lang=lang))
        opened.append(p)
        return p

    yield open_phone
    for p in opened:
        p.context.close()
    for p in opened:
        assert not p.page_errors, f"JavaScript errors: {p.page_errors}"


def recorder(page: Page) -> Any:
    return page.locator("[data-voice]")


def record(page: Page, seconds: float, hold: bool, on_the_way: Callable[[], None]) -> None:
    """Hold the button for `seconds`, or tap, wait and tap again; `on_the_way` runs mid-recording."""
    button = page.locator("[data-voice-rec]")
    if hold:
        button.hover()
        page.mouse.down()
    else:
        button.click()
    expect(recorder(page)).to_have_attribute("data-state", "recording")
    page.wait_for_timeout(seconds * 500)
    on_the_way()
    page.wait_for_timeout(seconds * 500)
    if hold:
        page.mouse.up()
    else:
        button.click()
    expect(recorder(page)).to_have_attribute("data-state", "recorded")


def file_in_form(page: Page) -> dict:
    return page.evaluate("""() => {
        const f = document.querySelector('#compose input[type=file][name=voice]').files[0];
        return f ? {name: f.name, type: f.type, size: f.size} : null;
    }""")


@pytest.mark.parametrize("lang", LANGS)
def test_record_play_send_and_the_recipient_plays_it(mic_phone, org, lang, shot, tr, log_in, in_app,
                                                      voice_dir) -> None:
    author = mic_phone(lang)
    page = author.page
    log_in(page, org.emma)
    page.goto("/feedback/new")
    page.evaluate("""() => { window.voiceEvents = [];
        document.addEventListener('perfapp:voice-changed', e => window.voiceEvents.push(e.detail)); }""")
    widget = recorder(page)
    expect(widget).to_be_visible()
    expect(widget).to_have_attribute("data-state", "idle")
    expect(page.locator("[data-voice-label]")).to_have_text(tr("Hold to talk", lang))
    pick_person(page, "lina", org.lina.name)
    shot(page, "voice-idle", lang)

    def while_recording() -> None:
        label = page.locator("[data-voice-label]")
        expect(label).to_have_text(re.compile(re.escape(tr("Recording… %(time)s", lang, time="0:0")) + r"\d"))
        expect(page.locator("[data-voice-rec]")).to_have_attribute("aria-label", tr("Stop recording", lang))
        expect(page.locator("[data-voice-hint]")).to_have_text(
            tr("Release to stop" if lang == "zh" else "Tap to stop", lang))
        shot(page, "voice-recording", lang)

    # Chinese: hold to talk, with reduced motion (the meter steps instead of following the voice);
    # English: tap, then tap again.
    if lang == "zh":
        page.emulate_media(reduced_motion="reduce")
    record(page, 2.4, hold=lang == "zh", on_the_way=while_recording)
    expect(page.locator("[data-voice-time]")).to_have_text(re.compile(r"0:0[23]"))
    sent_file = file_in_form(page)
    assert sent_file["name"] == "voice.webm" and sent_file["type"] == "audio/webm" and sent_file["size"] > 2000
    events = page.evaluate("window.voiceEvents.map(d => ({size: d.blob && d.blob.size, mime: d.mime, duration: d.duration}))")
    assert len(events) == 1 and events[0]["mime"].startswith("audio/webm") and 2 <= events[0]["duration"] <= 3.5

    # Play it back before sending.
    page.locator("[data-voice-play]").click()
    expect(widget).to_have_attribute("data-playing", "")
    expect(page.locator("[data-voice-play]")).to_have_attribute("aria-label", tr("Pause", lang))
    page.wait_for_function("() => document.querySelector('[data-voice-audio]').currentTime > 0.3")
    page.locator("[data-voice-play]").click()  # pause
    expect(widget).not_to_have_attribute("data-playing", "")
    expect(page.locator("[data-voice-time]")).to_have_text(re.compile(r"0:0\d / 0:0[23]"))
    shot(page, "voice-recorded", lang)
    page.emulate_media(color_scheme="dark")
    shot(page, "voice-recorded-dark", lang)
    page.emulate_media(color_scheme="light")

    if lang == "en":
        # A validation error re-renders the form: the recording stays with it.
        page.locator("#picked [data-unpick]").click()
        page.locator(".sendbar button[type=submit]").click()
        expect(page.locator("#err-recipient_id")).to_be_visible()
        expect(recorder(page)).to_have_attribute("data-state", "recorded")
        assert file_in_form(page)["size"] == sent_file["size"]
        pick_person(page, "lina", org.lina.name)
        # Delete, then let the drafts put it back (the outbox's half of the contract).
        page.evaluate("window.savedVoice = window.voiceEvents[0]")
        page.evaluate("() => { window.voiceEvents = []; }")
        page.locator("[data-voice-delete]").click()
        expect(recorder(page)).to_have_attribute("data-state", "idle")
        assert file_in_form(page) is None
        assert page.evaluate("window.voiceEvents.length === 1 && window.voiceEvents[0].blob === null")
        page.evaluate("""() => document.getElementById('compose').dispatchEvent(
            new CustomEvent('perfapp:voice-restore', {detail: window.savedVoice}))""")
        expect(recorder(page)).to_have_attribute("data-state", "recorded")
        assert file_in_form(page)["size"] == sent_file["size"]

    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#compose.sent")).to_be_visible()
    expect(page.locator("#compose.sent")).to_contain_text(tr("Sent to %(name)s", lang, name=org.lina.name))

    def saved() -> tuple[str | None, str | None, float | None, str]:
        fb = only_row(Feedback, author_id=org.emma.id)
        return fb.voice_key, fb.voice_mime, fb.voice_seconds, fb.text

    key, mime, seconds, text = in_app(saved)
    assert key and mime == "audio/webm" and text == ""
    assert 1.5 <= seconds <= 3.5
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json",
                                      str(voice_dir / key)], check=True, capture_output=True).stdout)
    assert 1.5 <= float(info["format"]["duration"]) <= 3.5  # Chrome's recording had none; the remux wrote it

    # The recipient, on her own phone, plays it.
    recipient = mic_phone(lang)
    page = recipient.page
    log_in(page, org.lina)
    item = page.locator("#main article.fb", has_text=org.emma.name).first
    audio = item.locator(".voice-note audio")
    expect(audio).to_have_attribute("preload", "none")
    expect(item.locator(".voice-note-meta")).to_have_text(re.compile(re.escape(tr("Voice note", lang)) + r" · 0:0[23]"))
    expect(audio).to_have_attribute("aria-label", re.compile(re.escape(tr("Voice note, %(time)s", lang, time="0:0"))))
    audio.evaluate("a => a.play()")
    page.wait_for_function(
        "a => a.duration > 0 && isFinite(a.duration) && a.currentTime > 0", arg=audio.element_handle())
    duration = audio.evaluate("a => a.duration")
    assert 1.5 <= duration <= 3.5
    shot(page, "voice-received", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_blocked_microphone_is_explained(mic_phone, org, lang, shot, tr, log_in) -> None:
    p = mic_phone(lang)
    page = p.page
    # As if the person had said no when the browser asked.
    page.add_init_script("""navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));""")
    log_in(page, org.emma)
    page.goto("/feedback/new")
    page.locator("[data-voice-rec]").click()
    error = page.locator("[data-voice-error]")
    expect(error).to_be_visible()
    expect(error).to_have_text(tr("Microphone access is blocked. Allow it for this site in your browser "
                                  "settings to record a voice note.", lang))
    expect(recorder(page)).to_have_attribute("data-state", "idle")
    shot(page, "voice-denied", lang)
