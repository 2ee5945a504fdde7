"""1:1s: the shared agenda and its suggestions, private notes nobody else reads (HR and admin
included: pages, exports, every GET route), action items carried to the next 1:1, who may see a
series (404 for everyone else), bad input, the nudge the day before."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask

from perfapp.coaching import one_on_ones as oo
from perfapp.coaching.models import ActionItem, AgendaItem, OneOnOne, OneOnOneSeries, PrivateNote
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.notify.models import Notification
from perfapp.personal import export
from tests.conftest import assert_rejected, count, htmx_headers

MANAGER_SECRET = "MGR-SECRET-thinking-about-a-raise"
REPORT_SECRET = "RPT-SECRET-looking-at-other-teams"


def tomorrow(hours: int = 2) -> tuple[str, str]:
    """A local date and time in Asia/Shanghai (the default timezone) some hours from now."""
    from zoneinfo import ZoneInfo

    when = (datetime.now(ZoneInfo("UTC")) + timedelta(hours=hours)).astimezone(ZoneInfo("Asia/Shanghai"))
    return when.date().isoformat(), when.strftime("%H:%M")


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王经理", title="Engineering manager")
    ana = make_user(name="李娜", manager=boss)
    bo = make_user(name="Bo Zhang", manager=boss)
    hr = make_user(name="HR Hong", role="hr")
    admin = make_user(name="Ada Admin", role="admin")
    peer = make_user(name="Peer Pan")
    skip = make_user(name="Skip Level")
    boss.manager_id = skip.id
    db.session.commit()
    series = oo.start_series(boss, ana.id, "weekly", *tomorrow(48))
    db.session.commit()
    return {"boss": boss, "ana": ana, "bo": bo, "hr": hr, "admin": admin, "peer": peer, "skip": skip,
            "series": series}


def test_a_manager_starts_a_series_with_an_upcoming_meeting(org) -> None:
    series = org["series"]
    meeting = oo.current_meeting(series)
    assert series.cadence == "weekly" and meeting.done_at is None
    assert meeting.scheduled_for > utcnow() + timedelta(hours=40)


def test_starting_refuses_bad_input_and_changes_nothing(org) -> None:
    boss, bo = org["boss"], org["bo"]
    day, start = tomorrow(48)
    past_day, past_start = tomorrow(-48)
    assert_rejected(lambda: oo.start_series(boss, bo.id, "weekly", past_day, past_start), "day", OneOnOneSeries)
    assert_rejected(lambda: oo.start_series(boss, bo.id, "daily", day, start), "cadence", OneOnOneSeries)
    assert_rejected(lambda: oo.start_series(boss, bo.id, "weekly", "31/12/2026", start), "day", OneOnOneSeries)
    assert_rejected(lambda: oo.start_series(boss, bo.id, "weekly", "2999-01-01", "10:00"), "day", OneOnOneSeries)
    assert_rejected(lambda: oo.start_series(boss, org["ana"].id, "weekly", day, start), "report", OneOnOneSeries)
    with pytest.raises(oo.NotAllowed):  # not their report
        oo.start_series(org["peer"], bo.id, "weekly", day, start)


def test_either_side_builds_the_agenda_and_suggestions_come_from_feedback(org) -> None:
    boss, ana, peer, series = org["boss"], org["ana"], org["peer"], org["series"]
    public = give_feedback(peer, FeedbackInput(recipient_id=ana.id, text="Clear demo!", visibility="public"))
    private = give_feedback(peer, FeedbackInput(recipient_id=ana.id, text="Only for Ana", kind="suggestion",
                                                visibility="private"))
    db.session.commit()
    for_boss = {(s.source_type, s.source_id) for s in oo.suggestions(boss, series)}
    for_ana = {(s.source_type, s.source_id) for s in oo.suggestions(ana, series)}
    # The manager is offered only what he may read; Ana sees both.
    assert ("feedback", public.id) in for_boss and ("feedback", private.id) not in for_boss
    assert {("feedback", public.id), ("feedback", private.id)} <= for_ana
    # The line names no author and no words: those stay on the card.
    line = next(s.text for s in oo.suggestions(boss, series) if s.source_id == public.id)
    assert "Peer" not in line and "Clear demo" not in line
    oo.add_agenda_item(boss, series, line, "feedback", public.id)
    oo.add_agenda_item(ana, series, "My growth plan")
    db.session.commit()
    assert [i.text for i in oo.agenda(oo.current_meeting(series))] == [line, "My growth plan"]
    # Taken suggestions aren't offered again; one the boss was never offered can't be forced in.
    assert ("feedback", public.id) not in {(s.source_type, s.source_id) for s in oo.suggestions(boss, series)}
    assert_rejected(lambda: oo.add_agenda_item(boss, series, "sneaky", "feedback", private.id), "text", AgendaItem)
    # Talked about once: not suggested again in the next 1:1 either.
    oo.finish(ana, series)
    db.session.commit()
    assert ("feedback", public.id) not in {(s.source_type, s.source_id) for s in oo.suggestions(boss, series)}
    assert ("feedback", private.id) in {(s.source_type, s.source_id) for s in oo.suggestions(ana, series)}


def test_agenda_bad_input(org) -> None:
    boss, series = org["boss"], org["series"]
    assert_rejected(lambda: oo.add_agenda_item(boss, series, "   "), "text", AgendaItem)
    assert_rejected(lambda: oo.add_agenda_item(boss, series, "x" * 281), "text", AgendaItem)
    assert_rejected(lambda: oo.add_agenda_item(boss, series, "x", "goal", 999999), "text", AgendaItem)
    with pytest.raises(oo.NotAllowed):
        oo.add_agenda_item(org["hr"], series, "HR wants in")


def test_stale_goals_and_open_requests_are_suggested(org) -> None:
    from datetime import date

    from perfapp.feedback.services import request_feedback
    from perfapp.goals.models import Goal

    boss, ana, series = org["boss"], org["ana"], org["series"]
    today = date.today()
    goal = Goal(title="Ship the redesign", owner_type="person", owner_id=ana.id, period_start=today - timedelta(days=30),
                period_end=today + timedelta(days=60), created_at=utcnow() - timedelta(days=40))
    db.session.add(goal)
    request_feedback(org["bo"], [ana.id], "How was my talk?")
    db.session.commit()
    kinds = {s.source_type: s for s in oo.suggestions(boss, series)}
    assert kinds["goal"].source_id == goal.id and "Ship the redesign" in kinds["goal"].text
    assert kinds["ask"].source_id is None and "1" in kinds["ask"].text


def test_action_items_carry_to_the_next_one_until_done(org) -> None:
    boss, ana, series = org["boss"], org["ana"], org["series"]
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    first = oo.current_meeting(series)
    keep = oo.add_action(boss, series, "Book the design course", ana.id, soon)
    done = oo.add_action(ana, series, "Share the notes", boss.id, soon)
    oo.set_action_done(ana, series, done.id, True)
    db.session.commit()
    nxt = oo.finish(boss, series)
    db.session.commit()
    assert nxt.scheduled_for == first.scheduled_for + timedelta(weeks=1)
    assert db.session.get(OneOnOne, first.id).done_at is not None
    assert [a.id for a in oo.open_actions(series)] == [keep.id]
    assert keep.meeting_id == nxt.id and keep.carried == 1
    assert done.meeting_id == first.id  # done ones stay where they were done
    assert oo.actions_done_in([first.id])[first.id] == [done]


def test_action_items_need_a_text_an_owner_of_the_two_and_a_due_date_not_past(org) -> None:
    boss, ana, series = org["boss"], org["ana"], org["series"]
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    past = (utcnow() - timedelta(days=3)).date().isoformat()
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", ana.id, ""), "due_on", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", ana.id, "soon"), "due_on", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", ana.id, past), "due_on", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", ana.id, "2999-01-01"), "due_on", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "", ana.id, soon), "action_text", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "x" * 281, ana.id, soon), "action_text", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", org["peer"].id, soon), "owner_id", ActionItem)
    assert_rejected(lambda: oo.add_action(boss, series, "Do it", None, soon), "owner_id", ActionItem)


def test_monthly_cadence_keeps_the_day_of_month() -> None:
    assert oo.next_after(datetime(2026, 1, 31, 2), "monthly") == datetime(2026, 2, 28, 2)
    assert oo.next_after(datetime(2026, 12, 15, 2), "monthly") == datetime(2027, 1, 15, 2)
    assert oo.next_after(datetime(2026, 12, 15, 2), "biweekly") == datetime(2026, 12, 29, 2)


def _write_both_notes(org) -> None:  # type: ignore[no-untyped-def]
    oo.save_private_note(org["boss"], org["series"], MANAGER_SECRET)
    oo.save_private_note(org["ana"], org["series"], REPORT_SECRET)
    db.session.commit()


def test_private_notes_belong_to_their_writer_alone(org) -> None:
    boss, ana, series = org["boss"], org["ana"], org["series"]
    _write_both_notes(org)
    meeting = oo.current_meeting(series)
    assert oo.my_note(boss, meeting).text == MANAGER_SECRET
    assert oo.my_note(ana, meeting).text == REPORT_SECRET
    for other in ("hr", "admin", "peer", "skip"):
        assert oo.my_note(org[other], meeting) is None
    # The personal export: each side's own note only.
    boss_data, ana_data = str(export.collect(boss)), str(export.collect(ana))
    assert MANAGER_SECRET in boss_data and REPORT_SECRET not in boss_data
    assert REPORT_SECRET in ana_data and MANAGER_SECRET not in ana_data
    for other in ("hr", "admin", "peer", "skip"):
        data = str(export.collect(org[other]))
        assert MANAGER_SECRET not in data and REPORT_SECRET not in data
    # Emptying a note deletes it; a note too long changes nothing.
    assert_rejected(lambda: oo.save_private_note(boss, series, "x" * 4001), "note", PrivateNote)
    assert oo.my_note(boss, meeting).text == MANAGER_SECRET
    oo.save_private_note(boss, series, "  ")
    db.session.commit()
    assert oo.my_note(boss, meeting) is None and count(PrivateNote) == 1


def test_no_page_shows_a_private_note_to_anyone_but_its_writer(app: Flask, org, login) -> None:
    """Every GET page of the app (the navigation test's url map, with this org's ids), as HR, as an
    admin, as the skip-level manager and as a peer: neither note appears anywhere."""
    from tests.core.test_navigation import NOT_PAGES

    _write_both_notes(org)
    series = org["series"]
    ids = {"series_id": series.id, "person_id": org["ana"].id, "record_id": 1}
    with app.test_request_context():
        from flask import url_for

        urls = [url_for(rule.endpoint, **{a: ids.get(a, 1) for a in rule.arguments})
                for rule in app.url_map.iter_rules()
                if "GET" in (rule.methods or ()) and rule.endpoint not in NOT_PAGES]
    for who in ("hr", "admin", "skip", "peer", "bo"):
        c = login(org[who])
        for url in urls:
            body = c.get(url).get_data(as_text=True)
            assert MANAGER_SECRET not in body and REPORT_SECRET not in body, (who, url)
            assert c.get(url, headers=htmx_headers(boosted=True)).get_data(as_text=True).count("SECRET") == 0
    boss_page = login(org["boss"]).get(f"/coaching/1on1/{series.id}").get_data(as_text=True)
    ana_page = login(org["ana"]).get(f"/coaching/1on1/{series.id}").get_data(as_text=True)
    assert MANAGER_SECRET in boss_page and REPORT_SECRET not in boss_page
    assert REPORT_SECRET in ana_page and MANAGER_SECRET not in ana_page


def test_only_the_two_sides_see_a_series_everyone_else_gets_404(org, login) -> None:
    series = org["series"]
    urls = [f"/coaching/1on1/{series.id}"]
    posts = {f"/coaching/1on1/{series.id}/agenda": {"text": "let me in"},
             f"/coaching/1on1/{series.id}/note": {"note": "mine"},
             f"/coaching/1on1/{series.id}/actions": {"action_text": "x", "owner_id": org["ana"].id,
                                                     "due_on": "2099-01-01"},
             f"/coaching/1on1/{series.id}/finish": {},
             f"/coaching/1on1/{series.id}/schedule": {"cadence": "weekly", "day": "2099-01-01", "start": "10:00"}}
    for who in ("hr", "admin", "peer", "skip", "bo"):
        c = login(org[who])
        for url in urls:
            assert c.get(url).status_code == 404, (who, url)
        for url, data in posts.items():
            assert c.submit(url, data).status_code == 404, (who, url)
        assert series.id not in {s.id for s in oo.my_series(org[who])}
    assert count(AgendaItem) == count(PrivateNote) == count(ActionItem) == 0 and count(OneOnOne) == 1
    assert login(org["boss"]).get(urls[0]).status_code == 200
    assert login(org["ana"]).get(urls[0]).status_code == 200
    assert login(org["ana"]).get("/coaching/1on1/999999").status_code == 404


def test_after_a_reorg_the_new_manager_takes_over_without_the_old_private_notes(org, login, make_user) -> None:
    boss, ana, series = org["boss"], org["ana"], org["series"]
    _write_both_notes(org)
    oo.add_agenda_item(boss, series, "Career chat")
    db.session.commit()
    new_boss = make_user(name="New Boss")
    ana.manager_id = new_boss.id
    db.session.commit()
    assert login(boss).get(f"/coaching/1on1/{series.id}").status_code == 404
    page = login(new_boss).get(f"/coaching/1on1/{series.id}").get_data(as_text=True)
    assert "Career chat" in page and MANAGER_SECRET not in page and REPORT_SECRET not in page
    assert MANAGER_SECRET in str(export.collect(boss))  # still the old manager's own


def test_views_add_items_and_refuse_bad_input_with_422(org, login) -> None:
    series, ana = org["series"], org["ana"]
    c = login(org["boss"])
    url = f"/coaching/1on1/{series.id}"
    r = c.submit(url + "/agenda", {"text": "Team offsite"})
    assert r.status_code == 303 and r.headers["Location"].endswith(url + "#agenda")
    r = c.submit(url + "/agenda", {"text": "Via htmx"}, htmx=True)
    assert r.status_code == 303
    r = c.submit(url + "/agenda", {"text": ""})
    assert r.status_code == 422 and "Please fill this in." in r.get_data(as_text=True)
    r = c.submit(url + "/actions", {"action_text": "Write it up", "owner_id": ana.id, "due_on": ""})
    assert r.status_code == 422 and "Choose a due date." in r.get_data(as_text=True)
    assert count(ActionItem) == 0 and count(AgendaItem) == 2
    r = c.submit(url + "/schedule", {"cadence": "weekly", "day": "2000-01-01", "start": "10:00"})
    assert r.status_code == 422 and "Choose a time in the future." in r.get_data(as_text=True)
    item = db.session.query(AgendaItem).first()
    assert c.submit(f"{url}/agenda/{item.id}", {"discussed": "1"}).status_code == 303
    assert db.session.get(AgendaItem, item.id).discussed
    # Another series' item id through this series' URL: 404, nothing changes.
    other = oo.start_series(org["boss"], org["bo"].id, "weekly", *tomorrow(30))
    db.session.commit()
    assert c.submit(f"/coaching/1on1/{other.id}/agenda/{item.id}", {"discussed": "0"}).status_code == 404
    assert login(ana).submit(f"{url}/agenda/{item.id}", {"action": "remove"}).status_code == 404  # not hers
    assert db.session.get(AgendaItem, item.id).discussed


@pytest.mark.parametrize("htmx", [False, True])
def test_the_page_in_both_languages(org, login, htmx) -> None:
    series = org["series"]
    headers = htmx_headers(boosted=True) if htmx else {}
    page = login(org["ana"]).get(f"/coaching/1on1/{series.id}", headers=headers).get_data(as_text=True)
    assert "1:1 with 王经理" in page and "Only you can read this" in page
    org["ana"].locale = "zh_Hans_CN"
    db.session.commit()
    page = login(org["ana"]).get(f"/coaching/1on1/{series.id}", headers=headers).get_data(as_text=True)
    assert "共享议程" in page and "Shared agenda" not in page


def test_the_day_before_both_sides_are_nudged_once(org, login) -> None:
    from perfapp.coaching import tasks

    series = org["series"]
    meeting = oo.current_meeting(series)
    assert oo.send_reminders(meeting.scheduled_for - timedelta(hours=30)) == 0  # too early
    assert oo.send_reminders(meeting.scheduled_for - timedelta(hours=20)) == 2
    assert oo.send_reminders(meeting.scheduled_for - timedelta(hours=10)) == 0  # once
    db.session.commit()
    notes = db.session.query(Notification).filter_by(kind="one_on_one_reminder").all()
    assert {n.user_id for n in notes} == {org["boss"].id, org["ana"].id}
    inbox = login(org["ana"]).get("/notify/").get_data(as_text=True)
    assert "1:1 with 王经理" in inbox and f"/coaching/1on1/{series.id}" in inbox
    # Moving the 1:1 nudges again for the new day; the job itself runs and commits.
    day, start = tomorrow(10)
    oo.reschedule(org["ana"], series, "weekly", day, start)
    db.session.commit()
    tasks.one_on_one_reminders.call_local()
    assert db.session.query(Notification).filter_by(kind="one_on_one_reminder").count() == 4


def test_looking_writes_nothing(org, login) -> None:
    series = org["series"]
    before = (count(OneOnOne), count(AgendaItem), count(Notification))
    for who in ("boss", "ana"):
        c = login(org[who])
        for url in (f"/coaching/1on1/{series.id}", "/coaching/1on1", "/coaching/team"):
            c.get(url)
    assert (count(OneOnOne), count(AgendaItem), count(Notification)) == before


def test_a_series_page_costs_the_same_queries_with_a_short_or_long_history(org, login) -> None:
    """Past 1:1s' agendas, notes and done action items, and open action items, come in batches."""
    from sqlalchemy import event

    boss, ana, series = org["boss"], org["ana"], org["series"]
    c = login(boss)

    def queries() -> int:
        seen: list[str] = []

        def record(*_args) -> None:  # type: ignore[no-untyped-def]
            seen.append("q")

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert c.get(f"/coaching/1on1/{series.id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(seen)

    def meet(n: int) -> None:
        soon = (utcnow() + timedelta(days=3)).date().isoformat()
        for i in range(n):
            oo.add_agenda_item(boss, series, f"Topic {i}")
            oo.add_agenda_item(ana, series, f"Her topic {i}")
            oo.save_private_note(boss, series, f"note {i}")
            done = oo.add_action(ana, series, f"Done {i}", ana.id, soon)
            oo.set_action_done(ana, series, done.id, True)
            oo.add_action(boss, series, f"Open {i}", boss.id, soon)
            oo.finish(boss, series)
        db.session.commit()

    meet(2)
    queries()
    few = queries()
    meet(8)
    assert queries() == few


def test_erasing_either_side_leaves_no_coaching_trace(org) -> None:
    """A report's series, notes and records go with them; an erased manager's records and lines on
    others' agendas stay, with the name cut out of the text (perfapp.personal.erasure)."""
    from perfapp.coaching import records
    from perfapp.coaching.models import FormalRecord
    from perfapp.personal.erasure import erase_person

    boss, ana, bo, series = org["boss"], org["ana"], org["bo"], org["series"]
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    _write_both_notes(org)
    oo.add_agenda_item(ana, series, "Ask 王经理 about the budget")
    oo.add_action(boss, series, "Intro to the design lead", ana.id, soon)
    bo_series = oo.start_series(boss, bo.id, "weekly", *tomorrow(30))
    oo.add_agenda_item(bo, bo_series, "Feedback for 王经理 on the offsite")
    start, end = (utcnow() - timedelta(days=60)).date().isoformat(), utcnow().date().isoformat()
    records.create_record(boss, records.RecordInput(person_id=ana.id, period_start=start, period_end=end,
                                                    summary="Ready."))
    about_bo = records.create_record(boss, records.RecordInput(person_id=bo.id, period_start=start,
                                                               period_end=end, summary="王经理 recommends Bo."))
    db.session.commit()
    series_id, bo_series_id, about_bo_id = series.id, bo_series.id, about_bo.id
    erase_person(org["admin"], ana, "李娜")
    db.session.commit()
    assert db.session.get(OneOnOneSeries, series_id) is None
    assert count(PrivateNote) == 0 and db.session.query(FormalRecord).count() == 1
    erase_person(org["admin"], boss, "王经理")
    db.session.commit()
    assert "王经理" not in db.session.get(FormalRecord, about_bo_id).summary
    assert [i.text for i in oo.agenda(oo.current_meeting(db.session.get(OneOnOneSeries, bo_series_id)))] == [
        "Feedback for […] on the offsite"]
