"""The zh catalog is complete: every string in the code has a translation, none fuzzy."""
from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from perfapp.cli import EXTRACT_ARGS
from perfapp.config import BASE_DIR

PO = BASE_DIR / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _translated(message) -> bool:  # type: ignore[no-untyped-def]
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s.strip() for s in strings)


def test_catalog_has_no_missing_or_fuzzy_entries() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    bad = [m.id for m in catalog if m.id and (m.fuzzy or not _translated(m))]
    assert bad == []


def test_every_string_in_the_code_is_in_the_catalog(tmp_path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", *EXTRACT_ARGS, "-o", str(pot), "."],
        cwd=BASE_DIR, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with PO.open("rb") as fh:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert sorted(wanted - have) == []
