"""Fixtures of the core tests."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import template_rendered
from flask_babel import get_locale


class Renders(list[str]):
    """The names of the templates rendered, in order; `in_language(name)` counts one template's
    renderings by language."""

    def __init__(self) -> None:
        super().__init__()
        self.languages: list[tuple[str, str]] = []

    def in_language(self, name: str) -> Counter[str]:
        return Counter(language for template, language in self.languages if template == name)

    def clear(self) -> None:
        super().clear()
        self.languages.clear()


@pytest.fixture()
def renders(app) -> Iterator[Renders]:  # type: ignore[no-untyped-def]
    """The templates rendered while the test runs."""
    seen = Renders()

    def record(_sender: Any, template: Any, context: Any, **_kw: Any) -> None:
        seen.append(template.name)
        seen.languages.append((template.name, str(get_locale())))

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)
