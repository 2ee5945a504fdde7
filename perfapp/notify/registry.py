"""How the inbox shows entries that other domains create with (ref_type, ref_id).

A domain registers, once at import time, a loader that turns ids into the
objects the viewer may see (anything missing or hidden is simply left out) and
the template fragment that renders one entry (it gets `note`, `obj`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from perfapp.people.models import User

Loader = Callable[[list[int], User], dict[int, Any]]


@dataclass(frozen=True)
class RefKind:
    template: str
    load: Loader


REGISTRY: dict[str, RefKind] = {}


def register(ref_type: str, template: str, load: Loader) -> None:
    """Teach the inbox to show entries pointing at `ref_type` rows."""
    REGISTRY[ref_type] = RefKind(template=template, load=load)
