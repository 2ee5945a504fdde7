"""Story library use cases: who may promote what, consent before publication, bad input."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.core import signals
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import decode_cursor
from perfapp.integrations.models import CustomerPraise
from perfapp.notify.models import Notification
from perfapp.notify.services import inbox
from perfapp.people.models import User
from perfapp.stories import services
from perfapp.stories.models import Story, StoryPerson
from perfapp.stories.services import StoryInput


def story_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Story)) or 0


def notes(user, kind: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def story_input(item: Feedback, people: list, **kw) -> StoryInput:  # type: ignore[no-untyped-def,type-arg]
    data = {"source_type": "feedback", "source_id": item.id, "title": "The night the release was saved",
            "text": "She stayed until the release was green.", "tag_ids": [], "person_ids": [p.id for p in people]}
    data.update(kw)
    return StoryInput(**data)


def test_a_manager_promotes_public_praise_and_everyone_involved_is_asked(team, praise) -> None:
    item = praise()
    story = services.promote(team["boss"], story_input(item, [team["lina"], team["zhang"]],
                                                       tag_ids=[team["ownership"].id]))
    db.session.commit()
    assert story.status == "pending" and story.published_at is None
    assert [(p.user_id, p.consent) for p in story.people] == sorted(
        [(team["lina"].id, "pending"), (team["zhang"].id, "pending")])
    assert [t.name_en for t in story.tags] == ["Ownership"]
    assert len(notes(team["lina"], "story_consent")) == 1 and len(notes(team["zhang"], "story_consent")) == 1
    assert services.library()[0] == []  # nothing is published before everyone accepts


def test_hr_can_promote_and_the_draft_suggests_from_the_recognition(team, praise) -> None:
    item = praise(text="Thanks for owning the incident", behaviour="She owned it", impact="No customer noticed")
    draft = services.draft(team["hr"], "feedback", item.id)
    assert draft.obj is item and draft.people == [team["lina"]]
    assert draft.data.tag_ids == [team["ownership"].id]
    assert "Thanks for owning the incident" in draft.data.text and "No customer noticed" in draft.data.text


@pytest.mark.parametrize("who", ["zhang", "emma", "lina"])
def test_employees_cannot_promote(team, praise, who) -> None:
    item = praise()
    with pytest.raises(PermissionError):
        services.draft(team[who], "feedback", item.id)
    with pytest.raises(PermissionError):
        services.promote(team[who], story_input(item, [team["lina"]]))
    assert story_count() == 0


@pytest.mark.parametrize("columns", [
    {"visibility": "private"},
    {"visibility": "manager"},
    {"kind": "constructive", "development_only": True},
    {"development_only": True},
    {"kind": "suggestion"},
])
def test_private_and_development_only_feedback_never_becomes_a_story(team, praise, columns) -> None:
    # lina receives it and boss manages her, so boss may *read* the manager-visible one: still refused.
    item = praise(**columns)
    for promoter in (team["boss"], team["hr"]):
        with pytest.raises((services.NotEligible, LookupError)):
            services.draft(promoter, "feedback", item.id)
        with pytest.raises((services.NotEligible, LookupError)):
            services.promote(promoter, story_input(item, [team["lina"]]))
    assert story_count() == 0


def test_feedback_the_promoter_cannot_read_is_not_found_rather_than_refused(team, praise) -> None:
    item = praise(author=team["emma"], recipient=team["zhang"], visibility="private")
    with pytest.raises(LookupError):
        services.draft(team["boss"], "feedback", item.id)
    readable = praise(author=team["emma"], recipient=team["lina"], visibility="manager")
    with pytest.raises(services.NotEligible):
        services.draft(team["boss"], "feedback", readable.id)


@pytest.mark.skipif(not hasattr(Feedback, "hidden"), reason="moderation's hidden flag not present")
def test_hidden_praise_cannot_be_promoted(team, praise) -> None:
    item = praise(hidden=True)
    with pytest.raises((services.NotEligible, LookupError)):
        services.draft(team["hr"], "feedback", item.id)


@pytest.mark.parametrize("source_type, source_id", [("feedback", 999999), ("feedback", -1), ("feedback", None),
                                                    ("flower", 1), ("", 1), ("customer_praise", 999999)])
def test_unknown_sources_are_not_found(team, praise, source_type, source_id) -> None:
    praise()
    with pytest.raises(LookupError):
        services.draft(team["hr"], source_type, source_id)
    with pytest.raises(LookupError):
        services.promote(team["hr"], StoryInput(source_type=source_type, source_id=source_id, title="t",
                                                text="x", person_ids=[team["lina"].id]))
    assert story_count() == 0


def test_a_recognition_becomes_one_story_only(team, praise) -> None:
    item = praise()
    first = services.promote(team["boss"], story_input(item, [team["lina"]]))
    db.session.commit()
    with pytest.raises(services.AlreadyStory) as e:
        services.promote(team["hr"], story_input(item, [team["lina"]]))
    assert e.value.story is first
    with pytest.raises(services.AlreadyStory):
        services.draft(team["hr"], "feedback", item.id)


@pytest.mark.parametrize("change, field", [
    ({"title": "   "}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"text": ""}, "text"),
    ({"text": "y" * 4001}, "text"),
    ({"tag_ids": [999999]}, "tag_ids"),
    ({"tag_ids": [-1]}, "tag_ids"),
    ({"person_ids": []}, "person_ids"),
    ({"person_ids": [999999]}, "person_ids"),
    ({"person_ids": [-1]}, "person_ids"),
])
def test_bad_input_is_refused_and_nothing_changes(team, praise, change, field) -> None:
    item = praise()
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], story_input(item, [team["lina"]], **change))
    assert field in e.value.errors and e.value.errors[field]
    db.session.rollback()
    assert story_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_values_must_be_active_value_tags_and_at_most_five(team, praise, make_tag) -> None:
    item = praise()
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], story_input(item, [team["lina"]], tag_ids=[team["skill"].id]))
    assert "tag_ids" in e.value.errors
    many = [make_tag(f"Value {i}", f"价值{i}").id for i in range(6)]
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], story_input(item, [team["lina"]], tag_ids=many))
    assert "tag_ids" in e.value.errors
    assert story_count() == 0


def test_people_must_be_active_include_the_recipient_and_be_at_most_ten(team, praise, make_user) -> None:
    item = praise()
    gone = make_user(name="Left Already", active=False)
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], story_input(item, [team["lina"], gone]))
    assert "Left Already" in e.value.errors["person_ids"]
    with pytest.raises(FormError) as e:
        services.promote(team["boss"], story_input(item, [team["zhang"]]))
    assert "李娜" in e.value.errors["person_ids"]  # the person praised must consent
    crowd = [make_user() for _i in range(10)]
    with pytest.raises(FormError):
        services.promote(team["boss"], story_input(item, [team["lina"], *crowd]))
    assert story_count() == 0


def test_published_only_after_everyone_accepts(team, praise) -> None:
    published = []
    signals.story_published.connect(receiver := lambda _s, story: published.append(story.id))
    try:
        story = services.promote(team["boss"], story_input(praise(), [team["lina"], team["emma"]]))
        services.respond(team["lina"], story.id, accept=True)
        db.session.commit()
        assert story.status == "pending" and published == []
        assert services.library()[0] == []
        services.respond(team["emma"], story.id, accept=True)
        db.session.commit()
    finally:
        signals.story_published.disconnect(receiver)
    assert story.status == "published" and story.published_at is not None
    assert published == [story.id]
    assert services.library()[0] == [story]
    for who in ("boss", "lina", "emma"):
        assert len(notes(team[who], "story_published")) == 1


def test_any_decline_keeps_it_unpublished_and_tells_the_promoter(team, praise) -> None:
    story = services.promote(team["boss"], story_input(praise(), [team["lina"], team["emma"]]))
    services.respond(team["lina"], story.id, accept=False)
    services.respond(team["emma"], story.id, accept=True)
    db.session.commit()
    assert story.status == "declined"
    assert {p.user_id: p.consent for p in story.people} == {team["lina"].id: "declined", team["emma"].id: "accepted"}
    assert len(notes(team["boss"], "story_declined")) == 1
    assert services.library()[0] == []
    # A change of heart publishes it; withdrawing consent later takes it down again.
    services.respond(team["lina"], story.id, accept=True)
    assert story.status == "published"
    services.respond(team["emma"], story.id, accept=False)
    db.session.commit()
    assert story.status == "declined" and services.library()[0] == []


def test_the_promoter_in_their_own_story_has_agreed_already(team, praise) -> None:
    item = praise(author=team["emma"], recipient=team["boss"])
    story = services.promote(team["boss"], story_input(item, [team["boss"]]))
    db.session.commit()
    assert story.status == "published" and notes(team["boss"], "story_consent") == []


def test_only_people_in_the_story_answer(team, praise) -> None:
    story = services.promote(team["boss"], story_input(praise(), [team["lina"]]))
    db.session.commit()
    with pytest.raises(LookupError):  # can't even see it
        services.respond(team["zhang"], story.id, accept=True)
    with pytest.raises(PermissionError):  # HR sees it but is not in it
        services.respond(team["hr"], story.id, accept=True)
    with pytest.raises(PermissionError):
        services.respond(team["boss"], story.id, accept=True)
    with pytest.raises(LookupError):
        services.respond(team["lina"], 999999, accept=True)
    assert db.session.get(StoryPerson, (story.id, team["lina"].id)).consent == "pending"


def test_unpublished_stories_are_visible_only_to_promoter_people_and_hr(team, praise) -> None:
    story = services.promote(team["boss"], story_input(praise(), [team["lina"]]))
    db.session.commit()
    for who in ("boss", "lina", "hr"):
        assert services.get_visible(team[who], story.id) is story
    for who in ("zhang", "emma"):
        assert services.get_visible(team[who], story.id) is None
    assert services.awaiting(team["zhang"]) == []
    assert services.awaiting(team["lina"]) == [story] and services.awaiting(team["hr"]) == [story]
    services.respond(team["lina"], story.id, accept=True)
    db.session.commit()
    assert services.get_visible(team["zhang"], story.id) is story
    assert services.awaiting(team["lina"]) == []


def test_the_inbox_shows_the_consent_request_to_the_person_only(team, praise) -> None:
    story = services.promote(team["boss"], story_input(praise(), [team["lina"]]))
    db.session.commit()
    entries, _cursor = inbox(team["lina"])
    assert [(e["note"].kind, e["obj"]) for e in entries] == [("story_consent", story)]
    assert entries[0]["template"] == "stories/_inbox_entry.html"


def test_library_filters_by_value_and_pages_newest_first(team, praise, make_user) -> None:
    stories = []
    for i in range(5):
        person = make_user(manager=team["boss"])
        values = [team["ownership"].id] if i % 2 == 0 else [team["customer"].id]
        s = services.promote(team["hr"], story_input(praise(recipient=person), [person], tag_ids=values,
                                                     title=f"Story {i}"))
        services.respond(person, s.id, accept=True)
        db.session.commit()
        stories.append(s)
    page, cursor = services.library(limit=2)
    assert page == [stories[4], stories[3]] and cursor
    page2, cursor2 = services.library(cursor=decode_cursor(cursor), limit=2)
    assert page2 == [stories[2], stories[1]]
    assert services.library(value_id=team["customer"].id)[0] == [stories[3], stories[1]]
    assert services.library(value_id=999999)[0] == []
    assert decode_cursor("garbage") is None


def test_withdraw_by_promoter_or_hr_only(team, praise) -> None:
    story = services.promote(team["boss"], story_input(praise(), [team["lina"]]))
    db.session.commit()
    with pytest.raises(PermissionError):
        services.withdraw(team["lina"], story.id)
    with pytest.raises(LookupError):
        services.withdraw(team["zhang"], story.id)
    services.withdraw(team["hr"], story.id)
    db.session.commit()
    assert story_count() == 0 and db.session.scalar(select(func.count()).select_from(StoryPerson)) == 0


def test_confirmed_customer_praise_is_a_source_and_drafts_are_not(team) -> None:
    def event(status: str) -> CustomerPraise:
        item = CustomerPraise(status=status, origin="paste", sender_email="ceo@client.example", sender_name="Client",
                              subject="Thank you", body="李娜 was wonderful.", created_by_id=team["zhang"].id)
        item.people = [team["lina"]] if status == "confirmed" else []
        db.session.add(item)
        db.session.commit()
        return item

    confirmed, draft = event("confirmed"), event("draft")
    d = services.draft(team["boss"], "customer_praise", confirmed.id)
    assert d.people == [team["lina"]] and "wonderful" in d.data.text
    story = services.promote(team["boss"], StoryInput(source_type="customer_praise", source_id=confirmed.id,
                                                      title="A client wrote in", text="…",
                                                      person_ids=[team["lina"].id]))
    assert story.source_type == "customer_praise"
    with pytest.raises(LookupError):  # a draft is only the importer's (and HR's)
        services.draft(team["boss"], "customer_praise", draft.id)
    with pytest.raises(services.NotEligible):
        services.draft(team["hr"], "customer_praise", draft.id)


def test_everyone_accepting_at_once_publishes_exactly_once(app, team, praise, make_user) -> None:
    from tests.recognition.test_concurrency import race

    people = [team["lina"], *(make_user(manager=team["boss"]) for _i in range(5))]
    story = services.promote(team["boss"], story_input(praise(), people))
    db.session.commit()
    story_id, ids = story.id, [p.id for p in people]
    db.session.commit()  # end the set-up transaction (it would hold SQLite's write lock)

    def accept(i: int) -> None:
        services.respond(db.session.get(User, ids[i]), story_id, accept=True)

    assert race(app, accept, n=len(ids)) == ["ok"] * len(ids)
    db.session.expire_all()
    story = db.session.get(Story, story_id)
    assert story.status == "published"
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "story_published")) == len(ids) + 1
