"""Turn submitted project and milestone forms into service inputs (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.projects.services import MilestoneInput, ProjectInput


def parse_project(form: MultiDict) -> ProjectInput:  # type: ignore[type-arg]
    ids = (parse_int(v) for v in form.getlist("member_ids"))
    return ProjectInput(name=form.get("name", ""), description=form.get("description", ""),
                        member_ids=[i for i in ids if i is not None])


def parse_milestone(form: MultiDict) -> MilestoneInput:  # type: ignore[type-arg]
    return MilestoneInput(name=form.get("name", ""), due_date=form.get("due_date", ""))
