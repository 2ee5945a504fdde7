"""Query plans and timings of every SQL statement the main read pages run.

    DATABASE_URL=sqlite:///bench/out/load.db .venv/bin/python -m bench.explain [--analyze]

Logs in as employee@example.com through the test client, requests each page, records
the statements it ran (before_cursor_execute) and prints EXPLAIN QUERY PLAN (SQLite)
or EXPLAIN (PostgreSQL; with --analyze: EXPLAIN ANALYZE) for each, with its time.
Run it against a seed-load database; it is a tool for reading plans, not a test.
"""
from __future__ import annotations

import argparse
import re
import time
from typing import Any

from sqlalchemy import event, select

from perfapp import create_app
from perfapp.config import Config
from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.seed import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages(colleague_id: int) -> list[tuple[str, dict[str, str]]]:
    picker = {"HX-Request": "true", "HX-Target": "picker-results"}
    return [
        ("/", {}),
        ("/walls/", {}),
        (f"/people/{colleague_id}", {}),
        (f"/walls/people/{colleague_id}", {}),
        ("/goals/tree", {}),
        (f"/goals/people/{colleague_id}", {}),
        ("/people/search?q=li", picker),
        ("/people/search?q=张", picker),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analyze", action="store_true", help="PostgreSQL: EXPLAIN ANALYZE")
    parser.add_argument("--user", default="employee@example.com", help="who logs in")
    parser.add_argument("--path", action="append", help="only these paths (repeatable)")
    args = parser.parse_args()

    class BenchConfig(Config):
        WTF_CSRF_ENABLED = True

    app = create_app(BenchConfig)
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        employee = db.session.scalar(select(User).where(User.email == args.user))
        if employee is None:
            raise SystemExit(f"no {args.user}: run `flask seed-load` first")
        colleague = db.session.scalar(
            select(User.id).where(User.manager_id == employee.manager_id, User.id != employee.id).limit(1))
        db.session.remove()

    @event.listens_for(engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    client = app.test_client()
    token = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    response = client.post("/auth/login", data={"email": args.user, "password": DEMO_PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 303, response.status_code

    for path, headers in pages(colleague):
        if args.path and path not in args.path:
            continue
        client.get(path, headers=headers)  # warm caches
        statements.clear()
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        total = (time.perf_counter() - began) * 1000
        print(f"\n===== GET {path}  {response.status_code}  {total:.1f} ms  {len(statements)} statements")
        ran = list(statements)
        with app.app_context(), engine.connect() as conn:
            raw = conn.connection.driver_connection
            for statement, params in ran:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                one_line = " ".join(statement.split())
                print(f"\n-- {one_line[:400]}{'…' if len(one_line) > 400 else ''}")
                began = time.perf_counter()
                cur = raw.cursor()  # type: ignore[union-attr]
                cur.execute(statement, params)
                cur.fetchall()
                print(f"   {(time.perf_counter() - began) * 1000:.2f} ms")
                prefix = ("EXPLAIN QUERY PLAN " if dialect == "sqlite"
                          else "EXPLAIN (ANALYZE, BUFFERS) " if args.analyze else "EXPLAIN ")
                cur.execute(prefix + statement, params)
                for row in cur.fetchall():
                    print("   ", row[-1] if dialect == "sqlite" else row[0])
                cur.close()


if __name__ == "__main__":
    main()
