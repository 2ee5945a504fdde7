"""Turn submitted admin forms into service inputs (no validation of meaning here)."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from perfapp.core.validation import parse_int
from perfapp.feedback.tags import TagInput
from perfapp.people.accounts import PersonInput
from perfapp.people.departments import DepartmentInput

_TRUE = {"1", "on", "true", "yes"}


def parse_person(form: MultiDict) -> PersonInput:
    return PersonInput(
        name=form.get("name", ""),
        email=form.get("email", ""),
        title=form.get("title", ""),
        department_id=parse_int(form.get("department_id")),
        manager_id=parse_int(form.get("manager_id")),
        role=form.get("role", "employee"),
        locale=form.get("locale", ""),
        timezone=form.get("timezone", ""),
    )


def parse_department(form: MultiDict) -> DepartmentInput:
    return DepartmentInput(name_zh=form.get("name_zh", ""), name_en=form.get("name_en", ""),
                           parent_id=parse_int(form.get("parent_id")))


def parse_tag(form: MultiDict) -> TagInput:
    return TagInput(name_zh=form.get("name_zh", ""), name_en=form.get("name_en", ""),
                    kind=form.get("kind", ""), active=form.get("active", "") in _TRUE)


def parse_flag(form: MultiDict, name: str) -> bool:
    """A yes/no button value ("1" / "0")."""
    return form.get(name, "") in _TRUE
