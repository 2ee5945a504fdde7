"""Inbox entries: one per event per person, and entries other domains point at."""
from __future__ import annotations

from perfapp.core import signals
from perfapp.extensions import db
from perfapp.notify import registry, services


def test_notify_deduplicates_per_person_and_event(make_user) -> None:
    a, b = make_user(), make_user()
    seen = []
    signals.notification_created.connect(receiver := lambda _s, notification: seen.append(notification.id))
    try:
        first = services.notify(a.id, "nudge", dedupe_key="milestone:1")
        assert services.notify(a.id, "nudge", dedupe_key="milestone:1") is None
        other = services.notify(b.id, "nudge", dedupe_key="milestone:1")
    finally:
        signals.notification_created.disconnect(receiver)
    db.session.commit()
    assert first is not None and other is not None
    assert seen == [first.id, other.id]
    assert services.unread_count(a) == 1


def test_registered_kinds_are_loaded_for_the_viewer_and_hidden_ones_dropped(make_user) -> None:
    me = make_user()
    calls = []

    def load(ids, viewer):  # type: ignore[no-untyped-def]
        calls.append((sorted(ids), viewer.id))
        return {i: f"thing {i}" for i in ids if i != 2}  # 2 is hidden from this viewer

    registry.register("thing", "notify/_entries.html", load)
    try:
        for i in (1, 2, 3):
            services.notify(me.id, "thing_happened", ref_type="thing", ref_id=i)
        db.session.commit()
        entries, _ = services.inbox(me)
    finally:
        registry.REGISTRY.pop("thing")
    assert calls == [([1, 2, 3], me.id)]  # one load for all entries of a kind
    assert [e["obj"] for e in entries] == ["thing 3", "thing 1"]
