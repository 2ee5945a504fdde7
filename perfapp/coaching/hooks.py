"""Where review cycles (perfapp/reviews, being built) plug into coaching. Until they exist these
return nothing; reviews fills them in (or replaces these bodies) without touching coaching's pages:
My team shows a report's review status when `review_statuses` names one, and the 1:1 agenda offers
`review_agenda_suggestions` beside the feedback and goal suggestions."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfapp.people.models import User


def review_statuses(viewer: User, person_ids: Sequence[int]) -> dict[int, str]:
    """{person id: a short translated status ("Review due 12 Dec", "Results ready")} for the
    people the viewer may see it for; empty until review cycles exist. One batch query, never
    one per person (My team calls it once for the whole team)."""
    return {}


def review_agenda_suggestions(viewer: User, report: User) -> list[tuple[int, str]]:
    """(reference id, translated agenda line) for review results worth talking about in the
    report's next 1:1, as far as the viewer may read them; empty until review cycles exist."""
    return []
