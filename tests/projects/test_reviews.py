"""A milestone's retrospective: peer reviews from members, within 7 days, aggregates only for
enough reviewers, answers readable as their feedback's visibility says."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.notify.models import Notification
from perfapp.projects import reviews
from perfapp.projects.models import PeerReview
from perfapp.projects.reviews import ReviewInput
from perfapp.projects.services import reach_milestone
from tests.conftest import assert_rejected, count

GOOD = {"delivered": 3, "collaborated": 2, "communicated": 1}


@pytest.fixture()
def team(make_user, make_project):  # type: ignore[no-untyped-def]
    hr = make_user(name="Helen", role="hr")
    boss = make_user(name="Boss")
    people = [make_user(name=n, manager=boss) for n in ("Ann", "Bob", "Cy", "Di", "Ed", "Flo")]
    project = make_project("Apollo", members=tuple(people))
    milestone = project.milestones[0]
    reach_milestone(hr, milestone)
    db.session.commit()
    return {"hr": hr, "boss": boss, "people": people, "project": project, "milestone": milestone}


def review(reviewer, milestone, reviewee, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("answers", dict(GOOD))
    kw.setdefault("went_well", "Clear plan")
    return reviews.submit_review(reviewer, milestone, ReviewInput(reviewee_id=reviewee.id, **kw))


def test_reaching_nudges_members_to_the_review(team) -> None:  # type: ignore[no-untyped-def]
    ann = team["people"][0]
    note = db.session.scalar(select(Notification).where(Notification.user_id == ann.id,
                                                        Notification.kind == "milestone_nudge"))
    assert note is not None and note.ref_id == team["milestone"].id
    assert [u.name for u, done in reviews.teammates_to_review(ann, team["milestone"])] == \
        ["Bob", "Cy", "Di", "Ed", "Flo"]


def test_a_review_is_feedback_in_the_milestone_context(team) -> None:  # type: ignore[no-untyped-def]
    ann, bob = team["people"][:2]
    milestone = team["milestone"]
    saved = review(ann, milestone, bob, improve="Share the demo earlier", visibility="manager")
    db.session.commit()
    item = db.session.get(Feedback, saved.feedback_id)
    assert (item.author_id, item.recipient_id, item.milestone_id, item.project_id) == (
        ann.id, bob.id, milestone.id, milestone.project_id)
    assert (item.text, item.suggestion, item.kind, item.visibility) == (
        "Clear plan", "Share the demo earlier", "suggestion", "manager")
    assert (saved.delivered, saved.collaborated, saved.communicated) == (3, 2, 1)
    assert {u.name: d for u, d in reviews.teammates_to_review(ann, milestone)}["Bob"] is True
    assert_rejected(lambda: review(ann, milestone, bob), "reviewee_id", PeerReview, Feedback)


@pytest.mark.parametrize(("changes", "field"), [
    ({"answers": {"delivered": 3, "collaborated": 2}}, "communicated"),
    ({"answers": {"delivered": 4, "collaborated": 2, "communicated": 1}}, "delivered"),
    ({"answers": {"delivered": None, "collaborated": 2, "communicated": 1}}, "delivered"),
    ({"went_well": "", "improve": ""}, "went_well"),
    ({"went_well": "x" * 1001}, "went_well"),
    ({"improve": "x" * 1001}, "improve"),
    ({"visibility": "public"}, "visibility"),
])
def test_bad_reviews_change_nothing(team, changes, field) -> None:  # type: ignore[no-untyped-def]
    ann, bob = team["people"][:2]
    assert_rejected(lambda: review(ann, team["milestone"], bob, **changes), field, PeerReview, Feedback)


def test_who_may_review_whom_and_when(team, make_user) -> None:  # type: ignore[no-untyped-def]
    ann, bob = team["people"][:2]
    milestone = team["milestone"]
    outsider = make_user(name="Out")
    with pytest.raises(PermissionError):
        review(outsider, milestone, bob)
    with pytest.raises(PermissionError):
        review(team["boss"], milestone, bob)  # a manager who is not on the project
    assert_rejected(lambda: review(ann, milestone, ann), "reviewee_id", PeerReview)
    assert_rejected(lambda: review(ann, milestone, outsider), "reviewee_id", PeerReview)
    later = utcnow() + timedelta(days=7, minutes=1)
    with pytest.raises(FormError) as closed:
        reviews.submit_review(ann, milestone, ReviewInput(reviewee_id=bob.id, answers=dict(GOOD), went_well="x"),
                              now=later)
    assert "form" in closed.value.errors and count(PeerReview) == 0


def test_aggregates_need_enough_reviewers(team, app) -> None:  # type: ignore[no-untyped-def]
    people, milestone = team["people"], team["milestone"]
    ann = people[0]
    for reviewer in people[1:4]:
        review(reviewer, milestone, ann)
    db.session.commit()
    summary = reviews.milestone_summary(ann, milestone)
    assert summary.team.reviewers == 3 and not summary.team.shown and not summary.about_me.shown
    review(people[4], milestone, ann)
    review(people[5], milestone, ann, answers={"delivered": 3, "collaborated": 1, "communicated": 1})
    db.session.commit()
    summary = reviews.milestone_summary(ann, milestone)
    assert summary.team.shown and summary.about_me.shown
    delivered, collaborated, communicated = summary.team.questions
    assert delivered.shares == {1: 0, 2: 0, 3: 100} and collaborated.shares == {1: 20, 2: 80, 3: 0}
    assert [q.key for q in summary.team.went_well] == ["delivered"]
    assert [q.key for q in summary.team.to_improve] == ["communicated"]
    # Configurable, but never below 3.
    app.config["PEER_REVIEW_MIN_GROUP"] = 1
    try:
        assert reviews.min_group() == 3
        assert not reviews.milestone_summary(people[1], milestone).about_me.shown  # nobody reviewed Bob
    finally:
        app.config["PEER_REVIEW_MIN_GROUP"] = 5


def test_answers_follow_their_visibility_and_confidentiality(team, make_user) -> None:  # type: ignore[no-untyped-def]
    ann, bob, cy = team["people"][:3]
    milestone = team["milestone"]
    private = review(ann, milestone, bob, went_well="Only for Bob")
    secret = review(cy, milestone, bob, went_well="Secret kudos", confidential=True, visibility="manager")
    db.session.commit()
    assert {f.id for f in reviews.milestone_summary(bob, milestone).answers} == {private.feedback_id, secret.feedback_id}
    assert {f.id for f in reviews.milestone_summary(team["boss"], milestone).answers} == {secret.feedback_id}
    assert reviews.milestone_summary(team["people"][3], milestone).answers == []
    item = db.session.get(Feedback, secret.feedback_id)
    assert item.confidential and not item.author_shown_to(bob) and not item.author_shown_to(team["boss"])


def test_the_summary_shows_the_flowers_and_badges_given_in_its_context(team, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.recognition.badges import AwardInput, award_badge
    from perfapp.recognition.flowers import FlowerInput, give_flowers
    from perfapp.recognition.models import Badge

    ann, bob = team["people"][:2]
    milestone = team["milestone"]
    give_flowers(ann, FlowerInput(receiver_id=bob.id, count=2, message="Thanks", milestone_id=milestone.id))
    # The same pair, the same hour, but not from the milestone: not in its summary.
    give_flowers(ann, FlowerInput(receiver_id=bob.id, count=1, message="Coffee"))
    badge = Badge(name_zh="好队友", name_en="Team player", icon="handshake", awarders="anyone", monthly_limit=5)
    db.session.add(badge)
    db.session.flush()
    award_badge(bob, AwardInput(badge_id=badge.id, receiver_id=ann.id, citation="Held it together",
                                milestone_id=milestone.id))
    db.session.commit()
    summary = reviews.milestone_summary(ann, milestone)
    assert [g.message for g in summary.flowers] == ["Thanks"]
    milestone_badge = {a.receiver_id for a in summary.badges if a.source == f"milestone:{milestone.id}"}
    assert milestone_badge == {p.id for p in team["people"]}
    assert [a.citation for a in summary.badges if a.badge_id == badge.id] == ["Held it together"]
    page = login(ann).get(f"/projects/{milestone.project_id}/milestones/{milestone.id}").get_data(as_text=True)
    assert "Team player" in page and "Coffee" not in page
    assert f"/recognition/flowers?milestone={milestone.id}" in page


def test_the_flower_sheet_opened_from_a_milestone_keeps_its_context(team, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.recognition.models import FlowerGift

    ann, bob = team["people"][:2]
    milestone = team["milestone"]
    client = login(ann)
    sheet = client.get(f"/recognition/flowers?milestone={milestone.id}&to={bob.id}").get_data(as_text=True)
    assert f'name="milestone_id" value="{milestone.id}"' in sheet and "Apollo" in sheet
    response = client.submit("/recognition/flowers", {"receiver_id": bob.id, "count": "1", "message": "Great demo",
                                                      "milestone_id": milestone.id})
    assert response.status_code == 303
    assert db.session.scalars(select(FlowerGift)).one().milestone_id == milestone.id


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("what", ["flowers", "award"])
def test_a_milestone_of_someone_elses_project_is_refused_and_nothing_is_spent(team, login, make_user, what,
                                                                              htmx) -> None:  # type: ignore[no-untyped-def]
    from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, GiverMonth

    outsider = make_user(name="Out", locale="zh_Hans_CN")
    bob = team["people"][1]
    badge = Badge(name_zh="好队友", name_en="Team player", icon="handshake", awarders="anyone", monthly_limit=5)
    db.session.add(badge)
    db.session.commit()
    awards_before = count(BadgeAward)
    client = login(outsider)
    for milestone_id in (team["milestone"].id, 999999, -1):
        data = {"receiver_id": bob.id, "milestone_id": milestone_id}
        data.update({"count": "1", "message": "Hi"} if what == "flowers" else {"badge_id": badge.id, "citation": "Hi"})
        response = client.submit(f"/recognition/{what}", data, htmx=htmx,
                                 target=("flower-form" if what == "flowers" else "award-form") if htmx else None,
                                 headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 422
        assert "在你的项目中找不到这个里程碑" in response.get_data(as_text=True)
    assert count(FlowerGift) == 0 and count(BadgeAward) == awards_before
    assert all(row.flowers_spent == 0 for row in db.session.scalars(select(GiverMonth)))
