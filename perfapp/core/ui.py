"""The small pieces of HTML templates call everywhere, as Python globals (icon is perfapp.core.assets.icon).

Plain functions rather than macros: a card calls several, and a Jinja macro call costs as much
as rendering a dozen lines of template (attributes that are missing render empty, as Jinja's
undefined does).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from perfapp.core.assets import icon


def _attr(obj: Any, name: str) -> Any:
    """What `{{ obj.name }}` reads: the attribute, else the item, else nothing."""
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError, AttributeError):
        return ""


def avatar(person: Any, size: str = "") -> Markup:
    # The hue is a class from a fixed set (app.css .hue-N): the CSP allows no style attributes.
    return Markup(f'<span class="avatar {escape(size)} hue-{escape(_attr(person, "avatar_hue"))}" '
                  f'aria-hidden="true">{escape(_attr(person, "initials"))}</span>')


def anon_avatar(size: str = "") -> Markup:
    return Markup(f'<span class="avatar avatar-anon {escape(size)}" aria-hidden="true">?</span>')


def kind_chip(kind: str) -> Markup:
    """The kind as a chip: an icon and the translated name (only the one shown is translated)."""
    if kind == "praise":
        inner = icon("heart-handshake") + _("Praise")
    elif kind == "suggestion":
        inner = icon("lightbulb") + _("Suggestion")
    elif kind == "constructive":
        inner = icon("sprout") + _("Constructive")
    else:
        inner = Markup("")
    return Markup(f'<span class="chip chip-{escape(kind)}">{inner}</span>')


def visibility_label(item: Any) -> Markup:
    # The labels are outside the f-strings: Babel's extractor does not look inside f-strings.
    visibility = _attr(item, "visibility")
    if visibility == "public":
        label = _("Public")
        return Markup(f'<span class="meta-item">{icon("globe")}{label}</span>\n')
    if visibility == "manager":
        label = _("Recipient and manager")
        return Markup(f'<span class="meta-item">{icon("users")}{label}</span>\n')
    label = _("Private")
    return Markup(f'<span class="meta-item">{icon("lock")}{label}</span>')


def name_or_you(person: Any, capital: bool = True) -> str:
    """The person's name, or "You"/"you" (你) when it is the reader: never their own name in the third person.

    Only for what is rendered per viewer: cached cards take the viewer as part of their key instead."""
    if person is not None and current_user and current_user.is_authenticated and _attr(person, "id") == current_user.id:
        return _("You") if capital else _("you")
    return _attr(person, "name")


def field_error(errors: Mapping[str, Any], name: str) -> Markup:
    """A field's error message under it (the input names it with aria-describedby="err-<name>")."""
    message = errors.get(name)
    if not message:
        return Markup("")
    return Markup('<p class="field-error" id="err-{name}" role="alert">{message}</p>').format(name=name, message=message)


def more_loader(url: str, cursor: object, param: str = "before") -> Markup:
    """Infinite scroll: the next page loads when this comes into view (a plain link without htmx)."""
    if not cursor:
        return Markup("")
    href = f"{url}{'&' if '?' in url else '?'}{param}={quote(str(cursor), safe='/')}"
    return Markup('<div id="feed-more" class="more" hx-get="{href}" hx-trigger="revealed" hx-target="this" '
                  'hx-swap="outerHTML">\n  <a href="{href}" class="btn btn-ghost" hx-boost="false">{label}</a>\n</div>'
                  ).format(href=href, label=_("Load more"))


def init_ui(app: Flask) -> None:
    # Globals, not macros imported from a template: `{% from ... import %}` costs ~0.1 ms per import
    # (Jinja compares the page's globals with the imported template's on every import).
    app.jinja_env.globals.update(
        avatar=avatar, anon_avatar=anon_avatar, kind_chip=kind_chip, visibility_label=visibility_label,
        name_or_you=name_or_you, field_error=field_error, more_loader=more_loader)
    app.jinja_env.filters["name_or_you"] = name_or_you  # people|map("name_or_you", False)|join(", ")
