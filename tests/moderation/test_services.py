"""Reports, the HR queue, decisions and their audit log, suspensions — without HTTP."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import services as feedback_services
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.moderation import services
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.notify.models import Notification
from perfapp.notify.services import inbox
from perfapp.reactions import services as reactions
from perfapp.reactions.models import Comment, Reaction
from tests.moderation.conftest import report_until_hidden


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_one_report_hides_the_item_from_its_reporter_only(team, make_feedback) -> None:
    item = make_feedback()
    report = services.report(team["other"], "feedback", item.id, "  Not true  ")
    db.session.commit()
    # One reader (or the recipient) can't take praise off the wall for everyone.
    assert report.reason == "Not true" and not item.hidden
    assert services.reported_by(team["other"], "feedback", item.id)
    for who in ("author", "recipient", "boss", "hr"):
        assert not services.reported_by(team[who], "feedback", item.id)
        assert feedback_services.get_visible(team[who], item.id) is not None
    assert [i.id for i in feedback_services.public_praise_of(item.recipient_id)[0]] == [item.id]
    # HR hears about it in the inbox and has a case to decide.
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == team["hr"].id))
    assert (note.kind, note.ref_type, note.ref_id) == ("content_reported", "report", report.id)
    assert [c.obj.id for c in services.open_cases(team["hr"])] == [item.id]


def test_three_people_hide_it_from_everyone_but_hr_until_hr_decides(team, make_feedback) -> None:
    item = make_feedback()
    services.report(team["other"], "feedback", item.id, "spam")
    services.report(team["recipient"], "feedback", item.id, "spam")
    db.session.commit()
    assert not item.hidden  # two are not enough
    services.report(team["boss"], "feedback", item.id, "spam")
    db.session.commit()
    assert item.hidden
    for who in ("author", "recipient", "other", "boss"):
        viewer = team[who]
        assert feedback_services.get_visible(viewer, item.id) is None
        assert feedback_services.public_praise_of(item.recipient_id)[0] == []
        assert feedback_services.home_feed(viewer)[0] == []
        assert feedback_services.given_feed(viewer)[0] == []
    assert feedback_services.get_visible(team["hr"], item.id) is not None
    [case] = services.open_cases(team["hr"])
    assert len(case.reports) == 3


def test_a_hidden_item_leaves_the_tag_profile_and_the_inbox(team, make_feedback, make_tag) -> None:
    tag = make_tag()
    item = make_feedback()
    item.tags = [tag]
    db.session.add(Notification(user_id=team["recipient"].id, kind="feedback_received", feedback_id=item.id))
    db.session.commit()
    assert [(t.id, n) for t, n in feedback_services.tag_profile(team["recipient"].id, team["other"])] == [(tag.id, 1)]
    report_until_hidden(team, "feedback", item.id)
    db.session.commit()
    assert feedback_services.tag_profile(team["recipient"].id, team["other"]) == []
    assert feedback_services.tag_profile(team["recipient"].id, team["recipient"]) == []
    assert inbox(team["recipient"])[0] == []


@pytest.mark.parametrize(("reason", "field"), [("", "reason"), ("   ", "reason"), ("x" * 501, "reason")])
def test_bad_reasons_change_nothing(team, make_feedback, reason, field) -> None:
    item = make_feedback()
    with pytest.raises(FormError) as e:
        services.report(team["other"], "feedback", item.id, reason)
    assert set(e.value.errors) == {field}
    db.session.rollback()
    assert count(Report) == 0 and not db.session.get(Feedback, item.id).hidden


def test_what_cant_be_reported(team, make_feedback) -> None:
    item = make_feedback()
    private = make_feedback(visibility="private")
    with pytest.raises(FormError) as e:
        services.report(team["author"], "feedback", item.id, "my own")
    assert set(e.value.errors) == {"form"}
    db.session.rollback()
    for target in (("feedback", 999_999), ("nothing", item.id), ("comment", 999_999), ("feedback", private.id)):
        with pytest.raises(LookupError):
            services.report(team["other"], *target, "bad")
    assert count(Report) == 0 and not db.session.get(Feedback, item.id).hidden


def test_nobody_reports_the_same_thing_twice(team, make_feedback) -> None:
    item = make_feedback()
    services.report(team["other"], "feedback", item.id, "spam")
    db.session.commit()
    services.decide(team["hr"], "feedback", item.id, "restore")
    db.session.commit()
    with pytest.raises(FormError) as e:
        services.report(team["other"], "feedback", item.id, "still spam")
    assert set(e.value.errors) == {"form"}
    db.session.rollback()
    assert count(Report) == 1 and not db.session.get(Feedback, item.id).hidden
    # Someone else can still report it, and it is hidden for them.
    services.report(team["boss"], "feedback", item.id, "spam again")
    db.session.commit()
    assert services.reported_by(team["boss"], "feedback", item.id)
    assert not services.reported_by(team["other"], "feedback", item.id)  # decided: back for them


def test_a_recipient_may_report_private_feedback_they_received(team, make_feedback) -> None:
    item = make_feedback(visibility="private", confidential=True, text="something nasty")
    services.report(team["recipient"], "feedback", item.id, "abusive")
    db.session.commit()
    [case] = services.open_cases(team["hr"])
    assert case.obj.id == item.id and case.kind.author_id(case.obj) == team["author"].id


def test_comments_are_reportable_and_hidden_from_the_thread(team, make_feedback) -> None:
    item = make_feedback()
    comment = reactions.add_comment(team["boss"], "feedback", item.id, "rude words")
    db.session.commit()
    with pytest.raises(FormError):
        services.report(team["boss"], "comment", comment.id, "mine")
    db.session.rollback()
    services.report(team["other"], "comment", comment.id, "rude")
    db.session.commit()
    assert not comment.hidden and services.reported_by(team["other"], "comment", comment.id)
    services.report(team["recipient"], "comment", comment.id, "rude")
    services.report(team["author"], "comment", comment.id, "rude")
    db.session.commit()
    assert comment.hidden
    assert reactions.thread(team["author"], "feedback", item).comments == []
    assert reactions.thread(team["other"], "feedback", item).comments == []
    # Someone who can't read the item can't report its comments either.
    private = make_feedback(visibility="private")
    secret = reactions.add_comment(team["recipient"], "feedback", private.id, "between us")
    db.session.commit()
    with pytest.raises(LookupError):
        services.report(team["other"], "comment", secret.id, "curious")


def test_only_hr_sees_the_queue_and_decides(team, make_feedback) -> None:
    item = make_feedback()
    report_until_hidden(team, "feedback", item.id)
    db.session.commit()
    for who in ("author", "recipient", "other", "boss"):
        with pytest.raises(PermissionError):
            services.open_cases(team[who])
        with pytest.raises(PermissionError):
            services.decide(team[who], "feedback", item.id, "restore")
        with pytest.raises(PermissionError):
            services.audit_log(team[who])
    db.session.rollback()
    assert db.session.get(Feedback, item.id).hidden and count(ModerationDecision) == 0


def test_restore_unhides_and_is_audited_without_content(team, make_feedback) -> None:
    item = make_feedback(text="A very specific sentence")
    services.report(team["other"], "feedback", item.id, "spam")
    db.session.commit()
    [case] = services.open_cases(team["hr"])
    assert [r.reason for r in case.reports] == ["spam"] and case.key == f"feedback-{item.id}"
    decision = services.decide(team["hr"], "feedback", item.id, "restore", "  fine  ")
    db.session.commit()
    assert not item.hidden and services.open_cases(team["hr"]) == []
    assert feedback_services.get_visible(team["other"], item.id) is not None
    assert (decision.actor_id, decision.target_type, decision.target_id, decision.action, decision.reason,
            decision.subject_id) == (team["hr"].id, "feedback", item.id, "restore", "fine", team["author"].id)
    # The audit log keeps who/what/when/why and never the content.
    columns = {c.key for c in inspect(ModerationDecision).columns}
    assert columns == {"id", "actor_id", "target_type", "target_id", "action", "reason", "subject_id",
                       "suspended_days", "created_at"}
    assert "A very specific sentence" not in repr([getattr(decision, c) for c in columns])
    # Decided once: a second decision is refused.
    with pytest.raises(FormError) as e:
        services.decide(team["hr"], "feedback", item.id, "delete", "changed my mind")
    assert set(e.value.errors) == {"form"}


def test_delete_removes_the_row_and_everything_on_it(team, make_feedback) -> None:
    item = make_feedback()
    keep = make_feedback(text="another")
    reactions.set_reaction(team["other"], "feedback", item.id, "👍", True)
    comment = reactions.add_comment(team["boss"], "feedback", item.id, "nice")
    reactions.add_comment(team["boss"], "feedback", keep.id, "kept")
    db.session.commit()
    services.report(team["other"], "comment", comment.id, "meh")
    services.report(team["recipient"], "feedback", item.id, "spam")
    db.session.commit()
    item_id = item.id
    decision = services.decide(team["hr"], "feedback", item_id, "delete", "spam")
    db.session.commit()
    assert db.session.get(Feedback, item_id) is None
    assert count(Reaction) == 0 and [c.text for c in db.session.scalars(select(Comment))] == ["kept"]
    assert count(Report) == 0  # the reports went with the rows; the audit log stays
    kept = db.session.scalar(select(Comment.id))
    assert count(Notification, Notification.ref_type.in_(("reaction", "comment", "report"))) == 2
    assert count(Notification, Notification.ref_type == "comment", Notification.ref_id == kept) == 2
    assert decision.action == "delete" and decision.subject_id == team["author"].id
    # The author is told (without the content or the reporter).
    entries, _ = inbox(team["author"])
    [entry] = [e for e in entries if e["note"].kind == "moderation_decision"]
    assert entry["obj"].id == decision.id
    assert inbox(team["other"])[0] == [] or all(e["note"].kind != "moderation_decision" for e in inbox(team["other"])[0])


def test_delete_and_suspend_blocks_posting_for_n_days(team, make_feedback, make_user) -> None:
    item = make_feedback()
    services.report(team["other"], "feedback", item.id, "abuse")
    db.session.commit()
    decision = services.decide(team["hr"], "feedback", item.id, "suspend", "abuse", "3")
    db.session.commit()
    assert decision.suspended_days == 3
    [suspension] = db.session.scalars(select(PostingSuspension))
    assert suspension.user_id == team["author"].id and suspension.created_by_id == team["hr"].id
    assert timedelta(days=2, hours=23) < suspension.until - utcnow() <= timedelta(days=3)
    with pytest.raises(FormError) as e:
        give_feedback(team["author"], FeedbackInput(recipient_id=team["other"].id, text="hello"))
    assert set(e.value.errors) == {"form"}
    with pytest.raises(FormError):
        reactions.add_comment(team["author"], "feedback", make_feedback(author_id=team["other"].id).id, "hi")
    db.session.rollback()
    assert count(Feedback, Feedback.author_id == team["author"].id) == 0
    # Reacting stays allowed; others post as usual.
    other_item = make_feedback(author_id=team["other"].id, text="x")
    assert reactions.set_reaction(team["author"], "feedback", other_item.id, "👍", True)
    # When it ends, they can post again.
    suspension.until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    services.ensure_can_post(team["author"])


@pytest.mark.parametrize(("action", "reason", "days", "fields"), [
    ("", "", None, {"action"}),
    ("ban", "x", None, {"action"}),
    ("delete", "", None, {"reason"}),
    ("suspend", "   ", "3", {"reason"}),
    ("suspend", "abuse", "", {"days"}),
    ("suspend", "abuse", "0", {"days"}),
    ("suspend", "abuse", "366", {"days"}),
    ("suspend", "abuse", "three", {"days"}),
    ("restore", "x" * 501, None, {"reason"}),
])
def test_bad_decisions_change_nothing(team, make_feedback, action, reason, days, fields) -> None:
    item = make_feedback()
    report_until_hidden(team, "feedback", item.id)
    db.session.commit()
    for check in (services.check_decision, services.decide):
        with pytest.raises(FormError) as e:
            check(team["hr"], "feedback", item.id, action, reason, days)
        assert set(e.value.errors) == fields
        db.session.rollback()
    assert db.session.get(Feedback, item.id).hidden
    assert count(ModerationDecision) == 0 and count(PostingSuspension) == 0 and count(Report) == 3


def test_deleting_a_comment_by_moderation(team, make_feedback) -> None:
    item = make_feedback()
    comment = reactions.add_comment(team["boss"], "feedback", item.id, "rude")
    db.session.commit()
    services.report(team["other"], "comment", comment.id, "rude")
    db.session.commit()
    [case] = services.open_cases(team["hr"])
    assert case.target_type == "comment" and case.obj.text == "rude"
    services.decide(team["hr"], "comment", comment.id, "suspend", "rude", 1)
    db.session.commit()
    assert count(Comment) == 0 and count(Notification, Notification.ref_type == "comment") == 0
    assert services.suspended_until(team["boss"]) is not None
    assert db.session.get(Feedback, item.id) is not None


def test_audit_log_pages_newest_first(team, make_feedback) -> None:
    for i in range(3):
        item = make_feedback(text=f"item {i}")
        services.report(team["other"], "feedback", item.id, "spam")
        services.decide(team["hr"], "feedback", item.id, "restore")
    db.session.commit()
    first, before = services.audit_log(team["hr"], limit=2)
    rest, after = services.audit_log(team["hr"], before_id=before, limit=2)
    assert [d.id for d in first + rest] == sorted((d.id for d in first + rest), reverse=True)
    assert len(first) == 2 and len(rest) == 1 and after is None


def test_decisions_are_in_the_audit_log(team, make_feedback) -> None:
    from perfapp.audit.services import entries

    item = make_feedback(text="Something specific")
    services.report(team["other"], "feedback", item.id, "spam")
    db.session.commit()
    decision = services.decide(team["hr"], "feedback", item.id, "suspend", "rude", "3")
    db.session.commit()
    [row] = entries(action="moderation.decided")[0]
    assert (row.actor, row.subject) == (team["hr"], team["author"])
    assert row.entry.details == {"target_type": "feedback", "target_id": item.id, "decision": "suspend",
                                 "days": 3, "decision_id": decision.id}


def test_the_author_hears_the_outcome_of_a_post_everyone_stopped_seeing(team, make_feedback) -> None:
    quiet, loud = make_feedback(text="one report"), make_feedback(text="three reports")
    services.report(team["other"], "feedback", quiet.id, "meh")
    report_until_hidden(team, "feedback", loud.id)
    db.session.commit()
    services.decide(team["hr"], "feedback", quiet.id, "restore")
    services.decide(team["hr"], "feedback", loud.id, "restore", "it is fine")
    db.session.commit()
    notes = list(db.session.scalars(select(Notification).where(
        Notification.user_id == team["author"].id, Notification.kind == "moderation_decision")))
    # Only the post that had disappeared for everyone: they saw it go, they hear it is back.
    [note] = notes
    assert db.session.get(ModerationDecision, note.ref_id).target_id == loud.id
    assert not loud.hidden and not services.reported_by(team["other"], "feedback", quiet.id)
