"""A small organisation and a cycle over it, for the review tests."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.people.models import Department
from perfapp.reviews import services
from perfapp.reviews.services import CycleInput, QuestionInput


def cycle_input(**kw: Any) -> CycleInput:
    now = utcnow()
    values: dict[str, Any] = {
        "name": "2026 H2", "groups": ["self", "manager", "skip_level", "peers", "reports", "partners", "customers"],
        "nominations_close_at": now + timedelta(days=5), "closes_at": now + timedelta(days=20),
        "minimums": {"peers": 3, "partners": 1},
        "questions": [QuestionInput("rating", "Delivers", ["Rarely", "Sometimes", "Usually", "Always", "Model"]),
                      QuestionInput("text", "Keep doing?")]}
    values.update(kw)
    return CycleInput(**values)


@pytest.fixture()
def org(make_user) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """HR, a director, a manager with seven reports in Engineering, two people in Sales."""
    eng = Department(name_zh="工程部", name_en="Engineering")
    sales = Department(name_zh="销售部", name_en="Sales")
    db.session.add_all([eng, sales])
    db.session.commit()
    hr = make_user(name="Hana HR", role="hr", email="hr@example.com")
    director = make_user(name="Dora Director", department=eng)
    manager = make_user(name="Max Manager", manager=director, department=eng)
    team = [make_user(name=f"Peer {i}", manager=manager, department=eng) for i in range(7)]
    sales_people = [make_user(name=f"Sam {i}", department=sales) for i in range(2)]
    return {"hr": hr, "director": director, "manager": manager, "team": team, "sales": sales_people,
            "eng": eng, "sales_dept": sales}


@pytest.fixture()
def cycle(org):  # type: ignore[no-untyped-def]
    made = services.create_cycle(org["hr"], cycle_input())
    db.session.commit()
    return made


def at(days: float) -> datetime:
    return utcnow() + timedelta(days=days)
