"""HTTP load benchmark: gunicorn (gunicorn.conf.py) + wrk against a seed-load database.

    .venv/bin/python -m bench.http                       # SQLite: bench/out/load.db
    .venv/bin/python -m bench.http --database-url postgresql://postgres@127.0.0.1:5432/perfapp_bench

The database comes from --database-url, else $DATABASE_URL, else bench/out/load.db. An
empty database is migrated and filled with `flask seed-load` first (10 000 people,
1 000 000 feedback by default), so the first run takes a minute longer.

Logs in as employee@example.com, then runs wrk on each path in turn, in one run, with the
session cookie. On two cores wrk and the server share the CPU, so the figures to compare
across runs are the ratios to /healthz (a route that never touches the database), not the
absolute requests per second. Benchmarks are not tests: this prints figures, it asserts
nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench.server import (
    OUT,
    USER_AGENT,
    NoRedirect,
    Server,
    database_url,
    ensure_seeded,
    gunicorn,
    log_in,
    parse_wrk,
    run_line,
)

HOME_RATIO_TARGET, P99_TARGET_MS = 0.25, 50.0
# Phones always ask for compressed pages; so does the benchmark, so compression is measured too.
BROWSER_HEADERS = {"Accept-Encoding": "br, gzip", "Accept-Language": "en", "User-Agent": USER_AGENT}
PICKER_HEADERS = {"HX-Request": "true", "HX-Target": "picker-results"}


@dataclass
class Result:
    path: str
    rps: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0  # server CPU per request (gunicorn master + workers)


def check(base: str, path: str, headers: dict[str, str]) -> None:
    """Fail early if a page is not a logged-in 200 (wrk would happily measure redirects)."""
    request = urllib.request.Request(base + path, headers=headers)
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request) as r:
            if r.status != 200:
                raise SystemExit(f"{path} answered {r.status}")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{path} answered {e.code}") from None


def wrk(server: Server, path: str, headers: dict[str, str], args: argparse.Namespace) -> Result:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cpu_before = server.cpu_seconds()
    out = subprocess.run([*cmd, server.base + path], capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - cpu_before
    figures = parse_wrk(out)
    if figures.socket_errors:
        print(f"  {path}: socket errors: {figures.socket_errors}")
    return Result(path, figures.rps, figures.p99_ms, figures.non_2xx, cpu * 1000 / max(figures.count, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description="gunicorn + wrk on the main logged-in pages")
    parser.add_argument("--database-url", help="default: $DATABASE_URL, else sqlite bench/out/load.db")
    parser.add_argument("--people", type=int, default=10_000, help="seed size for an empty database")
    parser.add_argument("--feedback", type=int, default=1_000_000, help="seed size for an empty database")
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true",
                        help="switch off the page and card caches: what every request costs to render")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (make system-deps)")

    url = database_url(args.database_url)
    _me, colleague = ensure_seeded(url, args.people, args.feedback)
    with gunicorn(url, cache=not args.no_cache) as server:
        cookie = {"Cookie": log_in(server.base), **BROWSER_HEADERS}
        paths = [
            ("/healthz", dict(BROWSER_HEADERS)),
            ("/", cookie),
            (f"/people/{colleague}", cookie),
            ("/people/search?q=li", {**cookie, **PICKER_HEADERS}),
        ]
        for path, headers in paths:
            check(server.base, path, headers)
        # Warm up every worker (imports, template compilation, prepared statements, caches).
        for path, headers in paths:
            wrk(server, path, headers, argparse.Namespace(**{**vars(args), "duration": "2s"}))
        results = [wrk(server, path, headers, args) for path, headers in paths]

    engine = url.split(":", 1)[0]
    ceiling, ceiling_cpu = results[0].rps, results[0].cpu_ms
    print(run_line(args, engine, url))
    print(f"{'path':<24}{'req/s':>9}{'× healthz':>11}{'p99 ms':>9}{'CPU ms/req':>12}{'CPU × healthz':>15}  target")
    for r in results:
        ratio = r.rps / ceiling if ceiling else 0.0
        cpu_ratio = ceiling_cpu / r.cpu_ms if r.cpu_ms else 0.0
        goals = []
        if r.path == "/":
            goals.append(f"ratio≥{HOME_RATIO_TARGET}" + (" ok" if ratio >= HOME_RATIO_TARGET else " MISSED"))
        if r.path != "/healthz":
            goals.append(f"p99≤{P99_TARGET_MS:.0f}ms" + (" ok" if r.p99_ms <= P99_TARGET_MS else " MISSED"))
        if r.errors:
            goals.append(f"{r.errors} non-2xx")
        print(f"{r.path:<24}{r.rps:>9.1f}{ratio:>11.2f}{r.p99_ms:>9.1f}{r.cpu_ms:>12.2f}{cpu_ratio:>15.2f}  "
              f"{', '.join(goals)}")
    print("CPU × healthz: healthz's gunicorn CPU per request over the page's, a ratio that other load "
          "on the machine hardly skews (wrk's CPU and a PostgreSQL server's CPU are not counted).")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"http-{engine}.json").write_text(json.dumps(
        [{**vars(r), "ratio": r.rps / ceiling if ceiling else 0.0} for r in results], indent=2))


if __name__ == "__main__":
    main()
