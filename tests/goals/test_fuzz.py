"""The goal forms fuzzed (hypothesis, tests/fuzz's budgets and helpers): whatever arrives, a success
or a 4xx with messages in the person's language, never a 500, and a refused submission saves nothing."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import CheckIn, Goal
from tests.fuzz.conftest import ZH, assert_translated_errors, int_like, long_text, text


def rows(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture()
def team(make_user):  # type: ignore[no-untyped-def]
    hr = make_user(role="hr")
    boss = make_user(name="王伟")
    me = make_user(name="李娜", manager=boss)
    period = services.period_for("quarter", utcnow().date())
    top = services.create_goal(hr, services.GoalInput(
        title="Company", owner_type="company", period=period,
        key_results=[services.KeyResultInput(title="ARR", start=0, target=10)]))
    mine = services.create_goal(me, services.GoalInput(
        title="Mine", owner_id=me.id, period=period, parents=[services.ParentInput(top.id)],
        key_results=[services.KeyResultInput(title="Deals", start=0, target=10),
                     services.KeyResultInput(title="Launch", kind="done")]))
    db.session.commit()
    return {"hr": hr, "boss": boss, "me": me, "top": top, "mine": mine, "period": services.period_key(*period)}


def _maybe(strategy: st.SearchStrategy, *more: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy, *more)


number = st.one_of(int_like, st.sampled_from(["12.5", "1,000", "-3", "inf", "1e400", "０"]))
goal_fields = st.fixed_dictionaries({
    "title": _maybe(text, long_text, st.just("A fine goal")),
    "description": _maybe(text, long_text),
    "kind": _maybe(st.sampled_from(["objective", "kpi"]), text),
    "owner": _maybe(st.sampled_from(["me", "company", "person:BOSS", "department:1", "project:1"]), text),
    "period": _maybe(st.just("PERIOD"), text, st.just("2026-13-01_2026-01-01")),
    "visibility": _maybe(st.sampled_from(["public", "private"]), text),
    "kr_title": _maybe(st.lists(st.one_of(text, st.just("Deals")), max_size=12)),
    "kr_kind": _maybe(st.lists(st.one_of(st.sampled_from(["number", "percent", "currency", "done"]), text), max_size=12)),
    "kr_start": _maybe(st.lists(number, max_size=12)),
    "kr_target": _maybe(st.lists(number, max_size=12)),
    "kr_unit": _maybe(st.lists(text, max_size=12)),
    "kr_weight": _maybe(st.lists(number, max_size=12)),
    "kr_id": _maybe(st.lists(int_like, max_size=12)),
    "parent": _maybe(st.lists(st.one_of(st.just("TOP"), st.just("KR"), text, int_like), max_size=12)),
    "more": _maybe(st.just("1")),
})


def _real(team: dict[str, Any], value: Any) -> Any:
    if isinstance(value, list):
        return [_real(team, v) for v in value]
    replacements = {"PERIOD": team["period"], "person:BOSS": f"person:{team['boss'].id}",
                    "TOP": f"g:{team['top'].id}", "KR": f"k:{team['top'].key_results[0].id}"}
    return replacements.get(value, value) if isinstance(value, str) else value


@given(fields=goal_fields)
def test_goal_form_never_500(team, login, fields) -> None:
    client = login(team["me"])
    form = {k: _real(team, v) for k, v in fields.items() if v is not None}
    if "parent" in form and f"k:{team['top'].key_results[0].id}" in form["parent"]:
        form[f"of-k:{team['top'].key_results[0].id}"] = str(team["top"].id)
    before = rows(Goal)
    r = client.submit("/goals/new", form, headers=ZH)
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    if r.status_code == 303:
        assert rows(Goal) == before + 1
        return
    assert rows(Goal) == before
    assert r.status_code in (200, 422), r.status_code
    if r.status_code == 422:
        assert_translated_errors(r.get_data(as_text=True))


checkin_fields = st.fixed_dictionaries({
    "DEALS": _maybe(number),
    "confidence": _maybe(int_like, st.sampled_from(["1", "10", "5"])),
    "note": _maybe(text, long_text),
    "progress": _maybe(number),
    "status": _maybe(st.sampled_from(["on_track", "at_risk", "off_track"]), text),
    "reason": _maybe(text, long_text),
    "DONE": _maybe(st.sampled_from(["1", "0"]), text),
    "done_present": _maybe(st.lists(int_like, max_size=3)),
    "value-junk": _maybe(text),
})


@given(fields=checkin_fields)
def test_check_in_form_never_500(team, login, fields) -> None:
    client = login(team["me"])
    deals, launch = team["mine"].key_results
    names = {"DEALS": f"value-{deals.id}", "DONE": f"done-{launch.id}"}
    form = {names.get(k, k): v for k, v in fields.items() if v is not None}
    before = rows(CheckIn)
    r = client.submit(f"/goals/{team['mine'].id}/checkins", form, headers=ZH)
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    if r.status_code == 303:
        assert rows(CheckIn) == before + 1
        return
    assert r.status_code == 422 and rows(CheckIn) == before
    assert_translated_errors(r.get_data(as_text=True))


@given(people=st.lists(st.one_of(int_like, st.just("ME")), max_size=6), department=_maybe(int_like))
def test_assign_form_never_500(team, login, people, department) -> None:
    client = login(team["boss"])
    form: dict[str, Any] = {"person_ids": [str(team["me"].id) if p == "ME" else p for p in people]}
    if department is not None:
        form["department_id"] = department
    before = rows(Goal)
    r = client.submit(f"/goals/{team['top'].id}/assign", form, headers=ZH)
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    if r.status_code == 303:
        return
    assert r.status_code == 422 and rows(Goal) == before
    assert_translated_errors(r.get_data(as_text=True))
