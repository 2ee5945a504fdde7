"""Property-based fuzzing of every parser and form (issue 7, "Harden").

Budgets: the default profile keeps the ordinary suite fast; HYPOTHESIS_PROFILE=deep runs a much
larger one (by hand, or in a nightly job). No example database is written (database=None), so
runs leave nothing in the work tree; a failure prints the example and its reproduce blob.
"""
from __future__ import annotations

import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_COMMON: dict[str, Any] = {
    "deadline": None,  # a request's time depends on the machine, not on the input
    "database": None,
    "print_blob": True,
    # Fixtures (the users, their logged-in clients) are set up once per test on purpose:
    # the examples share them, and each example checks what it changed itself.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.data_too_large],
}
settings.register_profile("default", max_examples=60, **_COMMON)
settings.register_profile("deep", max_examples=1500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def budget(share: float) -> settings:
    """A fraction of the profile's examples, for tests whose examples are costly (ffprobe runs)."""
    return settings(max_examples=max(5, int(settings.default.max_examples * share)))


ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FIELD_ERROR = re.compile(r'class="(?:field|form)-error"[^>]*>(.*?)</p>', re.S)

# Text a person or an attacker could send: any Unicode but lone surrogates (not encodable in a
# form), with the awkward characters (NUL, controls, bidi overrides, zero-width) made likely.
_AWKWARD = st.sampled_from(["\x00", "\r\n", "\u202e", "\u200b", "\ufeff", "'", '"', "<script>", "%", "_",
                            "\\", "😀", "李娜", "\x7f", "\t", "\U0010ffff"])
any_char = st.characters(blacklist_categories=("Cs",))
text = st.lists(st.one_of(st.text(any_char, max_size=20), _AWKWARD), max_size=8).map("".join)
long_text = st.integers(min_value=3990, max_value=5000).map(lambda n: "字" * n)
# What an id field may carry: real-looking ids, numbers past every integer column, junk.
int_like = st.one_of(
    st.integers(min_value=-5, max_value=50).map(str),
    st.integers(min_value=2**31 - 2, max_value=2**70).map(str),
    st.integers(max_value=-2**31).map(str),
    st.sampled_from(["", " ", "1.5", "1e3", "0x10", "١٢", "1_000", "NaN", "-0", "+7", "٣"]),
    text,
)


def field_errors(html: str) -> list[str]:
    """The error messages shown (empty slots that scripts fill are left out)."""
    found = (re.sub(r"<[^>]+>", "", m).strip() for m in _FIELD_ERROR.findall(html))
    return [m for m in found if m]


def assert_translated_errors(html: str) -> None:
    """A 422 in Chinese names at least one field, and every message is Chinese."""
    errors = field_errors(html)
    assert errors, html[:2000]
    for message in errors:
        assert _CJK.search(message), message


@pytest.fixture(autouse=True)
def _no_rate_limits(app):  # type: ignore[no-untyped-def]
    """Thousands of requests from one person in seconds: the rate limits (when configured)
    would answer 429 long before the inputs get interesting."""
    limiter = getattr(__import__("perfapp.extensions", fromlist=["x"]), "limiter", None)
    saved = getattr(limiter, "enabled", None)
    if limiter is not None:
        limiter.enabled = False
    yield
    if limiter is not None:
        limiter.enabled = saved
