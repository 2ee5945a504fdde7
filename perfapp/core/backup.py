"""`flask backup PATH` and `flask restore PATH`: the database and the voice notes in one archive.

The archive is a gzip'd tar holding manifest.json, the database (SQLite: a copy made with the
online backup API, so it is consistent while the app keeps writing; PostgreSQL: `pg_dump -Fc`,
one snapshot) and voice/ (the local voice folder). Voice notes in an S3 bucket are not copied:
back the bucket up with the store's own versioning or replication (a warning says so).

Restore refuses a database that already holds data unless --force: a restore meant for a fresh
server must never silently replace a live organisation.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL

from perfapp.core.db import utcnow
from perfapp.extensions import db

FORMAT = 1
#: Bookkeeping tables that a fresh, migrated database already fills: they don't make it "in use".
BOOKKEEPING = frozenset({"alembic_version"})


class BackupError(click.ClickException):
    """A backup or restore that can't go ahead; the message says why (shown by the CLI)."""


@dataclass
class Summary:
    engine: str
    tables: dict[str, int]
    voice_files: int


def row_counts() -> dict[str, int]:
    """Rows in every table of the connected database (by what is there, not by the models)."""
    names = sorted(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        return {name: conn.scalar(select(func.count()).select_from(table(name))) or 0 for name in names}


def _engine_name() -> str:
    return db.engine.dialect.name


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment holding it
    (so it never shows in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL client tools are needed)")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[:2000]}")


def _voice_dir(app: Flask) -> Path:
    return Path(app.config["VOICE_STORAGE_DIR"])


def _voice_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    # Upload temporaries (".upload-*") are half-written files, never data.
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def backup(dest: Path) -> Summary:
    """Write the archive to `dest` (atomically: a partial file never has the final name)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as Flask
    engine = _engine_name()
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfapp-backup-") as work:
        work_dir = Path(work)
        if engine == "sqlite":
            source = db.engine.url.database
            if not source or source == ":memory:":
                raise BackupError("an in-memory database can't be backed up")
            dump = work_dir / "database.sqlite3"
            src, dst = sqlite3.connect(source), sqlite3.connect(dump)
            try:
                with dst:
                    src.backup(dst)  # page by page, while other connections keep reading and writing
            finally:
                src.close()
                dst.close()
            copy = sqlite3.connect(dump)
            try:
                tables = {name: copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                          for (name,) in copy.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")}
            finally:
                copy.close()
        elif engine == "postgresql":
            dump = work_dir / "database.pgdump"
            conninfo, env = _libpq(db.engine.url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump),
                  "--dbname", conninfo], env)
            tables = row_counts()  # informational: the dump is its own snapshot
        else:
            raise BackupError(f"backups of {engine} databases are not supported")
        root = _voice_dir(app)
        files = _voice_files(root)
        manifest = {"format": FORMAT, "engine": engine, "created_at": utcnow().isoformat(),
                    "tables": tables, "voice_files": len(files),
                    "voice_in_s3": bool(app.config.get("VOICE_S3_BUCKET"))}
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
            for path in files:
                archive.add(path, arcname=f"voice/{path.relative_to(root).as_posix()}")
        os.replace(partial, dest)
    return Summary(engine, tables, len(files))


def database_in_use() -> bool:
    """True when any table other than the bookkeeping ones holds a row."""
    return any(n for name, n in row_counts().items() if name not in BOOKKEEPING)


def restore(source: Path, force: bool = False) -> Summary:
    """Replace the database and the voice folder with the archive's; refuses live data unless forced."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as Flask
    engine = _engine_name()
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with tempfile.TemporaryDirectory(prefix="perfapp-restore-") as work:
        work_dir = Path(work)
        try:
            with tarfile.open(source, "r:gz") as archive:
                # The "data" filter refuses absolute paths, "..", links out of the folder and devices.
                archive.extractall(work_dir, filter="data")
            manifest: dict[str, Any] = json.loads((work_dir / "manifest.json").read_text())
        except (tarfile.TarError, OSError, ValueError) as e:
            raise BackupError(f"{source} is not a perfapp backup: {e}") from e
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        if manifest.get("engine") != engine:
            raise BackupError(f"this backup is of a {manifest.get('engine')} database; "
                              f"DATABASE_URL points at {engine}")
        root = _voice_dir(app)
        if not force and database_in_use():
            raise BackupError("the database already holds data; restore with --force to replace it")
        if not force and _voice_files(root):
            raise BackupError(f"{root} already holds voice notes; restore with --force to replace them")
        db.session.remove()
        if engine == "sqlite":
            _restore_sqlite(work_dir / "database.sqlite3")
        else:
            conninfo, env = _libpq(db.engine.url)
            db.engine.dispose()  # pg_restore --clean drops tables: no pooled connection may hold them
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  "--exit-on-error", "--dbname", conninfo, str(work_dir / "database.pgdump")], env)
        if root.exists():
            for path in _voice_files(root):
                path.unlink()
        restored = work_dir / "voice"
        count = 0
        if restored.is_dir():
            for path in _voice_files(restored):
                target = root / path.relative_to(restored)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                count += 1
    db.engine.dispose()
    return Summary(engine, row_counts(), count)


def _restore_sqlite(copy: Path) -> None:
    target = db.engine.url.database
    if not target or target == ":memory:":
        raise BackupError("can't restore into an in-memory database")
    db.engine.dispose()
    src, dst = sqlite3.connect(copy), sqlite3.connect(target, timeout=30)
    try:
        with dst:
            src.backup(dst)  # replaces every page of the target, under SQLite's own locking
    finally:
        src.close()
        dst.close()


def integrity_ok() -> bool:
    """SQLite's PRAGMA integrity_check; PostgreSQL has no equivalent that fits here (True)."""
    if _engine_name() != "sqlite":
        return True
    with db.engine.connect() as conn:
        return conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Back up the database and the voice notes into one archive (PATH, a .tar.gz)."""
    summary = backup(path)
    rows = sum(summary.tables.values())
    click.echo(f"backed up {summary.engine}: {len(summary.tables)} tables, {rows} rows, "
               f"{summary.voice_files} voice files -> {path}")
    if current_app.config.get("VOICE_S3_BUCKET"):
        click.echo("warning: voice notes are in an S3 bucket and are not in this archive; "
                   "back the bucket up with its own versioning or replication", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by `flask backup` into this app's database and voice folder."""
    summary = restore(path, force=force)
    if not integrity_ok():
        raise BackupError("the restored SQLite database fails PRAGMA integrity_check")
    click.echo(f"restored {summary.engine}: {len(summary.tables)} tables, "
               f"{sum(summary.tables.values())} rows, {summary.voice_files} voice files")
