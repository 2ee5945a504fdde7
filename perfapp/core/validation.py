"""Validation errors that carry translated, per-field messages back to the form, and the
bounds every integer from a request is held to."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter


class FormError(Exception):
    """Raised by services for bad input; views answer 422 with the form re-rendered."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# Ids and counts are 32-bit columns on PostgreSQL and SQLite refuses integers past 64 bits:
# a number outside this range can't name a row or be a sane count, and sent to the database
# it would fail the request with a 500 (found by tests/fuzz).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def parse_int(value: str | None) -> int | None:
    """An optional integer id from a form; anything else is None (treated as absent)."""
    if value is None or str(value).strip() == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1  # present but not a number: callers report it as "unknown"
    return number if INT_MIN <= number <= INT_MAX else -1


def bounded_int(text: str) -> int:
    """int(text) for a number the database can hold (cursors); ValueError otherwise."""
    number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(text)
    return number


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in routes, up to INT_MAX: a larger id names no row, so the URL is a 404
    instead of a database error."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeMultiDict(ImmutableMultiDict):
    """Query and form values without NUL characters.

    PostgreSQL can't store or even compare text holding NUL: one in any field made the request
    fail with a 500 there (found by tests/fuzz). Nobody types NUL and it means nothing in text,
    so it is dropped where every request's values are built, once, instead of in each form."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        items: Iterable[tuple[Any, Any]]
        if isinstance(mapping, MultiDict):
            items = mapping.items(multi=True)
        elif isinstance(mapping, Mapping):
            items = [(k, v) for k, vs in mapping.items()
                     for v in (vs if isinstance(vs, (list, tuple, set)) else [vs])]
        else:
            items = mapping
        super().__init__([(_without_nul(k), _without_nul(v)) for k, v in items])


class CleanRequest(Request):
    """Flask's request, with NUL-free args and form (parameter_storage_class is the documented
    way to choose the class those are built with)."""

    parameter_storage_class = NulFreeMultiDict


def clean_text(value: str | None, name: str, max_len: int, errors: dict[str, str],
               required: bool = True) -> str:
    """Trimmed text with inner runs of whitespace collapsed; records a message in errors when invalid."""
    text = re.sub(r"\s+", " ", value or "").strip()
    if required and not text:
        errors[name] = _("Please fill this in.")
    elif len(text) > max_len:
        errors[name] = _("Use at most %(n)d characters.", n=max_len)
    return text
