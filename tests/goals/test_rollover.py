"""KPIs carry over into the next period when theirs ends (nightly job, or on demand), keeping the
metric, its target and each earlier period as history."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.goals import services
from perfapp.goals.models import Goal, GoalLink
from tests.goals.test_services import count, make_goal

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
Q4 = (date(2026, 10, 1), date(2026, 12, 31))
NOVEMBER = date(2026, 11, 15)


def kpi(actor, title="Monthly active users", **kw):  # type: ignore[no-untyped-def]
    return make_goal(actor, title, kind="kpi", period=kw.pop("period", Q3), key_results=[
        services.KeyResultInput(title="MAU", start=1000, target=5000, unit="users")], **kw)


def check_in(actor, goal, value, day):  # type: ignore[no-untyped-def]
    services.check_in(actor, goal, services.CheckInInput(confidence=7, values={goal.key_results[0].id: value}),
                      today=day)
    db.session.commit()


def test_the_nightly_job_carries_ended_kpis_into_the_current_period(make_user) -> None:  # type: ignore[no-untyped-def]
    hr = make_user(role="hr")
    me = make_user()
    company = make_goal(hr, "Grow", owner_type="company", period=Q3)
    company_q4 = make_goal(hr, "Grow more", owner_type="company", period=Q4)
    mine = kpi(me, parents=[company])
    objective = make_goal(me, "An objective", period=Q3)
    current = kpi(me, "Current", period=Q4)
    check_in(me, mine, 4000, date(2026, 9, 20))
    # Q3's company goal was carried into Q4 by hand: the KPI follows it there.
    company_q4.rolled_from_id = company.id
    db.session.commit()
    assert services.roll_over_ended_kpis(NOVEMBER) == 1
    db.session.commit()
    new = db.session.scalar(select(Goal).where(Goal.rolled_from_id == mine.id))
    assert (new.period_start, new.period_end, new.title, new.owner_id, new.kind) == (*Q4, mine.title, me.id, "kpi")
    (kr,) = new.key_results
    assert (kr.title, kr.start_value, kr.target_value, kr.unit, kr.current_value) == ("MAU", 1000, 5000, "users", 1000)
    assert new.progress == 0 and new.last_checkin_at is None
    assert {link.parent_id for link in db.session.scalars(select(GoalLink).where(GoalLink.child_id == new.id))} == \
        {company_q4.id}
    # The ended period is kept as it was: its value, progress and check-in.
    old = db.session.get(Goal, mine.id)
    assert old.key_results[0].current_value == 4000 and old.progress == pytest.approx(0.75)
    assert [g.id for g in services.kpi_history(new)] == [mine.id]
    # Nothing else rolls over, and a second night adds nothing.
    assert services.roll_over_ended_kpis(NOVEMBER) == 0
    assert db.session.scalar(select(Goal).where(Goal.rolled_from_id == objective.id)) is None
    assert db.session.scalar(select(Goal).where(Goal.rolled_from_id == current.id)) is None


def test_a_long_stopped_job_catches_up_to_the_current_period_and_history_grows(make_user) -> None:  # type: ignore[no-untyped-def]
    me = make_user()
    first = kpi(me, period=(date(2026, 1, 1), date(2026, 3, 31)))
    assert services.roll_over_ended_kpis(NOVEMBER) == 1
    second = db.session.scalar(select(Goal).where(Goal.rolled_from_id == first.id))
    assert (second.period_start, second.period_end) == Q4
    assert services.roll_over_ended_kpis(date(2027, 1, 2)) == 1
    third = db.session.scalar(select(Goal).where(Goal.rolled_from_id == second.id))
    assert (third.period_start, third.period_end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert [g.id for g in services.kpi_history(third)] == [second.id, first.id]


def test_monthly_kpis_stay_monthly(make_user) -> None:  # type: ignore[no-untyped-def]
    me = make_user()
    october = kpi(me, period=(date(2026, 10, 1), date(2026, 10, 31)))
    new = services.roll_over(me, october, NOVEMBER)
    assert (new.period_start, new.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert services.roll_over(me, october, NOVEMBER).id == new.id  # twice: the same goal


def test_assigned_copies_follow_their_carried_source(make_user) -> None:  # type: ignore[no-untyped-def]
    boss = make_user(role="manager")
    report = make_user(manager=boss)
    source = kpi(boss)
    (copy,) = services.assign(boss, source, person_ids=[report.id])
    db.session.commit()
    assert services.roll_over_ended_kpis(NOVEMBER) == 2
    new_source = db.session.scalar(select(Goal).where(Goal.rolled_from_id == source.id))
    new_copy = db.session.scalar(select(Goal).where(Goal.rolled_from_id == copy.id))
    assert new_copy.source_id == new_source.id and new_copy.owner_id == report.id


def test_only_ended_kpis_and_only_by_who_may_edit(make_user) -> None:  # type: ignore[no-untyped-def]
    me, other = make_user(), make_user()
    running = kpi(me, period=Q4)
    objective = make_goal(me, "Objective", period=Q3)
    ended = kpi(me)
    for goal in (running, objective):
        with pytest.raises(FormError):
            services.roll_over(me, goal, NOVEMBER)
    with pytest.raises(PermissionError):
        services.roll_over(other, ended, NOVEMBER)
    assert count(Goal) == 3


def test_the_periodic_task_runs_the_rollover(app, make_user) -> None:  # type: ignore[no-untyped-def]
    from perfapp.goals.tasks import kpi_rollover

    me = make_user()
    ended = kpi(me, period=(date(2020, 1, 1), date(2020, 3, 31)))
    last_month_end = utcnow().date().replace(day=1) - timedelta(days=1)
    recent = kpi(me, period=(last_month_end.replace(day=1), last_month_end))
    kpi_rollover.call_local()
    db.session.expire_all()
    # Ended years ago: left alone (nobody tracks it any more); a recent one continues today.
    assert db.session.scalar(select(Goal).where(Goal.rolled_from_id == ended.id)) is None
    assert db.session.scalar(select(Goal).where(Goal.rolled_from_id == recent.id)) is not None


@pytest.mark.parametrize("htmx", [False, True])
def test_the_owner_carries_it_over_from_the_goal_page(make_user, login, htmx) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import htmx_headers

    me, other = make_user(locale="zh_Hans_CN"), make_user()
    ended = kpi(me, period=(date(2025, 1, 1), date(2025, 3, 31)))
    client = login(me)
    page = client.get(f"/goals/{ended.id}").get_data(as_text=True)
    assert f"/goals/{ended.id}/rollover" in page
    assert login(other).submit(f"/goals/{ended.id}/rollover").status_code == 403
    response = client.submit(f"/goals/{ended.id}/rollover", headers=htmx_headers() if htmx else {})
    assert response.status_code == 303
    new = db.session.scalar(select(Goal).where(Goal.rolled_from_id == ended.id))
    page = client.get(f"/goals/{new.id}").get_data(as_text=True)
    assert "2025" in page and f'href="/goals/{ended.id}"' in page  # its history
    old = client.get(f"/goals/{ended.id}").get_data(as_text=True)
    assert f"/goals/{new.id}" in old and f"/goals/{ended.id}/rollover" not in old
    # A running KPI: a translated 422, nothing made.
    refused = client.submit(f"/goals/{new.id}/rollover", headers=htmx_headers() if htmx else {})
    assert refused.status_code == 422 and "只有" in refused.get_data(as_text=True)
    assert count(Goal) == 2
