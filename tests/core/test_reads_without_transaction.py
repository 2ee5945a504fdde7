"""PostgreSQL: a page view's reads run outside a transaction until its first write
(perfapp.core.db._reads_without_transaction): no BEGIN and ROLLBACK round trips for reads, and a
GET that does write still writes in one transaction."""
from __future__ import annotations

import os

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Tag

pytestmark = pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
                                reason="PostgreSQL only")


def _raw():  # type: ignore[no-untyped-def]
    return db.session.connection().connection.dbapi_connection


def test_a_page_views_reads_open_no_transaction(app: Flask) -> None:
    with app.test_request_context("/", method="GET"):
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 0
        raw = _raw()
        assert raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE
        db.session.remove()


def test_a_form_post_reads_in_its_transaction(app: Flask) -> None:
    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(func.count()).select_from(Tag))
        raw = _raw()
        assert not raw.autocommit and raw.info.transaction_status == TransactionStatus.INTRANS
        db.session.remove()


def test_a_get_that_writes_writes_in_one_transaction(app: Flask) -> None:
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(func.count()).select_from(Tag))
        db.session.add_all([Tag(key="a", name_en="A", name_zh="甲", kind="free"),
                            Tag(key="b", name_en="B", name_zh="乙", kind="free")])
        db.session.flush()  # the first INSERT switched the connection to a transaction
        assert _raw().info.transaction_status == TransactionStatus.INTRANS
        db.session.rollback()  # e.g. the request failed: neither row stays
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 0


def test_a_locking_select_holds_its_lock_until_commit(app: Flask) -> None:
    with app.app_context():
        db.session.add(Tag(key="a", name_en="A", name_zh="甲", kind="free"))
        db.session.commit()
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(Tag).where(Tag.key == "a").with_for_update())
        assert _raw().info.transaction_status == TransactionStatus.INTRANS  # the row stays locked
        db.session.rollback()
        db.session.remove()


def test_the_pool_gets_its_connections_back_as_they_were(app: Flask) -> None:
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(func.count()).select_from(Tag))
        raw = _raw()
        db.session.remove()
    assert not raw.autocommit  # a job or command checking it out next gets a transaction
