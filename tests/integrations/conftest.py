"""People the customer emails mention, shared by the integration tests."""
from __future__ import annotations

import pytest


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    """boss manages lina and emma; zhang has no manager; hr is HR; gone is deactivated."""
    boss = make_user(name="王伟", email="boss@example.com")
    return {
        "boss": boss,
        "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
        "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
        "zhang": make_user(name="张敏", email="zhang.min@example.com"),
        "hr": make_user(name="HR Hui", email="hr@example.com", role="hr"),
        "gone": make_user(name="赵六", email="zhao@example.com", active=False),
    }
