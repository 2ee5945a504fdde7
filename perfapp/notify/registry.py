"""How the inbox shows entries that other domains create with (ref_type, ref_id), and what
push notifications say for each kind of entry (register_push).

A domain registers, once at import time, a loader that turns ids into the
objects the viewer may see (anything missing or hidden is simply left out) and
the template fragment that renders one entry (it gets `note`, `obj`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing people here would make notify's imports circular
    from perfapp.people.models import User

Loader = Callable[[list[int], "User"], dict[int, Any]]


@dataclass(frozen=True)
class RefKind:
    template: str
    load: Loader


REGISTRY: dict[str, RefKind] = {}


def register(ref_type: str, template: str, load: Loader) -> None:
    """Teach the inbox to show entries pointing at `ref_type` rows."""
    REGISTRY[ref_type] = RefKind(template=template, load=load)


# --- what a push notification says ----------------------------------------------------------

#: The nudge groups a person can switch on and off (NotificationPreference columns).
PUSH_CATEGORIES = ("milestone", "received", "requests", "weekly", "other")


@dataclass(frozen=True)
class PushText:
    """A push notification, already in the recipient's language. `url` is a path in the app."""

    title: str
    body: str
    url: str
    urgency: str = "normal"   # RFC 8030: very-low | low | normal | high
    ttl: int = 24 * 3600      # how long the push service keeps it for an offline device


#: (notification, locale) -> PushText, or None when there is nothing to say any more (the
#: thing was hidden or answered meanwhile). Called inside flask_babel.force_locale(locale).
#: The text may depend on the entry's kind and what it points at (ref, feedback, ask), not on
#: who receives it: delivery renders it once per event and language for a whole batch.
PushRenderer = Callable[[Any, str], PushText | None]


@dataclass(frozen=True)
class PushKind:
    render: PushRenderer
    category: str


PUSH_KINDS: dict[str, PushKind] = {}


def register_push(kind: str, render: PushRenderer, category: str = "other") -> None:
    """Teach push delivery what to say for inbox entries of `kind` (others get a generic text)."""
    if category not in PUSH_CATEGORIES:
        raise ValueError(f"unknown push category {category!r}")
    PUSH_KINDS[kind] = PushKind(render=render, category=category)
