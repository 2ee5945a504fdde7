"""Administration for HR and admins (people, departments, projects, tags)."""
from __future__ import annotations

from functools import wraps

from flask import Response, abort
from flask_login import current_user, login_required

from perfapp.admin import bp
from perfapp.core.htmx import render


def hr_required(view):  # type: ignore[no-untyped-def]
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not current_user.is_hr:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/")
@hr_required
def index() -> Response:
    return render("admin/index.html")
