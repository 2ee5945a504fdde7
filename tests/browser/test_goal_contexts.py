"""Where feedback and recognition came from, on a phone (360×740) in Chinese and English: feedback on a
check-in says which goal it was on; the organiser edits a meeting and the feedback given after it
follows the new title; flowers given from a milestone show in its retrospective; an ended KPI is
carried into the next period with its history."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import pick_person
from tests.browser.test_work_moments import snap  # noqa: F401  (a fixture)

LANGS = ["zh", "en"]


def _goal_with_checkin(org, title: str):  # type: ignore[no-untyped-def]
    def run() -> tuple[int, int]:
        from perfapp.extensions import db
        from perfapp.goals import services
        from perfapp.people.models import User

        lina = db.session.get(User, org.lina.id)
        goal = services.create_goal(lina, services.GoalInput(
            title=title, owner_id=lina.id, period=services.period_for("quarter", services.utcnow().date())))
        checkin = services.check_in(lina, goal, services.CheckInInput(confidence=8, progress=40, note="Halfway"))
        db.session.commit()
        return goal.id, checkin.id

    return run


@pytest.mark.parametrize("lang", LANGS)
def test_feedback_on_a_check_in_names_the_goal(phone, org, lang, tr, log_in, in_app, snap) -> None:  # noqa: F811
    title = "新版设计系统上线" if lang == "zh" else "Ship the new design system"
    goal_id, _checkin_id = in_app(_goal_with_checkin(org, title))
    page = phone(lang).page
    log_in(page, org.emma)
    page.goto(f"/goals/people/{org.lina.id}")
    page.locator(f"#goal-{goal_id}").click()
    page.locator(".gcheckin .gfeedback").click()
    page.wait_for_url("**/feedback/new?*checkin=*")
    expect(page.locator(".compose .notice")).to_contain_text(tr("On the goal “%(title)s”.", lang, title=title))
    expect(page.locator(".picked")).to_contain_text(org.lina.name)
    snap(page, "goal-feedback-compose", lang)
    page.locator("#text").fill("进度更新写得很清楚！" if lang == "zh" else "Clear update, thanks!")
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator(".toast, .sent")).to_be_visible()
    page.goto("/walls/")
    context = page.locator(".fb .fb-context").first
    expect(context).to_have_text(tr("On goal: %(title)s", lang, title=title))
    context.scroll_into_view_if_needed()
    snap(page, "goal-feedback-card", lang)
    context.click()
    page.wait_for_url(f"**/goals/{goal_id}")


def _past_meeting(org):  # type: ignore[no-untyped-def]
    def run() -> int:
        from perfapp.core.db import utcnow
        from perfapp.extensions import db
        from perfapp.feedback.services import FeedbackInput, give_feedback
        from perfapp.meetings.models import Meeting
        from perfapp.people.models import User

        start = utcnow() - timedelta(hours=2)
        meeting = Meeting(title="Design review", starts_at=start, ends_at=start + timedelta(minutes=30),
                          organizer_id=org.lina.id)
        meeting.attendees = [db.session.get(User, org.lina.id), db.session.get(User, org.emma.id)]
        db.session.add(meeting)
        db.session.flush()
        give_feedback(db.session.get(User, org.emma.id), FeedbackInput(
            recipient_id=org.lina.id, text="Crisp review", meeting_id=meeting.id))
        db.session.commit()
        return meeting.id

    return run


@pytest.mark.parametrize("lang", LANGS)
def test_the_organiser_edits_a_meeting(phone, org, lang, tr, log_in, in_app, snap) -> None:  # noqa: F811
    meeting_id = in_app(_past_meeting(org))
    page = phone(lang).page
    log_in(page, org.lina)
    page.goto(f"/meetings/{meeting_id}")
    page.get_by_role("link", name=tr("Edit", lang)).click()
    page.wait_for_url(f"**/meetings/{meeting_id}/edit")
    expect(page.locator("#f-title")).to_have_value("Design review")
    page.fill("#f-title", "")
    page.get_by_role("button", name=tr("Save meeting", lang)).click()
    expect(page.locator("#err-title")).to_be_visible()  # nothing saved
    new_title = "设计评审（第二轮）" if lang == "zh" else "Design review, round two"
    page.fill("#f-title", new_title)
    page.fill("#f-minutes", "首页方案通过" if lang == "zh" else "Home redesign approved")
    snap(page, "meeting-edit", lang)
    page.get_by_role("button", name=tr("Save meeting", lang)).click()
    expect(page.locator(".toast")).to_contain_text(tr("Meeting saved.", lang))
    expect(page.locator("h1")).to_have_text(new_title)
    # The feedback given after it follows the new title, on the next request.
    page.goto("/")
    expect(page.locator(".fb .fb-context").first).to_have_text(
        tr("After meeting: %(title)s", lang, title=new_title))
    page.locator(".fb .fb-context").first.scroll_into_view_if_needed()
    snap(page, "meeting-feedback-card", lang)


def _reached(org):  # type: ignore[no-untyped-def]
    def run() -> None:
        from perfapp.extensions import db
        from perfapp.people.models import User
        from perfapp.projects.models import Milestone, Project
        from perfapp.projects.services import reach_milestone

        db.session.get(Project, org.project_id).owner_id = org.boss.id
        reach_milestone(db.session.get(User, org.boss.id), db.session.get(Milestone, org.milestone_id))
        db.session.commit()

    return run


@pytest.mark.parametrize("lang", LANGS)
def test_flowers_given_from_a_milestone_show_in_its_retrospective(phone, org, lang, tr, log_in, in_app,
                                                                   snap) -> None:  # noqa: F811
    in_app(_reached(org))
    page = phone(lang).page
    log_in(page, org.emma)
    url = f"/projects/{org.project_id}/milestones/{org.milestone_id}"
    page.goto(url)
    page.locator("#milestone-recognition").get_by_role("link", name=tr("Give flowers", lang)).click()
    page.wait_for_url("**/recognition/flowers?milestone=*")
    expect(page.locator("#flower-form .notice")).to_contain_text("Apollo › Launch")
    pick_person(page, "lina", org.lina.name)
    page.locator(".flower-count label", has_text="2").click()
    page.locator("#text").fill("发布当天稳住了全场" if lang == "zh" else "Kept launch day calm")
    snap(page, "milestone-flowers", lang)
    page.locator(".sendbar button[type=submit]").click()
    expect(page.locator("#flower-form.sent")).to_be_visible()
    page.goto(url)
    section = page.locator("#milestone-recognition")
    expect(section.locator(".recog-row", has_text=f"Emma Wilson → {org.lina.name}")).to_contain_text("2")
    section.scroll_into_view_if_needed()
    snap(page, "milestone-recognition", lang)


def _ended_kpi(org, title: str):  # type: ignore[no-untyped-def]
    def run() -> int:
        from perfapp.extensions import db
        from perfapp.goals import services
        from perfapp.people.models import User

        lina = db.session.get(User, org.lina.id)
        today = services.utcnow().date()
        start, _end = services.period_for("quarter", today)
        previous = services.period_for("quarter", start - timedelta(days=1))
        goal = services.create_goal(lina, services.GoalInput(title=title, kind="kpi", owner_id=lina.id,
                                                             period=previous, key_results=[services.KeyResultInput(
                                                                 title="NPS", start=30, target=50)]))
        services.check_in(lina, goal, services.CheckInInput(confidence=7, values={goal.key_results[0].id: 44}),
                          today=previous[1] - timedelta(days=3))
        db.session.commit()
        return goal.id

    return run


@pytest.mark.parametrize("lang", LANGS)
def test_an_ended_kpi_carries_over_with_its_history(phone, org, lang, tr, log_in, in_app, snap) -> None:  # noqa: F811
    title = "客户净推荐值" if lang == "zh" else "Customer NPS"
    goal_id = in_app(_ended_kpi(org, title))
    page = phone(lang).page
    log_in(page, org.lina)
    page.goto(f"/goals/{goal_id}")
    snap(page, "kpi-ended", lang)
    page.get_by_role("button", name=tr("Carry into next period", lang)).click()
    expect(page.locator(".toast")).to_be_visible()
    expect(page.locator("main")).to_contain_text(title)
    page.wait_for_url(lambda url: not url.endswith(f"/goals/{goal_id}"))
    history = page.locator("[aria-labelledby=periods-title]")
    expect(history).to_contain_text("44")
    history.scroll_into_view_if_needed()
    snap(page, "kpi-carried", lang)
