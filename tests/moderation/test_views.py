"""Reporting and moderation over HTTP, with and without htmx."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.moderation import services
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.reactions import services as reactions
from perfapp.reactions.models import Comment
from tests.conftest import htmx_headers
from tests.moderation.conftest import report_until_hidden


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def as_zh(user) -> None:  # type: ignore[no-untyped-def]
    user.locale = "zh_Hans_CN"
    db.session.commit()


def test_report_sheet_as_fragment_and_page(team, make_feedback, login) -> None:
    item = make_feedback()
    c = login(team["other"])
    home = c.get("/").get_data(as_text=True)
    assert f'hx-get="/moderation/report/feedback/{item.id}"' not in home  # not someone else's feed
    wall = c.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert f'href="/moderation/report/feedback/{item.id}"' in wall
    r = c.get(f"/moderation/report/feedback/{item.id}", headers=htmx_headers(f"sheet-feedback-{item.id}"))
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "<dialog class=\"sheet\" open" in body
    assert 'name="reason"' in body and 'method="dialog"' in body
    page = c.get(f"/moderation/report/feedback/{item.id}").get_data(as_text=True)
    assert "<html" in page and 'name="reason"' in page and 'method="dialog"' not in page
    # No report button on one's own item, and the sheet says why.
    author = login(team["author"])
    assert f'href="/moderation/report/feedback/{item.id}"' not in author.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert "report your own post" in author.get(f"/moderation/report/feedback/{item.id}").get_data(as_text=True)


@pytest.mark.parametrize("htmx", [True, False])
def test_report_hides_the_item_from_the_reporter_at_once(team, make_feedback, login, htmx) -> None:
    item = make_feedback(text="Unique praise text")
    c = login(team["other"])
    r = c.submit(f"/moderation/report/feedback/{item.id}", {"reason": "Not appropriate"}, htmx=htmx,
                 target=f"sheet-feedback-{item.id}")
    if htmx:
        assert r.status_code == 200
        assert r.headers["HX-Retarget"] == f"#fb-{item.id}" and r.headers["HX-Reswap"] == "outerHTML"
        body = r.get_data(as_text=True)
        assert f'id="fb-{item.id}"' in body and "hidden for you while HR looks at your report" in body
    else:
        assert r.status_code == 303 and r.headers["Location"].endswith("/")
        assert "hidden for you while HR looks at your report" in c.get("/").get_data(as_text=True)
    # Hidden for the reporter at once, on every page that lists it; the others still see it.
    assert not db.session.get(Feedback, item.id).hidden and count(Report) == 1
    reporter = login(team["other"])
    for url in ("/walls/", f"/people/{team['recipient'].id}", f"/feedback/{item.id}"):
        body = reporter.get(url).get_data(as_text=True)
        assert "Unique praise text" not in body and "You reported this, so it is hidden for you." in body, url
    for who in ("author", "recipient", "boss"):
        assert "Unique praise text" in login(team[who]).get("/walls/").get_data(as_text=True), who
    # Two more people report it: now it is hidden from everyone but HR until HR decides.
    services.report(team["recipient"], "feedback", item.id, "no")
    services.report(team["boss"], "feedback", item.id, "no")
    db.session.commit()
    assert db.session.get(Feedback, item.id).hidden
    for who in ("author", "recipient", "other", "boss"):
        viewer = login(team[who])
        for url in ("/", "/walls/", f"/people/{team['recipient'].id}", "/feedback/given", "/notify/"):
            assert "Unique praise text" not in viewer.get(url).get_data(as_text=True), (who, url)
        assert viewer.get(f"/feedback/{item.id}").status_code == 404
        assert viewer.get(f"/reactions/feedback/{item.id}").status_code == 404
    hr_view = login(team["hr"]).get(f"/feedback/{item.id}").get_data(as_text=True)
    assert "Unique praise text" in hr_view and "hidden from everyone but HR" in hr_view


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(("reason", "message"), [("", "简单说说"), ("  ", "简单说说"), ("x" * 501, "500")])
def test_bad_reason_is_a_translated_422(team, make_feedback, login, htmx, reason, message) -> None:
    item = make_feedback()
    as_zh(team["other"])
    r = login(team["other"]).submit(f"/moderation/report/feedback/{item.id}", {"reason": reason}, htmx=htmx,
                                    target=f"sheet-feedback-{item.id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in body) is (not htmx) and message in body
    assert 'aria-invalid="true"' in body and (reason.strip() == "" or reason in body)
    assert count(Report) == 0 and not db.session.get(Feedback, item.id).hidden


def test_reporting_what_one_cant_or_mustnt(team, make_feedback, login) -> None:
    item = make_feedback()
    private = make_feedback(visibility="private")
    c = login(team["other"])
    for url in (f"/moderation/report/feedback/{private.id}", "/moderation/report/feedback/999999",
                f"/moderation/report/nothing/{item.id}", "/moderation/report/comment/999999"):
        assert c.get(url).status_code == 404
        assert c.submit(url, {"reason": "x"}).status_code == 404
    as_zh(team["author"])
    r = login(team["author"]).submit(f"/moderation/report/feedback/{item.id}", {"reason": "mine"}, htmx=True,
                                     target=f"sheet-feedback-{item.id}")
    assert r.status_code == 422 and "不能举报自己" in r.get_data(as_text=True)
    assert count(Report) == 0 and not db.session.get(Feedback, item.id).hidden


def test_report_a_comment_with_htmx(team, make_feedback, login) -> None:
    item = make_feedback()
    comment = reactions.add_comment(team["boss"], "feedback", item.id, "rude words")
    db.session.commit()
    c = login(team["other"])
    thread = c.get(f"/reactions/feedback/{item.id}").get_data(as_text=True)
    assert f'hx-get="/moderation/report/comment/{comment.id}"' in thread
    r = c.submit(f"/moderation/report/comment/{comment.id}", {"reason": "rude"}, htmx=True,
                 target=f"sheet-comment-{comment.id}")
    assert r.status_code == 200 and r.headers["HX-Retarget"] == f"#comment-{comment.id}"
    assert "rude words" not in c.get(f"/reactions/feedback/{item.id}").get_data(as_text=True)
    assert "rude words" in login(team["hr"]).get("/moderation/").get_data(as_text=True)


def test_queue_is_for_hr_only(team, make_feedback, login) -> None:
    item = make_feedback()
    report_until_hidden(team, "feedback", item.id)
    db.session.commit()
    for who in ("author", "recipient", "other", "boss"):
        c = login(team[who])
        assert c.get("/moderation/").status_code == 403
        assert c.get("/moderation/log").status_code == 403
        assert c.submit(f"/moderation/feedback/{item.id}", {"action": "restore"}).status_code == 403
    assert db.session.get(Feedback, item.id).hidden and count(ModerationDecision) == 0


def test_queue_shows_each_report_and_the_author_to_hr(team, make_feedback, login) -> None:
    item = make_feedback(confidential=True, text="Anonymous praise")
    services.report(team["recipient"], "feedback", item.id, "This is harassment")
    db.session.commit()
    page = login(team["hr"]).get("/moderation/").get_data(as_text=True)
    assert "This is harassment" in page and "Anonymous praise" in page
    assert "Emma Wilson" in page and "李娜" in page  # HR may see a confidential author
    assert f'id="case-feedback-{item.id}"' in page
    inbox = login(team["hr"]).get("/notify/").get_data(as_text=True)
    assert "/moderation/" in inbox


@pytest.mark.parametrize("htmx", [True, False])
def test_restore(team, make_feedback, login, htmx) -> None:
    item = make_feedback(text="Back again")
    services.report(team["other"], "feedback", item.id, "spam")
    db.session.commit()
    c = login(team["hr"])
    r = c.submit(f"/moderation/feedback/{item.id}", {"action": "restore", "reason": ""}, htmx=htmx,
                 target=f"case-feedback-{item.id}")
    if htmx:
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and "<html" not in body and f'id="case-feedback-{item.id}"' in body
        assert "Restored" in body and 'hx-swap-oob="beforeend:#toasts"' in body
    else:
        assert r.status_code == 303 and r.headers["Location"].endswith("/moderation/")
        assert "Nothing to review" in c.get("/moderation/").get_data(as_text=True)
    assert not db.session.get(Feedback, item.id).hidden
    assert "Back again" in login(team["other"]).get("/walls/").get_data(as_text=True)
    [decision] = db.session.scalars(select(ModerationDecision))
    assert decision.action == "restore" and decision.actor_id == team["hr"].id
    # Deciding again: someone already did.
    r = c.submit(f"/moderation/feedback/{item.id}", {"action": "delete", "reason": "x"}, htmx=True,
                 target=f"case-feedback-{item.id}")
    assert r.status_code == 409 and count(ModerationDecision) == 1


@pytest.mark.parametrize("htmx", [True, False])
def test_delete_and_suspend(team, make_feedback, login, htmx) -> None:
    item = make_feedback(text="Nasty text")
    item_id = item.id
    services.report(team["other"], "feedback", item_id, "abuse")
    db.session.commit()
    hr = login(team["hr"])
    decision = {"action": "suspend", "reason": "Abusive language", "days": "7"}
    # First the question (it can't be undone); nothing changes until it is answered.
    r = hr.submit(f"/moderation/feedback/{item_id}", decision, htmx=htmx, target=f"case-feedback-{item_id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and 'class="mod-confirm"' in body and ("<html" in body) is (not htmx)
    assert "stop its author posting for 7 days" in body and 'name="confirmed" value="1"' in body
    assert db.session.get(Feedback, item_id) is not None and count(ModerationDecision) == 0
    # Stepping back shows the case as it was.
    r = hr.submit(f"/moderation/feedback/{item_id}", {**decision, "action": "cancel"}, htmx=True,
                  target=f"case-feedback-{item_id}")
    assert r.status_code == 200 and 'class="mod-confirm"' not in r.get_data(as_text=True)
    assert count(ModerationDecision) == 0
    r = hr.submit(f"/moderation/feedback/{item_id}", {**decision, "confirmed": "1"},
                  htmx=htmx, target=f"case-feedback-{item_id}")
    assert r.status_code == (200 if htmx else 303)
    if htmx:
        assert "Emma Wilson can&#39;t post for 7 days" in r.get_data(as_text=True)
    assert db.session.get(Feedback, item_id) is None
    [suspension] = db.session.scalars(select(PostingSuspension))
    assert suspension.user_id == team["author"].id
    log = login(team["hr"]).get("/moderation/log").get_data(as_text=True)
    assert "Abusive language" in log and "Nasty text" not in log and "Emma Wilson" in log
    # The author is told why, and until when — not who reported it.
    as_zh(team["author"])
    author = login(team["author"])
    inbox = author.get("/notify/").get_data(as_text=True)
    assert "Abusive language" in inbox and "张敏" not in inbox
    # Giving feedback is refused, translated, and nothing is stored.
    for hx in (True, False):
        r = author.submit("/feedback/new", {"recipient_id": team["other"].id, "text": "hi"}, htmx=hx,
                          target="compose")
        assert r.status_code == 422 and "之前你不能发布内容" in r.get_data(as_text=True)
    assert count(Feedback) == 0


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(("data", "message"), [
    ({"action": "delete", "reason": ""}, "写明原因"),
    ({"action": "suspend", "reason": "abuse", "days": "0"}, "1 到 365"),
    ({"action": "explode", "reason": "x"}, "请选择"),
])
def test_bad_decisions_are_translated_422s(team, make_feedback, login, htmx, data, message) -> None:
    item = make_feedback()
    report_until_hidden(team, "feedback", item.id)
    as_zh(team["hr"])
    r = login(team["hr"]).submit(f"/moderation/feedback/{item.id}", data, htmx=htmx,
                                 target=f"case-feedback-{item.id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in body) is (not htmx) and message in body
    assert db.session.get(Feedback, item.id).hidden
    assert count(ModerationDecision) == 0 and count(PostingSuspension) == 0


def test_unknown_targets_are_404_for_hr(team, login) -> None:
    c = login(team["hr"])
    assert c.submit("/moderation/feedback/999999", {"action": "restore"}).status_code == 404
    assert c.submit("/moderation/nothing/1", {"action": "restore"}).status_code == 404


def test_delete_a_reported_comment_over_http(team, make_feedback, login) -> None:
    item = make_feedback()
    comment = reactions.add_comment(team["boss"], "feedback", item.id, "rude words")
    db.session.commit()
    services.report(team["other"], "comment", comment.id, "rude")
    db.session.commit()
    r = login(team["hr"]).submit(f"/moderation/comment/{comment.id}",
                                 {"action": "delete", "reason": "rude", "confirmed": "1"},
                                 htmx=True, target=f"case-comment-{comment.id}")
    assert r.status_code == 200 and count(Comment) == 0
    assert db.session.get(Feedback, item.id) is not None


def test_suspension_ends(team, make_feedback, login) -> None:
    db.session.add(PostingSuspension(user_id=team["author"].id, until=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    r = login(team["author"]).submit("/feedback/new", {"recipient_id": team["other"].id, "text": "hi"})
    assert r.status_code == 303 and count(Feedback) == 1


def test_restore_and_delete_weigh_the_same_in_the_queue(team, make_feedback, login) -> None:
    item = make_feedback()
    services.report(team["other"], "feedback", item.id, "spam")
    db.session.commit()
    page = login(team["hr"]).get("/moderation/").get_data(as_text=True)
    form = page.split('class="stack mod-form"', 1)[1].split("</form>", 1)[0]
    restore = re.search(r'<button class="([^"]+)" name="action" value="restore">', form)
    delete = re.search(r'<button class="([^"]+)" name="action" value="delete">', form)
    assert restore and delete and restore.group(1) == delete.group(1)  # the same weight: no default
    assert "btn-primary" not in form
