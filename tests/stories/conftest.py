"""A small team and a factory for recognitions, shared by the story tests."""
from __future__ import annotations

from typing import Any

import pytest

from perfapp.extensions import db
from perfapp.feedback.models import Feedback


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
