"""Flower gifts and badge awards promoted into stories: the registry, the promote link, the story page."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.moderation import services as moderation
from perfapp.stories import services
from perfapp.stories.models import Story
from perfapp.stories.services import StoryInput
from tests.conftest import htmx_headers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture(autouse=True)
def _hidden_at_once(one_report_hides: None) -> None:
    """These tests are about what a hidden row does to stories; one report hides it here."""


def story_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Story)) or 0


def form(source_type: str, obj: Any, people: list, **kw: Any) -> dict[str, Any]:
    data = {"source_type": source_type, "source_id": obj.id, "title": "The weekend the site came back",
            "text": "She gave up her weekend so customers could shop again.",
            "person_ids": [p.id for p in people]}
    data.update(kw)
    return data


# --- services --------------------------------------------------------------------------------------

def test_a_flower_gift_drafts_with_its_message_value_and_recipient(team, flower) -> None:
    gift = flower()
    draft = services.draft(team["boss"], "flower", gift.id)
    assert draft.data.text == gift.message
    assert draft.data.tag_ids == [team["ownership"].id]
    assert [p.id for p in draft.required] == [team["lina"].id]


def test_a_badge_award_drafts_with_its_citation_and_the_badge_value(team, award) -> None:
    row = award()
    draft = services.draft(team["hr"], "badge_award", row.id)
    assert draft.data.text == row.citation
    assert draft.data.tag_ids == [team["customer"].id]
    assert [p.id for p in draft.required] == [team["lina"].id]


def test_an_automatic_badge_suggests_the_badge_description(team, award) -> None:
    row = award(giver_id=None, citation="", source="once")
    assert services.draft(team["boss"], "badge_award", row.id).data.text == "Always there to help"


def test_a_capability_tag_is_not_suggested_as_a_value(team, flower) -> None:
    gift = flower(tag_id=team["skill"].id)
    assert services.draft(team["boss"], "flower", gift.id).data.tag_ids == []


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_promote_then_consent_publishes_it(app, team, flower, award, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    story = services.promote(team["boss"], StoryInput(
        source_type=source_type, source_id=obj.id, title="A story", text="Told well.",
        tag_ids=[team["ownership"].id], person_ids=[team["lina"].id]))
    db.session.commit()
    assert story.status == "pending"
    services.respond(team["lina"], story.id, True)
    db.session.commit()
    assert story.is_published
    source, shown = services.source_of(story, team["zhang"])
    with app.test_request_context():
        url = source.url(shown)
    assert shown is not None and url.endswith(
        f"/recognition/flowers/{obj.id}" if source_type == "flower" else f"/recognition/awards/{obj.id}")


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_the_recipient_must_be_asked(team, flower, award, source_type) -> None:
    from perfapp.core.validation import FormError

    obj = flower() if source_type == "flower" else award()
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], StoryInput(source_type=source_type, source_id=obj.id, title="T",
                                                  text="Text.", person_ids=[team["emma"].id]))
    assert "person_ids" in e.value.errors
    db.session.rollback()
    assert story_count() == 0


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_an_employee_may_not_promote(team, flower, award, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    for who in ("zhang", "lina", "emma"):
        with pytest.raises(PermissionError):
            services.draft(team[who], source_type, obj.id)
        with pytest.raises(PermissionError):
            services.promote(team[who], StoryInput(source_type=source_type, source_id=obj.id, title="T",
                                                   text="Text.", person_ids=[team["lina"].id]))
    assert story_count() == 0


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_a_reported_one_cannot_be_promoted(team, flower, award, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    moderation.report(team["zhang"], source_type, obj.id, "Not true")
    db.session.commit()
    # HR still sees it (to moderate it) but it is not eligible; a manager can't even load it.
    with pytest.raises(services.NotEligible):
        services.draft(team["hr"], source_type, obj.id)
    with pytest.raises(LookupError):
        services.draft(team["boss"], source_type, obj.id)
    assert story_count() == 0


def test_a_story_whose_flower_was_deleted_says_so(team, flower) -> None:
    gift = flower()
    story = services.promote(team["boss"], StoryInput(source_type="flower", source_id=gift.id, title="T",
                                                      text="Text.", person_ids=[team["lina"].id]))
    db.session.commit()
    moderation.report(team["zhang"], "flower", gift.id, "Spam")
    moderation.decide(team["hr"], "flower", gift.id, "delete", "Spam")
    db.session.commit()
    assert services.source_of(story, team["hr"])[1] is None


# --- views ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("source_type, path", [("flower", "flowers"), ("badge_award", "awards")])
def test_the_promote_link_shows_for_hr_and_managers_only(team, flower, award, login, source_type, path) -> None:
    obj = flower() if source_type == "flower" else award()
    link = f"/stories/new?source_type={source_type}&amp;source_id={obj.id}"
    for who in ("boss", "hr"):
        c = login(team[who])
        assert link in c.get("/walls/").get_data(as_text=True)
        assert link in c.get(f"/recognition/{path}/{obj.id}").get_data(as_text=True)
        more = c.get("/walls/", headers=htmx_headers("feed-more")).get_data(as_text=True)
        assert link in more and "<html" not in more
    for who in ("zhang", "lina", "emma"):
        assert "/stories/new" not in login(team[who]).get("/walls/").get_data(as_text=True)


def test_no_promote_link_on_a_reported_flower_even_for_hr(team, flower, login) -> None:
    gift = flower()
    moderation.report(team["zhang"], "flower", gift.id, "Not true")
    db.session.commit()
    html = login(team["hr"]).get("/walls/").get_data(as_text=True)
    assert f'id="flower-{gift.id}"' in html and "source_type=flower" not in html


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_the_promote_form_is_prefilled(team, flower, award, login, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    html = login(team["boss"]).get(f"/stories/new?source_type={source_type}&source_id={obj.id}").get_data(as_text=True)
    assert 'id="story-form"' in html
    assert (obj.message if source_type == "flower" else obj.citation) in html
    value = team["ownership"] if source_type == "flower" else team["customer"]
    assert f'name="tag_ids" value="{value.id}" checked' in html
    assert f'name="person_ids" value="{team["lina"].id}"' in html
    assert "/stories/new?source_type" not in html  # the card shown above the form doesn't offer itself again


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_promote_over_http(team, flower, award, login, source_type, htmx) -> None:
    obj = flower() if source_type == "flower" else award()
    r = login(team["hr"]).submit("/stories/new", form(source_type, obj, [team["lina"]]), htmx=htmx,
                                 target="story-form")
    story = db.session.scalar(select(Story))
    assert story is not None and (story.source_type, story.source_id) == (source_type, obj.id)
    if htmx:
        assert r.status_code == 200 and r.headers["HX-Trigger"] == "story-promoted"
        assert "<html" not in r.get_data(as_text=True)
    else:
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/stories/{story.id}")


@pytest.mark.parametrize("who", ["zhang", "lina"])
@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_employees_are_refused_over_http(team, flower, award, login, who, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    c = login(team[who])
    assert c.get(f"/stories/new?source_type={source_type}&source_id={obj.id}").status_code == 403
    assert c.submit("/stories/new", form(source_type, obj, [team["lina"]])).status_code == 403
    r = c.submit("/stories/new", form(source_type, obj, [team["lina"]]), htmx=True, target="story-form")
    assert r.status_code == 403 and "<html" not in r.get_data(as_text=True)
    assert story_count() == 0


@pytest.mark.parametrize("query", ["source_type=flower&source_id=999999", "source_type=badge_award&source_id=999999",
                                   "source_type=flower&source_id=-1", "source_type=badge_award&source_id=x"])
def test_unknown_flowers_and_awards_are_404(team, login, query) -> None:
    c = login(team["hr"])
    assert c.get(f"/stories/new?{query}").status_code == 404
    source_type, _sep, rest = query.partition("&")
    data = {"source_type": source_type.split("=")[1], "source_id": rest.split("=")[1], "title": "T",
            "text": "Text.", "person_ids": [team["lina"].id]}
    assert c.submit("/stories/new", data).status_code == 404
    assert story_count() == 0


def test_bad_input_is_422_translated_and_saves_nothing(team, flower, login) -> None:
    gift = flower()
    r = login(team["boss"]).submit("/stories/new", form("flower", gift, [team["emma"]], title=""),
                                   htmx=True, target="story-form", headers=ZH)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html
    assert "请给案例起个标题。" in html and "李娜是被表扬的人，也必须征得其同意。" in html
    assert story_count() == 0


def test_a_reported_flower_is_refused_over_http(team, flower, login) -> None:
    gift = flower()
    moderation.report(team["zhang"], "flower", gift.id, "Not true")
    db.session.commit()
    assert login(team["boss"]).get(f"/stories/new?source_type=flower&source_id={gift.id}").status_code == 404
    r = login(team["hr"]).get(f"/stories/new?source_type=flower&source_id={gift.id}", headers=ZH)
    assert r.status_code == 403 and "只有公开的表扬才能成为案例" in r.get_data(as_text=True)
    assert story_count() == 0


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_the_story_page_shows_the_original_and_links_to_it(team, flower, award, login, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    story = services.promote(team["boss"], StoryInput(source_type=source_type, source_id=obj.id, title="A story",
                                                      text="Told well.", person_ids=[team["lina"].id]))
    services.respond(team["lina"], story.id, True)
    db.session.commit()
    html = login(team["zhang"]).get(f"/stories/{story.id}").get_data(as_text=True)
    card_id = f'id="flower-{obj.id}"' if source_type == "flower" else f'id="award-{obj.id}"'
    url = f"/recognition/flowers/{obj.id}" if source_type == "flower" else f"/recognition/awards/{obj.id}"
    assert card_id in html and f'class="btn btn-ghost btn-block story-origin" href="{url}"' in html
    assert "source_type=" not in login(team["boss"]).get(f"/stories/{story.id}").get_data(as_text=True)


@pytest.mark.parametrize("source_type", ["flower", "badge_award"])
def test_a_story_pauses_while_its_source_is_hidden(team, flower, award, login, source_type) -> None:
    obj = flower() if source_type == "flower" else award()
    story = services.promote(team["boss"], StoryInput(
        source_type=source_type, source_id=obj.id, title="Paused story", text="Told well.",
        tag_ids=[team["ownership"].id], person_ids=[team["lina"].id]))
    services.respond(team["lina"], story.id, True)
    db.session.commit()
    assert [s.id for s in services.library(viewer=team["zhang"])[0]] == [story.id]
    moderation.report(team["zhang"], source_type, obj.id, "Not true")  # hides it (one report here)
    db.session.commit()
    assert services.is_paused(story)
    for who in ("zhang", "lina", "emma"):
        assert services.library(viewer=team[who])[0] == []
        page = login(team[who]).get(f"/stories/{story.id}").get_data(as_text=True)
        assert "This story is paused" in page and "Told well." not in page
    assert [s.id for s in services.library(viewer=team["hr"])[0]] == [story.id]  # HR decides
    assert "Told well." in login(team["hr"]).get(f"/stories/{story.id}").get_data(as_text=True)
    moderation.decide(team["hr"], source_type, obj.id, "restore")
    db.session.commit()
    assert not services.is_paused(story)
    assert [s.id for s in services.library(viewer=team["zhang"])[0]] == [story.id]
    assert "Told well." in login(team["lina"]).get(f"/stories/{story.id}").get_data(as_text=True)
