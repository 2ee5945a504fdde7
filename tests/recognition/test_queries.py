"""No N+1 on the walls: a page costs the same number of SQL statements for a few items as for many."""
from __future__ import annotations

from datetime import timedelta

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift
from perfapp.recognition.rules import ensure_automatic_badges
from perfapp.walls.services import HOLDERS_PAGE_SIZE, PAGE_SIZE
from tests.feedback.test_queries import recorded_statements

FEW = 3


def cost(client, url: str, marker: str, expect: int) -> list[str]:  # type: ignore[no-untyped-def]
    with recorded_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count(marker) == expect
    return statements


def assert_same(few: list[str], many: list[str]) -> None:
    assert len(few) == len(many), "\n".join(
        ["with few:", *(" ".join(q.split())[:140] for q in few),
         "with many:", *(" ".join(q.split())[:140] for q in many)])


def add_wall_items(org, people, start: int, count: int) -> None:  # type: ignore[no-untyped-def]
    """Praise with tags, flowers with a value, badges by people and by rules: every kind of card."""
    now = utcnow()
    auto = db.session.query(Badge).filter(Badge.rule.is_not(None)).first()
    for i in range(start, start + count):
        giver, receiver = people[i % len(people)], people[(i + 1) % len(people)]
        at = now - timedelta(minutes=i)
        kind = i % 3
        if kind == 0:
            item = Feedback(author_id=giver.id, recipient_id=receiver.id, kind="praise", visibility="public",
                            text=f"praise {i}", created_at=at)
            item.tags = [org.value]
            db.session.add(item)
        elif kind == 1:
            db.session.add(FlowerGift(giver_id=giver.id, receiver_id=receiver.id, count=1 + i % 5, message=f"f {i}",
                                      tag_id=org.value.id, month="2026-01", created_at=at))
        else:
            badge = auto if i % 2 and auto is not None else org.anyone
            db.session.add(BadgeAward(badge_id=badge.id, receiver_id=receiver.id,
                                      giver_id=None if badge is auto else giver.id, source=f"s{i}" if badge is auto else None,
                                      citation=f"c {i}", month="2026-01", created_at=at))
    db.session.commit()


def test_praise_wall_has_no_n_plus_1(app, org, login, make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CARD_CACHE", False)  # every card renders: the page's worst cost
    ensure_automatic_badges()
    people = [make_user(name=f"P{i}") for i in range(6)]
    client = login(org.zhang)
    markers = 'class="card '
    add_wall_items(org, people, 0, FEW)
    few = cost(client, "/walls/", markers, FEW)
    add_wall_items(org, people, FEW, 40)
    many = cost(client, "/walls/", markers, PAGE_SIZE)
    assert_same(few, many)
    assert len(many) <= 34  # session, strips, filters; per kind: versions, own reactions, rows, counts


def test_badge_wall_of_a_person_has_no_n_plus_1(org, login, make_user) -> None:
    badges = [Badge(name_zh=f"B{i}", name_en=f"B{i}", icon="star", colour="#0090ff") for i in range(12)]
    db.session.add_all(badges)
    db.session.commit()
    givers = [make_user(name=f"G{i}") for i in range(4)]
    client = login(org.zhang)

    def hold(bs) -> None:  # type: ignore[no-untyped-def]
        for i, b in enumerate(bs):
            for j in range(1 + i % 3):
                db.session.add(BadgeAward(badge_id=b.id, receiver_id=org.lina.id, giver_id=givers[j].id,
                                          citation="x", month="2026-01"))
            db.session.add(FlowerGift(giver_id=givers[i % 4].id, receiver_id=org.lina.id, count=2, message="m",
                                      tag_id=org.value.id, month="2026-01"))
        db.session.commit()

    hold(badges[:2])
    few = cost(client, f"/walls/people/{org.lina.id}", 'class="bw-cell"', 2)
    hold(badges[2:])
    many = cost(client, f"/walls/people/{org.lina.id}", 'class="bw-cell"', 12)
    assert_same(few, many)


def test_badge_holders_have_no_n_plus_1(org, login, make_user) -> None:
    people = [make_user(name=f"H{i}") for i in range(30)]
    client = login(org.zhang)

    def award(ps) -> None:  # type: ignore[no-untyped-def]
        for p in ps:
            for giver in (org.emma, org.boss):
                db.session.add(BadgeAward(badge_id=org.anyone.id, receiver_id=p.id, giver_id=giver.id,
                                          citation="because", month="2026-01"))
        db.session.commit()

    award(people[:FEW])
    few = cost(client, f"/walls/badges/{org.anyone.id}", 'class="card holder"', FEW)
    award(people[FEW:])
    many = cost(client, f"/walls/badges/{org.anyone.id}", 'class="card holder"', HOLDERS_PAGE_SIZE)
    assert_same(few, many)


def test_company_badges_page_has_no_n_plus_1(org, login) -> None:
    client = login(org.zhang)
    ensure_automatic_badges()  # as the migration made them
    db.session.commit()
    few = cost(client, "/walls/badges", 'class="bw-tile"', 8)  # 4 made + 4 automatic
    db.session.add_all([Badge(name_zh=f"X{i}", name_en=f"X{i}", icon="star", colour="#0090ff",
                              tag_id=org.value.id if i % 2 else None) for i in range(20)])
    db.session.commit()
    many = cost(client, "/walls/badges", 'class="bw-tile"', 28)
    assert_same(few, many)
