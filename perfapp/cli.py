"""Command-line tools: translations, demo data and load data."""
from __future__ import annotations

import subprocess
import sys

import click
from flask import Flask

from perfapp.config import BASE_DIR

TRANSLATIONS = BASE_DIR / "translations"
# Babel skips every folder starting with "_" by default, which would miss templates/_macros.
EXTRACT_ARGS = ("-F", str(TRANSLATIONS / "babel.cfg"), "-k", "_l", "--no-location",
                "--ignore-dirs", ".* __pycache__ node_modules")


def _pybabel(*args: str) -> None:
    cmd = [sys.executable, "-m", "babel.messages.frontend", *args]
    if subprocess.call(cmd, cwd=BASE_DIR):
        raise click.ClickException("pybabel " + " ".join(args) + " failed")


def register_cli(app: Flask) -> None:
    @app.cli.group()
    def translate() -> None:
        """Extract, update and compile the message catalogs."""

    @translate.command()
    def update() -> None:
        """Extract strings and merge them into every catalog."""
        pot = str(TRANSLATIONS / "messages.pot")
        _pybabel("extract", *EXTRACT_ARGS,
                 "--sort-output", "-o", pot, ".")
        _pybabel("update", "-i", pot, "-d", str(TRANSLATIONS), "--no-fuzzy-matching", "--ignore-obsolete",
                 "--ignore-pot-creation-date")

    @translate.command()
    def compile() -> None:  # noqa: A001
        """Compile catalogs to .mo files."""
        _pybabel("compile", "-d", str(TRANSLATIONS))

    from perfapp.core.idempotency import purge_command

    app.cli.add_command(purge_command)

    from perfapp.core.backup import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

    from perfapp.seed import register_seed_commands

    register_seed_commands(app)
