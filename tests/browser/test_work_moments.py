"""Work-embedded moments on a phone (360×740), in Chinese and English: a milestone reached opens its
retrospective and a member answers the peer review from the nudge; a meeting imported from an .ics
file asks its attendees for one sentence of feedback once it has ended."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENS

LANGS = ["zh", "en"]
SHOTS = Path("/tmp/shots-workmoments")


@pytest.fixture()
def snap(shot):  # type: ignore[no-untyped-def]
    """shot() plus a copy in /tmp/shots-workmoments for reviewing by eye."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, lang: str) -> None:  # type: ignore[no-untyped-def]
        page.wait_for_timeout(150)
        shot(page, name, lang)
        shutil.copy(SCREENS / f"{name}-{lang}.png", SHOTS / f"{name}-{lang}.png")

    return take


def _make_owner(org):  # type: ignore[no-untyped-def]
    def run() -> None:
        from perfapp.extensions import db
        from perfapp.projects.models import Project

        db.session.get(Project, org.project_id).owner_id = org.boss.id
        db.session.commit()

    return run


@pytest.mark.parametrize("lang", LANGS)
def test_milestone_reached_and_peer_review_from_the_nudge(phone, org, lang, tr, log_in, in_app, snap) -> None:
    in_app(_make_owner(org))
    boss = phone(lang)
    page = boss.page
    log_in(page, org.boss)
    page.goto("/people/me")
    page.get_by_role("link", name=tr("My projects", lang)).click()
    page.get_by_role("link", name="Apollo").click()
    expect(page.locator("h1")).to_have_text("Apollo")
    expect(page.locator("[aria-labelledby=members-title]")).to_contain_text("Emma Wilson")
    snap(page, "project", lang)
    page.locator("#milestones").get_by_role("link", name="Launch").click()
    page.get_by_role("button", name=tr("Mark reached and start the retrospective", lang)).click()
    expect(page.locator(".toast")).to_contain_text(
        tr("“%(name)s” reached. Everyone on the project is asked to review their teammates.", lang, name="Launch"))
    snap(page, "milestone-reached", lang)

    # Lina finds the nudge in her inbox and answers the peer review from it.
    lina = phone(lang)
    page = lina.page
    log_in(page, org.lina)
    page.goto("/notify/")
    page.get_by_role("link", name=tr("Review teammates", lang)).first.click()
    page.wait_for_url(f"**/projects/{org.project_id}/milestones/{org.milestone_id}/review")
    chips = page.locator(".review-people .suggest-chip")
    expect(chips).to_have_count(2)  # 王伟 and Emma, not Lina herself
    first = page.locator("#review-form .fb-names").inner_text()
    snap(page, "peer-review", lang)
    page.get_by_role("button", name=tr("Send review", lang)).click()  # nothing answered yet
    expect(page.locator("#review-form")).to_contain_text(tr("Pick one answer.", lang))
    for key, answer in (("delivered", 3), ("collaborated", 2), ("communicated", 3)):
        page.locator(f"input[name={key}][value='{answer}'] + span").click()
    page.locator("#f-went_well").fill("清楚的发布清单" if lang == "zh" else "A clear launch checklist")
    page.locator("#f-improve").fill("早点分享演示" if lang == "zh" else "Share the demo earlier")
    page.get_by_role("button", name=tr("Send review", lang)).click()
    expect(page.locator(".toast")).to_contain_text(tr("Thanks — your review of %(name)s is saved.", lang, name=first))
    # The form moves on to the other teammate; the first is ticked.
    expect(page.locator("#review-form .fb-names")).not_to_have_text(first)
    expect(page.locator(".review-people .done")).to_have_count(1)
    snap(page, "peer-review-next", lang)
    # The milestone page: the aggregate waits for enough reviewers; her own answer is readable to her.
    page.goto(f"/projects/{org.project_id}/milestones/{org.milestone_id}")
    expect(page.locator(".retro")).to_contain_text(
        tr("Shown once at least %(num)d people have answered, so nobody's answers can be singled out.", lang, num=5)
        if lang == "en" else "至少5人回答后才显示")
    expect(page.locator(".feed")).to_contain_text("早点分享演示" if lang == "zh" else "Share the demo earlier")
    snap(page, "milestone-summary", lang)


def _nudge_ended_meetings() -> int:
    from perfapp.core.db import utcnow
    from perfapp.extensions import db
    from perfapp.meetings.services import send_meeting_nudges

    sent = send_meeting_nudges(utcnow())
    db.session.commit()
    return sent


def _meeting_feedback(org):  # type: ignore[no-untyped-def]
    def run() -> list[tuple[int, int | None]]:
        from sqlalchemy import select

        from perfapp.extensions import db
        from perfapp.feedback.models import Feedback

        rows = db.session.scalars(select(Feedback).where(Feedback.author_id == org.lina.id)).all()
        return [(f.recipient_id, f.meeting_id) for f in rows]

    return run


def _ics(org) -> bytes:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from perfapp.core.db import utcnow

    def stamp(at):  # type: ignore[no-untyped-def]
        return at.strftime("%Y%m%dT%H%M%SZ")

    start = utcnow() - timedelta(minutes=40)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outlook//EN", "BEGIN:VEVENT", "UID:design-42@corp",
             "SUMMARY:设计评审 Design review", f"DTSTART:{stamp(start)}",
             f"DTEND:{stamp(start + timedelta(minutes=30))}", f"DTSTAMP:{stamp(start)}",
             f"ORGANIZER;CN=Lina:mailto:{org.lina.email}", f"ATTENDEE;CN=Emma:mailto:{org.emma.email.upper()}",
             "ATTENDEE;CN=Guest:mailto:guest@partner.example", "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("lang", LANGS)
def test_import_an_ics_and_leave_one_sentence_after_the_meeting(phone, org, lang, tr, log_in, in_app, snap) -> None:
    lina = phone(lang)
    page = lina.page
    log_in(page, org.lina)
    page.goto("/people/me")
    page.get_by_role("link", name=tr("My meetings", lang)).click()
    page.get_by_role("link", name=tr("Import .ics", lang)).click()
    # A file that is not a calendar first: a translated error, nothing saved.
    page.locator("#f-file").set_input_files({"name": "notes.ics", "mimeType": "text/calendar", "buffer": b"hello"})
    page.get_by_role("button", name=tr("Import", lang)).click()
    expect(page.locator("#err-file")).to_contain_text(
        tr("This isn't a calendar file we can read. Export it again as .ics (UTF-8) and try again.", lang))
    snap(page, "meeting-import-error", lang)
    page.locator("#f-file").set_input_files({"name": "invite.ics", "mimeType": "text/calendar", "buffer": _ics(org)})
    page.get_by_role("button", name=tr("Import", lang)).click()
    expect(page.locator("h1")).to_have_text("设计评审 Design review")
    expect(page.locator(".meeting-people")).to_contain_text("Emma Wilson")  # matched by email, any case

    # The meeting has ended: the periodic job nudges its attendees; Lina follows the nudge.
    assert in_app(_nudge_ended_meetings) == 2  # Lina and Emma; the outside guest is nobody here
    page.goto("/notify/")
    page.get_by_role("link", name=tr("Leave feedback", lang)).first.click()
    page.wait_for_url("**/meetings/*")
    page.locator("#f-minutes").fill("首页方案通过" if lang == "zh" else "Home redesign approved")
    page.get_by_role("button", name=tr("Save minutes", lang)).click()
    expect(page.locator(".toast")).to_contain_text(tr("Minutes saved.", lang))
    sentence = "节奏很好，半小时就对齐了。" if lang == "zh" else "Good pace: aligned in half an hour."
    page.locator("#f-note").fill(sentence)
    page.locator("#f-note").press("Enter")
    expect(page.locator(".toast")).to_contain_text(tr("Thanks for your feedback.", lang))
    expect(page.locator(".meeting-note")).to_contain_text(sentence)
    snap(page, "meeting-feedback", lang)

    # To a person: compose opens prefilled with Emma and the meeting.
    page.get_by_role("link", name=tr("Give %(name)s feedback", lang, name="Emma Wilson")).click()
    page.wait_for_url("**/feedback/new?*meeting=*")
    expect(page.locator(".picked")).to_contain_text("Emma Wilson")
    expect(page.locator(".compose .notice")).to_contain_text(
        tr("After “%(title)s”: one sentence is enough.", lang, title="设计评审 Design review"))
    snap(page, "meeting-compose", lang)
    page.locator("#text").fill("谢谢你把问题讲清楚。" if lang == "zh" else "Thanks for making the trade-offs clear.")
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator(".toast, .sent")).to_be_visible()
    rows = in_app(_meeting_feedback(org))
    assert len(rows) == 1 and rows[0][0] == org.emma.id and rows[0][1] is not None


@pytest.mark.parametrize("lang", LANGS)
def test_my_meetings_and_calendar_link(phone, org, lang, tr, log_in, snap) -> None:
    emma = phone(lang)
    page = emma.page
    log_in(page, org.emma)
    page.goto("/meetings/")
    page.get_by_role("link", name=tr("New meeting", lang)).click()
    page.locator("#f-title").fill("1:1 周会" if lang == "zh" else "Weekly 1:1")
    page.locator("#f-day").fill("2026-12-20")
    page.locator("#f-start").fill("10:30")
    snap(page, "meeting-new", lang)
    page.get_by_role("button", name=tr("Add meeting", lang)).click()
    expect(page.locator(".toast")).to_be_visible()
    expect(page.locator("#feedback")).to_be_visible()
    page.goto("/meetings/")
    expect(page.locator(".admin-rows")).to_contain_text("1:1 周会" if lang == "zh" else "Weekly 1:1")
    snap(page, "meetings", lang)
    page.get_by_role("link", name=tr("Subscribe in my calendar", lang)).click()
    page.get_by_role("button", name=tr("Make my calendar link", lang)).click()
    link = page.locator("#f-url")
    expect(link).to_be_visible()
    url = link.input_value()
    assert "/meetings/calendar/" in url and url.endswith(".ics")
    snap(page, "meeting-calendar", lang)
    feed = page.request.get(url)
    assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text()
    page.get_by_role("button", name=tr("Turn the link off", lang)).click()
    expect(page.get_by_role("button", name=tr("Make my calendar link", lang))).to_be_visible()
    assert page.request.get(url).status == 404
