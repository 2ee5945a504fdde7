"""What the benchmarks share: the seeded database, a gunicorn on a free local port, a login.

Run the benchmarks as modules from the project root (`.venv/bin/python -m bench.pages`), so
they import the project and this module (`bench.server`) without touching sys.path.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, literal, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
DEFAULT_DB = OUT / "load.db"
EMAIL, PASSWORD = "employee@example.com", "perfapp-demo"
# One browser: the login and every measured request say the same User-Agent. (Flask-Login's
# session protection marks a session "not fresh" when it changes, which rewrites the cookie;
# wrk, replaying a fixed cookie, would then see that on every request, as no browser would.)
USER_AGENT = "perfapp-bench/1 (like a phone)"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def database_url(arg: str | None) -> str:
    """--database-url, else $DATABASE_URL, else the benchmark's own SQLite file."""
    return arg or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DB}"


def flask(url: str, *args: str, check: bool = True) -> int:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=check).returncode


def ensure_seeded(url: str, people: int, feedback: int) -> tuple[int, int]:
    """Migrate, and seed-load an empty database; returns (employee id, a teammate's id)."""
    from sqlalchemy import create_engine

    from perfapp.config import _normalise_db_url

    OUT.mkdir(parents=True, exist_ok=True)
    engine = create_engine(_normalise_db_url(url))
    if flask(url, "db", "upgrade", check=False):
        # Newer tables were made from the models (complete_schema) before their migration
        # existed: complete the database from the models and mark it as migrated.
        complete_schema(engine)
        flask(url, "db", "stamp", "head")
    with engine.connect() as conn:
        empty = conn.execute(text("SELECT count(*) FROM person")).scalar() == 0
    if empty:
        print(f"seeding {url} with {people} people and {feedback} feedback…", flush=True)
        flask(url, "seed-load", "--people", str(people), "--feedback", str(feedback))
    complete_schema(engine)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT me.id, mate.id FROM person me JOIN person mate ON mate.manager_id = me.manager_id "
            "WHERE me.email = :email AND mate.id <> me.id ORDER BY mate.id LIMIT 1"), {"email": EMAIL}).first()
    engine.dispose()
    if row is None:
        raise SystemExit(f"{EMAIL} or a teammate is missing: not a seed-load database?")
    return row[0], row[1]


def complete_schema(engine: Engine) -> None:
    """Bring an older benchmark database up to the models without reseeding it.

    Features add tables, columns and index columns before their migration exists (the lead
    writes one at the end), so a database seeded earlier lacks them: create missing tables,
    add missing columns (NOT NULL ones with their scalar default), build missing indexes and
    rebuild those whose columns changed. Only for benchmark databases; real ones get `flask db upgrade`.
    """
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateIndex, DropIndex

    from perfapp import models  # noqa: F401  (every table on the metadata)
    from perfapp.extensions import db

    metadata = db.metadata
    with engine.begin() as conn:
        metadata.create_all(conn)  # only what is missing
        found = inspect(conn)
        for table in metadata.sorted_tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                clause = ""
                default = column.default.arg if column.default is not None and column.default.is_scalar else None
                if not column.nullable and default is not None:
                    value = literal(default, column.type).compile(
                        dialect=engine.dialect, compile_kwargs={"literal_binds": True})
                    clause = f" NOT NULL DEFAULT {value}"
                print(f"adding {table.name}.{column.name} {kind}{clause}", flush=True)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{clause}'))
            indexes = {i["name"]: i["column_names"] for i in found.get_indexes(table.name)}
            for index in table.indexes:
                columns = [c.name for c in index.columns]
                if index.name not in indexes:
                    print(f"building index {index.name} on {columns}", flush=True)
                    conn.execute(CreateIndex(index))
                elif indexes[index.name] != columns:
                    print(f"rebuilding index {index.name} on {columns}", flush=True)
                    conn.execute(DropIndex(index))
                    conn.execute(CreateIndex(index))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the gunicorn master and its workers so far (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended while we looked
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick


@contextmanager
def gunicorn(url: str, cache: bool = True) -> Iterator[Server]:
    """gunicorn with gunicorn.conf.py on 127.0.0.1:<free port>, and the job consumer; yields the
    server, then stops both by PID.

    cache=False switches off the kept pages and the card cache (the render path alone)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    # bench.load logs up to thousands of people in from this one address, which the per-address
    # login limit (perfapp.core.ratelimit) exists to stop; the other limits stay as in production
    # (its writes are spread over many people, far below each person's limit).
    env.setdefault("RATELIMIT_LOGIN_ADDRESS", "1000000 per minute")
    if not cache:
        env.update(CARD_CACHE="0", PAGE_CACHE="0")
    env.pop("ACCESS_LOG", None)
    OUT.mkdir(parents=True, exist_ok=True)
    # The job consumer runs beside gunicorn as in production (`make run`): its periodic jobs
    # (pruning the changes kept pages are checked against, every minute) are part of the load.
    env.setdefault("HUEY_SQLITE_PATH", str(OUT / "huey.db"))
    with (OUT / "gunicorn.log").open("wb") as log, (OUT / "huey.log").open("wb") as jobs_log:
        server = subprocess.Popen(
            # No control socket: its default path is shared by every gunicorn of this user.
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--no-control-socket", "app:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        jobs = subprocess.Popen([str(BIN / "huey_consumer"), "perfapp.tasks.huey", "-w", "1", "-k", "thread"],
                                cwd=ROOT, env=env, stdout=jobs_log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(server, base)
            yield Server(base, server.pid)
        finally:
            for process in (server, jobs):
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def autovacuum_stand_in(url: str) -> bool:
    """On a PostgreSQL server whose autovacuum is off (this machine's is), VACUUM (ANALYZE) now, as
    autovacuum would have by then; returns whether it did. Without it the planner keeps the
    statistics of the seed's last ANALYZE: login_session empty (so every login query read all the
    sessions in a sequential scan) and person_change a few rows (so the changes were counted by
    scanning the whole table), and a measure of a misconfigured database grows worse cell by cell."""
    if not url.startswith("postgresql"):
        return False
    from sqlalchemy import create_engine

    from perfapp.config import _normalise_db_url

    engine = create_engine(_normalise_db_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SHOW autovacuum")).scalar_one() == "on":
                return False
            conn.execute(text("VACUUM (ANALYZE)"))
            return True
    finally:
        engine.dispose()


def _wait_for(server: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {OUT / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def run_line(args: Any, engine: str, url: str) -> str:
    """The heading of a wrk table: what ran, against what, on how busy a machine."""
    caches = "page and card caches OFF" if args.no_cache else "page and card caches on (warm after the warm-up)"
    return (f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} on {engine} "
            f"({url.rsplit('/', 1)[-1]}), gunicorn.conf.py, logged in as {EMAIL}; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {caches}")


def log_in(base: str, email: str = EMAIL) -> str:
    """Log in through the form like a browser (page, CSRF token, post); returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    opener.addheaders = [("User-Agent", USER_AGENT)]
    match = CSRF.search(opener.open(f"{base}/auth/login").read().decode())
    if not match:
        raise SystemExit("no csrf_token on the login page")
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": match.group(1)})
    try:
        opener.open(f"{base}/auth/login", data=form.encode())
        raise SystemExit("login did not redirect: wrong password or not a seed-load database?")
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise SystemExit(f"login answered {e.code}") from None
    # Follow the redirect as a browser would: the first page after login may update the session
    # cookie (a fresh CSRF secret), which a browser keeps and wrk, sending a fixed cookie, would not.
    opener.open(f"{base}/").read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def compress_static() -> None:
    """What `make run` does before serving: precompressed .br/.gz next to each static file."""
    subprocess.run([sys.executable, "-m", "whitenoise.compress", "-q", str(ROOT / "static")], check=True,
                   stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class WrkFigures:
    """What wrk --latency printed: requests/s, their count, p99, non-2xx/3xx, socket errors."""

    rps: float
    count: int
    p99_ms: float
    non_2xx: int
    socket_errors: str


def parse_wrk(out: str) -> WrkFigures:
    """Read wrk --latency's report (the one place its format is parsed)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not (rps and count and p99):
        raise SystemExit(f"wrk printed no figures:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return WrkFigures(float(rps.group(1)), int(count.group(1)),
                      float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)],
                      int(errors.group(1)) if errors else 0, socket_errors.group(1) if socket_errors else "")
