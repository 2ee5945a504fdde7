"""A write's answer is made from the rows as the request wrote them: after its commit, which
expires every loaded object, nothing is read again (the viewer: perfapp.auth.session keeps their
row over the commit; the feedback, gift or reaction and the people they name: the views answer
before committing). Writes are the longest requests a worker serves; each statement read again
was a round trip on PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.reactions.models import Reaction
from perfapp.recognition.models import FlowerGift
from tests.conftest import count


@contextmanager
def after_commit() -> Iterator[list[str]]:
    """The statements run after the request's (last) commit."""
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(sql)

    def committed(_session) -> None:  # type: ignore[no-untyped-def]
        seen.clear()
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(Session, "after_commit", committed)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(Session, "after_commit", committed)


def test_feedback_flowers_and_a_reaction_answer_without_reading_again(make_user, login) -> None:
    lina, emma = make_user("Lina Wang"), make_user("Emma Li")
    client = login(lina)
    with after_commit() as seen:
        sent = client.submit("/feedback/new", {"recipient_id": emma.id, "kind": "praise", "text": "Thanks for the demo",
                                               "visibility": "public"}, htmx=True)
    assert sent.status_code == 200 and "Sent to Emma Li" in sent.get_data(as_text=True)
    assert seen == ["COMMIT"]
    assert count(Feedback) == 1
    item_id = db.session.query(Feedback.id).scalar()

    with after_commit() as seen:
        gift = client.submit("/recognition/flowers", {"receiver_id": emma.id, "count": 2, "message": "谢谢"}, htmx=True)
    assert gift.status_code == 200 and "Emma Li" in gift.get_data(as_text=True)
    assert seen == ["COMMIT"]
    assert count(FlowerGift) == 1

    with after_commit() as seen:
        bar = client.submit(f"/reactions/feedback/{item_id}/react", {"on": "🔥"}, htmx=True,
                            target=f"rx-feedback-{item_id}")
    assert bar.status_code == 200 and "🔥" in bar.get_data(as_text=True)
    assert seen == ["COMMIT"]
    with after_commit() as seen:
        plain = client.submit(f"/reactions/feedback/{item_id}/react", {"off": "🔥"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/feedback/{item_id}")
    assert seen == ["COMMIT"]
    assert count(Reaction) == 0


def test_the_viewer_kept_over_a_commit_is_what_was_written(make_user, login) -> None:
    """A setting the request changed holds in the rest of that request: the message it flashes
    after the commit is in the language just chosen (the kept row is the written one)."""
    lina = make_user("Lina Wang", locale="zh_Hans_CN")
    client = login(lina)
    for locale, said in (("en", "Settings saved."), ("zh_Hans_CN", "设置已保存。")):
        saved = client.submit("/people/settings", {"locale": locale, "timezone": "Asia/Tokyo"})
        assert saved.status_code == 303
        assert said in client.get(saved.headers["Location"]).get_data(as_text=True)
