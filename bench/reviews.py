"""Reviewer assignment benchmark: a whole organisation's reviewers chosen at once (the job HR
starts before a cycle opens), on the seed-load organisation.

    .venv/bin/python -m bench.reviews                     # SQLite: bench/out/reviews.db, 10 000 people
    .venv/bin/python -m bench.reviews --database-url postgresql://postgres@127.0.0.1:5432/perfapp_rv_bench

An empty database gets `flask seed-load` (people, feedback, projects, meetings: the evidence of
working together). Every person is reviewed by 8 reviewers the solver picks (5 peers and 3
cross-team partners by default), plus self and manager. It runs the job's own code
(perfapp.reviews.services.run_assignment, what the huey task calls) and prints the time of each
step, the load histogram and how many were left short. Target: ≤ 60 s.
Benchmarks are not tests: this prints figures, it asserts nothing.
"""
from __future__ import annotations

import argparse
import time
from datetime import timedelta

from bench.server import OUT, ensure_seeded

DEFAULT_DB = OUT / "reviews.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: bench/out/reviews.db (SQLite)")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--feedback", type=int, default=200_000)
    parser.add_argument("--peers", type=int, default=5)
    parser.add_argument("--partners", type=int, default=3)
    parser.add_argument("--cap", type=int, default=10,
                        help="per-cycle cap (8 reviews a person on average need a cap above 8)")
    parser.add_argument("--rolling-cap", type=int, default=40)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{DEFAULT_DB}"
    ensure_seeded(url, args.people, args.feedback)

    import os

    os.environ["DATABASE_URL"] = url
    from sqlalchemy import delete

    from perfapp import create_app
    from perfapp.config import Config
    from perfapp.core.db import utcnow
    from perfapp.extensions import db
    from perfapp.people.models import User
    from perfapp.reviews import services
    from perfapp.reviews.models import ReviewAssignment, ReviewCycle
    from perfapp.reviews.services import CycleInput, QuestionInput

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        db.session.execute(delete(ReviewAssignment))
        db.session.execute(delete(ReviewCycle))
        db.session.commit()
        hr = db.session.scalar(db.select(User).where(User.role.in_(("hr", "admin"))).limit(1))
        now = utcnow()
        cycle = services.create_cycle(hr, CycleInput(
            name="bench", groups=["self", "manager", "peers", "partners"],
            minimums={"peers": args.peers, "partners": args.partners}, cycle_cap=args.cap,
            rolling_cap=args.rolling_cap, nominations_close_at=now + timedelta(days=7),
            closes_at=now + timedelta(days=21),
            questions=[QuestionInput("rating", "Delivers", ["1", "2", "3", "4", "5"])]))
        db.session.commit()
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()

        def progress(value: float) -> None:
            marks.append((f"{value:.0%}", time.perf_counter() - start))
            print(f"  {marks[-1][0]} at {marks[-1][1]:.1f} s", flush=True)

        report = services.run_assignment(cycle, progress=progress)
        solved = time.perf_counter() - start
        db.session.commit()
        total = time.perf_counter() - start
        reviewees = len(services.reviewees(cycle))
        rows = db.session.scalar(db.select(db.func.count()).select_from(ReviewAssignment).where(
            ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.source == "solver")) or 0
        print(f"reviewees: {reviewees}, wanted {args.peers} peers + {args.partners} partners each "
              f"({reviewees * (args.peers + args.partners)} places), cap {args.cap}/cycle")
        print("steps: " + ", ".join(f"{label} at {t:.1f} s" for label, t in marks))
        print(f"assignment: {solved:.1f} s, with the commit {total:.1f} s (target ≤ 60 s)")
        print(f"placed by the solver: {rows}; places left short: "
              f"{sum(s['missing'] for s in report['short'])}+ over {report['short_count']} reviewee groups")
        print(f"max reviews for one person: {report['max_load']}; load histogram (reviews: people): "
              + ", ".join(f"{k}: {v}" for k, v in report["histogram"].items()))


if __name__ == "__main__":
    main()
