"""Departments, as HR keeps them: the tree (with each one's depth), adding and renaming,
moving under another parent (never under itself)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from perfapp.core.db import add_row, get_row
from perfapp.core.validation import FormError, clean_text
from perfapp.extensions import db
from perfapp.people.models import Department, User

MAX_DEPARTMENT_NAME = 80


def _require_hr(actor: User) -> None:
    if not actor.is_hr:
        raise PermissionError("HR or admin only")


@dataclass
class DepartmentInput:
    """The department form."""

    name_zh: str = ""
    name_en: str = ""
    parent_id: int | None = None


def department_tree() -> list[tuple[Department, int]]:
    """Every department in tree order with its depth (children sorted by English name)."""
    departments = list(db.session.scalars(select(Department)))
    children: dict[int | None, list[Department]] = {}
    for dept in departments:
        children.setdefault(dept.parent_id, []).append(dept)
    for kids in children.values():
        kids.sort(key=lambda d: (d.name_en.lower(), d.id))
    ordered: list[tuple[Department, int]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for dept in children.get(parent_id, []):
            if dept.id not in seen:
                seen.add(dept.id)
                ordered.append((dept, depth))
                walk(dept.id, depth + 1)

    walk(None, 0)
    for dept in departments:  # only reachable through data written outside these services
        if dept.id not in seen:
            walk(dept.parent_id, 0)
    return ordered


def _clean_department(dept: Department | None, data: DepartmentInput) -> DepartmentInput:
    errors: dict[str, str] = {}
    name_zh = clean_text(data.name_zh, "name_zh", MAX_DEPARTMENT_NAME, errors)
    name_en = clean_text(data.name_en, "name_en", MAX_DEPARTMENT_NAME, errors)
    if data.parent_id is not None:
        parent = get_row(Department, data.parent_id)
        if parent is None:
            errors["parent_id"] = _("We couldn't find that department.")
        elif dept is not None:
            seen: set[int] = set()
            ancestor: Department | None = parent
            while ancestor is not None and ancestor.id not in seen:
                if ancestor.id == dept.id:
                    errors["parent_id"] = _("A department can't sit inside itself.")
                    break
                seen.add(ancestor.id)
                ancestor = ancestor.parent
    if errors:
        raise FormError(errors)
    return DepartmentInput(name_zh=name_zh, name_en=name_en, parent_id=data.parent_id)


def _apply_department(dept: Department, data: DepartmentInput) -> None:
    dept.name_zh, dept.name_en, dept.parent_id = data.name_zh, data.name_en, data.parent_id


def create_department(actor: User, data: DepartmentInput) -> Department:
    """Add a department under a parent (or at the top)."""
    _require_hr(actor)
    dept = Department()
    _apply_department(dept, _clean_department(None, data))
    return add_row(dept)


def update_department(actor: User, dept: Department, data: DepartmentInput) -> None:
    """Rename a department or move it under another one."""
    _require_hr(actor)
    _apply_department(dept, _clean_department(dept, data))
    db.session.flush()
