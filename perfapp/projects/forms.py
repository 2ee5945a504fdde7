"""Turn submitted project and milestone forms into service inputs (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.projects.reviews import QUESTIONS, ReviewInput
from perfapp.projects.services import MilestoneInput, ProjectInput


def parse_project(form: MultiDict) -> ProjectInput:
    ids = (parse_int(v) for v in form.getlist("member_ids"))
    roles = {}
    for key, value in form.items():
        if key.startswith("role-"):
            uid = parse_int(key[5:])
            if uid is not None and uid > 0:
                roles[uid] = value
    return ProjectInput(name=form.get("name", ""), description=form.get("description", ""),
                        member_ids=[i for i in ids if i is not None], roles=roles)


def parse_milestone(form: MultiDict) -> MilestoneInput:
    return MilestoneInput(name=form.get("name", ""), due_date=form.get("due_date", ""))


def parse_review(form: MultiDict) -> ReviewInput:
    return ReviewInput(
        reviewee_id=parse_int(form.get("reviewee_id")),
        answers={key: parse_int(form.get(key)) for key in QUESTIONS},
        went_well=form.get("went_well", ""), improve=form.get("improve", ""),
        visibility=form.get("visibility", "private"),
        confidential=form.get("confidential", "") in {"1", "on", "true", "yes"},
    )


def parse_flag(form: MultiDict, name: str) -> bool:
    """A yes/no button value ("1" / "0")."""
    return form.get(name, "") in {"1", "on", "true", "yes"}
