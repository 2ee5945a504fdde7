"""A small team and feedback of each visibility, shared by the reactions and moderation tests."""
from __future__ import annotations

from typing import Any

import pytest

from perfapp.extensions import db
from perfapp.feedback.models import Feedback


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    return {
        "boss": boss,
        "author": make_user(name="Emma Wilson", email="emma@example.com"),
        "recipient": make_user(name="李娜", email="lina@example.com", manager=boss),
        "other": make_user(name="张敏", email="zhang@example.com"),
        "hr": make_user(name="HR Helen", email="hr@example.com", role="hr"),
    }


@pytest.fixture()
def make_feedback(team):  # type: ignore[no-untyped-def]
    """make_feedback(visibility="public", confidential=False, ...) -> a committed Feedback, Emma → 李娜."""

    def make(**kw: Any) -> Feedback:
        fields: dict[str, Any] = {"author_id": team["author"].id, "recipient_id": team["recipient"].id,
                                  "kind": "praise", "visibility": "public", "text": "Great launch demo"}
        fields.update(kw)
        if fields["visibility"] != "public" and "kind" not in kw:
            fields["kind"] = "suggestion"
        item = Feedback(**fields)
        db.session.add(item)
        db.session.commit()
        return item

    return make
