"""Review-cycle use cases: setup, locks, nominations and their refusals, the balanced assignment,
answering, customer links, reminders."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.notify.models import Notification
from perfapp.reviews import assignment, services
from perfapp.reviews.models import ReviewAssignment, ReviewCycle, ReviewRating
from perfapp.reviews.services import AnswerInput
from tests.conftest import assert_rejected, count
from tests.reviews.conftest import cycle_input


def test_hr_creates_a_development_only_cycle_with_default_thresholds(org) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input())
    assert cycle.status == "draft" and cycle.purpose == "development"
    assert cycle.threshold("peers") == 5 and cycle.threshold("peers", "comments") == 5
    assert [q.kind for q in cycle.questions] == ["rating", "text"]
    assert cycle.questions[0].scale == [1, 2, 3, 4, 5]


def test_only_hr_creates_cycles(org) -> None:
    with pytest.raises(PermissionError):
        services.create_cycle(org["manager"], cycle_input())


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"thresholds": {"peers": {"scores": 2, "comments": 5}}}, "threshold_peers_scores"),
    ({"groups": ["bosses"]}, "groups"),
    ({"questions": []}, "questions"),
    ({"scope": "departments", "scope_ids": []}, "scope_ids"),
    ({"cycle_cap": 0}, "cycle_cap"),
    ({"closes_at": utcnow() - timedelta(days=1)}, "closes_at"),
])
def test_bad_setup_is_refused_and_nothing_is_saved(org, change, field) -> None:
    assert_rejected(lambda: services.create_cycle(org["hr"], cycle_input(**change)), field, ReviewCycle)


def test_a_rating_question_needs_anchor_texts(org) -> None:
    from perfapp.reviews.services import QuestionInput

    bad = cycle_input(questions=[QuestionInput("rating", "Delivers", ["Only one"])])
    assert_rejected(lambda: services.create_cycle(org["hr"], bad), "question_0", ReviewCycle)


def test_thresholds_and_purpose_are_locked_once_open(org, cycle) -> None:
    services.set_thresholds(org["hr"], cycle, {"peers": {"scores": 4}})
    services.set_purpose(org["hr"], cycle, "pay")
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    assert_rejected(lambda: services.set_thresholds(org["hr"], cycle, {"peers": {"scores": 3}}), "thresholds")
    assert_rejected(lambda: services.set_purpose(org["hr"], cycle, "development"), "purpose")
    lowered = cycle_input(purpose="pay", thresholds={"peers": {"scores": 3, "comments": 5}})
    assert_rejected(lambda: services.update_cycle(org["hr"], cycle, lowered), "thresholds")
    db.session.refresh(cycle)
    assert cycle.threshold("peers") == 4 and cycle.purpose == "pay"


def test_threshold_never_below_three(org, cycle) -> None:
    assert_rejected(lambda: services.set_thresholds(org["hr"], cycle, {"peers": {"comments": 2}}),
                    "threshold_peers_comments")


# --- nominations ----------------------------------------------------------------------------------

def test_reviewee_proposes_manager_approves_nominee_declines(org, cycle) -> None:
    me, peer = org["team"][0], org["team"][1]
    row = services.nominate(me, cycle, peer, "peers")
    assert row.status == "proposed"
    with pytest.raises(PermissionError):
        services.approve(org["team"][2], row)  # a colleague is not the manager
    services.approve(org["manager"], row)
    assert row.status == "approved"
    services.decline(peer, row, "I joined last week")
    assert row.status == "declined" and row.decline_reason == "I joined last week"


def test_refused_nominations_change_nothing(org, cycle, make_user) -> None:
    me = org["team"][0]
    gone = make_user(name="Gone", active=False)
    assert_rejected(lambda: services.nominate(me, cycle, gone, "peers"), "person_id", ReviewAssignment)
    assert_rejected(lambda: services.nominate(me, cycle, me, "peers"), "person_id", ReviewAssignment)
    assert_rejected(lambda: services.nominate(me, cycle, None, "peers"), "person_id", ReviewAssignment)
    assert_rejected(lambda: services.nominate(me, cycle, org["team"][1], "self"), "group", ReviewAssignment)
    # The manager reviews as the manager, not as a peer.
    assert_rejected(lambda: services.nominate(me, cycle, org["manager"], "peers"), "person_id", ReviewAssignment)


def test_suggestions_leave_out_the_manager_and_anyone_at_their_cap(org) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input(cycle_cap=1))
    me = org["team"][0]
    db.session.add_all([Feedback(author_id=org["manager"].id, recipient_id=me.id, text="Nice"),
                        Feedback(author_id=org["team"][2].id, recipient_id=me.id, text="Thanks")])
    services.nominate(org["team"][3], cycle, org["team"][2], "peers")  # team[2] is now at the cap of 1
    db.session.commit()
    suggested = {u.id for u in services.suggestions(cycle, me, "peers", utcnow(), limit=10)}
    assert org["manager"].id not in suggested and org["team"][2].id not in suggested
    assert org["team"][1].id in suggested


def test_a_nomination_beyond_the_cycle_cap_is_refused_with_alternatives(org, make_user) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input(cycle_cap=2))
    busy = org["team"][1]
    for reviewee in org["team"][2:4]:
        services.nominate(reviewee, cycle, busy, "peers")
    # Evidence: the reviewee worked with team[5] lately, so it is suggested.
    db.session.add(Feedback(author_id=org["team"][5].id, recipient_id=org["team"][0].id, text="Thanks"))
    db.session.commit()
    error = assert_rejected(lambda: services.nominate(org["team"][0], cycle, busy, "peers"), "person_id",
                            ReviewAssignment)
    message = error.errors["person_id"]
    assert "2" in message and org["team"][5].name in message


def test_the_rolling_cap_counts_feedback_requests(org) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input(rolling_cap=2))
    busy = org["team"][1]
    for asker in org["team"][2:4]:
        request = FeedbackRequest(requester_id=asker.id, about="x", expires_at=utcnow() + timedelta(days=3))
        request.asks = [FeedbackAsk(recipient_id=busy.id)]
        db.session.add(request)
    db.session.commit()
    assert_rejected(lambda: services.nominate(org["team"][0], cycle, busy, "peers"), "person_id", ReviewAssignment)


# --- the balanced assignment ----------------------------------------------------------------------

def test_solve_balances_and_respects_capacity() -> None:
    # Three reviewees all want the same popular colleague first; capacity 1 spreads them.
    problem = assignment.Problem(
        demand={(1, "peers"): 1, (2, "peers"): 1, (3, "peers"): 1},
        candidates={(1, "peers"): [(9, 1), (4, 50)], (2, "peers"): [(9, 1), (5, 50)], (3, "peers"): [(9, 1)]},
        capacity={9: 1, 4: 1, 5: 1})
    solution = assignment.solve(problem)
    assert solution.chosen[(3, "peers")] == [9]  # the only one who can take 3 gets the popular one
    assert sorted(r for picks in solution.chosen.values() for r in picks) == [4, 5, 9]
    assert solution.short == {}


def test_solve_spreads_load_beyond_the_fair_share() -> None:
    # Everyone's best match is reviewer 9; above the fair share (2 each) the next best takes over.
    problem = assignment.Problem(
        demand={(i, "peers"): 1 for i in range(1, 5)},
        candidates={(i, "peers"): [(9, 1), (8, 20)] for i in range(1, 5)}, capacity={9: 4, 8: 4})
    chosen = [r for picks in assignment.solve(problem).chosen.values() for r in picks]
    assert sorted(chosen) == [8, 8, 9, 9]


def test_solve_reports_who_is_short() -> None:
    problem = assignment.Problem(demand={(1, "peers"): 3}, candidates={(1, "peers"): [(2, 1)]}, capacity={2: 5})
    solution = assignment.solve(problem)
    assert solution.chosen[(1, "peers")] == [2] and solution.short == {(1, "peers"): 2}
    assert assignment.explain_short(problem, (1, "peers")) == "few"


def test_run_assignment_keeps_caps_and_nominations(org) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input(cycle_cap=3, minimums={"peers": 3, "partners": 0}))
    me, wanted = org["team"][0], org["team"][6]
    services.nominate(me, cycle, wanted, "peers")
    db.session.commit()
    report = services.run_assignment(cycle)
    db.session.commit()
    rows = list(db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id)))
    mine = [r for r in rows if r.reviewee_id == me.id and r.group == "peers"]
    assert wanted.id in {r.reviewer_id for r in mine} and len(mine) == 3
    load = services.load_per_reviewer(cycle)
    # Upward reviews count too: the manager writes none, each report reviews their manager once.
    assert max(load.values()) <= 3 + 1
    assert report["histogram"] and cycle.assign_progress == 1.0
    groups = {(r.reviewee_id, r.group) for r in rows}
    assert (me.id, "self") in groups and (me.id, "manager") in groups and (me.id, "skip_level") in groups
    assert (org["manager"].id, "reports") in groups


def test_a_declined_solver_pick_is_not_asked_again(org) -> None:
    cycle = services.create_cycle(org["hr"], cycle_input(minimums={"peers": 6, "partners": 0}))
    me = org["team"][0]
    services.run_assignment(cycle)
    db.session.commit()
    first = db.session.scalar(select(ReviewAssignment).where(
        ReviewAssignment.reviewee_id == me.id, ReviewAssignment.source == "solver"))
    services.decline(first.reviewer, first, "Not enough context")
    db.session.commit()
    services.run_assignment(cycle)
    db.session.commit()
    rows = db.session.scalars(select(ReviewAssignment).where(
        ReviewAssignment.reviewee_id == me.id, ReviewAssignment.reviewer_id == first.reviewer_id)).all()
    assert [r.status for r in rows] == ["declined"]


# --- answering ------------------------------------------------------------------------------------

def _open_with_peer(org, cycle) -> ReviewAssignment:  # type: ignore[no-untyped-def]
    row = services.manager_add(org["manager"], cycle, org["team"][0], org["team"][1], "peers")
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    return row


def test_answering_a_review(org, cycle) -> None:
    row = _open_with_peer(org, cycle)
    rating, text = cycle.questions
    services.answer(org["team"][1], row, AnswerInput(ratings={rating.id: 4}, comments={text.id: "Keep pairing"}))
    db.session.commit()
    assert row.status == "submitted" and count(ReviewRating) == 1
    # Once only.
    assert_rejected(lambda: services.answer(org["team"][1], row, AnswerInput(ratings={rating.id: 2})), "form")


def test_answering_after_the_deadline_is_refused(org, cycle) -> None:
    row = _open_with_peer(org, cycle)
    rating = cycle.questions[0]
    late = cycle.closes_at + timedelta(minutes=1)
    assert_rejected(lambda: services.answer(org["team"][1], row, AnswerInput(ratings={rating.id: 3}), now=late),
                    "form", ReviewRating)


def test_a_rating_must_be_on_the_scale(org, cycle) -> None:
    row = _open_with_peer(org, cycle)
    rating = cycle.questions[0]
    assert_rejected(lambda: services.answer(org["team"][1], row, AnswerInput(ratings={rating.id: 9})),
                    f"q{rating.id}", ReviewRating)


def test_someone_else_cannot_answer(org, cycle) -> None:
    row = _open_with_peer(org, cycle)
    with pytest.raises(PermissionError):
        services.answer(org["team"][2], row, AnswerInput())


def test_opening_tells_reviewers_and_reminders_come_before_the_deadline(org, cycle) -> None:
    _open_with_peer(org, cycle)
    kinds = {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == org["team"][1].id))}
    assert "review_opened" in kinds
    assert services.send_reminders(cycle.closes_at - timedelta(days=10)) == 0
    sent = services.send_reminders(cycle.closes_at - timedelta(days=2))
    assert sent > 0
    assert services.send_reminders(cycle.closes_at - timedelta(days=2)) == 0  # once per stage


def test_the_deadline_closes_the_cycle(org, cycle) -> None:
    _open_with_peer(org, cycle)
    assert services.close_due_cycles(cycle.closes_at + timedelta(seconds=1)) == 1
    assert cycle.status == "closed"


# --- customers ------------------------------------------------------------------------------------

def test_a_customer_link_works_once(org, cycle) -> None:
    services.open_cycle(org["hr"], cycle)
    row, token = services.create_customer_link(org["team"][0], cycle, org["team"][0], "ACME buyer")
    db.session.commit()
    rating = cycle.questions[0]
    assert services.customer_answer(token, AnswerInput(ratings={rating.id: 5})) is row
    db.session.commit()
    with pytest.raises(services.LinkGone):
        services.customer_answer(token, AnswerInput(ratings={rating.id: 5}))
    assert services.customer_assignment("nope") is None


def test_an_expired_customer_link_is_refused(org, cycle) -> None:
    services.open_cycle(org["hr"], cycle)
    _row, token = services.create_customer_link(org["team"][0], cycle, org["team"][0], "ACME buyer")
    db.session.commit()
    with pytest.raises(services.LinkGone):
        services.customer_assignment(token, now=utcnow() + timedelta(days=15))
