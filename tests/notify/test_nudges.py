"""Nudges: milestone reached, feedback/flowers/badges received, requests and their reminder,
the weekly nudge. Each is one inbox entry per event per person, pushed in their language."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import FeedbackRequest
from perfapp.feedback.services import FeedbackInput, decline_ask, give_feedback, request_feedback
from perfapp.notify import nudges, preferences
from perfapp.notify.models import Notification, NotificationPreference
from perfapp.notify.services import inbox
from perfapp.projects.services import reach_milestone, unreach_milestone


def kinds_for(user, *only: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The person's inbox entry kinds, oldest first (only these kinds if given: other domains
    add entries for the same events, e.g. an automatic badge for a reached milestone)."""
    query = select(Notification.kind).where(Notification.user_id == user.id).order_by(Notification.id)
    if only:
        query = query.where(Notification.kind.in_(only))
    return list(db.session.scalars(query))


# --- milestones -------------------------------------------------------------------------------

def test_milestone_reached_nudges_every_member_once(make_user, make_project, subscribe, push_service) -> None:
    hr = make_user(role="hr")
    lina = make_user(name="李娜", locale="zh_Hans_CN")
    emma = make_user(name="Emma", locale="en")
    left = make_user(name="Left", active=False)
    outsider = make_user()
    project = make_project("Apollo", members=(lina, emma, left), milestones=("Launch",))
    milestone = project.milestones[0]
    _s, lina_browser = subscribe(lina)
    _s, emma_browser = subscribe(emma)
    reach_milestone(hr, milestone)
    db.session.commit()
    nudge = "milestone_nudge"
    assert kinds_for(lina, nudge) == kinds_for(emma, nudge) == [nudge]
    assert kinds_for(left, nudge) == kinds_for(outsider, nudge) == kinds_for(hr, nudge) == []
    (zh,) = [p for p in push_service.read(lina_browser) if p["kind"] == nudge]
    (en,) = [p for p in push_service.read(emma_browser) if p["kind"] == nudge]
    url = f"/projects/{project.id}/milestones/{milestone.id}/review"
    assert en["title"] == "Apollo: Launch reached" and zh["title"] == "Apollo：已达成「Launch」"
    assert en["body"] == "Review your teammates on Launch: three quick questions each, within 7 days."
    assert zh["body"] == "请在7天内就「Launch」互评队友：每人三个简短问题。"
    assert en["url"] == zh["url"] == url
    # One push for the moment: the milestone badge everyone earned waits in the inbox.
    assert kinds_for(lina, "badge_received") == ["badge_received"]
    assert [p["kind"] for p in push_service.read(lina_browser)] == [nudge]
    # Reached again after an undo: the same event, no second nudge.
    unreach_milestone(hr, milestone)
    reach_milestone(hr, milestone)
    db.session.commit()
    assert kinds_for(lina, nudge) == [nudge]
    assert sum(p["kind"] == nudge for b in (lina_browser, emma_browser) for p in push_service.read(b)) == 2


def test_the_milestone_nudge_in_the_inbox_opens_the_peer_review(make_user, make_project, login) -> None:
    hr, me = make_user(role="hr"), make_user()
    project = make_project("Apollo", members=(me,), milestones=("Launch",))
    reach_milestone(hr, project.milestones[0])
    db.session.commit()
    page = login(me).get("/notify/").get_data(as_text=True)
    assert "Apollo: Launch reached" in page
    assert f'href="/projects/{project.id}/milestones/{project.milestones[0].id}/review"' in page


def test_archived_projects_nudge_nobody(make_user, make_project) -> None:
    hr, me = make_user(role="hr"), make_user()
    project = make_project(members=(me,))
    project.archived = True
    reach_milestone(hr, project.milestones[0])
    db.session.commit()
    assert kinds_for(me, "milestone_nudge") == []


# --- received ------------------------------------------------------------------------------------

def test_flowers_and_badges_received_are_pushed(make_user, subscribe, push_service) -> None:
    from perfapp.recognition.badges import AwardInput, award_badge
    from perfapp.recognition.flowers import FlowerInput, give_flowers
    from perfapp.recognition.models import Badge

    giver, me = make_user(name="Emma"), make_user(locale="en")
    _s, browser = subscribe(me)
    badge = Badge(name_zh="团队之星", name_en="Team star", awarders="anyone", monthly_limit=3)
    db.session.add(badge)
    db.session.commit()
    give_flowers(giver, FlowerInput(receiver_id=me.id, count=3, message="For staying late"))
    db.session.commit()
    award_badge(giver, AwardInput(badge_id=badge.id, receiver_id=me.id, citation="Always there"))
    db.session.commit()
    sent = {p["kind"]: p for p in push_service.read(browser)}
    assert sent["flowers_received"]["title"] == "Emma sent you 3 flowers"
    assert sent["flowers_received"]["body"] == "For staying late"
    assert sent["flowers_received"]["url"] == f"/walls/people/{me.id}"
    assert sent["badge_received"]["title"] == "You earned the badge “Team star”"
    assert sent["badge_received"]["body"] == "Always there"


# --- requests and reminders --------------------------------------------------------------------

def test_request_received_then_a_reminder_after_three_days(make_user, subscribe, push_service) -> None:
    boss = make_user(name="Wang")
    me, answered, declined = make_user(locale="en"), make_user(), make_user()
    _s, browser = subscribe(me)
    req = request_feedback(boss, [me.id, answered.id, declined.id], "my launch plan")
    db.session.commit()
    asked = {a.recipient_id: a.id for a in req.asks}
    t0 = utcnow()
    req.created_at, req.expires_at = t0, t0 + timedelta(days=30)
    give_feedback(answered, FeedbackInput(recipient_id=boss.id, text="Looks good", ask_id=asked[answered.id]))
    decline_ask(declined, asked[declined.id])
    db.session.commit()
    assert nudges.send_ask_reminders(t0 + timedelta(days=2, hours=23)) == 0
    assert nudges.send_ask_reminders(t0 + timedelta(days=3, minutes=1)) == 1
    db.session.commit()
    assert nudges.send_ask_reminders(t0 + timedelta(days=4)) == 0  # once per ask
    assert kinds_for(me) == ["ask_received", "ask_reminder"]
    first, reminder = push_service.read(browser)
    assert first["title"] == "Wang asks for your feedback" and first["body"] == "my launch plan"
    assert reminder["title"] == "Wang is still waiting for your feedback"
    assert reminder["url"] == first["url"] == f"/feedback/new?ask={asked[me.id]}"


def test_no_reminder_for_expired_requests_or_inactive_people(make_user) -> None:
    boss, me, gone = make_user(), make_user(), make_user()
    req = request_feedback(boss, [me.id, gone.id], "old question")
    gone.active = False
    t0 = datetime(2026, 1, 1)
    req.created_at, req.expires_at = t0, t0 + timedelta(days=5)
    db.session.commit()
    assert nudges.send_ask_reminders(t0 + timedelta(days=6)) == 0
    req.expires_at = t0 + timedelta(days=30)
    db.session.commit()
    assert nudges.send_ask_reminders(t0 + timedelta(days=6)) == 1
    assert kinds_for(gone) == ["ask_received"]


def test_an_answered_request_is_not_pushed_late(make_user, subscribe, push_service) -> None:
    boss, me = make_user(), make_user()
    subscribe(me, quiet=False, requests=False)
    req = request_feedback(boss, [me.id], "slides")
    db.session.commit()
    ask_id = req.asks[0].id
    decline_ask(me, ask_id)
    db.session.commit()
    pref = db.session.get(NotificationPreference, me.id)
    pref.requests = True
    db.session.commit()
    note_id = db.session.scalar(select(Notification.id).where(Notification.ask_id == ask_id))
    from perfapp.notify import tasks

    tasks.deliver_notifications([note_id])
    assert push_service.received == []  # declined meanwhile: nothing to say


# --- the weekly nudge --------------------------------------------------------------------------------

def test_weekly_nudge_for_people_quiet_for_two_weeks(make_user, subscribe, push_service) -> None:
    now = datetime(2026, 3, 9, 2, 0)  # a Monday
    old = now - timedelta(days=60)
    giver, quiet, newcomer, opted_out, recipient = (make_user(), make_user(locale="en"), make_user(),
                                                    make_user(), make_user())
    for person in (giver, quiet, opted_out, recipient):
        person.created_at = old
    newcomer.created_at = now - timedelta(days=5)
    _s, browser = subscribe(quiet)
    subscribe(opted_out, weekly=False)
    feedback = give_feedback(giver, FeedbackInput(recipient_id=recipient.id, text="thanks"))
    feedback.created_at = now - timedelta(days=3)
    db.session.commit()
    assert nudges.send_weekly_nudges(now) == 2  # quiet and the recipient; not giver/newcomer/opted out
    db.session.commit()
    assert "weekly_nudge" in kinds_for(quiet) and "weekly_nudge" in kinds_for(recipient)
    assert all("weekly_nudge" not in kinds_for(p) for p in (giver, newcomer, opted_out))
    assert nudges.send_weekly_nudges(now + timedelta(days=2)) == 0  # once a week
    assert nudges.send_weekly_nudges(now + timedelta(days=7)) == 2  # next week, the same two
    assert nudges.send_weekly_nudges(now + timedelta(days=14)) == 4  # and the giver, the newcomer
    db.session.commit()
    first, second, _third = push_service.read(browser)
    assert first["title"] == "A minute for feedback?" and first["url"] == "/feedback/new"
    assert push_service.received[0].headers["urgency"] == "low"
    assert second["kind"] == "weekly_nudge"


def test_hr_can_switch_the_weekly_nudge_off(make_user) -> None:
    hr, me = make_user(role="hr"), make_user()
    me.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    preferences.set_weekly_nudge(hr, False)
    db.session.commit()
    assert nudges.send_weekly_nudges(utcnow()) == 0
    preferences.set_weekly_nudge(hr, True)
    db.session.commit()
    assert nudges.send_weekly_nudges(utcnow()) >= 1


def test_the_weekly_nudge_shows_in_the_inbox(make_user, login) -> None:
    me = make_user()
    me.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    nudges.send_weekly_nudges(utcnow())
    db.session.commit()
    entries, _ = inbox(me)
    assert [e["template"] for e in entries] == ["notify/_inbox_weekly.html"]
    assert "A minute for feedback?" in login(me).get("/notify/").get_data(as_text=True)


def test_requests_created_in_the_past_are_found_by_reminders_only_once_open(make_user) -> None:
    boss, me = make_user(), make_user()
    req = request_feedback(boss, [me.id], "q")
    db.session.commit()
    assert db.session.get(FeedbackRequest, req.id) is not None
    assert nudges.send_ask_reminders(utcnow()) == 0  # asked just now
