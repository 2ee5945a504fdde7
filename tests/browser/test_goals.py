"""Goals on a phone (360×740) in Chinese and English: an objective with three key results aligned to
two company goals, checked in twice so its status changes; a manager assigns a department goal to the
team in one step and opens the goal tree."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import Goal, GoalLink
from perfapp.people.models import Department, User

LANGS = ["zh", "en"]


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def company_goals(names: list[str]) -> list[int]:
    start, end = services.period_for("quarter", utcnow().date())
    goals = [Goal(title=n, owner_type="company", period_start=start, period_end=end) for n in names]
    db.session.add_all(goals)
    db.session.commit()
    return [g.id for g in goals]


@pytest.mark.parametrize("lang", LANGS)
def test_objective_with_three_key_results_aligned_and_checked_in_twice(phone, org, lang, shot, tr, log_in,
                                                                       in_app) -> None:
    zh = lang == "zh"
    tops = ["提升客户满意度", "扩大华东市场"] if zh else ["Delight customers", "Grow in the east"]
    top_ids = in_app(company_goals, tops)
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto("/people/me")
    page.get_by_role("link", name=tr("My goals", lang)).click()
    page.wait_for_url("**/goals/")
    page.get_by_role("link", name=tr("New goal", lang)).first.click()
    page.wait_for_url("**/goals/new")
    title = "新版设计系统上线" if zh else "Ship the new design system"
    page.fill("#f-title", title)
    rows = [("组件覆盖率", "percent", "20", "90", ""), ("设计评审", "number", "0", "12", "次"),
            ("文档站上线", "done", "", "", "")] if zh else [
        ("Component coverage", "percent", "20", "90", ""), ("Design reviews", "number", "0", "12", "reviews"),
        ("Docs site live", "done", "", "", "")]
    for i, (kr, kind, start, target, unit) in enumerate(rows):
        row = page.locator(f"#kr-row-{i}")
        row.locator("input[name=kr_title]").fill(kr)
        row.locator("select[name=kr_kind]").select_option(kind)
        if kind != "done":
            row.locator("input[name=kr_start]").fill(start)
            row.locator("input[name=kr_target]").fill(target)
            row.locator("input[name=kr_unit]").fill(unit)
    for goal_id in top_ids:
        page.locator(f"input[name=parent][value='g:{goal_id}']").check()
    no_horizontal_scroll(page)
    shot(page, "goals-form", lang)
    page.locator("#goal-form button[type=submit]:not([name])").click()
    page.wait_for_url(re.compile(r"/goals/\d+$"))
    for top in tops:
        expect(page.locator("main")).to_contain_text(top)
    expect(page.locator(".krs .kr")).to_have_count(3)

    # First check-in: little progress, low confidence -> off track.
    page.locator("#checkin-form input[name^=value-]").first.fill("25")
    page.fill("#confidence", "2")
    page.fill("#note", "组件库还在迁移" if zh else "Still migrating the component library")
    page.locator("#checkin-form button[type=submit]").click()
    status = page.locator(".gdetail .gchip")
    expect(status).to_have_text(re.compile(tr("Off track", lang)))
    # Second check-in: most of the way there, confident -> on track.
    page.locator("#checkin-form input[name^=value-]").first.fill("90")
    page.locator("#checkin-form input[name^=value-]").nth(1).fill("12")
    page.locator("#checkin-form input[type=checkbox]").check()
    page.fill("#confidence", "9")
    page.locator("#checkin-form button[type=submit]").click()
    expect(status).to_have_text(re.compile(tr("On track", lang)))
    expect(page.locator(".gchart circle")).to_have_count(2)
    expect(page.locator(".gcheckin")).to_have_count(2)
    no_horizontal_scroll(page)
    shot(page, "goals-detail", lang)
    page.locator(".gchart").scroll_into_view_if_needed()
    shot(page, "goals-checkins", lang)

    def links() -> int:
        return db.session.scalar(select(func.count()).select_from(GoalLink))

    assert in_app(links) == 2


@pytest.mark.parametrize("lang", LANGS)
def test_manager_assigns_a_department_goal_to_the_team(phone, org, lang, shot, tr, log_in, in_app) -> None:
    zh = lang == "zh"

    def seed() -> int:
        dept = Department(name_zh="设计部", name_en="Design")
        db.session.add(dept)
        db.session.flush()
        for person in (org.boss, org.lina, org.emma):
            db.session.get(User, person.id).department_id = dept.id
        db.session.commit()
        top = company_goals(["年度增长" if zh else "Yearly growth"])[0]
        boss = db.session.get(User, org.boss.id)
        goal = services.create_goal(boss, services.GoalInput(
            title="交付设计规范" if zh else "Deliver the design guidelines", owner_type="department",
            department_id=dept.id, period=services.period_for("quarter", utcnow().date()),
            parents=[services.ParentInput(top)],
            key_results=[services.KeyResultInput(title="规范页数" if zh else "Pages written", start=0, target=40)]))
        db.session.commit()
        return goal.id

    goal_id = in_app(seed)
    p = phone(lang)
    page = p.page
    log_in(page, org.boss)
    page.goto(f"/goals/{goal_id}")
    page.get_by_role("link", name=tr("Assign", lang)).click()
    page.wait_for_url(f"**/goals/{goal_id}/assign")
    page.locator("#f-department_id").select_option(label="设计部" if zh else "Design")
    no_horizontal_scroll(page)
    shot(page, "goals-assign", lang)
    page.locator("#assign-form button[type=submit]").click()
    page.wait_for_url(f"**/goals/{goal_id}")
    expect(page.locator("#toasts")).to_contain_text(tr("Assigned to %(num)d people.", lang, num=3))
    expect(page.locator("main")).to_contain_text(org.lina.name)
    expect(page.locator("main")).to_contain_text(org.emma.name)

    # The tree: company goal -> the department goal -> the three copies, opened as fragments.
    page.goto("/goals/tree")
    top = page.locator(".gtree > .gtree-list > .gnode").first
    top.locator("summary").click()
    dept_node = page.locator(f"#node-{goal_id}")
    expect(dept_node).to_be_visible()
    dept_node.locator("summary").first.click()
    expect(dept_node.locator(".gnode-kids .gnode")).to_have_count(3)
    expect(dept_node).to_contain_text(org.lina.name)
    no_horizontal_scroll(page)
    shot(page, "goals-tree", lang)

    def copies() -> int:
        return db.session.scalar(select(func.count()).select_from(Goal).where(Goal.source_id == goal_id))

    assert in_app(copies) == 3
