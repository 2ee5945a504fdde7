"""Review cycles on a phone (360×740) in Chinese and English: a reviewee proposes reviewers and the
manager approves; a reviewer answers a review with rating chips; a reviewee reads results where a
small group is hidden."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from perfapp.auth.services import hash_password
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.reviews import services
from perfapp.reviews.models import ReviewAssignment
from perfapp.reviews.services import AnswerInput, CycleInput, QuestionInput
from tests.browser.conftest import PASSWORD, Person

LANGS = ["zh", "en"]


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _cycle(org, status: str) -> int:  # type: ignore[no-untyped-def]
    """HR, five more teammates of 李娜, and a cycle (draft, open, or closed with answers)."""
    hr = User(email="hr@example.com", role="hr", password_hash=hash_password(PASSWORD))
    hr.set_name("Hana HR")
    db.session.add(hr)
    boss = db.session.get(User, org.boss.id)
    mates = []
    for i, name in enumerate(["陈静", "刘洋", "Olivia Chen", "赵磊", "Noah Kim"]):
        mate = User(email=f"mate{i}@example.com", password_hash=hash_password(PASSWORD), manager_id=boss.id)
        mate.set_name(name)
        mates.append(mate)
    db.session.add_all(mates)
    db.session.commit()
    now = utcnow()
    anchors = ["很少 Rarely", "有时 Sometimes", "通常 Usually", "几乎总是 Almost always", "榜样 A model"]
    start = now - timedelta(days=30) if status == "closed" else now
    cycle = services.create_cycle(hr, CycleInput(
        name="2026 H2 360", groups=["self", "manager", "peers", "partners", "customers"], minimums={"peers": 3, "partners": 1},
        tag_ids=[org.tag_id], nominations_close_at=start + timedelta(days=5), closes_at=start + timedelta(days=20),
        questions=[QuestionInput("rating", "说到做到 Delivers what they commit to", anchors),
                   QuestionInput("text", "继续做什么？ What should they keep doing?")]), now=start)
    db.session.commit()
    if status == "draft":
        return cycle.id
    lina, emma = db.session.get(User, org.lina.id), db.session.get(User, org.emma.id)
    if status == "open":
        services.manager_add(boss, cycle, lina, emma, "peers")
        services.open_cycle(hr, cycle)
        db.session.commit()
        return cycle.id
    # Six peers (shown), one cross-team partner (hidden), five customers: the total would give the
    # partner away, so the next-smallest group (the customers) is held back too.
    for mate in [emma, *mates]:
        services.manager_add(boss, cycle, lina, mate, "peers", now=start)
    services.manager_add(boss, cycle, lina, db.session.get(User, org.james.id), "partners", now=start)
    services.open_cycle(hr, cycle, now=start + timedelta(days=6))
    rating, text = cycle.questions
    for i in range(5):
        _row, token = services.create_customer_link(lina, cycle, lina, f"Client {i}", now=start + timedelta(days=6))
        services.customer_answer(token, AnswerInput(ratings={rating.id: 5}, comments={text.id: "Great partner"}),
                                 now=start + timedelta(days=7))
    rows = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id,
                                                             ReviewAssignment.reviewee_id == lina.id,
                                                             ReviewAssignment.reviewer_id.is_not(None)))
    for i, row in enumerate(rows):
        services.answer(row.reviewer, row, AnswerInput(
            ratings={rating.id: 3 + i % 3}, comments={text.id: f"继续保持 Keep it up #{i}"},
            strengths=[org.tag_id]), now=start + timedelta(days=7))
    services.close_cycle(hr, cycle, now=start + timedelta(days=20))
    db.session.commit()
    return cycle.id


@pytest.mark.parametrize("lang", LANGS)
def test_nominate_and_approve_reviewers(phone, org, lang, shot, tr, log_in, in_app) -> None:
    cycle_id = in_app(_cycle, org, "draft")
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto("/people/me")
    page.get_by_role("link", name=tr("Reviews", lang)).click()
    page.wait_for_url("**/reviews/")
    page.get_by_role("link", name="2026 H2 360").click()
    page.wait_for_url(f"**/reviews/cycles/{cycle_id}/nominate")
    emma_row = page.locator(".rv-person", has_text="Emma Wilson").first
    emma_row.get_by_role("button", name=tr("Propose", lang)).click()
    expect(page.locator("#nominations")).to_contain_text(tr("waiting for your manager", lang))
    # Someone from another team, found by pinyin, as a cross-team partner.
    page.fill("#f-q", "zhang")
    page.get_by_role("button", name=tr("Search", lang)).click()
    zhang = page.locator(".rv-person", has_text="张敏").last
    zhang.get_by_role("button", name=tr("Cross-team partners", lang)).click()
    expect(page.locator("#nominations .rv-list").first).to_contain_text("张敏")
    no_horizontal_scroll(page)
    shot(page, "reviews-nominate", lang)
    # She can't be her own peer: a translated refusal, nothing added.
    page.fill("#f-q", "lina")
    page.get_by_role("button", name=tr("Search", lang)).click()
    page.locator(".rv-person", has_text="李娜").last.get_by_role("button", name=tr("Peers", lang)).click()
    expect(page.locator("#nominations .form-error")).to_contain_text(
        tr("You can't be your own peer: your self-review is separate.", lang))

    m = phone(lang)
    log_in(m.page, org.boss)
    m.page.goto("/reviews/")
    m.page.get_by_role("link", name="2026 H2 360").last.click()
    m.page.wait_for_url(f"**/reviews/cycles/{cycle_id}/team")
    card = m.page.locator(f"#team-{org.lina.id}")
    expect(card).to_contain_text("Emma Wilson")
    card.locator(".rv-person", has_text="Emma Wilson").get_by_role("button", name=tr("Approve", lang)).click()
    expect(m.page.locator(f"#team-{org.lina.id} .rv-person", has_text="Emma Wilson")).to_contain_text(
        tr("approved", lang))
    no_horizontal_scroll(m.page)
    m.page.locator(f"#team-{org.lina.id}").scroll_into_view_if_needed()
    shot(m.page, "reviews-approve", lang)
    statuses = in_app(lambda: sorted(r.status for r in db.session.scalars(select(ReviewAssignment))))
    assert statuses == ["approved", "proposed"]


@pytest.mark.parametrize("lang", LANGS)
def test_answer_a_review_on_the_phone(phone, org, lang, shot, tr, log_in, in_app) -> None:
    in_app(_cycle, org, "open")
    p = phone(lang)
    page = p.page
    log_in(page, org.emma)
    # Home says so in one line, with the deadline; it leads to the reviews to write.
    page.goto("/")
    line = page.locator("a.home-line")
    # Her review of 李娜 and her own self-review.
    expect(line).to_contain_text({"zh": "待写评价 2 份 · ", "en": "2 reviews to write · due "}[lang])
    no_horizontal_scroll(page)
    line.scroll_into_view_if_needed()
    shot(page, "reviews-home-line", lang)
    line.click()
    page.wait_for_url("**/reviews/")
    page.goto("/people/me")
    page.get_by_role("link", name=tr("Reviews", lang)).click()
    page.locator(".rv-list a", has_text="李娜").click()
    page.wait_for_url("**/reviews/assignments/*")
    page.locator(".rv-chip", has_text="Almost always").click()
    page.locator("textarea").first.fill("把复杂的事讲简单。" if lang == "zh" else "Makes complex things simple.")
    page.locator(".tag-toggle").first.click()
    no_horizontal_scroll(page)
    shot(page, "reviews-answer", lang)
    page.get_by_role("button", name=tr("Send review", lang)).click()
    page.wait_for_url("**/reviews/")
    expect(page.locator("#toasts")).to_contain_text(tr("Thank you: your review is sent.", lang))
    assert in_app(lambda: db.session.scalar(select(ReviewAssignment.status).where(
        ReviewAssignment.reviewer_id == org.emma.id))) == "submitted"
    page.goto("/")
    expect(page.locator("a.home-line")).to_contain_text({"zh": "待写评价 1 份", "en": "1 review to write"}[lang])


@pytest.mark.parametrize("lang", LANGS)
def test_results_with_a_hidden_small_group(phone, org, lang, shot, tr, log_in, in_app) -> None:
    cycle_id = in_app(_cycle, org, "closed")
    p = phone(lang)
    page = p.page
    log_in(page, org.lina)
    page.goto("/reviews/")
    page.get_by_role("link", name="2026 H2 360").click()
    page.wait_for_url(f"**/reviews/cycles/{cycle_id}/people/{org.lina.id}")
    peers = page.locator("#group-peers")
    expect(peers.locator(".rv-bars li")).to_have_count(5)
    expect(peers).to_contain_text("Keep it up")
    partners = page.locator("#group-partners")
    expect(partners).to_contain_text(tr("Not shown: too few answers here, or showing it would let a small group be worked out from the others.", lang))
    expect(partners).not_to_contain_text("Keep it up")
    expect(page.locator("#group-customers")).not_to_contain_text("Great partner")
    expect(page.locator("#group-manager")).to_contain_text("王伟")
    no_horizontal_scroll(page)
    shot(page, "reviews-results", lang)
    page.locator("#group-partners").scroll_into_view_if_needed()
    shot(page, "reviews-results-hidden", lang)
    # A teammate can't open it.
    other = phone(lang)
    log_in(other.page, org.emma)
    response = other.page.goto(f"/reviews/cycles/{cycle_id}/people/{org.lina.id}")
    assert response is not None and response.status == 404




@pytest.mark.parametrize("lang", LANGS)
def test_hr_assigns_reviewers_and_reads_aggregates(phone, org, lang, shot, tr, log_in, in_app) -> None:
    cycle_id = in_app(_cycle, org, "draft")
    hr = Person(0, "Hana HR", "hr@example.com")
    p = phone(lang)
    page = p.page
    log_in(page, hr)
    page.goto("/admin/")
    page.get_by_role("link", name=tr("Review cycles", lang)).click()
    page.get_by_role("link", name="2026 H2 360").click()
    page.wait_for_url(f"**/reviews/cycles/{cycle_id}")
    page.get_by_role("button", name=tr("Assign reviewers", lang)).click()
    expect(page.locator("#assignment .rv-histogram li").first).to_be_visible()
    expect(page.locator("#assignment")).to_contain_text(tr("Reviews per reviewer", lang))
    no_horizontal_scroll(page)
    shot(page, "reviews-hr-assignment", lang)
    # HR adds a reviewer by hand with the people picker: a name typed, a person picked, no ids.
    page.locator("#add-reviewer summary").click()
    page.locator("#reviewee-picker-q").fill("lina")
    page.locator("#reviewee-picker-results [data-pick]", has_text="李娜").click()
    expect(page.locator("#reviewee-picker-picked .picked-chip", has_text="李娜")).to_be_visible()
    # Her as her own peer: refused in the page's language, both still picked.
    page.locator("#reviewer-picker-q").fill("lina")
    page.locator("#reviewer-picker-results [data-pick]", has_text="李娜").click()
    page.locator("#add-reviewer button[type=submit]").click()
    expect(page.locator("#add-reviewer .field-error")).to_contain_text(
        tr("%(name)s can't be their own peer: their self-review is separate.", lang, name="李娜"))
    expect(page.locator("#reviewee-picker-picked .picked-chip", has_text="李娜")).to_be_visible()
    page.locator("#add-reviewer").scroll_into_view_if_needed()
    no_horizontal_scroll(page)
    shot(page, "reviews-hr-add-refused", lang)

    def free_colleague() -> str:
        """Someone the assignment didn't give 李娜, who isn't her manager (that group is separate)."""
        taken = set(db.session.scalars(select(ReviewAssignment.reviewer_id).where(
            ReviewAssignment.cycle_id == cycle_id, ReviewAssignment.reviewee_id == org.lina.id)))
        return next(u.name for u in db.session.scalars(select(User).order_by(User.id))
                    if u.id not in taken and u.id not in (org.lina.id, org.boss.id) and u.role != "hr")

    name = in_app(free_colleague)
    page.locator("#reviewer-picker-picked [data-unpick]").click()
    expect(page.locator("#add-reviewer .field-error")).to_have_count(0)  # the refusal went with her
    page.locator("#reviewer-picker-q").fill(name.split()[0])
    page.locator("#reviewer-picker-results [data-pick]", has_text=name).click()
    expect(page.locator("#reviewer-picker-picked .picked-chip", has_text=name)).to_be_visible()
    page.locator("#add-reviewer").scroll_into_view_if_needed()
    no_horizontal_scroll(page)
    shot(page, "reviews-hr-add-picker", lang)
    page.locator("#add-reviewer button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(tr("Reviewer added.", lang))
    added = in_app(lambda: db.session.scalar(select(ReviewAssignment.source).where(
        ReviewAssignment.cycle_id == cycle_id, ReviewAssignment.reviewee_id == org.lina.id,
        ReviewAssignment.reviewer.has(User.name == name))))
    assert added == "manager"
