"""Reporting customer praise: hidden from everyone but HR at once (profiles, walls, its page, stories);
HR restores, deletes, or deletes and suspends whoever imported it."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.integrations import services
from perfapp.integrations.models import CustomerPraise
from perfapp.moderation import services as moderation
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.stories import services as stories
from perfapp.stories.services import StoryInput
from tests.conftest import htmx_headers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
SUBJECT = "Thank you, Li Na!"


@pytest.fixture(autouse=True)
def _hidden_at_once(one_report_hides: None) -> None:
    """These tests are about what a hidden row does to stories; one report hides it here."""


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture()
def customer_praise(team):  # type: ignore[no-untyped-def]
    """customer_praise(**columns) -> committed praise about 李娜 that Emma imported and confirmed."""

    def make(**kw: Any) -> CustomerPraise:
        fields: dict[str, Any] = {
            "status": "confirmed", "origin": "paste", "sender_name": "Dana Client",
            "sender_email": "dana@client.example", "subject": SUBJECT,
            "body": "Li Na helped us go live on time.", "created_by_id": team["emma"].id,
            "confirmed_by_id": team["emma"].id, "confirmed_at": utcnow()}
        fields.update(kw)
        item = CustomerPraise(**fields)
        if item.status == "confirmed":
            item.people = [team["lina"]]
        db.session.add(item)
        db.session.commit()
        return item

    return make


def reload(praise_id: int) -> CustomerPraise | None:
    db.session.expire_all()
    return db.session.get(CustomerPraise, praise_id)


# --- services --------------------------------------------------------------------------------------

def test_a_report_hides_it_from_everyone_but_hr(team, customer_praise) -> None:
    item = customer_praise()
    moderation.report(team["zhang"], "customer_praise", item.id, "Not a real customer")
    db.session.commit()
    assert reload(item.id).hidden
    for who in ("zhang", "lina", "emma", "boss"):
        assert services.get_visible(team[who], item.id) is None
        assert services.confirmed_for(team["lina"].id, viewer=team[who]) == []
        assert services.recent_confirmed(viewer=team[who]) == []
    assert services.confirmed_for(team["lina"].id) == []
    assert services.get_visible(team["hr"], item.id) is not None
    assert services.confirmed_for(team["lina"].id, viewer=team["hr"]) == [item]


def test_a_story_made_from_it_loses_its_source_while_hidden(team, customer_praise) -> None:
    item = customer_praise()
    story = stories.promote(team["boss"], StoryInput(source_type="customer_praise", source_id=item.id,
                                                     title="T", text="Text.", person_ids=[team["lina"].id]))
    db.session.commit()
    moderation.report(team["zhang"], "customer_praise", item.id, "Not a real customer")
    db.session.commit()
    assert stories.source_of(story, team["boss"])[1] is None
    assert stories.source_of(story, team["hr"])[1] is not None


def test_drafts_and_unseen_rows_cannot_be_reported(team, customer_praise) -> None:
    draft = customer_praise(status="draft", confirmed_by_id=None, confirmed_at=None)
    with pytest.raises(LookupError):  # zhang can't see a draft
        moderation.report(team["zhang"], "customer_praise", draft.id, "Wrong")
    with pytest.raises(LookupError):  # a draft isn't a public event: discard it instead
        moderation.report(team["hr"], "customer_praise", draft.id, "Wrong")
    mine = customer_praise()
    with pytest.raises(FormError):
        moderation.report(team["emma"], "customer_praise", mine.id, "Oops")
    db.session.rollback()
    assert count(Report) == 0


@pytest.mark.parametrize("action, days", [("restore", None), ("delete", None), ("suspend", 5)])
def test_hr_decides_and_the_importer_is_the_author(team, customer_praise, action, days) -> None:
    praise_id = customer_praise().id
    moderation.report(team["zhang"], "customer_praise", praise_id, "Not a real customer")
    db.session.commit()
    decision = moderation.decide(team["hr"], "customer_praise", praise_id, action, "Checked", days)
    db.session.commit()
    assert decision.subject_id == team["emma"].id
    item = reload(praise_id)
    if action == "restore":
        assert item is not None and services.confirmed_for(team["lina"].id) == [item]
    else:
        assert item is None
    assert count(PostingSuspension, PostingSuspension.user_id == team["emma"].id) == (1 if days else 0)


def test_inbound_praise_answers_to_whoever_confirmed_it(team, customer_praise) -> None:
    item = customer_praise(origin="inbound", created_by_id=None, confirmed_by_id=team["hr"].id)
    moderation.report(team["zhang"], "customer_praise", item.id, "Spam")
    db.session.commit()
    decision = moderation.decide(team["hr"], "customer_praise", item.id, "delete", "Spam")
    assert decision.subject_id == team["hr"].id


def test_nobody_to_suspend_is_a_clear_error(team, customer_praise) -> None:
    item = customer_praise(origin="inbound", created_by_id=None, confirmed_by_id=None)
    moderation.report(team["zhang"], "customer_praise", item.id, "Spam")
    db.session.commit()
    with pytest.raises(FormError) as e:
        moderation.decide(team["hr"], "customer_praise", item.id, "suspend", "Spam", 3)
    assert "days" in e.value.errors
    db.session.rollback()
    assert reload(item.id) is not None and count(PostingSuspension) == 0
    moderation.decide(team["hr"], "customer_praise", item.id, "delete", "Spam")  # deleting still works
    db.session.commit()
    assert reload(item.id) is None


# --- views ---------------------------------------------------------------------------------------

def test_the_report_button_is_on_cards_and_the_page_but_not_for_the_importer(team, customer_praise, login) -> None:
    item = customer_praise()
    link = f'href="/moderation/report/customer_praise/{item.id}"'
    c = login(team["zhang"])
    assert link in c.get(f"/people/{team['lina'].id}").get_data(as_text=True)
    assert link in c.get(f"/walls/people/{team['lina'].id}").get_data(as_text=True)
    assert link in c.get(f"/integrations/praise/{item.id}").get_data(as_text=True)
    assert link not in login(team["emma"]).get(f"/integrations/praise/{item.id}").get_data(as_text=True)


@pytest.mark.parametrize("htmx", [True, False])
def test_report_over_http_hides_it_everywhere(team, customer_praise, login, htmx) -> None:
    item = customer_praise()
    c = login(team["zhang"])
    sheet = c.get(f"/moderation/report/customer_praise/{item.id}", headers=htmx_headers(f"sheet-customer_praise-{item.id}"))
    assert sheet.status_code == 200 and "<html" not in sheet.get_data(as_text=True)
    r = c.submit(f"/moderation/report/customer_praise/{item.id}", {"reason": "Not a real customer"}, htmx=htmx,
                 target=f"sheet-customer_praise-{item.id}")
    if htmx:
        assert r.status_code == 200 and r.headers["HX-Retarget"] == f"#customer-praise-{item.id}"
    else:
        assert r.status_code == 303
    for who in ("zhang", "lina", "emma", "boss"):
        reader = login(team[who])
        assert SUBJECT not in reader.get(f"/people/{team['lina'].id}").get_data(as_text=True)
        assert SUBJECT not in reader.get(f"/walls/people/{team['lina'].id}").get_data(as_text=True)
        assert reader.get(f"/integrations/praise/{item.id}").status_code == 404
        assert SUBJECT not in reader.get("/notify/").get_data(as_text=True)
    hr = login(team["hr"])
    assert "hidden from everyone but HR" in hr.get(f"/integrations/praise/{item.id}").get_data(as_text=True)
    queue = hr.get("/moderation/").get_data(as_text=True)
    assert f'id="case-customer_praise-{item.id}"' in queue and "Not a real customer" in queue


@pytest.mark.parametrize("reason, message", [("  ", "请简单说说它有什么问题。"), ("x" * 501, "500")])
def test_a_bad_reason_is_422_translated_and_changes_nothing(team, customer_praise, login, reason, message) -> None:
    item = customer_praise()
    for htmx in (True, False):
        r = login(team["zhang"]).submit(f"/moderation/report/customer_praise/{item.id}", {"reason": reason},
                                        htmx=htmx, target=f"sheet-customer_praise-{item.id}", headers=ZH)
        assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(Report) == 0 and not reload(item.id).hidden


@pytest.mark.parametrize("praise_id", [None, 999999])
def test_unknown_or_draft_praise_is_404(team, customer_praise, login, praise_id) -> None:
    draft = customer_praise(status="draft", confirmed_by_id=None, confirmed_at=None)
    target = praise_id or draft.id
    c = login(team["zhang"])
    assert c.get(f"/moderation/report/customer_praise/{target}").status_code == 404
    assert c.submit(f"/moderation/report/customer_praise/{target}", {"reason": "Wrong"}).status_code == 404
    assert count(Report) == 0


@pytest.mark.parametrize("htmx", [True, False])
def test_hr_restores_it_over_http(team, customer_praise, login, htmx) -> None:
    item = customer_praise()
    moderation.report(team["zhang"], "customer_praise", item.id, "Not a real customer")
    db.session.commit()
    r = login(team["hr"]).submit(f"/moderation/customer_praise/{item.id}", {"action": "restore"}, htmx=htmx,
                                 target=f"case-customer_praise-{item.id}")
    assert r.status_code == (200 if htmx else 303)
    assert not reload(item.id).hidden
    assert SUBJECT in login(team["zhang"]).get(f"/people/{team['lina'].id}").get_data(as_text=True)
    decision = db.session.scalar(select(ModerationDecision))
    assert (decision.target_type, decision.action) == ("customer_praise", "restore")
