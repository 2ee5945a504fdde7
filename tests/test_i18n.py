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


def test_no_translated_string_hides_inside_an_f_string() -> None:
    """Babel's extractor skips f-strings: `f"{_('Public')}"` would never reach the catalog, and
    the zh page would say "Public" (it did, once)."""
    import ast
    from pathlib import Path

    calls = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "_l"}
    found = []
    for path in Path(__file__).resolve().parent.parent.joinpath("perfapp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in calls:
                        found.append(f"{path.name}:{call.lineno}")
    assert found == []


def test_feed_cards_say_their_visibility_in_chinese(app) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from flask_babel import force_locale

    from perfapp.core.ui import kind_chip, visibility_label

    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        labels = [str(visibility_label(SimpleNamespace(visibility=v))) for v in ("public", "manager", "private")]
        assert ["公开" in labels[0], "接收人及上级" in labels[1], "私密" in labels[2]] == [True, True, True]
        assert "表扬" in str(kind_chip("praise"))


def test_autospace_spaces_latin_words_and_numbers_in_chinese_text() -> None:
    from perfapp.core.i18n import autospace

    assert autospace("Emma Wilson给了你反馈") == "Emma Wilson 给了你反馈"
    assert autospace("李娜给了你反馈") == "李娜给了你反馈"  # Chinese names need no space
    assert autospace("已发送给Bo，共3朵") == "已发送给 Bo，共 3 朵"
    assert autospace("Sent to Bo.") == "Sent to Bo."
