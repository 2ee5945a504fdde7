"""The login query reads, with the person, what every page's shell shows about them: whether they
manage anyone (My team) and their unread count (the Home tab's badge). Right values, no extra
statements, and a count that is fresh again once entries are marked read."""
from __future__ import annotations

from perfapp.extensions import db
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.notify import services
from tests.feedback.test_queries import recorded_statements
from tests.notify.test_views import unread_badge


def test_unread_count_comes_with_the_person_in_one_statement(make_user, login) -> None:
    me, lina = make_user(), make_user(name="李娜")
    for i in range(2):
        give_feedback(lina, FeedbackInput(recipient_id=me.id, text=f"note {i}"))
    db.session.commit()
    c = login(me)
    with recorded_statements() as statements:
        html = c.get("/people/me").get_data(as_text=True)
    assert unread_badge(html) == "2"
    on_inbox = [s for s in statements if "FROM notification" in s]
    assert len(on_inbox) == 1 and "login_session" in on_inbox[0]  # the login query, nothing else
    assert not [s for s in statements if s.lstrip().startswith("SELECT EXISTS")]  # nor "manages anyone?"


def test_marking_read_in_the_request_drops_the_count_read_at_login(make_user, app) -> None:
    from perfapp.people.models import prefetch_viewer_state

    me, lina = make_user(), make_user(name="李娜")
    give_feedback(lina, FeedbackInput(recipient_id=me.id, text="note"))
    db.session.commit()
    prefetch_viewer_state(me, is_manager=False, unread=1)
    services.mark_all_read(me)
    assert services.unread_count(me) == 0  # asked again, not the value read at login
    prefetch_viewer_state(me, is_manager=False, unread=5)
    assert services.unread_count(me) == 5  # used once ...
    assert services.unread_count(me) == 0  # ... then the database answers


def test_my_team_follows_active_reports(make_user, login) -> None:
    boss = make_user(name="王强")
    report = make_user(name="李娜", manager=boss)
    c = login(boss)
    assert "/coaching/team" in c.get("/people/me").get_data(as_text=True)
    report.active = False
    db.session.commit()
    assert "/coaching/team" not in c.get("/people/me").get_data(as_text=True)  # no active report: not a manager
    other = make_user(name="张敏")
    assert "/coaching/team" not in login(other).get("/people/me").get_data(as_text=True)
