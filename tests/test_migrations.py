"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.extensions import db


def test_migrations_match_models(tmp_path) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        # A schema of its own inside the PostgreSQL test database, dropped afterwards.
        from perfapp.config import _normalise_db_url

        url = _normalise_db_url(url)
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migtest CASCADE"))
            conn.execute(text("CREATE SCHEMA migtest"))
        options = {"connect_args": {"options": "-csearch_path=migtest"}}
    else:
        url, options, admin = f"sqlite:///{tmp_path}/mig.db", {}, None

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = options

    app = create_app(Config)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA migtest CASCADE"))
            admin.dispose()
