"""Requests racing for the last flowers never spend more than the allowance.

Threads, each with its own app context, connection and transaction, start together at a
barrier. On SQLite BEGIN IMMEDIATE queues the writers; on PostgreSQL the first gift of the
month races to create the giver's row (one wins, the rest wait on the unique index), then
each locks the row and spends with a conditional UPDATE.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.recognition.badges import AwardInput, award_badge
from perfapp.recognition.flowers import FlowerInput, give_flowers
from perfapp.recognition.models import BadgeAward, FlowerGift, GiverMonth
from tests.conftest import PASSWORD

THREADS = 8


def race(app: Flask, work: Callable[[int], Any], n: int = THREADS) -> list[str]:
    """Run work(i) in n threads released at once; returns "ok" or "refused" per thread."""
    barrier = threading.Barrier(n)
    results: list[str] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work(i)
                db.session.commit()
                results.append("ok")
            except FormError:
                db.session.rollback()
                results.append("refused")
            except BaseException as e:  # noqa: BLE001 (reported below, in the test's thread)
                db.session.rollback()
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def spent(giver_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(GiverMonth.flowers_spent), 0))
                             .where(GiverMonth.user_id == giver_id)) or 0


def flowers_given(giver_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(FlowerGift.count), 0))
                             .where(FlowerGift.giver_id == giver_id)) or 0


@pytest.mark.parametrize(("each", "expect_ok"), [(3, 3), (1, 8), (5, 2)])
def test_racing_for_the_last_flowers_never_overspends(app, org, each, expect_ok) -> None:
    giver_id, receivers = org.emma.id, [org.lina.id, org.zhang.id, org.boss.id]
    db.session.commit()  # end the set-up transaction (it would hold SQLite's write lock)

    def give(i: int) -> None:
        giver = db.session.get(User, giver_id)
        give_flowers(giver, FlowerInput(receivers[i % 3], each, f"race {i}"))

    results = race(app, give)
    assert results.count("ok") == expect_ok and results.count("refused") == THREADS - expect_ok
    assert spent(giver_id) == flowers_given(giver_id) == each * expect_ok <= 10
    assert db.session.scalar(select(func.count()).select_from(GiverMonth)) == 1  # one row, however many raced


def test_racing_after_flowers_were_already_spent(app, org) -> None:
    give_flowers(org.emma, FlowerInput(org.lina.id, 5, "first"))
    give_flowers(org.emma, FlowerInput(org.lina.id, 4, "second"))
    giver_id, receiver_id = org.emma.id, org.zhang.id
    db.session.commit()

    def give(i: int) -> None:
        give_flowers(db.session.get(User, giver_id), FlowerInput(receiver_id, 1, f"last {i}"))

    assert race(app, give).count("ok") == 1
    assert spent(giver_id) == flowers_given(giver_id) == 10


def test_racing_awards_respect_the_monthly_limit(app, org) -> None:
    giver_id, badge_id = org.emma.id, org.anyone.id  # 2 a month
    receivers = [org.lina.id, org.zhang.id, org.boss.id]
    db.session.commit()

    def award(i: int) -> None:
        award_badge(db.session.get(User, giver_id),
                             AwardInput(badge_id, receivers[i % 3], f"race {i}"))

    assert race(app, award).count("ok") == 2
    assert db.session.scalar(select(func.count()).select_from(BadgeAward)) == 2


def test_racing_http_posts_never_overspend(app, org) -> None:
    """The same through the real view: logged-in clients posting at once."""
    email, giver_id, receiver_id = org.emma.email, org.emma.id, org.lina.id
    db.session.commit()
    clients = []
    for _ in range(THREADS):
        client = app.test_client()
        token = re.search(r'name="csrf-token" content="([^"]+)"',  # type: ignore[union-attr]
                          client.get("/auth/login").get_data(as_text=True)).group(1)
        client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        token = re.search(r'name="csrf-token" content="([^"]+)"',  # type: ignore[union-attr]
                          client.get("/recognition/flowers").get_data(as_text=True)).group(1)
        clients.append((client, token))
    db.session.remove()
    barrier = threading.Barrier(THREADS)
    codes: list[int] = []

    def post(i: int) -> None:
        client, token = clients[i]
        barrier.wait(timeout=30)
        r = client.post("/recognition/flowers", data={"receiver_id": receiver_id, "count": 4, "message": f"race {i}",
                                                      "csrf_token": token})
        codes.append(r.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [303, 303] + [422] * (THREADS - 2)
    assert spent(giver_id) == flowers_given(giver_id) == 8


def test_racing_awards_to_one_person_keep_the_holding_exact(app, org, make_user) -> None:
    givers = [make_user(name=f"Giver {i}").id for i in range(THREADS)]
    badge_id, receiver_id = org.anyone.id, org.lina.id
    db.session.commit()

    def award(i: int) -> None:
        award_badge(db.session.get(User, givers[i]), AwardInput(badge_id, receiver_id, f"race {i}"))

    assert race(app, award).count("ok") == THREADS
    from perfapp.recognition.models import BadgeHolding

    holding = db.session.get(BadgeHolding, (badge_id, receiver_id))
    assert holding.count == THREADS
    assert holding.last_award_id == db.session.scalar(select(func.max(BadgeAward.id)))
