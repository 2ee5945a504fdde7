"""Login answer times for a known address (wrong password) against an unknown one, real argon2 cost.

    .venv/bin/python -m bench.login_timing [--rounds 30]

Before issue 7 an unknown address answered ~30x faster (no hash was computed), which told an
attacker which addresses have accounts. Now both verify a password against an argon2 hash
with the same parameters. Runs the app in-process (test client, a temporary SQLite file,
the default PasswordHasher cost) and prints the median and spread of each kind, interleaved
so that machine noise hits both alike. A benchmark, not a test.
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.extensions import db

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        class Bench(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{Path(tmp) / 'bench.db'}"
            PASSWORD_HASH_FAST = False  # the production argon2 cost
            LOGIN_MAX_FAILURES = 10**6  # measure answers, not the lock

        app = create_app(Bench)
        with app.app_context():
            from perfapp.auth.services import hash_password
            from perfapp.people.models import User

            db.create_all()
            user = User(email="known@example.com", password_hash=hash_password("the real password"))
            user.set_name("Known Person")
            db.session.add(user)
            db.session.commit()

        client = app.test_client()
        token = CSRF.search(client.get("/auth/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]

        def attempt(email: str, password: str) -> tuple[float, int]:
            start = time.perf_counter()
            response = client.post("/auth/login", data={"csrf_token": token, "email": email, "password": password})
            return (time.perf_counter() - start) * 1000, response.status_code

        attempt("warm@example.com", "x")  # the dummy hash is made once per process
        times: dict[str, list[float]] = {"known address, wrong password": [], "unknown address": []}
        for i in range(args.rounds):
            ms, status = attempt("known@example.com", f"wrong {i}")
            assert status == 422
            times["known address, wrong password"].append(ms)
            ms, status = attempt(f"nobody{i}@example.com", f"wrong {i}")
            assert status == 422
            times["unknown address"].append(ms)
        with app.app_context():
            db.drop_all()
            db.engine.dispose()

    print(f"login answers, {args.rounds} rounds each (argon2 default cost), ms")
    print(f"{'':32} {'median':>8} {'p10':>8} {'p90':>8}")
    medians = {}
    for name, values in times.items():
        values.sort()
        medians[name] = statistics.median(values)
        p10, p90 = values[len(values) // 10], values[(len(values) * 9) // 10]
        print(f"{name:32} {medians[name]:8.1f} {p10:8.1f} {p90:8.1f}")
    ratio = medians["known address, wrong password"] / medians["unknown address"]
    print(f"known / unknown median ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
