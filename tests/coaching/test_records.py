"""Formal records: a promotion review or project retrospective with the period's feedback (what
the writer may read) and goals pulled in; draft → manager signed → HR signed; signed means frozen;
only the person, their manager and HR see it (a draft: only the manager)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from perfapp.coaching import records
from perfapp.coaching.models import FormalRecord
from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.goals.models import Goal
from tests.conftest import assert_rejected, count


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    boss = make_user(name="王经理")
    ana = make_user(name="李娜", manager=boss)
    hr = make_user(name="HR Hong", role="hr")
    peer = make_user(name="Peer Pan")
    return {"boss": boss, "ana": ana, "hr": hr, "peer": peer}


def period() -> tuple[str, str]:
    today = date.today()
    return (today - timedelta(days=90)).isoformat(), today.isoformat()


def draft(org, **kw) -> FormalRecord:  # type: ignore[no-untyped-def]
    start, end = period()
    record = records.create_record(org["boss"], records.RecordInput(
        person_id=org["ana"].id, period_start=start, period_end=end, summary="Ready for senior.", **kw))
    db.session.commit()
    return record


def test_a_draft_pulls_in_the_feedback_the_writer_may_read_and_the_goals(org) -> None:
    ana, peer = org["ana"], org["peer"]
    seen = give_feedback(peer, FeedbackInput(recipient_id=ana.id, text="Great launch", visibility="public"))
    hidden = give_feedback(peer, FeedbackInput(recipient_id=ana.id, text="Just for Ana", kind="suggestion",
                                               visibility="private"))
    today = date.today()
    goal = Goal(title="Launch v2", owner_type="person", owner_id=ana.id, period_start=today - timedelta(days=30),
                period_end=today + timedelta(days=30), progress=0.5)
    db.session.add(goal)
    db.session.commit()
    record = draft(org)
    assert record.state == "draft" and record.evidence["feedback"] == [seen.id]
    assert hidden.id not in record.evidence["feedback"]
    assert record.evidence["goals"] == [{"id": goal.id, "title": "Launch v2", "percent": 50, "status": "on_track"}]


def test_sign_off_goes_manager_then_hr_and_freezes_the_record(org) -> None:
    boss, hr, ana = org["boss"], org["hr"], org["ana"]
    record = draft(org)
    with pytest.raises(records.Locked):
        records.sign(hr, record)  # HR can't sign before the manager
    records.sign(boss, record)
    db.session.commit()
    assert record.state == "manager_signed"
    with pytest.raises(records.Locked):
        records.sign(boss, record)  # not twice, and not as HR
    with pytest.raises(records.Locked):
        records.update_record(boss, record, records.RecordInput(period_start=period()[0], period_end=period()[1],
                                                                summary="Changed my mind"))
    db.session.rollback()
    assert db.session.get(FormalRecord, record.id).summary == "Ready for senior."
    records.sign(hr, record)
    db.session.commit()
    assert record.state == "hr_signed" and record.hr_signed_by_id == hr.id
    with pytest.raises(records.Locked):
        records.sign(hr, record)
    # HR may not sign a record about themselves.
    hr.manager_id = boss.id
    db.session.commit()
    start, end = period()
    own = records.create_record(boss, records.RecordInput(person_id=hr.id, period_start=start, period_end=end,
                                                          summary="HR's own"))
    records.sign(boss, own)
    assert not records.can_sign(hr, own) and ana.id != hr.id


def test_bad_input_is_refused_and_nothing_is_stored(org) -> None:
    boss, ana = org["boss"], org["ana"]
    start, end = period()

    def make(**kw):  # type: ignore[no-untyped-def]
        data = {"person_id": ana.id, "period_start": start, "period_end": end, "summary": "ok", **kw}
        return lambda: records.create_record(boss, records.RecordInput(**data))

    assert_rejected(make(summary=""), "summary", FormalRecord)
    assert_rejected(make(summary="x" * 4001), "summary", FormalRecord)
    assert_rejected(make(growth="x" * 4001), "growth", FormalRecord)
    assert_rejected(make(period_start=end, period_end=start), "period_start", FormalRecord)
    assert_rejected(make(period_start="yesterday"), "period_start", FormalRecord)
    assert_rejected(make(period_start="2020-01-01"), "period_start", FormalRecord)  # over two years
    assert_rejected(make(period_start="2999-01-01", period_end="2999-02-01"), "period_start", FormalRecord)
    assert_rejected(make(kind="retrospective"), "project_id", FormalRecord)  # which project?
    assert_rejected(make(kind="salary"), "kind", FormalRecord)
    with pytest.raises(records.NotAllowed):
        records.create_record(org["peer"], records.RecordInput(person_id=ana.id, period_start=start,
                                                               period_end=end, summary="not mine"))


def test_who_sees_a_record(org, login) -> None:
    boss, ana, hr, peer = org["boss"], org["ana"], org["hr"], org["peer"]
    record = draft(org)
    url = f"/coaching/records/{record.id}"
    assert login(boss).get(url).status_code == 200
    for who in (ana, hr, peer):  # a draft is the manager's work in progress
        assert login(who).get(url).status_code == 404
    records.sign(boss, record)
    db.session.commit()
    for who in (ana, hr, boss):
        assert login(who).get(url).status_code == 200
    assert login(peer).get(url).status_code == 404
    assert login(peer).submit(url + "/sign").status_code == 404
    assert record.id not in {r.id for r in records.records_for(peer)}
    assert [r.id for r in records.records_for(hr)] == [record.id]


def test_views_sign_and_refuse_edits_after_sign_off(org, login) -> None:
    boss, hr, ana = org["boss"], org["hr"], org["ana"]
    c = login(boss)
    start, end = period()
    r = c.submit(f"/coaching/records/new/{ana.id}?kind=promotion",
                 {"period_start": start, "period_end": end, "summary": ""})
    assert r.status_code == 422 and count(FormalRecord) == 0
    r = c.submit(f"/coaching/records/new/{ana.id}?kind=promotion",
                 {"period_start": start, "period_end": end, "summary": "Ready.", "strengths": "Ownership"})
    assert r.status_code == 303
    record = db.session.query(FormalRecord).one()
    url = f"/coaching/records/{record.id}"
    assert "Ownership" in c.get(url).get_data(as_text=True)
    assert c.submit(url + "/sign").status_code == 303
    r = c.submit(url + "/edit", {"period_start": start, "period_end": end, "summary": "Rewritten"})
    assert r.status_code == 409 and "This record is signed" in r.get_data(as_text=True)
    assert c.get(url + "/edit").status_code == 409
    assert login(ana).submit(url + "/sign").status_code == 409  # the person can't sign
    assert login(hr).submit(url + "/sign").status_code == 303
    db.session.expire_all()
    assert db.session.get(FormalRecord, record.id).state == "hr_signed"
    assert db.session.get(FormalRecord, record.id).summary == "Ready."
    assert login(org["peer"]).get(f"/coaching/records/new/{ana.id}").status_code == 404


def test_hr_is_told_when_a_record_waits_and_the_person_when_it_is_signed(org, login) -> None:
    from perfapp.notify.models import Notification

    boss, hr, ana = org["boss"], org["hr"], org["ana"]
    record = draft(org)
    assert count(Notification) == 0  # a draft tells nobody
    records.sign(boss, record)
    db.session.commit()
    told = db.session.query(Notification).filter_by(kind="record_to_sign").all()
    assert [n.user_id for n in told] == [hr.id]
    inbox = login(hr).get("/notify/").get_data(as_text=True)
    assert f"/coaching/records/{record.id}" in inbox and "sign as HR" in inbox
    records.sign(hr, record)
    db.session.commit()
    assert [n.user_id for n in db.session.query(Notification).filter_by(kind="record_signed")] == [ana.id]
    assert f"/coaching/records/{record.id}" in login(ana).get("/notify/").get_data(as_text=True)
    assert f"/coaching/records/{record.id}" not in login(org["peer"]).get("/notify/").get_data(as_text=True)
