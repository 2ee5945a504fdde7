"""CPU per request of the main logged-in pages, in-process (no HTTP, no other processes counted).

    DATABASE_URL=sqlite:////work/main/bench/out/load.db .venv/bin/python -m bench.render [-n 50]
    ... bench/render.py --profile / [--sort tottime] [--limit 40]

Logs in as employee@example.com through the test client and requests each page n times,
measuring the thread's CPU time (time.thread_time: steady on a shared machine, unlike wall
time) and, with --sql-time, the CPU spent inside SQL statements (cursor execute and fetch, from
SQLAlchemy's events, so row processing in Python is counted as rendering; off by default because
reading the clock twice per statement adds its own cost). It prints the median and the
minimum per page. With --profile PATH it runs cProfile over n requests of that page and
prints the top functions. A tool for finding what a page costs, not a test.

On a busy shared machine CPU time still drifts with the load (caches, frequency). For a
count that does not, run it under valgrind and count instructions instead:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=bench/out/callgrind.%p \
        .venv/bin/python -m bench.render --instructions -n 5

(instrumentation is switched on only around each page's requests; millions of instructions
per request are printed, SQLite's own work included.)
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import event, select

from perfapp import create_app
from perfapp.config import Config
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.seed import DEMO_PASSWORD

OUT = Path(__file__).resolve().parent / "out"
GC_ON = "--gc" in sys.argv

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PICKER = {"HX-Request": "true", "HX-Target": "picker-results"}
#: pseudo-pages of --pages that measure a write instead (as bench.load's writer sends them)
WRITES = ("write feedback", "write reaction", "write flowers")
FEED_MORE = {"HX-Request": "true", "HX-Target": "feed-more"}  # the feed's 20 items without the page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="requests per page")
    parser.add_argument("--user", default="employee@example.com")
    parser.add_argument("--lang", default="en", help="Accept-Language (a person's own setting wins)")
    parser.add_argument("--encoding", default="br, gzip", help="Accept-Encoding, as bench/pages.py sends")
    parser.add_argument("--profile", help="cProfile this path instead (with --viewers: a page's name, e.g. home)")
    parser.add_argument("--instructions", action="store_true", help="under callgrind: count instructions")
    parser.add_argument("--gc", action="store_true", help="with --instructions: leave the garbage collector on")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--dump", help="with --profile: also save the pstats file here")
    parser.add_argument("--limit", type=int, default=45)
    parser.add_argument("--viewers", type=int, default=0,
                        help="rotate through this many people's sessions (one per request) instead of one")
    parser.add_argument("--sql-time", action="store_true",
                        help="also time each statement (reading the thread's CPU clock is a system call that "
                             "costs ~0.05 ms on some VMs, twice per statement: off by default)")
    parser.add_argument("--show-sql", action="store_true",
                        help="with --viewers: print the statements of each page's last request")
    parser.add_argument("--write-every", type=int, default=0,
                        help="with --viewers: before every K-th request one of the viewers writes (public feedback, "
                             "a reaction, flowers in turn, as bench.load's writer): K=100 at 500 req/s is 5 writes/s. "
                             "The page's figures then include what those writes cost the readers (kept pages and "
                             "cards made again); the mean shows it, the median hides it")
    parser.add_argument("--pages", default="home,profile,praise wall,badge wall,goal tree,goals,healthz",
                        help="with --viewers: which pages, comma-separated; also "
                             "'write feedback', 'write reaction', 'write flowers' (the CPU of the write itself)")
    args = parser.parse_args()

    class BenchConfig(Config):
        WTF_CSRF_ENABLED = True
        RATELIMIT_ENABLED = False  # the rotation logs many people in at once

    app = create_app(BenchConfig)
    with app.app_context():
        db.create_all()  # tables other features added since the database was seeded
        employee = db.session.scalar(select(User).where(User.email == args.user))
        if employee is None:
            raise SystemExit(f"no {args.user}: run `flask seed-load` first")
        colleague = db.session.scalar(
            select(User.id).where(User.manager_id == employee.manager_id, User.id != employee.id).limit(1))
        engine = db.engine
        db.session.remove()

    sql = {"cpu": 0.0, "n": 0}
    started: list[float] = []

    if args.sql_time:
        @event.listens_for(engine, "before_cursor_execute")
        def before(*_a) -> None:  # type: ignore[no-untyped-def]
            started.append(time.thread_time())

    @event.listens_for(engine, "after_cursor_execute")
    def after(_conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        if args.show_sql:
            sql.setdefault("statements", []).append(statement)  # type: ignore[attr-defined]
        if args.sql_time:
            sql["cpu"] += time.thread_time() - started.pop()
        sql["n"] += 1

    client = app.test_client()
    headers = {"Accept-Language": args.lang, "Accept-Encoding": args.encoding}
    token = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    response = client.post("/auth/login", headers=headers,
                           data={"email": args.user, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code

    pages = [("/", {}), (f"/people/{colleague}", {}), ("/people/search?q=li", PICKER),
             ("/goals/tree", {}), (f"/goals/people/{colleague}", {}),
             ("/healthz", {}), ("/ (feed-more)", FEED_MORE)]
    if args.viewers:
        rotate(app, engine, sql, headers, args)
        return
    if args.profile:
        path = args.profile.replace("{colleague}", str(colleague))
        extra = dict(PICKER) if path.startswith("/people/search") else {}
        for _ in range(3):
            client.get(path, headers={**headers, **extra})
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            client.get(path, headers={**headers, **extra})
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
        return

    if args.instructions:
        print(f"{'path':<24}{'M instructions/request':>24}")
        for label, extra in pages:
            path = label.split(" ")[0]
            for _ in range(2):
                client.get(path, headers={**headers, **extra})
            sent = {**headers, **extra}
            count = _instructions(lambda path=path, sent=sent: client.get(path, headers=sent), args.n)
            print(f"{label:<24}{count:>24.2f}", flush=True)
        return

    print(f"{'path':<24}{'CPU ms median':>14}{'min':>8}{'SQL ms':>8}{'stmts':>7}{'KB':>7}")
    for label, extra in pages:
        path = label.split(" ")[0]
        for _ in range(3):  # warm: template compilation, caches
            response = client.get(path, headers={**headers, **extra})
            assert response.status_code == 200, (path, response.status_code)
        cpu, sql_cpu, count = [], [], 0
        for _ in range(args.n):
            sql.update(cpu=0.0, n=0)
            began = time.thread_time()
            response = client.get(path, headers={**headers, **extra})
            cpu.append((time.thread_time() - began) * 1000)
            sql_cpu.append(sql["cpu"] * 1000)
            count = sql["n"]
        size = len(response.get_data()) / 1024  # as sent (compressed when asked)
        print(f"{label:<24}{statistics.median(cpu):>14.2f}{min(cpu):>8.2f}"
              f"{statistics.median(sql_cpu):>8.2f}{count:>7}{size:>7.1f}")


def rotate(app, engine, sql, headers, args) -> None:  # type: ignore[no-untyped-def]
    """Many viewers in rotation, one per request, as an organisation reads: no page is ever the
    same viewer's twice in a row, so only what is shared (cards) can come from a cache.

    The first round is each viewer's first visit (their own cards may be new to the cache); the
    later rounds show the steady state. Each viewer's profile page is a teammate's."""
    from bench.load import finished_cycle_id, pick_viewers
    from bench.server import autovacuum_stand_in

    url = str(engine.url.render_as_string(hide_password=False))
    viewers = pick_viewers(url, args.viewers)
    cycle_id = finished_cycle_id(url)
    clients = []
    for v in viewers:
        client = app.test_client()
        token = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        response = client.post("/auth/login", headers=headers,
                               data={"email": v.email, "password": DEMO_PASSWORD, "csrf_token": token})
        assert response.status_code == 303, (v.email, response.status_code)
        clients.append((client, v))
    if autovacuum_stand_in(url):
        print("autovacuum is off on this PostgreSQL server: VACUUM (ANALYZE) after the logins, as autovacuum would")
    print(f"{len(clients)} viewers in rotation, {args.n} requests per page after a first round"
          + (f", a write before every {args.write_every}th" if args.write_every else ""))
    labels = args.pages.split(",")
    writes = _writes(app, clients, headers) if args.write_every or set(labels) & set(WRITES) else None
    server_cpu = _server_cpu if engine.dialect.name == "postgresql" else None
    print(f"{'page':<18}{'first round ms':>16}{'steady ms':>12}{'mean':>8}{'min':>8}{'p99':>8}{'SQL ms':>8}{'stmts':>7}"
          + (f"{'PG ms':>8}" if server_cpu else ""))
    for label in labels:
        if label == "results" and cycle_id is None:
            raise SystemExit("no finished review cycle: seed again with `flask seed-load --force`")
        def path(v, label: str = label) -> str:  # type: ignore[no-untyped-def]
            return {"home": "/", "profile": f"/people/{v.colleague_id}", "praise wall": "/walls/",
                    "badge wall": f"/walls/people/{v.colleague_id}", "goal tree": "/goals/tree",
                    "goals": f"/goals/people/{v.colleague_id}", "healthz": "/healthz",
                    "results": f"/reviews/cycles/{cycle_id}/people/{v.person_id}"}[label]

        def one(i: int, label: str = label) -> tuple[float, float, int]:
            client, v = clients[i % len(clients)]
            if label in WRITES:  # the write itself is measured
                sql.update(cpu=0.0, n=0, statements=[])
                began = time.thread_time()
                writes(i, WRITES.index(label))
                return (time.thread_time() - began) * 1000, sql["cpu"] * 1000, sql["n"]
            if args.write_every and i % args.write_every == 0:
                writes(i)
            sql.update(cpu=0.0, n=0, statements=[])
            began = time.thread_time()
            response = client.get(path(v), headers=headers)
            spent = (time.thread_time() - began) * 1000
            assert response.status_code == 200, (label, response.status_code)
            return spent, sql["cpu"] * 1000, sql["n"]

        first = [one(i)[0] for i in range(len(clients))]
        if args.instructions:  # under callgrind: millions of instructions per request, steady state
            turn = iter(range(len(clients), len(clients) + args.n))
            count = _instructions(lambda turn=turn: one(next(turn)), args.n)
            print(f"{label:<18}{count:>16.2f} M instructions/request", flush=True)
            continue
        if args.profile in (label, label.replace(" ", "-")):
            profiler = cProfile.Profile()
            profiler.enable()
        began_server = server_cpu() if server_cpu else 0.0
        steady = [one(i) for i in range(args.n)]
        spent_server = (server_cpu() - began_server) / args.n if server_cpu else 0.0
        if args.profile in (label, label.replace(" ", "-")):
            profiler.disable()
            if args.dump:
                profiler.dump_stats(args.dump)
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
        cpu = [s[0] for s in steady]
        print(f"{label:<18}{statistics.median(first):>16.2f}{statistics.median(cpu):>12.2f}"
              f"{statistics.fmean(cpu):>8.2f}{min(cpu):>8.2f}{statistics.quantiles(cpu, n=100)[98]:>8.2f}"
              f"{statistics.median(s[1] for s in steady):>8.2f}{steady[-1][2]:>7}"
              + (f"{spent_server:>8.2f}" if server_cpu else ""), flush=True)
        if args.show_sql:
            for statement in sql["statements"]:  # type: ignore[attr-defined]
                print("    " + " ".join(statement.split()), flush=True)


def _writes(app, clients, headers):  # type: ignore[no-untyped-def]
    """A writer among the viewers: write(i) posts public feedback, a reaction or flowers in turn,
    as bench.load's writer does, from viewer i*7's session to viewer i*13's."""
    from bench.load import recent_feedback_ids
    from perfapp.reactions.models import REACTIONS

    meta = re.compile(r'name="csrf-token" content="([^"]+)"')
    tokens = {}
    for client, v in clients:
        found = meta.search(client.get("/", headers={**headers, "Accept-Encoding": "identity"}).get_data(as_text=True))
        assert found, v.email
        tokens[v.person_id] = found.group(1)
    with app.app_context():
        feedback_ids = recent_feedback_ids(str(db.engine.url.render_as_string(hide_password=False)))
    turn = [0]

    def write(i: int, kind: int | None = None) -> None:
        client, author = clients[(i * 7) % len(clients)]
        other = clients[(i * 13 + 1) % len(clients)][1]
        if kind is None:
            kind = turn[0] % 3
            turn[0] += 1
        if kind == 0:
            path, form = "/feedback/new", {"recipient_id": other.person_id, "kind": "praise",
                                           "text": f"Thanks for the help today ({i})", "visibility": "public"}
        elif kind == 1:
            path, form = f"/reactions/feedback/{feedback_ids[i % len(feedback_ids)]}/react", {"on": REACTIONS[i % len(REACTIONS)]}
        else:
            path, form = "/recognition/flowers", {"receiver_id": other.person_id, "count": 1, "message": "谢谢"}
        response = client.post(path, data={**form, "csrf_token": tokens[author.person_id]},
                               headers={**headers, "HX-Request": "true", "X-CSRFToken": tokens[author.person_id]})
        assert response.status_code < 500, (path, response.status_code)

    return write


def _server_cpu() -> float:
    """CPU milliseconds all local PostgreSQL processes have used (user + system, from /proc): the
    database server's share of a page, which thread_time (this process only) does not see."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended
        name = text[text.index("(") + 1:text.rindex(")")]
        if name.startswith("postgres"):
            fields = text[text.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * 1000 / ticks


def _callgrind(*args: str) -> str:
    return subprocess.run(["callgrind_control", *args, str(os.getpid())], capture_output=True, text=True,
                          check=True).stdout


def _instructions(request, n: int) -> float:  # type: ignore[no-untyped-def]
    """Millions of instructions per call of `request`, counted by callgrind (zeroed, then dumped).

    The cyclic garbage collector is off while counting (a full collection landing in one run
    and not the next would swamp the difference being measured); --gc measures with it on.
    """
    gc.collect()
    if not GC_ON:
        gc.disable()
    _callgrind("--zero")
    _callgrind("--instr=on")
    for _ in range(n):
        request()
    _callgrind("--instr=off")
    gc.enable()
    _callgrind("--dump")
    dumps = sorted(OUT.glob(f"callgrind.{os.getpid()}*"), key=lambda p: p.stat().st_mtime)
    for line in reversed(dumps[-1].read_text().splitlines()):
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1]) / n / 1e6
    raise SystemExit(f"no totals in {dumps[-1]}")


if __name__ == "__main__":
    main()
