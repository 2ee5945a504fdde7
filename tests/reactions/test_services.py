"""Reactions and comments without HTTP: toggling, visibility, confidentiality, notifications, counts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.moderation.models import PostingSuspension
from perfapp.notify.models import Notification
from perfapp.notify.services import inbox
from perfapp.reactions import services
from perfapp.reactions.models import Comment, Reaction


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def notes_for(user, kind: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def test_a_reaction_is_set_to_the_state_asked_for_one_per_emoji_per_person(team, make_feedback) -> None:
    item = make_feedback()
    other, recipient = team["other"], team["recipient"]
    assert services.set_reaction(other, "feedback", item.id, "👍", True) is True
    assert services.set_reaction(other, "feedback", item.id, "🔥", True) is True
    assert services.set_reaction(recipient, "feedback", item.id, "👍", True) is True
    # A double tap or a stale tab asks for "on" again: nothing changes, nothing is taken back.
    assert services.set_reaction(other, "feedback", item.id, "👍", True) is False
    db.session.commit()
    summary = services.summaries("feedback", [item.id], other)[item.id]
    assert summary.counts == {"👍": 2, "🔥": 1} and summary.mine == {"👍", "🔥"}
    assert summary.others == [("🔥", 1, True)]
    assert services.set_reaction(other, "feedback", item.id, "👍", False) is True  # taken back
    assert services.set_reaction(other, "feedback", item.id, "👍", False) is False  # and stays off
    db.session.commit()
    summary = services.summaries("feedback", [item.id], other)[item.id]
    assert summary.counts == {"👍": 1, "🔥": 1} and summary.mine == {"🔥"}
    assert services.summaries("feedback", [item.id], recipient)[item.id].mine == {"👍"}


def test_the_same_reaction_stored_by_another_request_first_is_not_stored_twice(team, make_feedback) -> None:
    """Two taps at once (two tabs, a retried request): the other one's row committed between
    this request's start and its insert. One row, no error, no second notification."""
    item = make_feedback()
    other = team["other"]
    row = {"target_type": "feedback", "target_id": item.id, "user_id": other.id, "emoji": "👍", "created_at": utcnow()}
    db.session.commit()  # this session holds no transaction (SQLite's write lock) meanwhile
    with db.engine.begin() as conn:  # another request's transaction, committed first
        conn.execute(Reaction.__table__.insert().values(**row))
    assert services.set_reaction(other, "feedback", item.id, "👍", True) is False
    db.session.commit()
    assert count(Reaction) == 1 and notes_for(team["author"], "reaction_added") == []
    assert services.set_reaction(other, "feedback", item.id, "🔥", True) is True  # another emoji is new
    db.session.commit()
    assert count(Reaction) == 2 and len(notes_for(team["author"], "reaction_added")) == 1


@pytest.mark.parametrize("emoji", ["", "😀", "👍👍", "<b>", "x" * 40])
def test_unknown_emoji_is_refused_and_nothing_stored(team, make_feedback, emoji) -> None:
    item = make_feedback()
    with pytest.raises(FormError) as e:
        services.set_reaction(team["other"], "feedback", item.id, emoji, True)
    assert set(e.value.errors) == {"emoji"}
    db.session.rollback()
    assert count(Reaction) == 0 and count(Notification) == 0


def test_reactions_and_comments_follow_the_items_visibility(team, make_feedback, make_user) -> None:
    private = make_feedback(visibility="private")
    managed = make_feedback(visibility="manager")
    other_boss = make_user(name="Other boss")
    for outsider, item in ((team["other"], private), (team["boss"], private), (team["hr"], private),
                           (team["other"], managed), (other_boss, managed)):
        with pytest.raises(LookupError):
            services.set_reaction(outsider, "feedback", item.id, "👍", True)
        with pytest.raises(LookupError):
            services.add_comment(outsider, "feedback", item.id, "hello")
    for unknown in (("feedback", 999_999), ("nothing", private.id), ("comment", 1)):
        with pytest.raises(LookupError):
            services.target_for(team["author"], *unknown)
    # The recipient's manager may read (so react to) "recipient and manager" feedback.
    assert services.set_reaction(team["boss"], "feedback", managed.id, "🙏", True) is True
    assert services.set_reaction(team["recipient"], "feedback", private.id, "❤️", True) is True
    db.session.commit()
    assert count(Reaction) == 2 and count(Comment) == 0


def test_a_hidden_item_is_out_of_reach_for_everyone_but_hr(team, make_feedback) -> None:
    item = make_feedback(hidden=True)
    for person in ("author", "recipient", "other", "boss"):
        with pytest.raises(LookupError):
            services.target_for(team[person], "feedback", item.id)
    assert services.target_for(team["hr"], "feedback", item.id)[1].id == item.id


def test_reacting_notifies_author_and_recipient_once(team, make_feedback) -> None:
    item = make_feedback()
    other = team["other"]
    services.set_reaction(other, "feedback", item.id, "🔥", True)
    db.session.commit()
    assert len(notes_for(team["author"], "reaction_added")) == 1
    assert len(notes_for(team["recipient"], "reaction_added")) == 1
    assert notes_for(other, "reaction_added") == []
    # Taken back before it was read: the entry goes, so the unread count stays true.
    services.set_reaction(other, "feedback", item.id, "🔥", False)
    db.session.commit()
    assert notes_for(team["author"], "reaction_added") == []
    # Read, then taken back and given again: no second entry.
    services.set_reaction(other, "feedback", item.id, "🔥", True)
    db.session.commit()
    inbox(team["author"])
    for note in notes_for(team["author"], "reaction_added"):
        note.read_at = utcnow()
    db.session.commit()
    services.set_reaction(other, "feedback", item.id, "🔥", False)
    services.set_reaction(other, "feedback", item.id, "🔥", True)
    db.session.commit()
    assert len(notes_for(team["author"], "reaction_added")) == 1
    # Reacting to one's own item tells only the other side.
    services.set_reaction(team["recipient"], "feedback", item.id, "🙏", True)
    db.session.commit()
    assert notes_for(team["recipient"], "reaction_added")[-1].ref_id != notes_for(team["author"], "reaction_added")[-1].ref_id


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 501, "长" * 501])
def test_bad_comments_are_refused_and_nothing_stored(team, make_feedback, text) -> None:
    item = make_feedback()
    with pytest.raises(FormError) as e:
        services.add_comment(team["other"], "feedback", item.id, text)
    assert set(e.value.errors) == {"text"}
    db.session.rollback()
    assert count(Comment) == 0 and count(Notification) == 0


def test_comment_is_stored_trimmed_and_both_sides_hear_of_it(team, make_feedback) -> None:
    item = make_feedback()
    comment = services.add_comment(team["other"], "feedback", item.id, "  " + "好" * 500 + "\n")
    db.session.commit()
    assert comment.text == "好" * 500
    for person in ("author", "recipient"):
        [note] = notes_for(team[person], "comment_added")
        assert (note.ref_type, note.ref_id) == ("comment", comment.id)
    assert notes_for(team["other"], "comment_added") == []
    entries, _ = inbox(team["recipient"])
    [entry] = [e for e in entries if e["note"].kind == "comment_added"]
    assert entry["obj"].actor.id == team["other"].id and entry["obj"].actor_shown


def test_confidential_author_is_masked_for_everyone_but_themselves_and_hr(team, make_feedback) -> None:
    item = make_feedback(confidential=True)
    author = team["author"]
    services.add_comment(author, "feedback", item.id, "I wrote this one")
    services.add_comment(team["recipient"], "feedback", item.id, "Thank you, whoever you are")
    services.set_reaction(author, "feedback", item.id, "🎯", True)
    db.session.commit()
    for viewer, shown in ((team["recipient"], False), (team["boss"], False), (team["other"], False),
                          (author, True), (team["hr"], True)):
        thread = services.thread(viewer, "feedback", item)
        assert [c.author_shown for c in thread.comments] == [shown, True]
        names = dict(thread.reactors)["🎯"]
        assert (author.name in names) is shown
        assert ("Someone (confidential)" in names) is (not shown)
    entries, _ = inbox(team["recipient"])
    notes = [e["obj"] for e in entries if e["note"].kind in ("comment_added", "reaction_added")]
    assert len(notes) == 2 and not any(n.actor_shown for n in notes)


def test_a_suspended_person_cant_comment_but_can_react(team, make_feedback) -> None:
    item = make_feedback()
    db.session.add(PostingSuspension(user_id=team["other"].id, until=utcnow() + timedelta(days=3)))
    db.session.commit()
    with pytest.raises(FormError) as e:
        services.add_comment(team["other"], "feedback", item.id, "hello")
    assert "form" in e.value.errors
    db.session.rollback()
    assert services.set_reaction(team["other"], "feedback", item.id, "👍", True) is True
    db.session.commit()
    assert count(Comment) == 0 and count(Reaction) == 1


def test_only_the_commenter_can_delete_a_comment_and_its_entries_go_with_it(team, make_feedback) -> None:
    item = make_feedback()
    comment = services.add_comment(team["other"], "feedback", item.id, "oops")
    db.session.commit()
    for person in ("author", "recipient", "hr"):
        with pytest.raises(LookupError):
            services.delete_comment(team[person], comment.id)
    with pytest.raises(LookupError):
        services.delete_comment(team["other"], 999_999)
    services.delete_comment(team["other"], comment.id)
    db.session.commit()
    assert count(Comment) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.ref_type == "comment")) == 0


def test_hidden_comments_are_left_out_for_everyone_but_hr(team, make_feedback) -> None:
    item = make_feedback()
    services.add_comment(team["other"], "feedback", item.id, "fine")
    bad = services.add_comment(team["boss"], "feedback", item.id, "rude")
    bad.hidden = True
    db.session.commit()
    assert services.summaries("feedback", [item.id], team["author"])[item.id].comments == 1
    assert [c.comment.text for c in services.thread(team["author"], "feedback", item).comments] == ["fine"]
    assert [c.comment.text for c in services.thread(team["hr"], "feedback", item).comments] == ["fine", "rude"]
    entries, _ = inbox(team["author"])
    assert all(e["obj"] is None or e["obj"].comment is None or e["obj"].comment.text != "rude" for e in entries)


def test_summaries_for_a_page_cost_one_statement_however_many_items(team, make_feedback) -> None:
    items = [make_feedback(text=f"item {i}") for i in range(12)]
    for i, item in enumerate(items):
        services.set_reaction(team["other"], "feedback", item.id, "👍", True)
        if i % 2:
            services.set_reaction(team["boss"], "feedback", item.id, "💡", True)
            services.add_comment(team["boss"], "feedback", item.id, "nice")
    db.session.commit()
    ids = [i.id for i in items]
    viewer = team["other"]
    viewer.id  # noqa: B018  (loaded before counting)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = services.summaries("feedback", ids, viewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert [result[i].counts.get("💡", 0) for i in ids] == [0, 1] * 6
    assert all(result[i].mine == {"👍"} for i in ids)
    assert [result[i].comments for i in ids] == [0, 1] * 6


def test_reactors_read_everyones_reactions_for_several_target_types_in_one_statement(team, make_feedback) -> None:
    """The praise wall's shared rows: who reacted with what, by target type and id, one statement
    for all the types; a type without ids (or without reactions) is there, empty; the same id
    under another type is another target."""
    item = make_feedback()
    other, boss = team["other"], team["boss"]
    services.set_reaction(other, "feedback", item.id, "👍", True)
    services.set_reaction(other, "feedback", item.id, "🔥", True)
    services.set_reaction(boss, "feedback", item.id, "💡", True)
    db.session.add(Reaction(target_type="flower", target_id=item.id, user_id=boss.id, emoji="👍"))
    db.session.commit()
    item_id, other_id, boss_id = item.id, other.id, boss.id  # loaded before counting
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = services.reactors({"feedback": [item_id], "flower": [item_id, item_id + 1], "badge_award": []})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len([sql for sql in statements if sql.startswith("SELECT")]) == 1
    assert found == {"feedback": {item_id: {other_id: ",".join(sorted(("👍", "🔥"))), boss_id: "💡"}},
                     "flower": {item_id: {boss_id: "👍"}}, "badge_award": {}}
    assert services.reactors({"badge_award": []}) == {"badge_award": {}}
