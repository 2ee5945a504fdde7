"""Idempotency-Key: any header value is a 400 (translated) or a working key; any form gives a
stable fingerprint; a key sent twice never makes two rows."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from perfapp.core.idempotency import KEY_HEADER, KEY_PATTERN, USER_HEADER, request_fingerprint
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from tests.fuzz.conftest import _CJK, ZH, text

# Header values travel as latin-1; anything else would be refused by the client itself.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
                      max_size=120)
keys = st.one_of(header_text, st.from_regex(r"[A-Za-z0-9_-]{1,130}", fullmatch=True))


@pytest.fixture()
def pair(make_user, login):  # type: ignore[no-untyped-def]
    lina = make_user(name="李娜", email="lina@example.com")
    author = make_user(name="王伟", email="boss@example.com")
    return {"client": login(author), "lina": lina, "author": author}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


@given(key=keys, user=st.one_of(st.none(), header_text, st.just("AUTHOR")), text_=text)
def test_any_key_is_refused_cleanly_or_works_once(pair, key, user, text_) -> None:
    headers = {KEY_HEADER: key, **ZH}
    if user is not None:
        headers[USER_HEADER] = str(pair["author"].id) if user == "AUTHOR" else user
    data = {"recipient_id": pair["lina"].id, "text": text_ or "谢谢", "visibility": "private"}
    before = _count()
    first = pair["client"].submit("/feedback/new", data, headers=headers)
    assert first.status_code < 500, first.get_data(as_text=True)[:1000]
    if not KEY_PATTERN.fullmatch(key):
        refusal = first.get_data(as_text=True)
        assert first.status_code == 400 and "Idempotency-Key" in refusal and _CJK.search(refusal)
        assert _count() == before
        return
    second = pair["client"].submit("/feedback/new", data, headers=headers)
    assert second.status_code < 500
    assert _count() - before <= 1  # a replay or the same refusal, never a second row
    if first.status_code == 303:
        assert second.headers.get("Idempotent-Replayed") == "true"


@given(fields=st.lists(st.tuples(text, text), max_size=10), method=st.sampled_from(["POST", "PUT"]))
def test_fingerprint_is_stable_and_ignores_order_of_equal_fields(app, fields, method) -> None:
    with app.test_request_context("/feedback/new", method=method, data=MultiDict(fields)) as ctx:
        first = request_fingerprint(ctx.request)
    with app.test_request_context("/feedback/new", method=method, data=MultiDict(sorted(fields))) as ctx:
        second = request_fingerprint(ctx.request)
    assert first == second and len(first) == 64
