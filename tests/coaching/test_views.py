"""My team: a manager's reports, what each heard and gave in 30 days, as the manager may read it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from perfapp.coaching import services as team
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback
from perfapp.recognition.flowers import FlowerInput, give_flowers
from tests.conftest import htmx_headers


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王经理", title="Engineering manager")
    ana = make_user(name="李娜", manager=boss, title="Designer")
    bo = make_user(name="Bo Zhang", manager=boss)
    cai = make_user(name="蔡明", manager=boss)
    gone = make_user(name="Gone", manager=boss, active=False)
    outsider = make_user(name="Outsider")
    return {"boss": boss, "ana": ana, "bo": bo, "cai": cai, "gone": gone, "outsider": outsider}


def give(author, recipient, **kw):  # type: ignore[no-untyped-def]
    item = give_feedback(author, FeedbackInput(recipient_id=recipient.id, **{"text": "x", **kw}))
    db.session.commit()
    return item


def by_name(summaries):  # type: ignore[no-untyped-def]
    return {s.person.name: s for s in summaries}


def test_counts_hold_only_what_the_manager_may_read(org) -> None:
    ana, outsider, boss = org["ana"], org["outsider"], org["boss"]
    give(outsider, ana, text="public praise", visibility="public")
    give(outsider, ana, text="for ana and her manager", kind="suggestion", visibility="manager")
    give(outsider, ana, text="only for ana", kind="suggestion", visibility="private")
    old = give(outsider, ana, text="two months ago", visibility="public")
    old.created_at = utcnow() - timedelta(days=60)
    # What Ana gave: a public item counts; a confidential one never counts as hers.
    give(ana, outsider, text="thanks", visibility="public")
    give(ana, outsider, text="secret praise", visibility="public", confidential=True)
    give(ana, outsider, text="private to outsider", kind="suggestion", visibility="private")
    db.session.commit()
    s = by_name(team.team_overview(boss))
    assert set(s) == {"李娜", "Bo Zhang", "蔡明"}  # active reports only
    assert s["李娜"].received == 2 and s["李娜"].given == 1 and not s["李娜"].heard_nothing


def test_heard_nothing_counts_everything_received_and_leads_the_list(org) -> None:
    boss, ana, bo, cai, outsider = org["boss"], org["ana"], org["bo"], org["cai"], org["outsider"]
    give(outsider, ana, text="only for ana", kind="suggestion", visibility="private")
    give_flowers(outsider, FlowerInput(receiver_id=cai.id, count=2, message="谢谢"))
    db.session.commit()
    summaries = team.team_overview(boss)
    s = by_name(summaries)
    # A private item counts for nothing the manager sees, but Ana did hear something.
    assert s["李娜"].received == 0 and not s["李娜"].heard_nothing
    assert s["蔡明"].recognition == 1 and not s["蔡明"].heard_nothing
    assert s["Bo Zhang"].heard_nothing
    assert summaries[0].person.id == bo.id
    # The others by pinyin: 蔡明 (cai ming) before 李娜 (li na).
    assert [x.person.name for x in summaries[1:]] == ["蔡明", "李娜"]


def test_open_requests_on_both_sides(org) -> None:
    boss, ana, bo = org["boss"], org["ana"], org["bo"]
    request_feedback(bo, [ana.id, org["outsider"].id], "How did my demo go?")
    db.session.commit()
    s = by_name(team.team_overview(boss))
    assert s["李娜"].waiting_on_them == 1 and s["Bo Zhang"].asked == 1
    assert s["Bo Zhang"].waiting_on_them == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_team_page_for_a_manager(org, login, htmx) -> None:
    give(org["outsider"], org["ana"], text="Great sketches", visibility="public")
    c = login(org["boss"])
    headers = htmx_headers(boosted=True) if htmx else {}
    page = c.get("/coaching/team", headers=headers).get_data(as_text=True)
    assert "李娜" in page and "Bo Zhang" in page and "Gone" not in page
    assert "Heard nothing in 30 days" in page and f'href="/coaching/team/{org["ana"].id}"' in page
    me = c.get("/people/me").get_data(as_text=True)
    assert 'href="/coaching/team"' in me


def test_team_page_in_chinese(org, login) -> None:
    org["boss"].locale = "zh_Hans_CN"
    db.session.commit()
    page = login(org["boss"]).get("/coaching/team").get_data(as_text=True)
    assert "我的团队" in page and "30 天" in page and "My team" not in page


def test_member_page_shows_only_what_the_manager_may_read(org, login) -> None:
    ana, outsider = org["ana"], org["outsider"]
    give(outsider, ana, text="Great sketches", visibility="public")
    give(outsider, ana, text="Between us two", kind="suggestion", visibility="private")
    give(outsider, ana, text="For you and your manager", kind="suggestion", visibility="manager")
    page = login(org["boss"]).get(f"/coaching/team/{ana.id}").get_data(as_text=True)
    assert "Great sketches" in page and "For you and your manager" in page
    assert "Between us two" not in page
    assert 'href="/coaching/team"' in page  # the way back


def test_nobody_else_sees_a_team(org, login, make_user) -> None:
    ana = org["ana"]
    employee = login(org["outsider"])
    assert employee.get("/coaching/team").status_code == 403
    assert employee.get(f"/coaching/team/{ana.id}").status_code == 404
    assert 'href="/coaching/team"' not in employee.get("/people/me").get_data(as_text=True)
    other_boss = make_user(name="Other boss")
    make_user(name="Their report", manager=other_boss)
    c = login(other_boss)
    assert c.get("/coaching/team").status_code == 200
    assert c.get(f"/coaching/team/{ana.id}").status_code == 404  # not their report
    assert c.get(f"/coaching/team/{org['gone'].id}").status_code == 404
    assert login(org["boss"]).get(f"/coaching/team/{org['gone'].id}").status_code == 404  # deactivated
    assert db.session.query(Feedback).count() == 0  # looking changed nothing


def test_logged_out_people_are_sent_to_log_in(client) -> None:
    r = client.get("/coaching/team")
    assert r.status_code in (302, 303) and "/auth/login" in r.headers["Location"]


def test_the_team_page_says_what_it_counts_in_chinese(org, login) -> None:
    """The note under My team was once shown as the password-reset link's text in Chinese."""
    page = login(org["boss"]).get("/coaching/team", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "最近30天。只统计你自己能看到的反馈" in page and "链接" not in page


def soon() -> tuple[str, str]:
    day = (utcnow() + timedelta(days=3)).date()
    return day.isoformat(), "10:00"


def test_my_team_shows_one_on_ones_and_goals_at_risk(org, login) -> None:
    from datetime import date

    from perfapp.coaching import one_on_ones
    from perfapp.goals.models import Goal

    boss, ana, bo = org["boss"], org["ana"], org["bo"]
    series = one_on_ones.start_series(boss, ana.id, "weekly", *soon())
    today = date.today()
    db.session.add(Goal(title="Risky", owner_type="person", owner_id=bo.id, status="at_risk",
                        period_start=today - timedelta(days=5), period_end=today + timedelta(days=50)))
    db.session.commit()
    one_on_ones.finish(boss, series, now=utcnow())
    db.session.commit()
    s = by_name(team.team_overview(boss))
    assert s["李娜"].series_id == series.id and s["李娜"].last_one_on_one is not None
    assert s["李娜"].next_one_on_one > s["李娜"].last_one_on_one
    assert s["Bo Zhang"].series_id is None and s["Bo Zhang"].goals_at_risk == 1
    assert s["Bo Zhang"].review_status is None  # the review-cycles hook says nothing yet
    page = login(boss).get("/coaching/team").get_data(as_text=True)
    assert f'href="/coaching/1on1/{series.id}"' in page and "Next 1:1: " in page
    assert f'href="/coaching/1on1/start/{bo.id}"' in page and "1 goal at risk" in page


def test_my_team_costs_the_same_queries_for_a_small_or_big_team(org, login, make_user) -> None:
    """Batch queries, no per-report loop: ten more reports (with 1:1s and feedback) add no query."""
    from sqlalchemy import event

    from perfapp.coaching import one_on_ones

    boss = org["boss"]
    c = login(boss)

    def queries() -> int:
        seen: list[str] = []

        def record(*_args) -> None:  # type: ignore[no-untyped-def]
            seen.append("q")

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert c.get("/coaching/team").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    def add(n: int) -> None:
        for i in range(n):
            person = make_user(name=f"Report {i} {utcnow().timestamp()}", manager=boss)
            one_on_ones.start_series(boss, person.id, "weekly", *soon())
            give(org["outsider"], person, text="hi", visibility="public")
        db.session.commit()

    add(2)
    queries()
    few = queries()
    add(10)
    assert queries() == few
