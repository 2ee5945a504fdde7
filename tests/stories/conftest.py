"""A small team and a factory for recognitions, shared by the story tests."""
from __future__ import annotations

from typing import Any

import pytest

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift


@pytest.fixture()
def team(make_user, make_tag):  # type: ignore[no-untyped-def]
    """boss manages lina and emma; hr is HR; zhang is an employee who manages nobody."""
    boss = make_user(name="王伟", email="boss@example.com")
    return {
        "boss": boss,
        "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
        "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
        "zhang": make_user(name="张敏", email="zhang@example.com"),
        "hr": make_user(name="HR Hui", email="hr@example.com", role="hr"),
        "ownership": make_tag("Ownership", "担当"),
        "customer": make_tag("Customer first", "客户第一"),
        "skill": make_tag("Python", "Python", kind="capability"),
    }


@pytest.fixture()
def praise(team):  # type: ignore[no-untyped-def]
    """praise(author=…, recipient=…, **columns) -> a committed feedback row (public praise by default)."""

    def make(author: Any = None, recipient: Any = None, **kw: Any) -> Feedback:
        item = Feedback(author_id=(author or team["emma"]).id, recipient_id=(recipient or team["lina"]).id,
                        kind=kw.pop("kind", "praise"), visibility=kw.pop("visibility", "public"),
                        development_only=kw.pop("development_only", False),
                        text=kw.pop("text", "李娜 stayed late to fix the release, thank you!"), **kw)
        item.tags = [team["ownership"]]
        db.session.add(item)
        db.session.commit()
        return item

    return make


def committed(model: Any, fields: dict[str, Any], overrides: dict[str, Any]) -> Any:
    row = model(**{**fields, **overrides})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture()
def flower(team):  # type: ignore[no-untyped-def]
    """flower(**columns) -> a committed gift of 3 flowers, Emma → 李娜, for the value Ownership."""

    def make(**kw: Any) -> FlowerGift:
        return committed(FlowerGift, {"giver_id": team["emma"].id, "receiver_id": team["lina"].id, "count": 3,
                                      "message": "谢谢李娜周末帮忙排查线上问题！", "tag_id": team["ownership"].id,
                                      "month": "2026-11"}, kw)

    return make


@pytest.fixture()
def award(team):  # type: ignore[no-untyped-def]
    """award(**columns) -> a committed award of the badge "Helper" (linked to Customer first), Emma → 李娜."""
    badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d",
                  tag_id=team["customer"].id, description_en="Always there to help")
    db.session.add(badge)
    db.session.commit()

    def make(**kw: Any) -> BadgeAward:
        return committed(BadgeAward, {"badge_id": badge.id, "giver_id": team["emma"].id,
                                      "receiver_id": team["lina"].id,
                                      "citation": "She answered every customer call during the outage.",
                                      "month": "2026-11"}, kw)

    return make
