"""Feedback use cases without HTTP: giving, visibility, requests."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import services
from perfapp.feedback.models import Feedback, FeedbackAsk, Tag
from perfapp.feedback.services import FeedbackInput
from perfapp.notify.models import Notification


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture()
def people(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟")
    return {
        "boss": boss,
        "author": make_user(name="Emma Wilson"),
        "recipient": make_user(name="李娜", manager=boss),
        "other": make_user(name="张敏"),
    }


def give(author, recipient, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("text", "Great demo")
    feedback = services.give_feedback(author, FeedbackInput(recipient_id=recipient.id, **kw))
    db.session.commit()
    return feedback


def test_give_feedback_stores_everything_and_notifies(people, make_tag, make_project) -> None:
    tag = make_tag()
    project = make_project(members=(people["author"], people["recipient"]))
    fb = give(people["author"], people["recipient"], emoji=["👍", "🔥", "👍"], tag_ids=[tag.id],
              free_tags=["#Teamwork", "teamwork", "复盘"], behaviour="b", impact="i", suggestion="s",
              project_id=project.id, milestone_id=project.milestones[0].id)
    assert fb.emoji_list == ["👍", "🔥"]
    assert sorted(t.name_en for t in fb.tags) == ["Ownership", "Teamwork", "复盘"]
    assert fb.development_only is False and fb.on_public_wall
    note = db.session.scalar(select(Notification).where(Notification.user_id == people["recipient"].id))
    assert note is not None and note.feedback_id == fb.id


def test_free_tags_are_reused_case_insensitively(people) -> None:
    give(people["author"], people["recipient"], free_tags=["Teamwork"])
    give(people["author"], people["other"], free_tags=["teamwork"])
    assert count(Tag) == 1


def test_constructive_defaults_to_development_only_and_private(people) -> None:
    fb = give(people["author"], people["recipient"], kind="constructive", visibility="private")
    assert fb.development_only is True
    assert not fb.on_public_wall


@pytest.mark.parametrize(("kw", "field"), [
    ({"text": "", "emoji": [], "tag_ids": []}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "x" * 4001}, "text"),
    ({"behaviour": "x" * 4001}, "behaviour"),
    ({"free_tags": [f"t{i}" for i in range(11)]}, "tags"),
    ({"free_tags": ["x" * 33]}, "tags"),
    ({"tag_ids": [999999]}, "tags"),
    ({"emoji": ["<script>"]}, "emoji"),
    ({"kind": "insult"}, "kind"),
    ({"visibility": "everyone"}, "visibility"),
    ({"kind": "constructive", "visibility": "public"}, "visibility"),
    ({"development_only": True, "visibility": "public"}, "visibility"),
    ({"project_id": 424242}, "project_id"),
    ({"project_id": -1}, "project_id"),
    ({"milestone_id": 424242}, "milestone_id"),
    ({"ask_id": 424242}, "ask_id"),
])
def test_bad_input_is_refused_and_nothing_is_stored(people, kw, field) -> None:
    with pytest.raises(FormError) as info:
        services.give_feedback(people["author"], FeedbackInput(recipient_id=people["recipient"].id,
                                                               **({"text": "ok"} | kw)))
    db.session.rollback()
    assert field in info.value.errors
    assert count(Feedback) == 0 and count(Notification) == 0 and count(Tag) == 0


def test_milestone_must_belong_to_project(people, make_project) -> None:
    a, b = make_project("A"), make_project("B")
    with pytest.raises(FormError) as info:
        services.give_feedback(people["author"], FeedbackInput(
            recipient_id=people["recipient"].id, text="x", project_id=a.id,
            milestone_id=b.milestones[0].id))
    assert "milestone_id" in info.value.errors


@pytest.mark.parametrize("who", ["self", "unknown", "missing", "inactive"])
def test_recipient_rules(people, make_user, who) -> None:
    author = people["author"]
    rid = {"self": author.id, "unknown": 987654, "missing": None,
           "inactive": make_user(name="Gone", active=False).id}[who]
    with pytest.raises(FormError) as info:
        services.give_feedback(author, FeedbackInput(recipient_id=rid, text="hello"))
    db.session.rollback()
    assert "recipient_id" in info.value.errors
    assert count(Feedback) == 0


def test_visibility_rules(people, make_user) -> None:
    author, recipient, boss, other = (people[k] for k in ("author", "recipient", "boss", "other"))
    public = give(author, recipient, visibility="public")
    private = give(author, recipient, visibility="private", kind="suggestion")
    manager = give(author, recipient, visibility="manager", kind="suggestion")

    def readable(viewer) -> set[int]:  # type: ignore[no-untyped-def]
        by_sql = set(db.session.scalars(select(Feedback.id).where(Feedback.visible_to(viewer))))
        by_row = {f.id for f in (public, private, manager) if services.get_visible(viewer, f.id)}
        assert by_sql == by_row
        return by_row

    assert readable(author) == readable(recipient) == {public.id, private.id, manager.id}
    assert readable(boss) == {public.id, manager.id}
    assert readable(other) == {public.id}
    # "current manager": a new manager gains access, the old one loses it.
    new_boss = make_user(name="New Boss")
    recipient.manager_id = new_boss.id
    db.session.commit()
    assert readable(boss) == {public.id}
    assert readable(new_boss) == {public.id, manager.id}


def test_confidential_author_hidden_from_everyone_but_author(people) -> None:
    fb = give(people["author"], people["recipient"], visibility="manager", kind="suggestion",
              confidential=True)
    assert fb.author_shown_to(people["author"])
    assert not fb.author_shown_to(people["recipient"])
    assert not fb.author_shown_to(people["boss"])
    assert fb.author_id == people["author"].id  # stored, for HR to act on abuse


def test_home_feed_pages_without_gaps_or_repeats(people) -> None:
    author, recipient = people["author"], people["recipient"]
    made = [give(author, recipient, text=f"n{i}").id for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        items, raw = services.home_feed(recipient, cursor, limit=3)
        seen.extend(f.id for f in items)
        if raw is None:
            break
        cursor = services.decode_cursor(raw)
    assert seen == sorted(made, reverse=True)


def test_manager_feed_includes_team_but_not_private(people) -> None:
    author, recipient, boss = people["author"], people["recipient"], people["boss"]
    shared = give(author, recipient, visibility="manager", kind="suggestion")
    give(author, recipient, visibility="private", kind="suggestion")
    items, _ = services.home_feed(boss)
    assert [f.id for f in items] == [shared.id]


def test_public_praise_of_a_person_excludes_private_constructive_and_development_only(people) -> None:
    a, r = people["author"], people["recipient"]
    wall = give(a, r, visibility="public")
    give(a, r, visibility="private")
    give(a, r, visibility="manager", kind="constructive")
    give(a, r, visibility="private", kind="praise", development_only=True)
    give(a, people["other"], visibility="public")  # someone else's praise
    items, _ = services.public_praise_of(r.id)
    assert [f.id for f in items] == [wall.id]


def test_tag_profile_counts_only_what_viewer_may_read(people, make_tag) -> None:
    tag = make_tag()
    a, r = people["author"], people["recipient"]
    give(a, r, tag_ids=[tag.id], visibility="public")
    give(a, r, tag_ids=[tag.id], visibility="private", kind="suggestion")
    assert [(t.id, n) for t, n in services.tag_profile(r.id, r)] == [(tag.id, 2)]
    assert [(t.id, n) for t, n in services.tag_profile(r.id, people["other"])] == [(tag.id, 1)]


# --- asking --------------------------------------------------------------------

def test_request_answer_and_decline(people) -> None:
    requester, r1, r2 = people["recipient"], people["author"], people["other"]
    req = services.request_feedback(requester, [r1.id, r2.id, r1.id], "My demo")
    db.session.commit()
    assert len(req.asks) == 2
    ask1, ask2 = sorted(req.asks, key=lambda a: a.recipient_id == r2.id)
    assert [a.id for a in services.open_asks_for(r1)] == [ask1.id]
    assert count(Notification) == 2
    fb = give(r1, requester, ask_id=ask1.id, visibility="private", kind="suggestion")
    assert fb.ask_id == ask1.id and ask1.status == "answered"
    services.decline_ask(r2, ask2.id)
    db.session.commit()
    assert ask2.effective_status == "declined"
    with pytest.raises(FormError):
        services.decline_ask(r2, ask2.id)
    with pytest.raises(LookupError):
        services.decline_ask(r2, ask1.id)  # not addressed to r2


def test_answer_must_go_to_the_requester(people) -> None:
    req = services.request_feedback(people["recipient"], [people["author"].id], "Demo")
    db.session.commit()
    with pytest.raises(FormError) as info:
        services.give_feedback(people["author"], FeedbackInput(
            recipient_id=people["other"].id, text="x", ask_id=req.asks[0].id))
    assert "recipient_id" in info.value.errors


def test_requests_expire_after_30_days(people) -> None:
    req = services.request_feedback(people["recipient"], [people["author"].id], "Demo")
    db.session.commit()
    req.expires_at = req.created_at + timedelta(days=30) - timedelta(days=31)
    db.session.commit()
    ask = req.asks[0]
    assert ask.effective_status == "expired"
    assert services.open_asks_for(people["author"]) == []
    with pytest.raises(FormError):
        services.give_feedback(people["author"], FeedbackInput(
            recipient_id=people["recipient"].id, text="late", ask_id=ask.id))
    fresh = services.request_feedback(people["recipient"], [people["other"].id], "Again")
    assert fresh.expires_at - fresh.created_at == timedelta(days=30)


@pytest.mark.parametrize(("ids", "about", "field"), [
    ([], "x", "recipient_ids"),
    ("eleven", "x", "recipient_ids"),
    ("self", "x", "recipient_ids"),
    ([987654], "x", "recipient_ids"),
    ("ok", "", "about"),
    ("ok", "x" * 501, "about"),
])
def test_request_bad_input(people, make_user, ids, about, field) -> None:
    if ids == "eleven":
        ids = [make_user().id for _ in range(11)]
    elif ids == "self":
        ids = [people["recipient"].id]
    elif ids == "ok":
        ids = [people["author"].id]
    with pytest.raises(FormError) as info:
        services.request_feedback(people["recipient"], ids, about)
    db.session.rollback()
    assert field in info.value.errors
    assert count(FeedbackAsk) == 0
