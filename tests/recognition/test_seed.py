"""seed-demo and seed-load fill in flowers and badges the way the app would have."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.notify.models import Notification
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, GiverMonth
from tests.recognition.conftest import count


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    db.session.rollback()  # the command opens its own write transaction
    return app.test_cli_runner().invoke(args=list(args))


def assert_consistent() -> None:
    """Each giver's monthly spending matches their gifts and stays within the allowance."""
    gifts = {(g, m): n for g, m, n in db.session.execute(
        select(FlowerGift.giver_id, FlowerGift.month, func.sum(FlowerGift.count))
        .group_by(FlowerGift.giver_id, FlowerGift.month))}
    spent = {(r.user_id, r.month): r.flowers_spent for r in db.session.scalars(select(GiverMonth))}
    assert gifts == spent and max(spent.values()) <= 10
    over = db.session.execute(
        select(BadgeAward.giver_id, BadgeAward.badge_id, BadgeAward.month, func.count().label("n"), Badge.monthly_limit)
        .join(Badge, Badge.id == BadgeAward.badge_id).where(BadgeAward.giver_id.is_not(None))
        .group_by(BadgeAward.giver_id, BadgeAward.badge_id, BadgeAward.month, Badge.monthly_limit)
        .having(func.count() > Badge.monthly_limit)).all()
    assert over == []
    assert count(FlowerGift, FlowerGift.giver_id == FlowerGift.receiver_id) == 0
    assert count(BadgeAward, BadgeAward.giver_id == BadgeAward.receiver_id) == 0


def test_seed_load_adds_the_requested_flowers_and_badges(app: Flask) -> None:
    result = run(app, "seed-load", "--people", "60", "--feedback", "200", "--flowers", "700", "--badges", "400")
    assert result.exit_code == 0, result.output
    assert count(FlowerGift) == 700 and count(BadgeAward) == 400
    assert count(Badge, Badge.rule.is_not(None)) == 4 and count(Badge) == 16
    assert_consistent()
    assert count(Notification, Notification.ref_type.in_(("flower_gift", "badge_award"))) > 0
    # The app keeps working on top of it: ids continue after the bulk-inserted ones.
    from perfapp.recognition.rules import ensure_automatic_badges

    ensure_automatic_badges()
    db.session.commit()
    assert count(Badge) == 16


def test_seed_load_without_recognition_options_adds_none(app: Flask) -> None:
    assert run(app, "seed-load", "--people", "20", "--feedback", "10").exit_code == 0
    assert count(FlowerGift) == 0 and count(BadgeAward) == 0


def test_seed_demo_has_flowers_badges_and_automatic_badges(app: Flask) -> None:
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert count(FlowerGift) > 100 and count(BadgeAward, BadgeAward.giver_id.is_not(None)) > 30
    assert count(BadgeAward, BadgeAward.source == "once") > 10
    assert count(BadgeAward, BadgeAward.source.like("milestone:%")) > 10
    assert_consistent()
    from tests.recognition.test_services import holdings_from_awards, holdings_stored

    assert holdings_stored() == holdings_from_awards()


def test_seeded_holdings_match_the_awards(app: Flask) -> None:
    from tests.recognition.test_services import holdings_from_awards, holdings_stored

    assert run(app, "seed-load", "--people", "40", "--feedback", "10", "--badges", "300").exit_code == 0
    assert holdings_stored() == holdings_from_awards() != {}


def test_seed_demo_awards_no_automatic_badge_for_confidential_feedback(app: Flask) -> None:
    """Like the rules: a first-feedback badge follows a feedback given by name, never a confidential one."""
    from perfapp.feedback.models import Feedback

    assert run(app, "seed-demo").exit_code == 0
    named_first = (select(func.min(Feedback.created_at)).where(Feedback.author_id == BadgeAward.receiver_id,
                                                               Feedback.confidential.is_(False))
                   .scalar_subquery())
    awards = db.session.execute(
        select(BadgeAward.created_at, named_first).join(Badge, Badge.id == BadgeAward.badge_id)
        .where(Badge.rule == "first-feedback")).all()
    assert awards and all(first is not None and first == at for at, first in awards)
