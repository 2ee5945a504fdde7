"""Database plumbing: server connections that died while idle in the pool are replaced."""
from __future__ import annotations

from datetime import datetime

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


def test_a_prepared_statement_reads_like_the_session_and_refuses_what_it_cannot_run(app, make_user) -> None:
    """db.Prepared runs a compiled SELECT on the cursor: the same row as Core, types converted,
    None for no row; a statement whose parameters expand at execution is refused when built."""
    from sqlalchemy import bindparam, select

    from perfapp.core.db import Prepared
    from perfapp.people.models import User

    lina = make_user(name="李娜")
    by_email = select(User.id, User.created_at, User.active).where(User.email == bindparam("email"))
    prepared = Prepared(by_email)
    assert prepared.one_or_none({"email": lina.email}) == tuple(db.session.execute(by_email, {"email": lina.email}).one())
    assert prepared.one_or_none({"email": "nobody@example.com"}) is None
    expanding = Prepared(select(User.id).where(User.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="expanding"):
        expanding.one_or_none({"ids": [lina.id]})


def test_rows_reads_as_core_does_with_named_fields_processed_values_and_a_fallback(app, make_user) -> None:
    """db.rows runs a statement on the cursor: the same rows, in the same order, with the same names
    as Core's (a repeated column's label included), a datetime parameter processed as its type
    wants (SQLite stores text), and a statement with an expanding parameter runs through Core."""
    from sqlalchemy import bindparam, select

    from perfapp.core.db import rows
    from perfapp.people.models import Department, User

    make_user(name="李娜")
    make_user(name="Tom")
    since = datetime(2000, 1, 1)
    statement = (select(User.id, User.name, User.created_at, User.active, Department.id)
                 .outerjoin(Department, Department.id == User.department_id)
                 .where(User.created_at > bindparam("since")).order_by(User.id))
    core = db.session.execute(statement, {"since": since}).all()
    found = rows(statement, {"since": since})
    assert len(core) >= 2
    assert found == [tuple(row) for row in core]
    assert found[0]._fields == tuple(core[0]._fields) and found[0].created_at == core[0].created_at
    assert rows(statement, {"since": datetime(2999, 1, 1)}) == []
    expanding = select(User.id).where(User.id.in_(bindparam("ids", expanding=True))).order_by(User.id)
    assert [row.id for row in rows(expanding, {"ids": [core[0].id, core[1].id]})] == [core[0].id, core[1].id]
