"""Recognition load benchmark: the praise wall, a person's badge wall and a badge's holders,
gunicorn (gunicorn.conf.py) + wrk, as ratios to /healthz measured in the same run.

    .venv/bin/python -m bench.recognition                 # SQLite: bench/out/recognition.db
    .venv/bin/python -m bench.recognition --database-url postgresql://postgres@127.0.0.1:5432/perfapp_rc_bench

An empty database gets the tables and `flask seed-load` with 200 000 flowers and 100 000
badge awards on top of the usual 10 000 people and 1 000 000 feedback (a few minutes once).
Targets: each page ≥ 0.25 × /healthz requests/s and p99 ≤ 50 ms at 10 connections.
Benchmarks are not tests: this prints figures, it asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess

from bench.pages import BROWSER_HEADERS, P99_TARGET_MS, check, wrk
from bench.server import BIN, EMAIL, OUT, ROOT, complete_schema, gunicorn, log_in, run_line

RATIO_TARGET = 0.25
DEFAULT_DB = OUT / "recognition.db"
MORE_HEADERS = {"HX-Request": "true", "HX-Target": "feed-more"}


def prepare(url: str, args: argparse.Namespace) -> dict[str, int]:
    """Tables (migrations, then any table they don't have yet), the seed when empty, and the
    ids to measure: the demo employee's teammate and the most held badge."""
    from sqlalchemy import create_engine, text

    from perfapp.config import _normalise_db_url

    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": url}
    engine = create_engine(_normalise_db_url(url))
    flask = [str(BIN / "flask"), "--app", "app", "db"]
    if subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env).returncode:
        # A database whose newer tables were made from the models before their migration
        # existed: complete it from the models and mark it as migrated.
        complete_schema(engine)
        subprocess.run([*flask, "stamp", "head"], cwd=ROOT, env=env, check=True)
    complete_schema(engine)  # whatever models have gained since the last migration
    with engine.connect() as conn:
        empty = conn.execute(text("SELECT count(*) FROM person")).scalar() == 0
    if empty:
        print(f"seeding {url}: {args.people} people, {args.feedback} feedback, {args.flowers} flowers, "
              f"{args.badges} badges…", flush=True)
        subprocess.run([str(BIN / "flask"), "--app", "app", "seed-load", "--people", str(args.people),
                        "--feedback", str(args.feedback), "--flowers", str(args.flowers),
                        "--badges", str(args.badges)], cwd=ROOT, env=env, check=True)
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM badge_holding")).scalar() == 0:
            from perfapp.recognition.holdings import rebuild

            rebuild(conn)  # a database seeded before holdings existed
    with engine.connect() as conn:
        mate = conn.execute(text(
            "SELECT mate.id FROM person me JOIN person mate ON mate.manager_id = me.manager_id "
            "WHERE me.email = :email AND mate.id <> me.id ORDER BY mate.id LIMIT 1"), {"email": EMAIL}).scalar()
        badge = conn.execute(text(
            "SELECT badge_id FROM badge_award GROUP BY badge_id ORDER BY count(*) DESC LIMIT 1")).scalar()
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
                  ("feedback", "flower_gift", "badge_award")}
    engine.dispose()
    if mate is None or badge is None:
        raise SystemExit("not a seed-load database with recognition data (seed-load --flowers --badges)")
    print(f"database: {counts}")
    return {"mate": mate, "badge": badge}


def main() -> None:
    parser = argparse.ArgumentParser(description="gunicorn + wrk on the walls")
    parser.add_argument("--database-url", help=f"default: $DATABASE_URL, else sqlite {DEFAULT_DB}")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--flowers", type=int, default=200_000)
    parser.add_argument("--badges", type=int, default=100_000)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true",
                        help="switch off the page and card caches: what every request costs to render")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make system-deps)")

    url = args.database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DB}"
    ids = prepare(url, args)
    with gunicorn(url, cache=not args.no_cache) as server:
        cookie = {"Cookie": log_in(server.base), **BROWSER_HEADERS}
        paths = [
            ("/healthz", dict(BROWSER_HEADERS)),
            ("/walls/", cookie),
            (f"/walls/?before={next_cursor(server.base, cookie)}", {**cookie, **MORE_HEADERS}),
            (f"/walls/people/{ids['mate']}", cookie),
            (f"/walls/badges/{ids['badge']}", cookie),
        ]
        for path, headers in paths:
            check(server.base, path, headers)
        warm = argparse.Namespace(**{**vars(args), "duration": "2s"})
        for path, headers in paths:
            wrk(server, path, headers, warm)
        results = [wrk(server, path, headers, args) for path, headers in paths]

    engine = url.split(":", 1)[0]
    ceiling, ceiling_cpu = results[0].rps, results[0].cpu_ms
    print(run_line(args, engine, url))
    print(f"{'path':<30}{'req/s':>9}{'× healthz':>11}{'p99 ms':>9}{'CPU ms/req':>12}{'CPU × healthz':>15}  target")
    for r in results:
        ratio = r.rps / ceiling if ceiling else 0.0
        cpu_ratio = ceiling_cpu / r.cpu_ms if r.cpu_ms else 0.0
        goals = []
        if r.path != "/healthz":
            goals.append(f"ratio≥{RATIO_TARGET}" + (" ok" if ratio >= RATIO_TARGET else " MISSED"))
            goals.append(f"p99≤{P99_TARGET_MS:.0f}ms" + (" ok" if r.p99_ms <= P99_TARGET_MS else " MISSED"))
        if r.errors:
            goals.append(f"{r.errors} non-2xx")
        label = r.path if len(r.path) < 29 else r.path[:26] + "…"
        print(f"{label:<30}{r.rps:>9.1f}{ratio:>11.2f}{r.p99_ms:>9.1f}{r.cpu_ms:>12.2f}{cpu_ratio:>15.2f}  "
              f"{', '.join(goals)}")
    print("/walls/?before=… is the infinite scroll's next page (an htmx fragment). CPU × healthz: healthz's "
          "gunicorn CPU per request over the page's, a ratio other load on the machine hardly skews.")
    (OUT / f"recognition-{engine}.json").write_text(json.dumps(
        [{**vars(r), "ratio": r.rps / ceiling if ceiling else 0.0} for r in results], indent=2))


def next_cursor(base: str, headers: dict[str, str]) -> str:
    """The wall's second-page cursor, so the infinite-scroll fragment is measured too."""
    import re
    import urllib.parse
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(base + "/walls/", headers={
            k: v for k, v in headers.items() if k != "Accept-Encoding"})) as r:
        page = r.read().decode()
    match = re.search(r'hx-get="/walls/\?before=([^"]+)"', page)
    if not match:
        raise SystemExit("the praise wall has no next page")
    return urllib.parse.quote(urllib.parse.unquote(match.group(1).replace("&amp;", "&")))


if __name__ == "__main__":
    main()
