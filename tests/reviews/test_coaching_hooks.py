"""Review cycles seen from coaching: My team's review status and the 1:1 agenda suggestion, for the
direct manager only, never with counts of who has answered."""
from __future__ import annotations

from perfapp.coaching import hooks
from perfapp.extensions import db
from perfapp.reviews import services
from tests.reviews.test_views import _finished


def test_my_team_shows_an_open_review_to_the_direct_manager_only(org, cycle, login) -> None:
    lina, manager = org["team"][0], org["manager"]
    services.manager_add(org["hr"], cycle, lina, org["team"][1], "peers")
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    status = hooks.review_statuses(manager, [lina.id])
    assert status[lina.id].startswith("Review open until")
    assert hooks.review_statuses(org["director"], [lina.id]) == {}  # a skip-level manager isn't told
    assert hooks.review_statuses(org["team"][1], [lina.id]) == {}
    page = login(manager).get("/coaching/team").get_data(as_text=True)
    assert "Review open until" in page
    assert hooks.review_agenda_suggestions(manager, lina) == []  # nothing to talk through yet


def test_finished_results_are_ready_on_my_team_and_suggested_for_the_next_1on1(org, login) -> None:
    cycle, lina = _finished(org)
    manager = org["manager"]
    assert hooks.review_statuses(manager, [lina.id]) == {lina.id: "Review results ready"}
    assert "Review results ready" in login(manager).get("/coaching/team").get_data(as_text=True)
    (ref, line), = hooks.review_agenda_suggestions(manager, lina)
    assert ref == cycle.id and cycle.name in line
    assert hooks.review_agenda_suggestions(lina, lina)  # the report may raise it too
    assert hooks.review_agenda_suggestions(org["team"][1], lina) == []  # a peer may not
    assert hooks.review_agenda_suggestions(org["director"], lina) == []


def test_review_status_is_in_chinese_for_a_chinese_manager(org, cycle) -> None:
    lina, manager = org["team"][0], org["manager"]
    services.manager_add(org["hr"], cycle, lina, org["team"][1], "peers")
    services.open_cycle(org["hr"], cycle)
    manager.locale = "zh_Hans_CN"
    db.session.commit()
    from flask_babel import force_locale

    with force_locale("zh_Hans_CN"):
        text = hooks.review_statuses(manager, [lina.id])[lina.id]
    assert text.startswith("多源评价进行中"), text
