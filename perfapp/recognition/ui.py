"""How recognition draws a badge's icon and a gift's flowers: plain functions returning Markup,
template globals (registered by recognition's views) and usable by views that hand a kept page
its HTML (walls)."""
from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from perfapp.core.assets import icon
from perfapp.recognition.models import BADGE_COLOURS, Badge


def badge_icon(badge: Badge, size: str = "") -> Markup:
    """A badge's icon: a sprite icon, or its uploaded image at a fixed size, lazily (no layout shift).
    A Python global rather than a macro: walls draw dozens of them."""
    if badge.image:
        src = escape(url_for("recognition.badge_image", name=badge.image))
        inner = Markup(f'<img src="{src}" alt="" width="48" height="48" loading="lazy" decoding="async">')
    else:
        inner = icon(badge.icon or "award")
    return Markup(f'<span class="badge-icon {escape(size)} {badge_colour(badge.colour)}" '
                  f'aria-hidden="true">{inner}</span>')


def badge_colour(colour: str | None) -> str:
    """The class for a badge colour (app.css .bc-RRGGBB): the CSP allows no style attributes, so
    colours come from the fixed palette; anything else shows the accent colour."""
    colour = (colour or "").lower()
    return f"bc-{colour[1:]}" if colour in BADGE_COLOURS else ""


def flower_row(count: int) -> Markup:
    """`count` little red flowers (at most five per gift)."""
    return Markup(f'<span class="flower-row" aria-hidden="true">{icon("flower-2") * count}</span>')
