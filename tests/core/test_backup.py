"""Restore drill: make data, back it up, restore it into a fresh database and voice folder, and
check the copy (integrity, row counts per table, voice files byte for byte). On SQLite always,
on PostgreSQL when TEST_DATABASE_URL is set and pg_dump/pg_restore are installed."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.core.backup import integrity_ok, row_counts
from perfapp.extensions import db
from tests.personal.conftest import NAME, World, voice_dir, world  # noqa: F401  (fixtures)

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture()
def fresh(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """A second app on an empty database of the same engine, with an empty voice folder."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    admin_engine = None
    if url.startswith("postgresql"):
        if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
            pytest.skip("pg_dump/pg_restore not installed")
        name = make_url(url).database + "_restore"
        admin_engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
    else:
        target = f"sqlite:///{tmp_path}/restored.db"

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = target
        VOICE_STORAGE_DIR = str(tmp_path / "restored-voice")

    application = create_app(Config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin_engine is not None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def test_restore_drill(app: Flask, world: World, fresh: Flask, tmp_path: Path, voice_dir: Path) -> None:  # noqa: F811
    archive = tmp_path / "backups" / "perfapp.tar.gz"
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "4 voice files" in result.output and archive.is_file()
    assert not list(archive.parent.glob("*.partial"))
    source_counts = row_counts()
    assert source_counts["person"] == 6 and source_counts["feedback"] == 4

    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert integrity_ok()
        assert row_counts() == source_counts
        assert db.session.execute(text("SELECT name FROM person WHERE email = 'xiaoxue.zhao@example.com'")
                                  ).scalar() == NAME
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()
    assert _files(Path(fresh.config["VOICE_STORAGE_DIR"])) == _files(voice_dir)


def test_restore_refuses_a_database_in_use_unless_forced(app: Flask, world: World, fresh: Flask,  # noqa: F811
                                                         tmp_path: Path) -> None:
    archive = tmp_path / "perfapp.tar.gz"
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    with fresh.app_context():
        runner = fresh.test_cli_runner()
        assert runner.invoke(args=["restore", str(archive)]).exit_code == 0
        db.session.execute(text("UPDATE person SET title = 'changed since'"))
        db.session.commit()
        refused = runner.invoke(args=["restore", str(archive)])
        assert refused.exit_code != 0 and "already holds data" in refused.output
        assert db.session.execute(text("SELECT count(*) FROM person WHERE title = 'changed since'")).scalar() == 6
        db.session.remove()
        forced = runner.invoke(args=["restore", "--force", str(archive)])
        assert forced.exit_code == 0, forced.output
        assert db.session.execute(text("SELECT count(*) FROM person WHERE title = 'changed since'")).scalar() == 0
        db.session.remove()


def test_restore_refuses_what_is_not_a_backup(fresh: Flask, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["restore", str(junk)])
        assert result.exit_code != 0 and "is not a perfapp backup" in result.output
        db.session.remove()
