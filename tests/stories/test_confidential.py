"""Confidential praise never becomes a story (perfapp.stories.sources explains why): nobody is
offered "Promote to story" on it, and the server refuses it, translated, by every path."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.notify.models import Notification
from perfapp.stories import services
from perfapp.stories.models import Story
from perfapp.stories.services import StoryInput

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def stories() -> int:
    return db.session.scalar(select(func.count()).select_from(Story)) or 0


def notes() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)) or 0


@pytest.fixture()
def secret(team, praise):  # type: ignore[no-untyped-def]
    """Public praise from the boss to 李娜, given confidentially: the case the defect was found on
    (the author is a manager, so they could promote it)."""
    return praise(author=team["boss"], confidential=True, text="李娜 turned the outage around")


def form(item, team):  # type: ignore[no-untyped-def]
    return {"source_type": "feedback", "source_id": item.id, "title": "The outage", "text": "She stayed.",
            "person_ids": [team["lina"].id], "tag_ids": [team["ownership"].id]}


@pytest.mark.parametrize("who", ["boss", "hr"])
def test_no_promote_link_on_confidential_praise(team, secret, praise, login, who) -> None:
    named = praise(text="A named thank-you")
    c = login(team[who])
    link = "/stories/new?source_type=feedback&amp;source_id={}"
    for url in ("/walls/", f"/feedback/{secret.id}", f"/people/{team['lina'].id}", "/"):
        html = c.get(url).get_data(as_text=True)
        assert link.format(secret.id) not in html
    assert link.format(named.id) in c.get("/walls/").get_data(as_text=True)  # the control


@pytest.mark.parametrize("who", ["boss", "hr"])
def test_the_server_refuses_a_confidential_source_translated(team, secret, login, who) -> None:
    c = login(team[who])
    before = notes()
    for headers, message in (({}, "Confidential praise can"), (ZH, "保密的表扬不能成为案例")):
        r = c.get(f"/stories/new?source_type=feedback&source_id={secret.id}", headers=headers)
        assert r.status_code == 403 and message in r.get_data(as_text=True)
        r = c.submit("/stories/new", form(secret, team), headers=headers)
        assert r.status_code == 403 and message in r.get_data(as_text=True)
    r = c.submit("/stories/new", form(secret, team), htmx=True, target="story-form")
    assert r.status_code == 403 and "Confidential praise can" in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)
    assert stories() == 0 and notes() == before  # no consent request went out
    assert "would like to feature you" not in login(team["lina"]).get("/notify/").get_data(as_text=True)


def test_the_services_refuse_it_whoever_promotes(team, secret) -> None:
    for who in ("boss", "hr"):
        with pytest.raises(services.NotEligible) as refused:
            services.draft(team[who], "feedback", secret.id)
        assert refused.value.reason and "Confidential" in refused.value.reason
        with pytest.raises(services.NotEligible):
            services.promote(team[who], StoryInput(source_type="feedback", source_id=secret.id, title="T",
                                                   text="t", person_ids=[team["lina"].id]))
    db.session.rollback()
    assert stories() == 0


def test_named_public_praise_still_becomes_a_story(team, praise, login) -> None:
    item = praise(author=team["boss"])
    r = login(team["boss"]).submit("/stories/new", form(item, team))
    assert r.status_code == 303 and stories() == 1
