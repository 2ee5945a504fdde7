"""Account journeys on a phone: forgot password → the mailed link → a new password, which logs
out the phone left logged in; HR forcing a reset (never seeing a link) and reading the audit log.
In Chinese and English."""
from __future__ import annotations

import re
from typing import Any

import pytest

NEW_PASSWORD = "a brand new password 7"
LINK = re.compile(r"https?://[^/\s]+(/auth/reset/[\w-]+)")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forgot_password_sets_a_new_one_and_logs_out_elsewhere(phone, org, log_in, tr, shot, outbox,
                                                               lang) -> None:
    expect = _expect()
    old = phone(lang)  # Lina's other phone, still logged in
    log_in(old.page, org.lina)

    page = phone(lang).page
    page.goto("/auth/login")
    page.get_by_role("link", name=tr("Forgot password?", lang)).click()
    page.wait_for_url("**/auth/forgot")
    shot(page, "forgot", lang)
    page.fill("#email", org.lina.email.upper())
    page.get_by_role("button", name=tr("Send me a link", lang)).click()
    page.wait_for_url("**/auth/forgot?sent=1")
    expect(page.get_by_text(tr("Check your email", lang), exact=True)).to_be_visible()
    shot(page, "forgot-sent", lang)

    [mail] = outbox  # the test server's mail sender keeps what it sends
    assert mail.to == org.lina.email and mail.subject == tr("Choose a new perfapp password", lang)
    path = LINK.search(mail.body).group(1)  # type: ignore[union-attr]
    page.goto(path)
    shot(page, "reset", lang)
    page.fill("#password", "short")
    page.fill("#password2", "short")
    page.get_by_role("button", name=tr("Save password", lang)).click()
    expect(page.get_by_text(tr("Use at least %(n)d characters.", lang, n=8))).to_be_visible()
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password2", NEW_PASSWORD)
    page.get_by_role("button", name=tr("Save password", lang)).click()
    page.wait_for_url("**/")
    expect(page.get_by_text(tr("Your password has been changed. Any other device was logged out.", lang))).to_be_visible()

    # The phone left logged in is logged out now.
    old.page.reload()
    old.page.wait_for_url("**/auth/login**")
    # The link worked once.
    page.goto(path)
    expect(page.get_by_text(tr("This link no longer works.", lang))).to_be_visible()
    # The old password is gone, the new one works.
    old.page.fill("#email", org.lina.email)
    old.page.fill("#password", "correct horse battery")
    old.page.locator("form.card button.btn-primary").click()
    expect(old.page.get_by_text(tr("Wrong email or password.", lang))).to_be_visible()
    old.page.fill("#password", NEW_PASSWORD)
    old.page.locator("form.card button.btn-primary").click()
    old.page.wait_for_url("**/")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hr_forces_a_reset_and_reads_the_audit_log(phone, org, log_in, in_app, tr, shot, outbox, lang) -> None:
    expect = _expect()

    def make_hr() -> None:
        from perfapp.extensions import db
        from perfapp.people.models import User

        db.session.get(User, org.zhang.id).role = "hr"  # type: ignore[union-attr]
        db.session.commit()

    in_app(make_hr)
    lina = phone(lang)
    log_in(lina.page, org.lina)
    hr = phone(lang)
    log_in(hr.page, org.zhang)
    page = hr.page
    page.goto(f"/admin/people/{org.lina.id}")
    expect(page.get_by_role("button", name=tr("New invite link", lang))).to_have_count(0)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=tr("Force a password reset", lang)).click()
    expect(page.locator("#person-account")).to_contain_text(
        tr("Password reset: they can log in again once they choose a new password from the link we emailed them.", lang))
    assert "/auth/reset/" not in page.content()
    shot(page, "person-reset", lang)
    [mail] = outbox
    assert mail.to == org.lina.email and LINK.search(mail.body)

    lina.page.reload()
    lina.page.wait_for_url("**/auth/login**")

    page.goto("/admin/")
    page.get_by_role("link", name=tr("Audit log", lang)).click()
    page.wait_for_url("**/audit/")
    expect(page.locator(".audit-row").first).to_contain_text(tr("Password reset forced", lang))
    expect(page.locator(".audit-row").first).to_contain_text(org.lina.name)
    shot(page, "audit-log", lang)
    no_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_scroll
