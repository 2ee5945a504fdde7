"""Home's one line for a reviewer: "2 reviews to write · due Dec 12", only while there is something
to write in an open cycle, only for that reviewer, from one statement on the reviewer's index."""
from __future__ import annotations

from datetime import timedelta

from perfapp.extensions import db
from perfapp.reviews import services
from perfapp.reviews.services import AnswerInput
from tests.conftest import htmx_headers
from tests.feedback.test_queries import recorded_statements
from tests.reviews.conftest import cycle_input


def _line(html: str) -> str | None:
    if 'class="card asks-row home-line"' not in html:
        return None
    return html.split('class="card asks-row home-line"')[1].split("</a>")[0]


def _open_cycle_with_two_for(org, reviewer):  # type: ignore[no-untyped-def]
    cycle = services.create_cycle(org["hr"], cycle_input(groups=["peers"]))
    db.session.commit()
    rows = [services.manager_add(org["hr"], cycle, reviewee, reviewer, "peers") for reviewee in org["team"][1:3]]
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    return cycle, rows


def test_waiting_counts_open_unanswered_reviews_with_the_nearest_deadline(org) -> None:
    me = org["team"][0]
    assert services.waiting(me) is None
    cycle, rows = _open_cycle_with_two_for(org, me)
    soon = services.create_cycle(org["hr"], cycle_input(groups=["peers"], closes_at=cycle.closes_at - timedelta(days=3)))
    db.session.commit()
    services.manager_add(org["hr"], soon, org["team"][3], me, "peers")
    draft = services.create_cycle(org["hr"], cycle_input(groups=["peers"]))
    db.session.commit()
    services.manager_add(org["hr"], draft, org["team"][4], me, "peers")  # not open: not counted
    services.open_cycle(org["hr"], soon)
    db.session.commit()
    pending = services.waiting(me)
    assert pending is not None and pending.left == 3 and pending.due == soon.closes_at
    # Past a deadline (the job closes it within the half hour) it can't be written: not counted.
    assert services.waiting(me, now=soon.closes_at + timedelta(minutes=1)).left == 2  # type: ignore[union-attr]
    assert services.waiting(org["team"][1]) is None  # a reviewee has nothing to write


def test_home_shows_the_line_until_answered_or_closed(org, login) -> None:
    me = org["team"][0]
    cycle, rows = _open_cycle_with_two_for(org, me)
    c = login(me)
    html = c.get("/").get_data(as_text=True)
    line = _line(html)
    assert line is not None and "2 reviews to write · due" in line and 'href="/reviews/"' in line
    me.locale = "zh_Hans_CN"
    db.session.commit()
    zh = _line(c.get("/").get_data(as_text=True))
    assert zh is not None and "待写评价 2 份 · " in zh and "月" in zh and "截止" in zh
    # A boosted visit (the tab bar) is the whole page, line included; the feed's next page is not.
    assert _line(c.get("/", headers=htmx_headers(boosted=True)).get_data(as_text=True)) is not None
    more = c.get("/?before=x", headers=htmx_headers("feed-more")).get_data(as_text=True)
    assert _line(more) is None
    # The list it links to holds both.
    assert c.get("/reviews/").get_data(as_text=True).count("/reviews/assignments/") >= 2
    rating = cycle.questions[0]
    services.answer(me, rows[0], AnswerInput(ratings={rating.id: 4}))
    db.session.commit()
    assert "待写评价 1 份" in (_line(c.get("/").get_data(as_text=True)) or "")
    services.close_cycle(org["hr"], cycle)
    db.session.commit()
    assert _line(c.get("/").get_data(as_text=True)) is None


def test_nobody_else_sees_the_line(org, login) -> None:
    me = org["team"][0]
    _open_cycle_with_two_for(org, me)
    for other in (org["team"][1], org["manager"], org["hr"], org["sales"][0]):
        assert _line(login(other).get("/").get_data(as_text=True)) is None, other.name


def test_the_line_costs_one_indexed_statement(org, login) -> None:
    me = org["team"][0]
    _open_cycle_with_two_for(org, me)
    c = login(me)
    c.get("/")
    with recorded_statements() as statements:
        assert c.get("/").status_code == 200
    assert len([s for s in statements if "review_assignment" in s]) == 1
    if db.engine.dialect.name == "sqlite":
        from perfapp.feedback.views import _home_counters  # Home's one statement for its counters

        compiled = _home_counters().compile(db.engine)
        values = compiled.construct_params({"person_id": me.id, "now": "2026-01-01 00:00:00"})
        plan = " ".join(str(row[-1]) for row in db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(values[k] for k in compiled.positiontup or ())))
        assert "ix_review_assignment_reviewer_id" in plan and "SCAN review_assignment" not in plan, plan
