"""Demo and load data (seed-demo, seed-load)."""
from __future__ import annotations

from flask import Flask


def register_seed_commands(app: Flask) -> None:
    """Placeholder until the seed commands land."""
