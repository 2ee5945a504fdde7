"""The give sheet (issue 9): kind and audience on the sheet, who is suggested, tags, one sheet
for feedback, flowers and badges. Services without HTTP, then views with and without htmx."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.forms import parse_feedback
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import (
    FeedbackInput,
    give_feedback,
    give_suggestions,
    popular_value_tags,
    request_feedback,
)
from perfapp.people.services import is_self_query, search_people
from tests.conftest import htmx_headers


def feedback_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    me = make_user(name="Emma Wilson", email="emma@example.com", manager=boss)
    return {
        "boss": boss, "me": me,
        "mate": make_user(name="李娜", email="lina@example.com", manager=boss),
        "gone": make_user(name="Gone Mate", email="gone@example.com", manager=boss, active=False),
        "report": make_user(name="Ravi Kumar", email="ravi@example.com", manager=me),
        "asker": make_user(name="Asker Liu", email="asker@example.com"),
        "peer": make_user(name="Peer Zhou", email="peer@example.com"),
        "secret": make_user(name="Secret Sun", email="secret@example.com"),
        "stranger": make_user(name="Stranger Qi", email="stranger@example.com"),
    }


# --- services ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["suggestion", "constructive"])
def test_suggestion_and_constructive_are_never_public(org, kind) -> None:
    with pytest.raises(FormError) as e:
        give_feedback(org["me"], FeedbackInput(recipient_id=org["mate"].id, text="try X", kind=kind,
                                               visibility="public"))
    assert "visibility" in e.value.errors
    db.session.rollback()
    assert feedback_count() == 0


@pytest.mark.parametrize(("kind", "expected"), [("praise", "public"), ("suggestion", "private"),
                                                 ("constructive", "private")])
def test_no_audience_sent_means_the_kinds_default(org, kind, expected) -> None:
    data = parse_feedback(MultiDict({"recipient_id": str(org["mate"].id), "text": "x", "kind": kind}))
    assert data.visibility == expected
    assert give_feedback(org["me"], data).visibility == expected


def test_show_my_name_is_the_opposite_of_confidential() -> None:
    assert parse_feedback(MultiDict({"show_name_present": "1"})).confidential is True
    assert parse_feedback(MultiDict({"show_name_present": "1", "show_name": "1"})).confidential is False
    # The outbox and older clients still send "confidential".
    assert parse_feedback(MultiDict({"confidential": "1"})).confidential is True
    assert parse_feedback(MultiDict({})).confidential is False


def test_suggestions_say_why_and_never_include_me_or_the_deactivated(org) -> None:
    request_feedback(org["asker"], [org["me"].id], "my talk", None, None)
    give_feedback(org["me"], FeedbackInput(recipient_id=org["peer"].id, text="thanks"))
    # Someone who only ever wrote to me confidentially must not be named by the suggestions.
    give_feedback(org["secret"], FeedbackInput(recipient_id=org["me"].id, text="psst", confidential=True))
    db.session.commit()
    found = {s.person.id: s.reason for s in give_suggestions(org["me"])}
    assert found == {org["asker"].id: "asked", org["boss"].id: "manager", org["report"].id: "report",
                     org["peer"].id: "recent", org["mate"].id: "team"}
    ordered = [s.reason for s in give_suggestions(org["me"])]
    assert ordered[:2] == ["asked", "manager"]
    assert org["me"].id not in found and org["gone"].id not in found
    assert org["secret"].id not in found and org["stranger"].id not in found


def test_suggestions_forget_old_exchanges_and_answered_asks(org) -> None:
    old = give_feedback(org["me"], FeedbackInput(recipient_id=org["peer"].id, text="long ago"))
    old.created_at = utcnow() - timedelta(days=91)
    req = request_feedback(org["asker"], [org["me"].id], "my talk", None, None)
    req.asks[0].status = "answered"
    db.session.commit()
    found = {s.person.id for s in give_suggestions(org["me"])}
    assert org["peer"].id not in found and org["asker"].id not in found


def test_suggestions_are_at_most_eight(make_user) -> None:
    boss = make_user(name="Boss")
    me = make_user(name="Me", manager=boss)
    for i in range(12):
        make_user(name=f"Mate {i:02d}", manager=boss)
    assert len(give_suggestions(me)) == 8


def test_popular_value_tags_by_use_then_the_rest(org, make_tag) -> None:
    a, b, c = make_tag("Ownership", "担当"), make_tag("Customer", "客户第一"), make_tag("Candour", "坦诚")
    skill = make_tag("Python", "Python", kind="capability")
    assert popular_value_tags() == [a, b, c]  # nothing used yet: all values in order
    for _n in range(2):
        give_feedback(org["me"], FeedbackInput(recipient_id=org["mate"].id, tag_ids=[c.id, skill.id]))
    give_feedback(org["me"], FeedbackInput(recipient_id=org["mate"].id, tag_ids=[b.id]))
    db.session.commit()
    assert popular_value_tags() == [c, b, a]
    assert popular_value_tags(limit=1) == [c]


def test_a_full_email_finds_its_person_and_my_own_name_is_me(org) -> None:
    assert search_people(org["me"], "LINA@example.com") == [org["mate"]]
    assert search_people(org["me"], "Emma") == []
    assert is_self_query(org["me"], "emma") and is_self_query(org["me"], "emma@example.com")
    assert not is_self_query(org["me"], "lina")


# --- views -------------------------------------------------------------------------------

def test_give_sheet_page_shows_kind_audience_sentence_and_suggestions(org, login, make_tag) -> None:
    make_tag("Ownership", "担当")
    c = login(org["me"])
    body = c.get("/feedback/new").get_data(as_text=True)
    assert 'name="kind" value="suggestion"' in body and "What kind" in body
    assert "Who sees it" in body and "Show my name" in body
    assert "Everyone will see this on the praise wall." in body
    assert "Your manager" in body and "王伟" in body and "Reports to you" in body
    assert "Gone Mate" not in body
    assert 'autofocus' in body and "#Ownership" in body and "One-minute template" in body
    assert 'data-give-switch' in body and "/recognition/flowers" in body


def test_give_sheet_in_chinese_with_a_person_picked(org, login) -> None:
    org["me"].locale = "zh_Hans_CN"
    db.session.commit()
    c = login(org["me"])
    body = c.get(f"/feedback/new?to={org['mate'].id}").get_data(as_text=True)
    assert "谁能看到" in body and "显示我的名字" in body and "所有人都会在表扬墙上看到。" in body
    assert "私密" not in body
    # The person picked is carried to flowers and badges.
    assert f"/recognition/flowers?to={org['mate'].id}" in body and f"/recognition/award?to={org['mate'].id}" in body


@pytest.mark.parametrize("htmx", [False, True])
def test_public_suggestion_is_refused_translated_and_not_offered_again(org, login, htmx) -> None:
    org["me"].locale = "zh_Hans_CN"
    db.session.commit()
    c = login(org["me"])
    r = c.submit("/feedback/new", {"recipient_id": org["mate"].id, "text": "试试 X", "kind": "suggestion",
                                   "visibility": "public"}, htmx=htmx, target="compose")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and ("<html" in body) is (not htmx)
    assert "表扬墙" in body and 'class="field-error"' in body
    assert feedback_count() == 0
    # The re-rendered sheet hides "public" for a suggestion and says who will see it.
    assert 'data-visibility-option="public" hidden' in body
    assert "只有 李娜 会看到。" in body


def test_private_suggestion_with_name_hidden_is_sent(org, login) -> None:
    c = login(org["me"])
    r = c.submit("/feedback/new", {"recipient_id": org["mate"].id, "text": "try X", "kind": "suggestion",
                                   "visibility": "manager", "show_name_present": "1"})
    assert r.status_code == 303
    item = db.session.scalars(select(Feedback)).one()
    assert (item.kind, item.visibility, item.confidential) == ("suggestion", "manager", True)


def test_sentence_follows_the_audience_server_side(org, login) -> None:
    c = login(org["me"])
    r = c.submit("/feedback/new", {"recipient_id": org["mate"].id, "kind": "praise", "visibility": "manager",
                                   "show_name_present": "1", "text": "x" * 4001})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "李娜 and their manager will see this." in body
    assert 'data-audience-name hidden' not in body  # name hidden: said next to Send


@pytest.mark.parametrize("htmx", [False, True])
def test_picker_fragment_says_thats_you_and_finds_by_email(org, login, htmx) -> None:
    c = login(org["me"])
    headers = htmx_headers("picker-results") if htmx else {}
    body = c.get("/people/search?q=emma", headers=headers).get_data(as_text=True)
    assert "That&#39;s you" in body or "That's you" in body
    assert ("<html" in body) is (not htmx)
    body = c.get("/people/search?q=lina%40example.com", headers=headers).get_data(as_text=True)
    assert "李娜" in body
    body = c.get("/people/search?q=nobodyatall", headers=headers).get_data(as_text=True)
    assert "No one matches" in body and "That" not in body


def test_flowers_and_badge_are_tabs_of_the_give_sheet(org, login) -> None:
    c = login(org["me"])
    flowers = c.get(f"/recognition/flowers?to={org['mate'].id}").get_data(as_text=True)
    assert "data-give-switch" in flowers and f"/feedback/new?to={org['mate'].id}" in flowers
    assert 'aria-current="page"' in flowers
    award = c.get("/recognition/award").get_data(as_text=True)
    assert "data-give-switch" in award and "Your manager" in award
