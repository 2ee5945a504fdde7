"""Bounds every request value is held to (perfapp.core.validation); each case was a 500 that
tests/fuzz found: numbers past the integer columns, NUL characters on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from perfapp.core.validation import INT_MAX, parse_int
from perfapp.extensions import db
from perfapp.feedback.models import Feedback

HUGE = "9223372036854775808"  # one past SQLite's 64-bit integers
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.mark.parametrize("raw, expected", [("12", 12), (" 7 ", 7), ("", None), (None, None), ("x", -1),
                                           (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), -1), (HUGE, -1),
                                           ("-" + HUGE, -1)])
def test_parse_int_keeps_to_the_columns(raw, expected) -> None:
    assert parse_int(raw) == expected


@pytest.fixture()
def pair(make_user, login):  # type: ignore[no-untyped-def]
    lina = make_user(name="李娜", email="lina@example.com")
    return {"lina": lina, "client": login(make_user(name="王伟", email="boss@example.com"))}


@pytest.mark.parametrize("field", ["ask_id", "project_id", "milestone_id", "recipient_id", "tag_ids"])
def test_a_huge_id_in_a_form_is_a_translated_422(pair, field) -> None:
    data = {"recipient_id": pair["lina"].id, "text": "谢谢", "visibility": "private", field: HUGE}
    r = pair["client"].submit("/feedback/new", data, headers=ZH)
    assert r.status_code == 422 and 'class="field-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Feedback.id)) is None


def test_a_huge_flower_tag_is_a_422(pair) -> None:
    r = pair["client"].submit("/recognition/flowers", {"receiver_id": pair["lina"].id, "count": "1",
                                                       "message": "谢谢", "tag_id": HUGE})
    assert r.status_code == 422


@pytest.mark.parametrize("url", [f"/people/{HUGE}", f"/feedback/{HUGE}", f"/walls/badges/{INT_MAX + 1}",
                                 f"/stories/{HUGE}", f"/recognition/awards/{HUGE}"])
def test_a_huge_id_in_a_path_is_404(pair, url) -> None:
    assert pair["client"].get(url).status_code == 404


@pytest.mark.parametrize("url", [f"/?before=2026-01-01T00:00:00_{HUGE}", f"/walls/?before=2026-01-01T00:00:00_2_{HUGE}",
                                 f"/stories/?before=2026-01-01T00:00:00_{HUGE}"])
def test_a_huge_id_in_a_cursor_is_the_first_page(pair, url) -> None:
    assert pair["client"].get(url).status_code == 200


def test_nul_characters_are_dropped_from_forms_and_queries(pair) -> None:
    assert pair["client"].get("/people/search?q=li%00").status_code == 200
    r = pair["client"].submit("/feedback/new", {"recipient_id": pair["lina"].id, "text": "thanks\x00 a lot",
                                                "free_tags": "team\x00work", "visibility": "private"})
    assert r.status_code == 303
    item = db.session.scalar(select(Feedback))
    assert item.text == "thanks a lot" and [t.name_en for t in item.tags] == ["teamwork"]
