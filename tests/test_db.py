"""Database plumbing: server connections that died while idle in the pool are replaced."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from perfapp.core import db as core_db
from perfapp.extensions import db


def test_a_server_connection_dropped_while_idle_is_replaced(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = db.engine
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no server connections")
    db.session.remove()
    with engine.connect() as conn:  # a pooled connection, back in the pool afterwards
        conn.execute(text("SELECT 1"))
    killer = create_engine(engine.url, poolclass=NullPool)
    with killer.connect() as conn:  # a server restart, as far as the pool can tell
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    assert killed >= 1
    monkeypatch.setattr(core_db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle now
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()  # the pool's other killed connections: the next tests start afresh
