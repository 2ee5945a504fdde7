"""GET requests never write to the database: not on a first visit (no catalogue rows made on
sight), not the inbox (it posts back what it showed), not with htmx, not for HR. Counted at the
driver: any INSERT, UPDATE or DELETE."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.recognition.badges import AwardInput, award_badge
from perfapp.recognition.flowers import FlowerInput, give_flowers
from perfapp.recognition.models import Badge
from tests.conftest import htmx_headers

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@contextmanager
def writes() -> Iterator[list[str]]:
    """The writing statements sent to the database inside the block."""
    seen: list[str] = []

    def listen(conn, cursor, statement: str, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def test_the_main_pages_write_nothing_on_a_get(org, login) -> None:
    gift = give_flowers(org.emma, FlowerInput(org.lina.id, 1, "Thanks", org.value.id))
    award = award_badge(org.emma, AwardInput(org.anyone.id, org.lina.id, "Great help"))
    praise = Feedback(author=org.emma, recipient=org.lina, kind="praise", visibility="public", text="Well done")
    db.session.add(praise)
    db.session.commit()
    assert db.session.query(Badge).filter(Badge.rule.is_not(None)).count() == 0  # not made yet: no page makes them
    pages = ["/", "/walls/", f"/walls/people/{org.lina.id}", f"/walls/people/{org.lina.id}/badges/{org.anyone.id}",
             "/walls/badges", f"/walls/badges/{org.anyone.id}", f"/recognition/flowers/{gift.id}",
             f"/recognition/awards/{award.id}", f"/people/{org.lina.id}", "/people/me", "/feedback/given",
             f"/feedback/{praise.id}", "/notify/", f"/reactions/feedback/{praise.id}", "/stories/"]
    hr_pages = ["/recognition/admin/badges", "/recognition/signals", "/walls/badges"]
    for person, urls in ((org.lina, pages), (org.emma, pages), (org.hr, hr_pages)):
        client = login(person)
        for url in urls:
            for headers in ({}, htmx_headers()):
                with writes() as seen:
                    response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.status_code)
                assert seen == [], (url, headers, seen)
    assert db.session.query(Badge).filter(Badge.rule.is_not(None)).count() == 0
