"""Home found before the view (perfapp.core.pages.stamped): while Home's one statement reads the
same rows for the same viewer, the kept page is answered before the view runs; any change to what
the page shows (a card, a counter, the viewer, the shell) shows on the very next request, and the
page is never another session's."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from perfapp.core import pages
from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import request_feedback
from perfapp.goals import services as goals
from perfapp.moderation.services import report
from perfapp.notify.models import Notification
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.people.models import User
from tests.core.test_pages import FEED_MORE, give, home
from tests.feedback.test_queries import recorded_statements
from tests.goals.test_cards import period


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    people = {"boss": boss, "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
              "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss)}
    for person in people.values():  # past the getting-started cards: Home is then its statement's rows
        db.session.add(GettingStartedDismissal(person_id=person.id))
    db.session.commit()
    return people


def found() -> int:
    """Pages answered before their view, by the person's changes or by the view's statement."""
    return pages.stats["found by its changes"] + pages.stats["found before the view"]


@pytest.fixture()
def later(monkeypatch):  # type: ignore[no-untyped-def]
    """later(): the clock of kept pages moves past PAGE_RECHECK_SECONDS and PAGE_RECHECK_VIEW_SECONDS."""
    from time import monotonic

    def move() -> None:
        shift = 3600.0
        monkeypatch.setattr(pages, "monotonic", lambda: monotonic() + shift)

    return move


def test_an_unchanged_home_is_answered_before_the_view(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = home(lina)
    before = found()
    renders.clear()
    with recorded_statements() as statements:
        assert home(lina) == first
    assert found() == before + 1 and renders == []
    ran = [s for s in statements if s.strip().upper() != "BEGIN"]
    assert len(ran) == 1  # the login query, with the person's changes: not even Home's statement
    assert "login_session" in ran[0] and "person_change" in ran[0]
    assert pages.stats["found by its changes"] >= 1


def test_after_the_recheck_time_home_s_statement_checks_the_page(org, login, later) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = home(lina)
    later()
    exact = pages.stats["found before the view"]
    with recorded_statements() as statements:
        assert home(lina) == first
    assert pages.stats["found before the view"] == exact + 1
    ran = [s for s in statements if s.strip().upper() != "BEGIN"]
    assert len(ran) == 2 and "FROM feedback_ask" in ran[1]  # the login query, then Home's statement


def test_what_time_alone_changes_shows_when_it_happens(org, login) -> None:  # type: ignore[no-untyped-def]
    """A request waiting for me expires with no write at all: no change is appended, yet the kept
    page is answered on its changes only until then (Home's statement reads when the first
    request expires), and its statement then checks it."""
    asked = request_feedback(org["boss"], [org["lina"].id], "the demo")
    lina = login(org["lina"])
    asked.expires_at = utcnow() + timedelta(seconds=2)
    db.session.commit()
    first = home(lina)
    assert "1 person asked for your feedback" in first
    by_changes = pages.stats["found by its changes"]
    assert home(lina) == first and pages.stats["found by its changes"] == by_changes + 1
    time.sleep(max(0.0, (asked.expires_at - utcnow()).total_seconds()) + 0.1)
    with recorded_statements() as statements:
        html = home(lina)
    assert "1 person asked for your feedback" not in html  # checked by Home's statement, at once
    assert any("FROM feedback_ask" in s for s in statements)


def test_a_home_that_time_does_not_change_is_answered_on_its_changes_until_the_recheck(
        org, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With nothing that expires on it, a kept Home is answered by the login query alone for
    PAGE_RECHECK_VIEW_SECONDS (a bound for a write the triggers would miss), then checked."""
    from time import monotonic

    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    first = home(lina)
    monkeypatch.setattr(pages, "monotonic", lambda: monotonic() + 250)
    with recorded_statements() as statements:
        assert home(lina) == first
    assert len([s for s in statements if s.strip().upper() != "BEGIN"]) == 1
    monkeypatch.setattr(pages, "monotonic", lambda: monotonic() + 310)
    with recorded_statements() as statements:
        assert home(lina) == first
    assert any("FROM feedback_ask" in s for s in statements)


@pytest.mark.parametrize("change", ["new feedback", "reaction", "hidden", "deleted", "reported by me", "author renamed",
                                    "request", "unread", "language", "timezone",
                                    "now a manager"])
def test_any_change_shows_on_the_next_request(org, login, change) -> None:  # type: ignore[no-untyped-def]
    item = give(org["emma"], org["lina"], "Great launch")
    lina, emma = login(org["lina"]), login(org["emma"])
    home(lina)
    before = home(lina)  # found before the view from here on
    kept = found()
    if change == "new feedback":
        give(org["boss"], org["lina"], "Thanks for the demo")
        assert "Thanks for the demo" in home(lina)
    elif change == "reaction":
        assert emma.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}).status_code == 303
        assert '<span class="rx-n">1</span>' in home(lina)
    elif change == "hidden":
        db.session.get(Feedback, item.id).hidden = True
        db.session.commit()
        assert home(lina) != before
    elif change == "deleted":
        db.session.delete(db.session.get(Feedback, item.id))
        db.session.commit()
        assert "Great launch" not in home(lina)
    elif change == "reported by me":
        report(db.session.get(User, org["lina"].id), "feedback", item.id, "spam")
        db.session.commit()
        assert "Great launch" not in home(lina)
    elif change == "author renamed":
        db.session.get(User, org["emma"].id).stored_name = "Emma Watson"
        db.session.commit()
        assert "Emma Watson" in home(lina)
    elif change == "request":
        request_feedback(org["boss"], [org["lina"].id], "the demo")
        db.session.commit()
        assert "1 person asked for your feedback" in home(lina)
    elif change == "unread":
        db.session.add(Notification(user_id=org["lina"].id, kind="feedback_received", feedback_id=item.id))
        db.session.commit()
        assert re.search(r'id="unread" class="badge"\s+aria-label="1 unread">1<', home(lina))
    elif change == "language":
        db.session.get(User, org["lina"].id).locale = "zh_Hans_CN"
        db.session.commit()
        assert '<html lang="zh' in home(lina)
    elif change == "now a manager":  # managers may turn public praise into a story
        assert "promote-link" not in before
        db.session.get(User, org["emma"].id).manager_id = org["lina"].id
        db.session.commit()
        assert "promote-link" in home(lina)
    else:  # the cards' absolute times are written in the viewer's timezone
        db.session.get(User, org["lina"].id).timezone = "America/New_York"
        db.session.commit()
        assert home(lina) != before
    assert found() == kept  # the changed page came from the view
    after = home(lina)
    assert after != before and found() == kept + 1  # and is found before the view again


def test_a_managers_home_shows_a_report_s_new_feedback_next(org, login) -> None:  # type: ignore[no-untyped-def]
    boss = login(org["boss"])
    home(boss)
    home(boss)
    give(org["emma"], org["lina"], "Team praise")
    assert "Team praise" in home(boss)


def test_a_page_is_never_another_session_s(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "For Lina only")
    give(org["lina"], org["emma"], "For Emma only")
    lina, emma = login(org["lina"]), login(org["emma"])
    for _ in range(2):
        assert "For Lina only" in home(lina)
        emmas = home(emma)
        assert "For Emma only" in emmas and "For Lina only" not in emmas
    again = login(org["lina"])  # another session of the same person: its own CSRF token
    page = home(again)
    token = re.search(r'"X-CSRFToken": ?"([^"]+)"', page)
    assert token is not None and token.group(1) not in home(lina)


def test_the_fragment_and_the_page_are_found_apart(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    full, fragment = home(lina), home(lina, **FEED_MORE)
    assert home(lina) == full and home(lina, **FEED_MORE) == fragment
    assert "<html" in full and "<html" not in fragment


def test_going_back_to_an_unchanged_home_gets_304(org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    home(lina)
    etag = lina.get("/").headers["ETag"]
    kept = found()
    assert lina.get("/", headers={"If-None-Match": etag}).status_code == 304
    assert found() == kept + 1


def test_not_answered_before_the_view_while_the_tips_show(make_user, login) -> None:  # type: ignore[no-untyped-def]
    newcomer = login(make_user(name="New Person"))
    kept = found()
    for _ in range(3):
        assert 'id="getting-started"' in home(newcomer)
    assert found() == kept  # the tips read the flowers left and the quiet hours too


def test_not_answered_before_the_view_when_a_card_names_a_goal(org, login) -> None:  # type: ignore[no-untyped-def]
    lina_row = db.session.get(User, org["lina"].id)
    goal = goals.create_goal(lina_row, goals.GoalInput(title="Ship the app", owner_id=lina_row.id,
                                                       period=period()))
    db.session.commit()
    give(org["emma"], org["lina"], "On your goal", goal_id=goal.id)
    lina = login(org["lina"])
    kept = found()
    for _ in range(3):
        assert "On your goal" in home(lina)
    assert found() == kept  # whether the viewer may see the goal is read apart


def test_with_the_cache_off_nothing_is_answered_before_the_view(app, org, login) -> None:  # type: ignore[no-untyped-def]
    give(org["emma"], org["lina"], "Great launch")
    lina = login(org["lina"])
    app.config["PAGE_CACHE"] = False
    try:
        kept = found()
        assert home(lina) == home(lina)
        assert found() == kept
    finally:
        app.config["PAGE_CACHE"] = True
