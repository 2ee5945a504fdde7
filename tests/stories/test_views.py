"""Story pages over HTTP, with and without htmx: promote, consent, read, browse, withdraw."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.stories import services
from perfapp.stories.models import Story, StoryPerson
from perfapp.stories.services import StoryInput

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def story_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Story)) or 0


def form(item, people, **kw):  # type: ignore[no-untyped-def]
    data = {"source_type": "feedback", "source_id": item.id, "title": "The night the release was saved",
            "text": "She stayed until the release was green.", "person_ids": [p.id for p in people]}
    data.update(kw)
    return data


def make_story(team, item, people, promoter="boss"):  # type: ignore[no-untyped-def]
    story = services.promote(team[promoter], StoryInput(
        source_type="feedback", source_id=item.id, title="A story", text="Told well.",
        tag_ids=[team["ownership"].id], person_ids=[p.id for p in people]))
    db.session.commit()
    return story


def test_promote_form_is_prefilled_from_the_recognition(team, praise, login) -> None:
    item = praise()
    page = login(team["boss"]).get(f"/stories/new?source_type=feedback&source_id={item.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="story-form"' in html and "stayed late to fix the release" in html
    assert f'name="person_ids" value="{team["lina"].id}"' in html
    assert f'name="tag_ids" value="{team["ownership"].id}" checked' in html
    assert f'name="tag_ids" value="{team["skill"].id}"' not in html  # capabilities are not values


def test_the_promote_link_shows_for_hr_and_managers_on_public_praise_only(team, praise, login) -> None:
    public = praise()
    private = praise(visibility="manager")
    link = f"/stories/new?source_type=feedback&amp;source_id={public.id}"
    for who in ("boss", "hr"):
        c = login(team[who])
        assert link in c.get("/walls/").get_data(as_text=True)
        assert link in c.get(f"/feedback/{public.id}").get_data(as_text=True)
    assert "source_type=feedback" not in login(team["boss"]).get(f"/feedback/{private.id}").get_data(as_text=True)
    for who in ("zhang", "lina", "emma"):
        assert "/stories/new" not in login(team[who]).get("/walls/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["zhang", "lina"])
def test_employees_cannot_open_or_post_the_promote_form(team, praise, login, who) -> None:
    item = praise()
    c = login(team[who])
    r = c.get(f"/stories/new?source_type=feedback&source_id={item.id}")
    assert r.status_code == 403 and "HR and managers" in r.get_data(as_text=True)
    assert c.submit("/stories/new", form(item, [team["lina"]])).status_code == 403
    assert c.submit("/stories/new", form(item, [team["lina"]]), htmx=True, target="story-form").status_code == 403
    assert story_count() == 0


@pytest.mark.parametrize("columns", [{"visibility": "manager"}, {"development_only": True},
                                     {"kind": "constructive", "development_only": True}])
def test_private_and_development_only_feedback_is_refused(team, praise, login, columns) -> None:
    item = praise(**columns)
    c = login(team["boss"])
    r = c.get(f"/stories/new?source_type=feedback&source_id={item.id}")
    assert r.status_code in (403, 404)
    r = c.submit("/stories/new", form(item, [team["lina"]]))
    assert r.status_code in (403, 404)
    assert story_count() == 0


def test_refusals_are_translated(team, praise, login) -> None:
    item = praise(visibility="manager")
    r = login(team["boss"]).get(f"/stories/new?source_type=feedback&source_id={item.id}", headers=ZH)
    assert r.status_code == 403 and "只有公开的表扬才能成为案例" in r.get_data(as_text=True)


@pytest.mark.parametrize("query", ["source_type=feedback&source_id=999999", "source_type=flower&source_id=1",
                                   "source_type=feedback&source_id=abc", ""])
def test_unknown_sources_are_404(team, praise, login, query) -> None:
    praise()
    c = login(team["hr"])
    assert c.get(f"/stories/new?{query}").status_code == 404


def test_promote_plain_form_redirects_to_the_story(team, praise, login) -> None:
    item = praise()
    r = login(team["boss"]).submit("/stories/new", form(item, [team["lina"]], tag_ids=[team["ownership"].id]))
    assert r.status_code == 303
    story = db.session.scalar(select(Story))
    assert r.headers["Location"].endswith(f"/stories/{story.id}")
    assert story.status == "pending" and [t.id for t in story.tags] == [team["ownership"].id]


def test_promote_with_htmx_returns_the_saved_fragment(team, praise, login) -> None:
    item = praise()
    r = login(team["boss"]).submit("/stories/new", form(item, [team["lina"], team["zhang"]]),
                                   htmx=True, target="story-form")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "story-promoted"
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="story-form"') and "<html" not in html
    assert "asked 2 people" in html


@pytest.mark.parametrize("change, message", [
    ({"title": ""}, "Give the story a title."),
    ({"title": "x" * 121}, "Keep it under 120 characters."),
    ({"text": "  "}, "Tell the story in a few sentences."),
    ({"text": "y" * 4001}, "Keep it under 4000 characters."),
    ({"tag_ids": ["999999"]}, "Choose values from the list."),
    ({"person_ids": ["999999"]}, "couldn&#39;t find that person"),
    ({"person_ids": []}, "Choose at least one person."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_is_422_with_the_form_and_nothing_saved(team, praise, login, change, message, htmx) -> None:
    item = praise()
    r = login(team["boss"]).submit("/stories/new", form(item, [team["lina"]], **change), htmx=htmx, target="story-form")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html and 'class="field-error"' in html
    assert ("<html" in html) is not htmx
    assert story_count() == 0


def test_bad_input_messages_are_translated(team, praise, login) -> None:
    item = praise()
    r = login(team["boss"]).submit("/stories/new", form(item, [team["lina"]], title=""), headers=ZH)
    assert r.status_code == 422 and "标题" in r.get_data(as_text=True)


def test_a_second_promotion_of_the_same_recognition(team, praise, login) -> None:
    item = praise()
    story = make_story(team, item, [team["lina"]])
    c = login(team["hr"])
    r = c.get(f"/stories/new?source_type=feedback&source_id={item.id}")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/stories/{story.id}")
    assert c.submit("/stories/new", form(item, [team["lina"]])).status_code == 409
    assert story_count() == 1


def test_unpublished_story_is_404_for_everyone_else(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"]])
    for who in ("zhang", "emma"):
        assert login(team[who]).get(f"/stories/{story.id}").status_code == 404
    for who in ("boss", "lina", "hr"):
        page = login(team[who]).get(f"/stories/{story.id}")
        assert page.status_code == 200 and "A story" in page.get_data(as_text=True)
    assert "A story" not in login(team["zhang"]).get("/stories/").get_data(as_text=True)


def test_the_promoter_sees_consent_per_person_and_the_person_can_answer(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"], team["emma"]])
    html = login(team["boss"]).get(f"/stories/{story.id}").get_data(as_text=True)
    assert html.count('class="status status-pending"') == 2 and 'data-consent="accept"' not in html
    lina_page = login(team["lina"]).get(f"/stories/{story.id}").get_data(as_text=True)
    assert 'data-consent="accept"' in lina_page and 'data-consent="decline"' in lina_page


def test_consent_with_htmx_returns_the_consent_box(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"]])
    r = login(team["lina"]).submit(f"/stories/{story.id}/consent", {"decision": "accept"},
                                   htmx=True, target=f"consent-{story.id}")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "story-consent"
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section id="consent-{story.id}"') and "Published" in html
    assert db.session.get(Story, story.id).status == "published"


def test_consent_plain_form_redirects_and_publishes_after_all_accept(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"], team["emma"]])
    r = login(team["lina"]).submit(f"/stories/{story.id}/consent", {"decision": "accept"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/stories/{story.id}")
    assert db.session.get(Story, story.id).status == "pending"
    assert "A story" not in login(team["zhang"]).get("/stories/").get_data(as_text=True)
    login(team["emma"]).submit(f"/stories/{story.id}/consent", {"decision": "accept"})
    assert db.session.get(Story, story.id).status == "published"
    library = login(team["zhang"]).get("/stories/").get_data(as_text=True)
    assert "A story" in library
    page = login(team["zhang"]).get(f"/stories/{story.id}").get_data(as_text=True)
    assert f'href="/feedback/{story.source_id}"' in page  # back to the original recognition


def test_a_decline_keeps_it_out_of_the_library(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"]])
    r = login(team["lina"]).submit(f"/stories/{story.id}/consent", {"decision": "decline"}, htmx=True,
                                   target=f"consent-{story.id}")
    assert r.status_code == 200 and "Declined" in r.get_data(as_text=True)
    assert db.session.get(StoryPerson, (story.id, team["lina"].id)).consent == "declined"
    assert login(team["zhang"]).get(f"/stories/{story.id}").status_code == 404


@pytest.mark.parametrize("who, status", [("zhang", 404), ("hr", 403), ("boss", 403)])
def test_only_people_in_the_story_can_answer(team, praise, login, who, status) -> None:
    story = make_story(team, praise(), [team["lina"]])
    assert login(team[who]).submit(f"/stories/{story.id}/consent", {"decision": "accept"}).status_code == status
    assert db.session.get(StoryPerson, (story.id, team["lina"].id)).consent == "pending"


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_bad_decision_is_400(team, praise, login, decision) -> None:
    story = make_story(team, praise(), [team["lina"]])
    assert login(team["lina"]).submit(f"/stories/{story.id}/consent", {"decision": decision}).status_code == 400
    assert login(team["lina"]).submit("/stories/999999/consent", {"decision": "accept"}).status_code == 404


def test_library_filters_by_value_with_chips(team, praise, login, make_user) -> None:
    a = make_story(team, praise(), [team["lina"]])
    other = praise(recipient=team["emma"])
    b = services.promote(team["hr"], StoryInput(source_type="feedback", source_id=other.id, title="Customer hero",
                                                text="…", tag_ids=[team["customer"].id],
                                                person_ids=[team["emma"].id]))
    db.session.commit()
    for story, person in ((a, team["lina"]), (b, team["emma"])):
        services.respond(person, story.id, accept=True)
    db.session.commit()
    c = login(team["zhang"])
    everything = c.get("/stories/").get_data(as_text=True)
    assert "A story" in everything and "Customer hero" in everything
    assert f'href="/stories/?value={team["customer"].id}"' in everything
    only = c.get(f"/stories/?value={team['customer'].id}").get_data(as_text=True)
    assert "Customer hero" in only and "A story" not in only
    assert 'aria-current="page">#Customer first' in only
    more = c.get(f"/stories/?before={services.encode_cursor(b)}", headers={"HX-Request": "true",
                                                                           "HX-Target": "feed-more"})
    assert "A story" in more.get_data(as_text=True) and "<html" not in more.get_data(as_text=True)


def test_the_inbox_offers_accept_and_decline(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"]])
    html = login(team["lina"]).get("/notify/").get_data(as_text=True)
    assert "A story" in html and f'hx-target="#consent-{story.id}"' in html
    assert "A story" not in login(team["zhang"]).get("/notify/").get_data(as_text=True)


def test_withdraw_by_the_promoter(team, praise, login) -> None:
    story = make_story(team, praise(), [team["lina"]])
    assert login(team["lina"]).submit(f"/stories/{story.id}/withdraw").status_code == 403
    assert login(team["zhang"]).submit(f"/stories/{story.id}/withdraw").status_code == 404
    r = login(team["boss"]).submit(f"/stories/{story.id}/withdraw")
    assert r.status_code == 303 and story_count() == 0


def test_the_walls_tab_is_current_on_story_pages(team, login) -> None:
    html = login(team["zhang"]).get("/stories/").get_data(as_text=True)
    assert 'data-tab="walls" aria-current="page"' in html
