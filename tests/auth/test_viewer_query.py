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


def _praise(author, recipient, text: str):  # type: ignore[no-untyped-def]
    item = give_feedback(author, FeedbackInput(recipient_id=recipient.id, text=text, kind="praise",
                                               visibility="public"))
    db.session.commit()
    return item


def test_open_reports_come_with_the_person_and_hide_what_the_viewer_reported(make_user, login) -> None:
    """The posts a viewer reported (hidden for them until HR decides) are read by the login query:
    a page of cards runs no statement of its own for them, and shows the placeholder."""
    from perfapp.moderation.services import report

    me, lina, emma = make_user(), make_user(name="李娜"), make_user(name="Emma Wilson")
    kept = _praise(lina, emma, "Great launch")
    reported = _praise(emma, lina, "Something unkind")
    report(me, "feedback", reported.id, "Not kind")
    db.session.commit()
    c = login(me)
    with recorded_statements() as statements:
        html = c.get("/walls/").get_data(as_text=True)
    assert "Great launch" in html and f'id="fb-{kept.id}"' in html
    assert "Something unkind" not in html and "mod-hidden-for-you" in html
    on_reports = [s for s in statements if "FROM report" in s]
    assert len(on_reports) == 1 and "login_session" in on_reports[0]
    # Another viewer's page: their own (no) reports, the post shown.
    other = login(make_user(name="张敏"))
    assert "Something unkind" in other.get("/walls/").get_data(as_text=True)


def test_reporting_in_a_request_forgets_the_reports_read_at_login(make_user, app) -> None:
    from perfapp.moderation.services import prefetch_open_reports, report, reported_set

    me, lina = make_user(), make_user(name="李娜")
    item = _praise(lina, make_user(name="Emma Wilson"), "Nice")
    with app.test_request_context():
        prefetch_open_reports(me.id, None)  # as the login query read it: nothing reported
        assert reported_set(me) == frozenset()
        report(me, "feedback", item.id, "Not kind")
        assert reported_set(me) == frozenset({("feedback", item.id)})  # read again, not the stale set
        prefetch_open_reports(me.id, f"feedback:{item.id},flower:7")
        assert reported_set(me) == frozenset({("feedback", item.id), ("flower", 7)})


def test_own_reactions_come_with_the_cards_versions(make_user, login) -> None:
    """A card's facets include the viewer's own reactions: read with the rows' versions, not by a
    statement of their own, and each viewer sees only their own pressed."""
    from perfapp.reactions.models import LIKE
    from perfapp.reactions.services import set_reaction

    me, lina, emma = make_user(), make_user(name="李娜"), make_user(name="Emma Wilson")
    liked = _praise(lina, emma, "Liked by me")
    other = _praise(emma, lina, "Liked by Emma")
    set_reaction(me, "feedback", liked.id, LIKE, True)
    set_reaction(emma, "feedback", other.id, LIKE, True)
    db.session.commit()
    c = login(me)
    with recorded_statements() as statements:
        html = c.get("/walls/").get_data(as_text=True)
    assert f'id="rx-feedback-{liked.id}-like" class="rx-btn rx-like" name="off"' in html
    assert f'id="rx-feedback-{other.id}-like" class="rx-btn rx-like" name="on"' in html
    flat = [" ".join(s.split()) for s in statements]
    assert [s for s in flat if s.startswith("SELECT feedback.id, feedback.version") and "FROM reaction" in s]
    assert not [s for s in flat if s.startswith("SELECT reaction.target_id, reaction.emoji FROM")]  # no own statement
    # Taking it back shows at once (the card's key names the viewer's reactions).
    set_reaction(me, "feedback", liked.id, LIKE, False)
    db.session.commit()
    assert f'id="rx-feedback-{liked.id}-like" class="rx-btn rx-like" name="on"' in c.get("/walls/").get_data(as_text=True)


def _loaded_by_token(app, token: str, path: str = "/"):  # type: ignore[no-untyped-def]
    """The person the login query loads for a session token, in a request to `path` (a session of
    its own, as a request has: not the test's, which holds the person already)."""
    db.session.commit()
    with app.app_context(), app.test_request_context(path):
        user = app.login_manager._user_callback(token)
        if user is None:
            return None
        columns = {name: getattr(user, name) for name in ("id", "email", "stored_name", "role", "locale",
                                                          "timezone", "active", "created_at", "department_id")}
        department = user.department
        return (columns, department and (department.id, department.name_en), user._is_manager, user._unread,
                user in db.session, db.session.is_modified(user))


def test_the_login_query_loads_the_person_as_the_orm_would(make_user, app) -> None:
    """The login query runs on the cursor (db.Prepared) and the person is attached from its row:
    the same values and types as the ORM's load (SQLite's dates and booleans converted), their
    department with them, and unchanged in the session (a page view writes nothing back)."""
    from perfapp.auth.services import start_session
    from perfapp.people.models import Department, User

    team = Department(name_zh="工程部", name_en="Engineering")
    db.session.add(team)
    db.session.commit()
    boss = make_user(name="王强", department=team, locale="zh_Hans_CN")
    make_user(name="李娜", manager=boss)
    give_feedback(make_user(name="张敏"), FeedbackInput(recipient_id=boss.id, text="note"))
    token = start_session(boss)
    db.session.commit()
    expected = db.session.get(User, boss.id)
    db.session.refresh(expected)
    columns, department, is_manager, unread, attached, modified = _loaded_by_token(app, token)
    assert columns == {name: getattr(expected, name) for name in columns}
    assert isinstance(columns["created_at"], type(expected.created_at)) and columns["active"] is True
    assert department == (team.id, "Engineering")
    assert (is_manager, unread, attached, modified) == (True, 1, True, False)
    # Without a department, and with a page that reads the changes too (another statement shape).
    loner = make_user(name="Emma Wilson")
    token = start_session(loner)
    db.session.commit()
    columns, department, is_manager, unread, _attached, _modified = _loaded_by_token(app, token, "/walls/")
    assert (columns["id"], department, is_manager, unread) == (loner.id, None, False, 0)


def test_the_login_query_refuses_what_it_must_refuse(make_user, app) -> None:
    """A token nobody holds, and a deactivated person's token, load nobody."""
    from perfapp.auth.services import start_session

    gone = make_user(name="李娜")
    token = start_session(gone)
    db.session.commit()
    assert _loaded_by_token(app, "not-a-token") is None
    assert _loaded_by_token(app, token) is not None
    gone.active = False
    db.session.commit()
    assert _loaded_by_token(app, token) is None


def test_a_change_to_the_loaded_person_is_saved(make_user, login) -> None:
    """The person attached from the login query's row is the session's: changing their language
    in a request writes it."""
    from perfapp.people.models import User

    me = make_user(name="李娜", locale="en")
    c = login(me)
    assert c.submit("/people/language", {"locale": "zh_Hans_CN"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, me.id).locale == "zh_Hans_CN"
