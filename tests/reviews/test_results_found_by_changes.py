"""A reviewee's results page is found by the changes about the reviewee (perfapp.core.pages): kept
while nothing about them changed, the next request after the cycle or an attributed reviewer's
name changes shows it, and a viewer who may no longer read the results gets 404 at once."""
from __future__ import annotations

from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.reviews.models import ReviewAssignment, ReviewCycle
from tests.core.test_found_by_changes import answered_by_login_alone, page, rename
from tests.core.test_pages import give
from tests.reviews.test_views import _finished


def test_results_are_found_by_the_reviewees_changes(org, login) -> None:  # type: ignore[no-untyped-def]
    cycle, lina = _finished(org)
    url = f"/reviews/cycles/{cycle.id}/people/{lina.id}"
    me = login(lina)
    body = page(me, url)
    answered_by_login_alone(me, url, body)
    give(org["sales"][0], org["sales"][1], "Someone else's praise")
    answered_by_login_alone(me, url, body)
    rename(User, org["manager"].id, stored_name="Max Mentor")  # an attributed reviewer renamed
    assert "Max Mentor" in (body := page(me, url))
    answered_by_login_alone(me, url, body)
    rename(ReviewCycle, cycle.id, name="H2 reviews, renamed")  # the cycle itself
    assert "H2 reviews, renamed" in page(me, url)


def test_a_manager_who_no_longer_manages_gets_404_next(org, login) -> None:  # type: ignore[no-untyped-def]
    cycle, lina = _finished(org)
    url = f"/reviews/cycles/{cycle.id}/people/{lina.id}"
    manager = login(org["manager"])
    body = page(manager, url)
    answered_by_login_alone(manager, url, body)
    peer = login(org["team"][1])
    assert peer.get(url).status_code == 404  # the manager's kept page is not a peer's
    rename(User, lina.id, manager_id=org["director"].id)
    assert manager.get(url).status_code == 404
    assert db.session.scalar(select(ReviewAssignment.id).where(ReviewAssignment.cycle_id == cycle.id)) is not None
