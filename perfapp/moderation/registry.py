"""Which kinds of rows can be reported and moderated.

Each domain with public content registers its reportable model here once at
import time. A reportable model has an integer `id` and a boolean `hidden`
column: reporting sets hidden=True at once (every public query must filter
`hidden.is_(False)` for people who are not HR); restoring clears it; deleting
calls `on_delete(row)` first (e.g. to refund flowers), then sends
`signals.content_deleted` (reactions and comments on the row go with it) and
deletes the row.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _anyone(_obj: Any, _viewer: Any) -> bool:
    return True


@dataclass(frozen=True)
class Reportable:
    model: type
    author_id: Callable[[Any], int | None]   # who posted it (suspensions apply to them); None: nobody
    template: str                             # fragment showing the row in the moderation queue (gets `obj`)
    on_delete: Callable[[Any], None] | None = None
    # Who may see the row, and so report it (the row's own visibility rule; hidden rows: HR only).
    can_read: Callable[[Any, Any], bool] = _anyone
    # The id of the element that shows the row on pages: a report replaces it with a notice.
    dom_id: Callable[[Any], str] | None = None


REPORTABLE: dict[str, Reportable] = {}


def register_reportable(type_name: str, model: type, author_id: Callable[[Any], int | None], template: str,
                        on_delete: Callable[[Any], None] | None = None, *,
                        can_read: Callable[[Any, Any], bool] = _anyone,
                        dom_id: Callable[[Any], str] | None = None) -> None:
    """Make rows of `model` reportable under the name `type_name` (e.g. "feedback", "comment", "flower")."""
    REPORTABLE[type_name] = Reportable(model=model, author_id=author_id, template=template,
                                       on_delete=on_delete, can_read=can_read, dom_id=dom_id)
