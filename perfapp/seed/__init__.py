"""Demo and load data: `flask seed-demo` (a small bilingual organisation, `demo.py`) and
`flask seed-load` (a large database for benchmarks written with bulk inserts, `load.py`);
`content.py` holds what both write. Both are deterministic for a given --seed; dates are
relative to "now" so the feeds always look recent."""
from __future__ import annotations

import random
import time

import click
from flask import Flask

from perfapp.extensions import db
from perfapp.seed.content import DEMO_PASSWORD, is_empty, print_logins
from perfapp.seed.demo import seed_demo
from perfapp.seed.load import MIN_LOAD_PEOPLE, seed_load

__all__ = ["DEMO_PASSWORD", "register_seed_commands", "seed_demo", "seed_load"]


def register_seed_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when people already exist.")
    @click.option("--seed", default=2024, show_default=True, help="Random seed (same seed, same data).")
    def seed_demo_command(if_empty: bool, seed: int) -> None:
        """Create a bilingual demo organisation with feedback, requests and inbox entries."""
        if not is_empty():
            if if_empty:
                click.echo("Database already has people; seed-demo skipped.")
                return
            raise click.ClickException("The database already has people; use an empty database.")
        logins = seed_demo(random.Random(seed))
        db.session.commit()
        print_logins(logins)

    @app.cli.command("seed-load")
    @click.option("--people", default=10_000, show_default=True, type=click.IntRange(MIN_LOAD_PEOPLE))
    @click.option("--feedback", default=1_000_000, show_default=True, type=click.IntRange(0))
    @click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
    @click.option("--force", is_flag=True, help="Delete every existing row first.")
    @click.option("--flowers", default=0, show_default=True, type=click.IntRange(0),
                  help="Little red flower gifts to add (the recognition benchmark uses 200000).")
    @click.option("--badges", default=0, show_default=True, type=click.IntRange(0),
                  help="Badge awards to add (the recognition benchmark uses 100000).")
    @click.option("--goals", default=30_000, show_default=True, type=click.IntRange(0), help="Goals to add.")
    @click.option("--checkins", default=100_000, show_default=True, type=click.IntRange(0),
                  help="Goal check-ins to add.")
    @click.option("--meetings", default=None, type=click.IntRange(0),
                  help="Meetings to add (default: two per person).")
    def seed_load_command(people: int, feedback: int, seed: int, force: bool, flowers: int, badges: int,
                          goals: int, checkins: int, meetings: int | None) -> None:
        """Fill a database for benchmarks with bulk inserts (refuses a non-empty one)."""
        if not is_empty() and not force:
            raise click.ClickException("The database is not empty; use --force to delete everything first.")
        db.session.rollback()
        began = time.perf_counter()
        seed_load(people, feedback, random.Random(seed), force=force, flowers=flowers, badges=badges,
                  goals=goals, checkins=checkins, meetings=meetings)
        # The bulk inserts appended a change per person and row (perfapp.core.changes) that no kept
        # page was checked against: keep each person's newest, as the daily job would.
        from perfapp.core.changes import prune

        prune()
        click.echo(f"Loaded {people} people, {feedback} feedback, {flowers} flower gifts and {badges} badge awards "
                   f"in {time.perf_counter() - began:.1f}s.")
        print_logins([(f"{k}@example.com", "") for k in ("employee", "manager", "hr", "admin")])
