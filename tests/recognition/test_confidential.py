"""Confidential feedback feeds nothing public or timed that could name its author (PRODUCT.md).

The correlation is tested, not only the name: every page about the author that the recipient
and their manager can open is the same, byte for byte, before and after a confidential feedback,
and nothing new reaches anyone but the recipient (whose entry names nobody). The same flow with
named feedback does change those pages, which shows the comparison would catch a leak.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback
from perfapp.notify.models import Notification
from perfapp.recognition.models import BadgeAward, BadgeHolding
from perfapp.recognition.rules import CONSTRUCTIVE_FOR_BADGE, ensure_automatic_badges
from tests.recognition.conftest import count

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# What differs between two renders of one page for reasons that have nothing to do with data.
_PER_REQUEST = re.compile(r'(csrf[-_]token"? (?:content|value)=")[^"]+|(nonce=")[^"]+|("X-CSRFToken": ")[^"]+')


# The recipient's unread count moves, as it must: that they received feedback is no secret.
_UNREAD = re.compile(r'<span id="unread"[^>]*>\d*</span>')


def _stable(html: str) -> str:
    html = _UNREAD.sub("", html)
    return _PER_REQUEST.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "…", html)


def _author_pages(org, badge_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Every page where something the author did could surface for a colleague."""
    emma = org.emma.id
    return ["/walls/", f"/people/{emma}", f"/walls/people/{emma}", "/walls/badges", f"/walls/badges/{badge_id}",
            f"/walls/?badge={badge_id}", f"/walls/people/{emma}/badges/{badge_id}"]


def _snapshot(clients: dict, pages: list[str]) -> dict[tuple[str, str], tuple[int, str]]:  # type: ignore[type-arg]
    out = {}
    for who, c in clients.items():
        for url in pages:
            r = c.get(url)
            out[(who, url)] = (r.status_code, _stable(r.get_data(as_text=True)))
    return out


def _send(client, org, *, confidential: bool, visibility: str = "private", kind: str = "praise"):  # type: ignore[no-untyped-def]
    data = {"recipient_id": org.lina.id, "text": "Thank you for untangling the release", "kind": kind,
            "visibility": visibility}
    if confidential:
        data["confidential"] = "1"
    r = client.submit("/feedback/new", data)
    assert r.status_code == 303, r.get_data(as_text=True)[:400]


@pytest.mark.parametrize("visibility", ["private", "manager"])
def test_a_first_confidential_feedback_changes_nothing_the_recipient_or_manager_can_see_about_the_author(
        org, login, visibility) -> None:
    badge = ensure_automatic_badges()["first-feedback"]
    db.session.commit()
    watchers = {"lina": login(org.lina), "boss": login(org.boss)}
    pages = _author_pages(org, badge.id)
    before = _snapshot(watchers, pages)
    notes_before = count(Notification)

    _send(login(org.emma), org, confidential=True, visibility=visibility)

    assert count(Feedback, Feedback.confidential.is_(True)) == 1
    assert count(BadgeAward) == 0 and count(BadgeHolding) == 0
    after = _snapshot(watchers, pages)
    changed = [key for key in pages_keys(before) if before[key] != after[key]]
    assert changed == []
    # One inbox entry, the recipient's, and it names nobody (in either language).
    notes = db.session.scalars(select(Notification)).all()
    assert len(notes) == notes_before + 1 and {(n.user_id, n.kind) for n in notes} == {(org.lina.id, "feedback_received")}
    for headers in ({}, ZH):
        inbox = watchers["lina"].get("/notify/", headers=headers).get_data(as_text=True)
        assert "Emma" not in inbox and f"/people/{org.emma.id}" not in inbox
    assert "Emma" not in watchers["boss"].get("/notify/").get_data(as_text=True)


def pages_keys(snapshot: dict) -> list:  # type: ignore[type-arg]
    return sorted(snapshot)


def test_the_same_feedback_given_by_name_does_show_on_those_pages(org, login) -> None:
    """The control: without the confidential switch the badge and its holder appear, so the
    comparison above would catch the leak it guards against."""
    badge = ensure_automatic_badges()["first-feedback"]
    db.session.commit()
    watchers = {"lina": login(org.lina)}
    pages = _author_pages(org, badge.id)
    before = _snapshot(watchers, pages)
    _send(login(org.emma), org, confidential=False)
    after = _snapshot(watchers, pages)
    assert count(BadgeAward, BadgeAward.receiver_id == org.emma.id) == 1
    changed = {url for (_who, url) in pages_keys(before) if before[(_who, url)] != after[(_who, url)]}
    assert {"/walls/", f"/walls/people/{org.emma.id}", f"/walls/badges/{badge.id}"} <= changed
    assert f"/people/{org.emma.id}" in after[("lina", f"/walls/badges/{badge.id}")][1]


def test_a_public_confidential_praise_on_the_wall_comes_with_no_badge_strip_entry(org, login) -> None:
    """The reported case: public confidential praise, then the wall's newest-badges strip."""
    ensure_automatic_badges()
    db.session.commit()
    _send(login(org.emma), org, confidential=True, visibility="public")
    for who in (org.lina, org.boss, org.zhang):
        for headers in ({}, ZH):
            wall = login(who).get("/walls/", headers=headers).get_data(as_text=True)
            assert "Emma" not in wall and f"/people/{org.emma.id}" not in wall


def test_confidential_feedback_never_counts_toward_the_automatic_badges(org) -> None:
    emma, lina = org.emma, org.lina
    for _i in range(CONSTRUCTIVE_FOR_BADGE):
        give_feedback(emma, FeedbackInput(recipient_id=lina.id, text="Try a shorter intro", kind="constructive",
                                          visibility="private", confidential=True))
    db.session.commit()
    assert count(BadgeAward, BadgeAward.receiver_id == emma.id) == 0
    # Nine named ones after ten confidential ones are still nine: the tenth named one earns it.
    for _i in range(CONSTRUCTIVE_FOR_BADGE - 1):
        give_feedback(emma, FeedbackInput(recipient_id=lina.id, text="Try a shorter intro", kind="constructive",
                                          visibility="private"))
    db.session.commit()
    rules = {a.badge.rule for a in db.session.scalars(select(BadgeAward).where(BadgeAward.receiver_id == emma.id))}
    assert rules == {"first-feedback"}
    give_feedback(emma, FeedbackInput(recipient_id=lina.id, text="Try a shorter intro", kind="constructive",
                                      visibility="private"))
    db.session.commit()
    rules = {a.badge.rule for a in db.session.scalars(select(BadgeAward).where(BadgeAward.receiver_id == emma.id))}
    assert rules == {"first-feedback", "constructive-10"}


def test_a_request_cannot_be_answered_confidentially(org, login) -> None:
    """The person who asked sees the ask turn "Answered" as the feedback arrives: that would sign it."""
    req = request_feedback(org.lina, [org.zhang.id], "How did my demo go?")
    db.session.commit()
    ask_id = req.asks[0].id
    c = login(org.zhang)  # no language of their own: the browser's is used
    form = c.get(f"/feedback/new?ask={ask_id}").get_data(as_text=True)
    assert 'name="confidential"' not in form and "the person who asked knows whom they asked" in form
    data = {"recipient_id": org.lina.id, "text": "Clear and calm", "kind": "suggestion", "visibility": "private",
            "ask_id": ask_id, "confidential": "1"}
    for headers, expected in (({}, "be confidential"), (ZH, "不能保密")):
        r = c.submit("/feedback/new", data, headers=headers)
        assert r.status_code == 422 and expected in r.get_data(as_text=True)
    r = c.submit("/feedback/new", data, htmx=True, target="compose")
    assert r.status_code == 422 and "be confidential" in r.get_data(as_text=True)
    assert count(Feedback) == 0 and count(BadgeAward) == 0
    assert db.session.get(FeedbackAsk, ask_id).status == "open"
    assert count(Notification, Notification.user_id == org.lina.id) == 0
    # Answered by name, it goes through.
    data.pop("confidential")
    assert c.submit("/feedback/new", data).status_code == 303
    assert db.session.get(FeedbackAsk, ask_id).status == "answered"
