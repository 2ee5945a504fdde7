"""Pagination cursors and the other query parameters of the feeds and walls: any string in
them gives a page (a malformed cursor means the first page) or a 4xx, never a 500."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfapp.extensions import db
from perfapp.feedback.services import decode_cursor
from perfapp.recognition.models import Badge
from perfapp.walls.services import decode_cursor as decode_wall_cursor
from tests.fuzz.conftest import int_like, text

# Cursors that look almost right are the interesting ones: real shapes with odd parts.
stamps = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(datetime.isoformat),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.sampled_from(["2026-02-30T00:00:00", "2026-01-01T25:00", "0000-01-01", "2026-W01", "now"]),
    text,
)
cursors = st.one_of(
    text,
    st.tuples(stamps, int_like).map("_".join),
    st.tuples(stamps, int_like, int_like).map("_".join),
    st.tuples(stamps, st.just("2"), st.integers(min_value=2**63).map(str)).map("_".join),
    st.tuples(stamps, st.integers(min_value=2**63).map(str)).map("_".join),
)
PAGES = ["/", "/feedback/given", "/walls/", "/walls/badges/{badge}", "/people/{person}", "/stories/",
         "/notify/"]


@pytest.fixture()
def viewer(make_user, login):  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    person = make_user(name="李娜", email="lina@example.com", manager=boss)
    badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d")
    db.session.add(badge)
    db.session.commit()
    return {"client": login(boss), "badge": badge.id, "person": person.id}


@given(page=st.sampled_from(PAGES), cursor=cursors, htmx=st.booleans())
def test_cursors_never_500(viewer, page, cursor, htmx) -> None:
    url = page.format(badge=viewer["badge"], person=viewer["person"])
    headers = {"HX-Request": "true", "HX-Target": "feed-more"} if htmx else {}
    r = viewer["client"].get(url, query_string={"before": cursor}, headers=headers)
    assert r.status_code < 500, (url, cursor)


@given(args=st.dictionaries(st.sampled_from(["department", "tag", "badge", "period", "value", "before"]),
                            st.one_of(int_like, text), max_size=5),
       page=st.sampled_from(["/walls/", "/walls/filter", "/stories/"]))
def test_wall_and_library_filters_never_500(viewer, args, page) -> None:
    assert viewer["client"].get(page, query_string=args).status_code < 500


@given(ident=st.one_of(st.integers(min_value=0, max_value=2**80), st.integers(max_value=-1)),
       page=st.sampled_from(["/people/{}", "/walls/people/{}", "/walls/badges/{}", "/feedback/{}",
                             "/stories/{}", "/recognition/awards/{}", "/recognition/flowers/{}", "/feedback/{}/voice",
                             "/walls/people/1/badges/{}", "/reactions/feedback/{}"]))
def test_ids_in_paths_never_500(viewer, ident, page) -> None:
    r = viewer["client"].get(page.format(ident))
    assert r.status_code < 500, page.format(ident)
    if ident > 2**31:
        assert r.status_code == 404


@given(raw=st.one_of(text, cursors))
def test_decoders_return_a_cursor_or_none(raw) -> None:
    for decode in (decode_cursor, decode_wall_cursor):
        value = decode(raw)
        assert value is None or isinstance(value[0], datetime)
