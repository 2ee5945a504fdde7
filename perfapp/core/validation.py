"""Validation errors that carry translated, per-field messages back to the form."""
from __future__ import annotations


class FormError(Exception):
    """Raised by services for bad input; views answer 422 with the form re-rendered."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_int(value: str | None) -> int | None:
    """An optional integer id from a form; anything else is None (treated as absent)."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # present but not a number: callers report it as "unknown"
