"""Goal building blocks as template globals (Python, not macros: the tree and lists render dozens):
a progress bar (SVG attributes, no style=), a status chip (icon + label, not hue alone), owner icons."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from perfapp.core.assets import icon

_STATUS_ICONS = {"on_track": "circle-check", "at_risk": "bell", "off_track": "flag", "none": "target"}
_OWNER_ICONS = {"company": "building-2", "department": "users", "project": "folder", "person": "circle-user"}
_BAR = Markup('<svg class="gbar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="{label}">'
              '<rect class="gbar-bg" width="100" height="8" rx="4"/>'
              '<rect class="gbar-fill st-{status}" width="{width}" height="8" rx="4"/></svg>')
_CHIP = Markup('<span class="chip gchip st-{status}" data-status="{status}">{icon}{name}{mark}</span>')


def status_name(status: str) -> str:
    names = {"on_track": _("On track"), "at_risk": _("At risk"), "off_track": _("Off track"),
             "none": _("No check-in yet")}
    return names.get(status, status)


def goal_bar(percent: int, status: str = "on_track", label: str | None = None) -> Markup:
    """A progress bar for `percent` (0–100) in the status's colour."""
    return _BAR.format(label=label or _("%(num)d%% done", num=percent), status=status,
                       width=max(0, min(100, int(percent))))


def goal_status(status: str, overridden: bool = False) -> Markup:
    """The status chip; an asterisk when the owner set it by hand."""
    return _CHIP.format(status=status, icon=icon(_STATUS_ICONS.get(status, "target")), name=status_name(status),
                        mark="*" if overridden else "")


def goal_owner_icon(goal: Any) -> Markup:
    return icon(_OWNER_ICONS.get(goal.owner_type, "target"))
