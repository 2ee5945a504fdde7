"""Crash safety: writes that were acknowledged survive SIGKILLs and a database restart, once each.

    .venv/bin/python -m bench.crash --engine sqlite
    .venv/bin/python -m bench.crash --engine postgresql      # a private cluster on port 5439

Starts gunicorn (several gthread workers) and the huey job consumer on 127.0.0.1 against a
fresh database, logs in 8 people and has each give feedback in a loop, the way the offline
outbox does: one Idempotency-Key per submission, reused for every retry after a connection
error, a 5xx or a 409 (so a write that was stored but whose answer was lost is not stored twice).
Meanwhile a killer SIGKILLs a random gunicorn worker every --kill-every seconds (the master
respawns it) and the job consumer every third time (restarted at once). With --engine
postgresql the script runs its own cluster (initdb/pg_ctl as the `postgres` OS user in a
temporary folder, never the shared server) and restarts it with `pg_ctl restart -m immediate`
mid-load: the app must answer 503 (never 500) while it is down, then recover.

Then it compares what was acknowledged (a 2xx received) with the rows stored:
lost = acknowledged but not stored, duplicated = stored more than once, partial = a feedback row
without the inbox entry written in the same transaction. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "crash-bench-password"
META_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Tally:
    acknowledged: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)   # never acknowledged (ran out of retries)
    statuses: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: str) -> None:
        with self.lock:
            self.statuses[status] += 1


# --- the database ----------------------------------------------------------------------------

class PrivateCluster:
    """A throwaway PostgreSQL cluster owned by the postgres OS user, on its own port."""

    def __init__(self, root: Path, port: int) -> None:
        self.data = root / "pg"
        self.port = port

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> str:
        self.data.mkdir(parents=True)
        shutil.chown(self.data, "postgres", "postgres")
        os.chmod(self.data.parent, 0o755)
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"), "-w",
                          "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "perfapp_crash"],
                       check=True)
        return f"postgresql://postgres@127.0.0.1:{self.port}/perfapp_crash"

    def restart_immediate(self, down_seconds: float) -> None:
        """What a crash and a supervisor restart look like: no checkpoint, connections cut, the
        server away for a few seconds (`pg_ctl restart -m immediate` with a gap to see it)."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        time.sleep(down_seconds)
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"), "-w",
                          "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare(url: str, people: int) -> None:
    """Migrate a fresh database and add the writers and the person they write to."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    script = (
        "from perfapp import create_app\n"
        "from perfapp.extensions import db\n"
        "from perfapp.people.models import User\n"
        "from perfapp.auth.services import hash_password\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    h = hash_password({PASSWORD!r})\n"
        f"    for n in range({people} + 1):\n"
        "        u = User(email=f'crash{n}@example.com', password_hash=h)\n"
        "        u.set_name(f'Crash {n}')\n"
        "        db.session.add(u)\n"
        "    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)


# --- the processes ---------------------------------------------------------------------------

def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "app:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login", timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def start_consumer(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN / "huey_consumer"), "perfapp.tasks.huey", "-w", "2", "-k", "thread", "-q"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# --- the writers -----------------------------------------------------------------------------

class Writer:
    """One person's phone: logged in once, then the outbox's way of sending."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""
        self.email = email

    def _get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=15) as r:
            return r.read().decode()

    def login(self) -> None:
        for _ in range(60):
            try:
                token = META_CSRF.search(self._get("/auth/login")).group(1)  # type: ignore[union-attr]
                body = urllib.parse.urlencode({"email": self.email, "password": PASSWORD,
                                               "csrf_token": token}).encode()
                self.opener.open(self.base + "/auth/login", body, timeout=15).read()
                self.csrf = META_CSRF.search(self._get("/")).group(1)  # type: ignore[union-attr]
                return
            except (OSError, AttributeError):
                time.sleep(0.5)
        raise SystemExit(f"{self.email} could not log in")

    def post(self, key: str, fields: dict[str, str]) -> str:
        """One try; the status as a string, or "connection" when no answer came."""
        body = urllib.parse.urlencode({**fields, "csrf_token": self.csrf}).encode()
        req = urllib.request.Request(self.base + "/feedback/new", body, headers={
            "Idempotency-Key": key, "X-CSRFToken": self.csrf, "Accept": "application/json"})
        try:
            with self.opener.open(req, timeout=30) as r:
                r.read()
                return str(r.status)
        except urllib.error.HTTPError as e:
            e.read()
            return str(e.code)
        except (OSError, urllib.error.URLError, ConnectionError):
            return "connection"


def write_loop(writer: Writer, number: int, recipient: int, stop: threading.Event, tally: Tally,
               give_up_after: float) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        key = f"crash-{number}-{n}-{uuid.uuid4().hex[:12]}"
        text = f"crash {number}-{n}"
        fields = {"recipient_id": str(recipient), "text": text, "kind": "praise", "visibility": "private"}
        started = time.monotonic()
        while True:
            status = writer.post(key, fields)
            tally.note(status)
            # A retry of a write whose worker died after its commit but before storing the
            # answer gets 409 until the marker is old enough to replay (ABANDONED_AFTER, 2 min):
            # hence the patient give-up below.
            if status in ("200", "201"):
                with tally.lock:
                    tally.acknowledged.append(text)
                break
            if status in ("connection", "409", "500", "502", "503", "504"):
                if time.monotonic() - started > give_up_after:
                    with tally.lock:
                        tally.given_up.append(text)
                    break
                with tally.lock:
                    tally.retries += 1
                time.sleep(0.3)  # the same key again, like the outbox's retry
                continue
            with tally.lock:  # 4xx: refused for good (should not happen here)
                tally.given_up.append(text)
            break


# --- the run ---------------------------------------------------------------------------------

def run(engine: str, seconds: float, writers: int, workers: int, kill_every: float, port: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"perfapp-crash-{engine}-"))
    cluster: PrivateCluster | None = None
    gunicorn = consumer = None
    try:
        if engine == "postgresql":
            cluster = PrivateCluster(work, 5439)
            url = cluster.start()
        else:
            url = f"sqlite:///{work}/crash.db"
        prepare(url, writers)
        env = {**os.environ, "DATABASE_URL": url, "HUEY_SQLITE_PATH": str(work / "huey.db"),
               "VOICE_STORAGE_DIR": str(work / "voice"), "SECRET_KEY": "crash-bench", "WEB_CONCURRENCY": str(workers)}
        gunicorn = start_gunicorn(env, port, workers)
        consumer = start_consumer(env)
        base = f"http://127.0.0.1:{port}"
        people = [Writer(base, f"crash{n}@example.com") for n in range(1, writers + 1)]
        for p in people:
            p.login()
        from sqlalchemy import create_engine, text

        from perfapp.config import _normalise_db_url

        db = create_engine(_normalise_db_url(url))
        with db.connect() as conn:
            recipient = conn.execute(text("SELECT id FROM person WHERE email = 'crash0@example.com'")).scalar()

        stop, tally = threading.Event(), Tally()
        threads = [threading.Thread(target=write_loop, args=(p, i, recipient, stop, tally, 150.0))
                   for i, p in enumerate(people, 1)]
        for t in threads:
            t.start()
        kills = Counter[str]()
        restart_at = time.monotonic() + seconds / 2 if cluster else None
        end = time.monotonic() + seconds
        rng = random.Random(7)
        outage_statuses: Counter[str] = Counter()
        while time.monotonic() < end:
            time.sleep(kill_every)
            pids = worker_pids(gunicorn.pid)
            if pids:
                os.kill(rng.choice(pids), signal.SIGKILL)
                kills["gunicorn worker"] += 1
            if kills["gunicorn worker"] % 3 == 0:
                consumer.send_signal(signal.SIGKILL)
                consumer.wait()
                consumer = start_consumer(env)
                kills["job consumer"] += 1
            if restart_at is not None and time.monotonic() >= restart_at:
                restart_at = None
                before = Counter(tally.statuses)
                assert cluster is not None
                cluster.restart_immediate(down_seconds=4)
                kills["postgresql restart"] += 1
                outage_statuses = Counter(tally.statuses) - before
        stop.set()
        for t in threads:
            t.join(timeout=200)

        db.dispose()  # its pooled connection died with the PostgreSQL restart
        with db.connect() as conn:
            stored = Counter(dict(conn.execute(text(
                "SELECT text, count(*) FROM feedback WHERE text LIKE 'crash %' GROUP BY text")).all()))
            partial = conn.execute(text(
                "SELECT count(*) FROM feedback f WHERE f.text LIKE 'crash %' AND NOT EXISTS "
                "(SELECT 1 FROM notification n WHERE n.feedback_id = f.id)")).scalar()
            integrity = (conn.execute(text("PRAGMA integrity_check")).scalar() if engine == "sqlite" else "n/a")
        db.dispose()
        acked = set(tally.acknowledged)
        lost = acked - set(stored)
        duplicated = sum(n - 1 for n in stored.values() if n > 1)
        print(f"\n== crash safety, {engine}: {writers} writers, {workers} gunicorn workers, {seconds:.0f} s")
        print(f"kills: {dict(kills)}")
        print(f"answers seen: {dict(sorted(tally.statuses.items()))}  (retries with the same key: {tally.retries})")
        if cluster:
            print(f"answers during the PostgreSQL restart window: {dict(outage_statuses)}")
        print(f"writes acknowledged: {len(acked)}")
        print(f"rows stored:         {sum(stored.values())} ({len(stored)} distinct)")
        print(f"lost:                {len(lost)}")
        print(f"duplicated:          {duplicated}")
        print(f"never acknowledged:  {len(tally.given_up)} (of which stored: "
              f"{len(set(tally.given_up) & set(stored))})")
        print(f"partial rows:        {partial}")
        print(f"500 answers:         {tally.statuses.get('500', 0)}")
        print(f"integrity_check:     {integrity}")
    finally:
        for proc in (consumer, gunicorn):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=1.0, help="seconds between SIGKILLs")
    parser.add_argument("--port", type=int, default=8114)
    args = parser.parse_args()
    run(args.engine, args.seconds, args.writers, args.workers, args.kill_every, args.port)


if __name__ == "__main__":
    main()
