"""Reporting a story: hidden from everyone but HR at once, HR restores, deletes or suspends the promoter."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation import services as moderation
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.notify.models import Notification
from perfapp.stories import services
from perfapp.stories.models import Story, StoryPerson
from perfapp.stories.services import StoryInput
from tests.conftest import htmx_headers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture(autouse=True)
def _hidden_at_once(one_report_hides: None) -> None:
    """These tests are about what a hidden row does to stories; one report hides it here."""


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def make_story(team, item, publish: bool = True) -> Story:  # type: ignore[no-untyped-def]
    story = services.promote(team["boss"], StoryInput(
        source_type="feedback", source_id=item.id, title="The night the release was saved",
        text="She stayed until the release was green.", tag_ids=[team["ownership"].id],
        person_ids=[team["lina"].id]))
    if publish:
        services.respond(team["lina"], story.id, True)
    db.session.commit()
    return story


def reload(story_id: int) -> Story | None:
    db.session.expire_all()
    return db.session.get(Story, story_id)


# --- services --------------------------------------------------------------------------------------

def test_a_report_hides_the_story_from_everyone_but_hr(team, praise) -> None:
    story = make_story(team, praise())
    moderation.report(team["zhang"], "story", story.id, "This never happened")
    db.session.commit()
    assert reload(story.id).hidden
    for who in ("zhang", "lina", "emma", "boss"):  # readers, the person in it, the promoter
        assert services.get_visible(team[who], story.id) is None
        assert services.library(viewer=team[who])[0] == []
    assert services.library()[0] == []
    assert services.get_visible(team["hr"], story.id) is not None
    assert services.library(viewer=team["hr"])[0] == [story]


def test_a_hidden_story_under_consent_leaves_the_waiting_list(team, praise) -> None:
    story = make_story(team, praise(), publish=False)
    moderation.report(team["lina"], "story", story.id, "I don't want this")
    db.session.commit()
    assert services.awaiting(team["boss"]) == [] and services.awaiting(team["lina"]) == []
    assert services.awaiting(team["hr"]) == [story]
    with pytest.raises(LookupError):
        services.respond(team["lina"], story.id, True)


def test_only_those_who_can_see_a_story_can_report_it(team, praise) -> None:
    story = make_story(team, praise(), publish=False)  # pending: the promoter, 李娜 and HR only
    with pytest.raises(LookupError):
        moderation.report(team["zhang"], "story", story.id, "Looks wrong")
    with pytest.raises(FormError):  # the promoter is its author
        moderation.report(team["boss"], "story", story.id, "Oops")
    db.session.rollback()
    assert count(Report) == 0 and not reload(story.id).hidden


@pytest.mark.parametrize("action, days", [("restore", None), ("delete", None), ("suspend", 3)])
def test_hr_decides_and_the_promoter_is_the_author(team, praise, action, days) -> None:
    story = make_story(team, praise())
    moderation.report(team["zhang"], "story", story.id, "This never happened")
    db.session.commit()
    [case] = moderation.open_cases(team["hr"])
    assert case.target_type == "story" and case.obj.id == story.id
    decision = moderation.decide(team["hr"], "story", story.id, action, "Checked it", days)
    db.session.commit()
    assert decision.subject_id == team["boss"].id
    story = reload(story.id)
    if action == "restore":
        assert story is not None and not story.hidden and services.library()[0] == [story]
    else:
        assert story is None and count(StoryPerson) == 0
        assert count(Notification, Notification.user_id == team["boss"].id,
                     Notification.kind == "moderation_decision") == 1
    assert count(PostingSuspension, PostingSuspension.user_id == team["boss"].id) == (1 if days else 0)
    assert moderation.open_cases(team["hr"]) == []


# --- views ---------------------------------------------------------------------------------------

def test_the_report_button_is_on_the_story_page_for_readers_not_the_promoter(team, praise, login) -> None:
    story = make_story(team, praise())
    link = f'href="/moderation/report/story/{story.id}"'
    for who in ("zhang", "lina", "hr"):
        assert link in login(team[who]).get(f"/stories/{story.id}").get_data(as_text=True)
    assert link not in login(team["boss"]).get(f"/stories/{story.id}").get_data(as_text=True)


def test_the_report_sheet_as_fragment_and_page(team, praise, login) -> None:
    story = make_story(team, praise())
    c = login(team["zhang"])
    r = c.get(f"/moderation/report/story/{story.id}", headers={**htmx_headers(f"sheet-story-{story.id}"), **ZH})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "举报这个案例" in body
    page = c.get(f"/moderation/report/story/{story.id}").get_data(as_text=True)
    assert "<html" in page and "Report this story" in page and 'name="reason"' in page


@pytest.mark.parametrize("htmx", [True, False])
def test_report_over_http_hides_it_at_once(team, praise, login, htmx) -> None:
    story = make_story(team, praise())
    c = login(team["zhang"])
    r = c.submit(f"/moderation/report/story/{story.id}", {"reason": "This never happened"}, htmx=htmx,
                 target=f"sheet-story-{story.id}")
    if htmx:
        assert r.status_code == 200 and r.headers["HX-Retarget"] == f"#story-{story.id}"
        assert f'id="story-{story.id}"' in r.get_data(as_text=True)
    else:
        assert r.status_code == 303
    for who in ("zhang", "lina", "boss"):
        reader = login(team[who])
        assert reader.get(f"/stories/{story.id}").status_code == 404
        assert "The night the release was saved" not in reader.get("/stories/").get_data(as_text=True)
        assert "The night the release was saved" not in reader.get("/notify/").get_data(as_text=True)
    hr = login(team["hr"])
    page = hr.get(f"/stories/{story.id}").get_data(as_text=True)
    assert "hidden from everyone but HR" in page and f"/moderation/report/story/{story.id}" not in page
    assert f'id="story-{story.id}"' in hr.get("/stories/").get_data(as_text=True)
    queue = hr.get("/moderation/").get_data(as_text=True)
    assert f'id="case-story-{story.id}"' in queue and "This never happened" in queue


@pytest.mark.parametrize("reason, message", [("", "请简单说说它有什么问题。"), ("x" * 501, "500")])
@pytest.mark.parametrize("htmx", [True, False])
def test_a_bad_reason_is_422_translated_and_changes_nothing(team, praise, login, reason, message, htmx) -> None:
    story = make_story(team, praise())
    r = login(team["zhang"]).submit(f"/moderation/report/story/{story.id}", {"reason": reason}, htmx=htmx,
                                    target=f"sheet-story-{story.id}", headers=ZH)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and message in body and ("<html" in body) is not htmx
    assert count(Report) == 0 and not reload(story.id).hidden


@pytest.mark.parametrize("who, story_id", [("zhang", None), ("zhang", 999999), ("hr", 999999)])
def test_unknown_or_unseen_stories_are_404(team, praise, login, who, story_id) -> None:
    pending = make_story(team, praise(), publish=False)
    target = story_id or pending.id
    c = login(team[who])
    assert c.get(f"/moderation/report/story/{target}").status_code == 404
    assert c.submit(f"/moderation/report/story/{target}", {"reason": "Wrong"}).status_code == 404
    assert count(Report) == 0 and not reload(pending.id).hidden


@pytest.mark.parametrize("htmx", [True, False])
def test_hr_deletes_a_reported_story_and_the_log_keeps_no_content(team, praise, login, htmx) -> None:
    story_id = make_story(team, praise()).id
    moderation.report(team["zhang"], "story", story_id, "This never happened")
    db.session.commit()
    c = login(team["hr"])
    r = c.submit(f"/moderation/story/{story_id}", {"action": "suspend", "reason": "Made up", "days": "2", "confirmed": "1"},
                 htmx=htmx, target=f"case-story-{story_id}")
    assert r.status_code == (200 if htmx else 303)
    assert reload(story_id) is None
    decision = db.session.scalar(select(ModerationDecision))
    assert (decision.target_type, decision.action, decision.subject_id) == ("story", "suspend", team["boss"].id)
    log = c.get("/moderation/log").get_data(as_text=True)
    assert "Story" in log and "Made up" in log and "The night the release was saved" not in log
    assert login(team["zhang"]).get(f"/stories/{story_id}").status_code == 404


def test_a_decision_with_a_bad_action_is_422_and_changes_nothing(team, praise, login) -> None:
    story = make_story(team, praise())
    moderation.report(team["zhang"], "story", story.id, "This never happened")
    db.session.commit()
    r = login(team["hr"]).submit(f"/moderation/story/{story.id}", {"action": "delete", "reason": ""},
                                 htmx=True, target=f"case-story-{story.id}", headers=ZH)
    assert r.status_code == 422 and "<html" not in r.get_data(as_text=True)
    assert reload(story.id).hidden and count(ModerationDecision) == 0
    assert login(team["zhang"]).submit(f"/moderation/story/{story.id}", {"action": "restore"}).status_code == 403
