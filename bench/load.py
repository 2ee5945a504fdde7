"""An organisation's traffic: many people's sessions in rotation while others write.

    .venv/bin/python -m bench.load                                  # SQLite: bench/out/load.db
    .venv/bin/python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/perfapp_bench
    .venv/bin/python -m bench.load --viewers 1000 --writes 0,1,5,20 --duration 10s

N people of the seed-load organisation (default 1,000) log in through the login form; wrk then
sends every request as the next of them (a Lua script rotates through their cookies, so no two
requests in a row come from one viewer), while writer threads in this process give feedback,
reactions and flowers across the organisation at W writes per second, as random people of the N.
Each page is measured at each W right after /healthz (a route that never touches the database),
its yardstick: on two cores wrk, the writer and the server share the CPU, and what else the machine
does (PostgreSQL's autovacuum after the writes, say) moves /healthz by 2x within one run, so each
page's ratio is to the /healthz measured just before it, under the same writes.

Each page is one viewer's own: their home feed, the praise wall, a colleague's profile, a
colleague's badge wall (the colleague differs per viewer), the goal tree's first level and a colleague's
goals (issue 10), and their own results of the finished review cycle seed-load writes (issue 11).
--pages picks some of them. People of a seed-load database have
no password except the demo accounts; the benchmark gives the N it uses the demo password
(the same hash), a change to the benchmark's own database only. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.pages import BROWSER_HEADERS
from bench.server import (
    EMAIL,
    OUT,
    USER_AGENT,
    NoRedirect,
    Server,
    autovacuum_stand_in,
    database_url,
    ensure_seeded,
    gunicorn,
    log_in,
    parse_wrk,
)
from perfapp import models as _all_models  # noqa: F401  (loads the domains in the order they import each other)
from perfapp.config import _normalise_db_url
from perfapp.reactions.models import REACTIONS
from perfapp.recognition.flowers import MAX_ALLOWANCE

RATIO_TARGET, P99_TARGET_MS = 0.25, 50.0
META_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')

# wrk: each request is the next line of the rotation file ("cookie<TAB>path"); every wrk thread
# starts at its own offset. Headers given on the command line are kept (wrk.format would drop them).
ROTATE_LUA = """
local rows = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local cookie, path = line:match("^([^\\t]*)\\t(.+)$")
    rows[#rows + 1] = {cookie, path}
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#rows)
end
request = function()
  i = i % #rows + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  if rows[i][1] ~= "" then headers["Cookie"] = rows[i][1] end
  return wrk.format("GET", rows[i][2], headers)
end
"""


@dataclass
class Viewer:
    person_id: int
    email: str
    colleague_id: int
    cookie: str = ""
    csrf: str = ""


@dataclass
class Measured:
    page: str
    writes: int
    rps: float
    p99_ms: float
    non_2xx: int
    socket_errors: str = ""
    healthz_rps: float = 0.0  # the yardstick measured just before this page


@dataclass
class WriterStats:
    done: Counter[str] = field(default_factory=Counter)
    late: int = 0  # writes that started behind schedule (the writers could not keep up)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the writer threads share these counts

    def count(self, outcome: str = "", late: bool = False) -> None:
        with self.lock:
            if outcome:
                self.done[outcome] += 1
            self.late += late


def pick_viewers(url: str, n: int) -> list[Viewer]:
    """The N people who read (and write): active people with a colleague, demo employee first, then a
    fixed sample of the organisation (as many managers among them as in it). They get the demo
    password and the largest flower allowance HR can set (the benchmark's own database only)."""
    engine = create_engine(_normalise_db_url(url))
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT p.id, p.email, (SELECT m.id FROM person m WHERE m.manager_id = p.manager_id "
            "AND m.id <> p.id AND m.active ORDER BY m.id LIMIT 1) "
            "FROM person p WHERE p.active AND p.manager_id IS NOT NULL AND p.email IS NOT NULL "
            # A fixed pseudo-random sample, so the N are like the organisation: ordered by id, they
            # would be its first rows, which the seed makes the managers (the heaviest home feeds).
            "ORDER BY CASE WHEN p.email = :email THEN 0 ELSE 1 END, (p.id * 7919) % 10007, p.id LIMIT :n"),
            {"email": EMAIL, "n": n}).all()
        demo_hash = conn.execute(text("SELECT password_hash FROM person WHERE email = :e"),
                                 {"e": EMAIL}).scalar_one()
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            conn.execute(text(f"UPDATE person SET password_hash = :h WHERE id IN ({','.join(map(str, chunk))}) "
                              "AND (password_hash IS NULL OR password_hash <> :h)"), {"h": demo_hash})
            # The writer gives flowers as them, run after run: at the default allowance most were
            # used up after a few runs in a month, and the flowers were refused (422), not written.
            conn.execute(text("INSERT INTO flower_quota (user_id, monthly, updated_at) "
                              f"SELECT id, :most, CURRENT_TIMESTAMP FROM person WHERE id IN ({','.join(map(str, chunk))}) "
                              "ON CONFLICT (user_id) DO UPDATE SET monthly = :most"), {"most": MAX_ALLOWANCE})
    engine.dispose()
    return [Viewer(r[0], r[1], r[2] or r[0]) for r in rows]


def log_in_all(base: str, viewers: list[Viewer], url: str) -> None:
    """Every viewer logs in through the form (8 at a time), keeping its cookie and CSRF token.

    The cookies are kept in bench/out/ by database for the next run: a viewer whose kept session
    still opens their home page is not logged in again (logging 1,000 people in takes minutes:
    a password hash each)."""
    kept_file = OUT / f"sessions-{hashlib.sha256(url.encode()).hexdigest()[:12]}.json"
    kept: dict[str, str] = json.loads(kept_file.read_text()) if kept_file.exists() else {}

    def home_csrf(v: Viewer) -> str | None:
        request = urllib.request.Request(base + "/", headers={**BROWSER_HEADERS, "Cookie": v.cookie,
                                                              "Accept-Encoding": "identity"})
        with urllib.request.build_opener(NoRedirect()).open(request) as r:
            match = META_CSRF.search(r.read().decode()) if r.status == 200 else None
        return match.group(1) if match else None

    def one(v: Viewer) -> None:
        if v.email in kept:
            v.cookie = kept[v.email]
            try:
                if csrf := home_csrf(v):
                    v.csrf = csrf
                    return
            except urllib.error.HTTPError:  # a redirect to the login page: the session ended
                pass
        v.cookie = log_in(base, v.email)
        csrf = home_csrf(v)
        if not csrf:
            raise SystemExit(f"no CSRF token on {v.email}'s home page")
        v.csrf = csrf

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, viewers))
    logged_in = sum(v.cookie != kept.get(v.email) for v in viewers)
    kept_file.write_text(json.dumps({**kept, **{v.email: v.cookie for v in viewers}}))
    print(f"{len(viewers)} people's sessions ready in {time.monotonic() - started:.0f} s "
          f"({logged_in} logged in, the others' sessions kept from an earlier run)", flush=True)


def finished_cycle_id(url: str) -> int | None:
    """The latest finished review cycle (seed-load writes one with everyone's reviews answered)."""
    engine = create_engine(_normalise_db_url(url))
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM review_cycle WHERE status = 'closed' "
                                  "ORDER BY closed_at DESC, id DESC LIMIT 1")).scalar()
    engine.dispose()
    return found


def recent_feedback_ids(url: str) -> list[int]:
    engine = create_engine(_normalise_db_url(url))
    with engine.connect() as conn:
        ids = list(conn.execute(text(
            "SELECT id FROM feedback WHERE visibility = 'public' ORDER BY id DESC LIMIT 200")).scalars())
    engine.dispose()
    return ids


#: writer threads: one thread making one request at a time could not keep 20 writes a second
#: (each takes 30-100 ms on a loaded server: thousands started late per W = 20 run), so each of
#: these takes every WRITERS-th slot of the schedule
WRITERS = 4


def writer(base: str, viewers: list[Viewer], feedback_ids: list[int], rate: float,
           stop: threading.Event, stats: WriterStats, index: int = 0, step: int = 1) -> None:
    """W writes per second on a fixed schedule: feedback, a reaction, flowers, in turn (this thread
    the slots index, index + step, ... of it)."""
    rng = random.Random(7 + index)
    opener = urllib.request.build_opener(NoRedirect())  # a 303 after a plain form is an answer
    interval = step / rate
    due = time.monotonic() + index / rate
    n = index
    while not stop.is_set():
        now = time.monotonic()
        if now < due:
            stop.wait(due - now)
            continue
        if now - due > interval:
            stats.count(late=True)
        due += interval
        author = rng.choice(viewers)
        other = rng.choice(viewers)
        if other is author:
            other = viewers[(viewers.index(author) + 1) % len(viewers)]
        kind = ("feedback", "reaction", "flowers")[n % 3]
        n += step
        if kind == "feedback":
            path = "/feedback/new"
            form = {"recipient_id": other.person_id, "text": f"Thanks for the help today ({n})",
                    "kind": "praise", "visibility": "public"}
        elif kind == "reaction" and feedback_ids:
            target = rng.choice(feedback_ids)
            path = f"/reactions/feedback/{target}/react"
            form = {"on": rng.choice(REACTIONS)}
        else:
            path = "/recognition/flowers"
            form = {"receiver_id": other.person_id, "count": 1, "message": "谢谢"}
        body = urllib.parse.urlencode({**form, "csrf_token": author.csrf}).encode()
        headers = {"Cookie": author.cookie, "User-Agent": USER_AGENT, "X-CSRFToken": author.csrf,
                   "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}
        if kind == "reaction":
            headers["HX-Target"] = f"rx-feedback-{target}"  # what the page's reaction bar asks for
        request = urllib.request.Request(base + path, data=body, headers=headers)
        try:
            with opener.open(request, timeout=30) as r:
                stats.count(f"{kind} {r.status}")
        except urllib.error.HTTPError as e:
            stats.count(f"{kind} {e.code}")  # e.g. 422: this month's flowers are used up
        except OSError as e:
            stats.count(f"{kind} {type(e).__name__}")


def cpu_by_process() -> Counter[str]:
    """CPU seconds so far of every process on the machine, by command name (Linux /proc): with
    --cpu, a cell's difference says where each request's time went (gunicorn, postgres, wrk...)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:  # the process ended while we looked
            continue
        fields = rest.split()
        seconds[head.split("(", 1)[1][:15]] += (int(fields[11]) + int(fields[12])) / tick
    return seconds


def wrk(server: Server, rotation: Path, lua: Path, args: argparse.Namespace, duration: str) -> tuple[float, float, int, str]:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}", "--latency",
           "-s", str(lua)]
    for name, value in BROWSER_HEADERS.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, server.base, "--", str(rotation)], capture_output=True, text=True,
                         check=True).stdout
    figures = parse_wrk(out)
    return figures.rps, figures.p99_ms, figures.non_2xx, figures.socket_errors

def warm_up(server: Server, rotation: Path, lua: Path, args: argparse.Namespace, name: str) -> None:
    """Run a page until its requests/s stop rising (two 5 s runs within 5 %), at least --warmup and
    at most --warmup-max: a running organisation's workers have every viewer's page and cards in
    their caches. A profile is rendered once per viewer and worker with 20 cards of its own, so
    with 1,000 viewers it took ~40 s to reach its steady 280 req/s from 77 (a fixed 20 s measured
    the warm-up, not the page; review results, rendered in ~90 ms once per viewer and worker, need
    more than a minute)."""
    started = time.monotonic()
    wrk(server, rotation, lua, args, args.warmup)
    previous = 0.0
    while time.monotonic() - started < parse_seconds(args.warmup_max):
        rps = wrk(server, rotation, lua, args, "5s")[0]
        if previous and abs(rps - previous) <= 0.05 * previous:
            break
        previous = rps
    print(f"warmed {name} in {time.monotonic() - started:.0f} s", flush=True)


def parse_seconds(text: str) -> float:
    return float(text[:-1]) * (60 if text.endswith("m") else 1) if text[-1] in "sm" else float(text)


PAGES = ("home", "praise wall", "profile", "badge wall", "goal tree", "goals", "results")


def pages(viewers: list[Viewer], cycle_id: int | None = None,
          wanted: tuple[str, ...] = PAGES) -> dict[str, list[tuple[str, str]]]:
    """Each page kind as (cookie, path) per viewer, in the order the rotation visits them (with
    /healthz, the yardstick, always first)."""
    every = {
        "/healthz": [("", "/healthz")],
        "home": [(v.cookie, "/") for v in viewers],
        "praise wall": [(v.cookie, "/walls/") for v in viewers],
        "profile": [(v.cookie, f"/people/{v.colleague_id}") for v in viewers],
        "badge wall": [(v.cookie, f"/walls/people/{v.colleague_id}") for v in viewers],
        # Issue 10's pages: the goal tree's first level and a colleague's goals.
        "goal tree": [(v.cookie, "/goals/tree") for v in viewers],
        "goals": [(v.cookie, f"/goals/people/{v.colleague_id}") for v in viewers],
        # Issue 11: each viewer's own results of the finished cycle (a reviewee reads their own).
        "results": [(v.cookie, f"/reviews/cycles/{cycle_id}/people/{v.person_id}") for v in viewers],
    }
    return {name: rows for name, rows in every.items() if name == "/healthz" or name in wanted}


def check_pages(base: str, rows: list[tuple[str, str]]) -> None:
    """A logged-in 200 for a sample (wrk would happily measure redirects to the login page)."""
    for cookie, path in rows[:3]:
        request = urllib.request.Request(base + path, headers={**BROWSER_HEADERS, "Cookie": cookie})
        with urllib.request.urlopen(request) as r:
            if r.status != 200 or "/auth/login" in r.url:
                raise SystemExit(f"{path} answered {r.status} at {r.url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else sqlite bench/out/load.db")
    parser.add_argument("--people", type=int, default=10_000, help="seed size for an empty database")
    parser.add_argument("--feedback", type=int, default=1_000_000, help="seed size for an empty database")
    parser.add_argument("--viewers", type=int, default=1000, help="people whose sessions rotate")
    parser.add_argument("--writes", default="0,1,5,20", help="writes per second, comma-separated")
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--yardstick", default="5s", help="how long /healthz is measured before each page")
    parser.add_argument("--warmup", default="60s", help="wrk run per page before measuring (fills the caches); "
                        "then 5 s runs until requests/s stop rising")
    parser.add_argument("--warmup-max", default="240s", help="longest warm-up per page")
    parser.add_argument("--rewarm", default="15s", help="wrk run of a page right before each of its cells "
                        "(its viewers' pages checked again, as they are in turn in an organisation)")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true", help="switch off the card cache")
    parser.add_argument("--cpu", action="store_true",
                        help="print each cell's CPU per request by process (gunicorn, postgres, wrk...)")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"which pages, comma-separated (default: all of {', '.join(PAGES)})")
    args = parser.parse_args()
    wanted = tuple(p.strip() for p in args.pages.split(",") if p.strip())
    if unknown := [p for p in wanted if p not in PAGES]:
        raise SystemExit(f"unknown page(s): {', '.join(unknown)}; choose from {', '.join(PAGES)}")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make system-deps)")

    url = database_url(args.database_url)
    ensure_seeded(url, args.people, args.feedback)
    viewers = pick_viewers(url, args.viewers)
    rates = [int(w) for w in args.writes.split(",")]
    results: list[Measured] = []
    writer_notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="perfapp-load-") as tmp, \
            gunicorn(url, cache=not args.no_cache) as server:
        log_in_all(server.base, viewers, url)
        if autovacuum_stand_in(url):
            print("autovacuum is off on this PostgreSQL server: VACUUM (ANALYZE) runs before each cell, "
                  "as autovacuum would keep the planner's statistics current", flush=True)
        feedback_ids = recent_feedback_ids(url)
        lua = Path(tmp) / "rotate.lua"
        lua.write_text(ROTATE_LUA)
        cycle_id = finished_cycle_id(url)
        if "results" in wanted and cycle_id is None:
            raise SystemExit("no finished review cycle: this database predates it, seed it again (seed-load --force)")
        kinds = pages(viewers, cycle_id, wanted)
        files = {}
        for name, rows in kinds.items():
            check_pages(server.base, rows)
            files[name] = Path(tmp) / f"{len(files)}.tsv"
            files[name].write_text("".join(f"{c}\t{p}\n" for c, p in rows))
        for name in [k for k in kinds if k != "/healthz"]:
            warm_up(server, files[name], lua, args, name)
        for rate in rates:
            stop, stats = threading.Event(), WriterStats()
            threads = [threading.Thread(target=writer, args=(server.base, viewers, feedback_ids, rate, stop, stats,
                                                             i, WRITERS), daemon=True)
                       for i in range(WRITERS if rate else 0)]
            for thread in threads:
                thread.start()
            for name in kinds:
                if name == "/healthz":
                    continue
                # Pages kept by their changes are checked by their whole view every
                # PAGE_RECHECK_VIEW_SECONDS, for each viewer in turn; after the other pages' cells
                # every viewer's check would fall due in this cell at once, as in no organisation.
                autovacuum_stand_in(url)
                wrk(server, files[name], lua, args, args.rewarm)
                ceiling = wrk(server, files["/healthz"], lua, args, args.yardstick)[0]
                before = cpu_by_process() if args.cpu else Counter()
                rps, p99, non_2xx, socket_errors = wrk(server, files[name], lua, args, args.duration)
                if args.cpu:
                    spent = cpu_by_process()
                    spent.subtract(before)
                    requests = rps * parse_seconds(args.duration)
                    print(f"{name} W={rate}: CPU ms per request: " + ", ".join(
                        f"{k} {1000 * v / requests:.2f}" for k, v in spent.most_common(6) if v > 0), flush=True)
                results.append(Measured(name, rate, rps, p99, non_2xx, socket_errors, ceiling))
            stop.set()
            for thread in threads:
                thread.join()
            if threads:
                writer_notes.append(f"W={rate}: " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.done.items()))
                                    + (f"; {stats.late} started late" if stats.late else ""))

    engine = url.split(":", 1)[0]
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}, {len(viewers)} viewers in rotation, "
          f"on {engine} ({url.rsplit('/', 1)[-1]}); caches {'OFF' if args.no_cache else 'on'}")
    print(f"{'page':<14}{'W/s':>5}{'req/s':>9}{'healthz':>9}{'× healthz':>11}{'p99 ms':>9}  target")
    for r in results:
        ratio = r.rps / r.healthz_rps if r.healthz_rps else 0.0
        goals = [f"ratio≥{RATIO_TARGET}" + (" ok" if ratio >= RATIO_TARGET else " MISSED"),
                 f"p99≤{P99_TARGET_MS:.0f}ms" + (" ok" if r.p99_ms <= P99_TARGET_MS else " MISSED")]
        if r.non_2xx:
            goals.append(f"{r.non_2xx} non-2xx")
        if r.socket_errors:
            goals.append(f"socket errors: {r.socket_errors}")
        print(f"{r.page:<14}{r.writes:>5}{r.rps:>9.1f}{r.healthz_rps:>9.0f}{ratio:>11.2f}{r.p99_ms:>9.1f}  "
              f"{', '.join(goals)}")
    for note in writer_notes:
        print("writer", note)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"load-{engine}.json").write_text(json.dumps([vars(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
