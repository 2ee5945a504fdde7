"""Fixtures of the core tests."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import template_rendered


@pytest.fixture()
def renders(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The names of the templates rendered while the test runs."""
    seen: list[str] = []

    def record(_sender: Any, template: Any, context: Any, **_kw: Any) -> None:
        seen.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)
