"""Administration for HR and admins (people, departments, projects, tags)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from perfapp.admin import bp, forms
from perfapp.audit.guard import hr_required
from perfapp.core.htmx import is_htmx, redirect, render, wants_fragment
from perfapp.core.i18n import timezone_label
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback.models import TAG_KINDS, Tag
from perfapp.feedback.tags import (
    TAXONOMY_KINDS,
    create_tag,
    set_tag_active,
    tags_by_kind,
    update_tag,
)
from perfapp.people.accounts import (
    can_manage,
    create_person,
    deactivate_person,
    force_reset,
    list_people,
    reactivate_person,
    resend_invite,
    update_person,
)
from perfapp.people.departments import create_department, department_tree, update_department
from perfapp.people.models import Department, User
from perfapp.people.services import COMMON_TIMEZONES, timezones
from perfapp.personal import erasure
from perfapp.projects import forms as project_forms
from perfapp.projects import services as project_services
from perfapp.projects.models import Milestone, Project

ROLE_LABELS = {"employee": _l("Employee"), "hr": _l("HR"), "admin": _l("Admin")}
TAG_SECTIONS = {"capability": _l("Capabilities"), "value": _l("Values"), "free": _l("Free tags")}
# The invite link survives one redirect in the session, then it is gone for good.
_INVITE_KEY = "admin_invite"


def _done(message: str, next_url: str, target: str, fragment: str,
          oob: Iterable[str] = (), **context: Any) -> Response:
    """Commit; htmx gets the updated fragment (+ out-of-band parts, a toast), a form a 303 + flash."""
    db.session.commit()
    if not wants_fragment(target):
        flash(message, "success")
        return redirect(next_url, 303)
    parts = [render_template(fragment, **context)]
    parts += [render_template(name, oob=True, **context) for name in oob]
    parts.append(render_template("admin/_toast.html", message=message))
    response = make_response("".join(parts))
    response.vary.add("HX-Request")
    return response


def _tree_options(rows: Iterable[tuple[Department, int]]) -> list[tuple[int, str]]:
    """(department, depth) rows as select options labelled with their path ("R&D › Web")."""
    options: list[tuple[int, str]] = []
    path: list[str] = []
    for dept, depth in rows:
        path[depth:] = [dept.name]
        options.append((dept.id, " › ".join(path)))
    return options


def _invalid(page: str, fragment: str, target: str, error: FormError,
             errors_key: str = "errors", **context: Any) -> Response:
    """Keep nothing; answer 422 with the form as typed and the messages next to the fields."""
    db.session.rollback()
    context[errors_key] = error.errors
    return render(page, fragment, target=target, status=422, **context)


def _edit(row: Any, page: str, target: str, parse: Callable[[Any], Any],
          update: Callable[[User, Any, Any], None], context: Callable[[Any, Mapping], dict[str, Any]],
          values: Callable[[Any], dict[str, str]], next_url: str) -> Response:
    """An edit page: GET shows the saved values, POST saves them. The form is `admin/_<target>.html`."""
    fragment = f"admin/_{target.replace('-', '_')}.html"
    if request.method == "GET":
        return render(page, errors={}, **context(row, values(row)))
    try:
        update(current_user, row, parse(request.form))
    except FormError as e:
        return _invalid(page, fragment, target, e, **context(row, request.form))
    return _done(_("Saved."), next_url, target, fragment, errors={}, **context(row, values(row)))


@bp.route("/")
@hr_required
def index() -> Response:
    return render("admin/index.html")


# --- people -----------------------------------------------------------------------

def _person_values(person: User | None) -> dict[str, str]:
    if person is None:
        return {"role": "employee", "timezone": current_user.timezone, "locale": ""}
    return {
        "name": person.name, "email": person.email, "title": person.title,
        "department_id": str(person.department_id or ""), "manager_id": str(person.manager_id or ""),
        "role": person.role, "locale": person.locale or "", "timezone": person.timezone,
    }


def _person_context(person: User | None, form: Mapping[str, str],
                    invite_url: str | None = None) -> dict[str, Any]:
    manager_id = parse_int(form.get("manager_id"))
    manager = db.session.get(User, manager_id) if manager_id and manager_id > 0 else None
    zones = list(COMMON_TIMEZONES)
    if form.get("timezone") in timezones() and form["timezone"] not in zones:
        zones.insert(0, form["timezone"])
    return {
        "person": person, "form": form, "manager": manager, "invite_url": invite_url,
        "can_manage": person is None or can_manage(current_user, person),
        "departments": _tree_options(department_tree()), "roles": ROLE_LABELS, "timezones": [(z, timezone_label(z)) for z in zones],
        "languages": current_app.config["LANGUAGES"],
    }


def _invite_done(person: User, token: str, message: str, target: str, fragment: str) -> Response:
    invite_url = url_for("auth.accept_invite", token=token, _external=True)
    if not wants_fragment(target):
        session[_INVITE_KEY] = {"person_id": person.id, "url": invite_url}
    return _done(message, url_for("admin.person", person_id=person.id), target, fragment,
                 errors={}, **_person_context(person, _person_values(person), invite_url))


@bp.route("/people")
@hr_required
def people() -> Response:
    q = request.args.get("q", "").strip()
    page = list_people(q, request.args.get("page", 1, type=int))
    return render("admin/people.html", "admin/_people_results.html", target="people-results",
                  q=q, results=page)


@bp.route("/people/new", methods=["GET", "POST"])
@hr_required
def person_new() -> Response:
    if request.method == "GET":
        return render("admin/person_new.html", errors={}, **_person_context(None, _person_values(None)))
    try:
        person, token = create_person(current_user, forms.parse_person(request.form))
    except FormError as e:
        return _invalid("admin/person_new.html", "admin/_person_form.html", "person-form", e,
                        **_person_context(None, request.form))
    return _invite_done(person, token, _("%(name)s was added.", name=person.name),
                        "person-form", "admin/_person_created.html")


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@hr_required
def person(person_id: int) -> Response:
    person = db.get_or_404(User, person_id)
    if request.method == "POST":
        try:
            update_person(current_user, person, forms.parse_person(request.form))
        except FormError as e:
            return _invalid("admin/person.html", "admin/_person_form.html", "person-form", e,
                            **_person_context(person, request.form))
        return _done(_("Saved."), url_for("admin.person", person_id=person.id), "person-form",
                     "admin/_person_form.html", oob=["admin/_person_account.html"],
                     errors={}, **_person_context(person, _person_values(person)))
    stashed = session.pop(_INVITE_KEY, None) or {}
    invite_url = stashed.get("url") if stashed.get("person_id") == person.id else None
    return render("admin/person.html", errors={},
                  **_person_context(person, _person_values(person), invite_url))


def _account_error(person: User, error: FormError) -> Response:
    return _invalid("admin/person.html", "admin/_person_account.html", "person-account", error,
                    **_person_context(person, _person_values(person)))


@bp.route("/people/<int:person_id>/invite", methods=["POST"])
@hr_required
def person_invite(person_id: int) -> Response:
    person = db.get_or_404(User, person_id)
    try:
        token = resend_invite(current_user, person)
    except FormError as e:
        return _account_error(person, e)
    return _invite_done(person, token, _("New invite link for %(name)s.", name=person.name),
                        "person-account", "admin/_person_account.html")


@bp.route("/people/<int:person_id>/reset", methods=["POST"])
@hr_required
def person_reset(person_id: int) -> Response:
    person = db.get_or_404(User, person_id)
    try:
        force_reset(current_user, person)
    except FormError as e:
        return _account_error(person, e)
    message = _("%(name)s was logged out everywhere and must choose a new password: we emailed them a link.",
                name=person.name)
    return _done(message, url_for("admin.person", person_id=person.id), "person-account",
                 "admin/_person_account.html", errors={},
                 **_person_context(person, _person_values(person)))


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@hr_required
def person_active(person_id: int) -> Response:
    person = db.get_or_404(User, person_id)
    active = forms.parse_flag(request.form, "active")
    try:
        if active:
            reactivate_person(current_user, person)
        else:
            deactivate_person(current_user, person)
    except FormError as e:
        return _account_error(person, e)
    message = (_("%(name)s can log in again.", name=person.name) if active
               else _("%(name)s was deactivated and logged out everywhere.", name=person.name))
    return _done(message, url_for("admin.person", person_id=person.id), "person-account",
                 "admin/_person_account.html", errors={},
                 **_person_context(person, _person_values(person)))


# --- erasure --------------------------------------------------------------------------

def _erase_page(person: User, confirm: str, errors: dict[str, str], status: int = 200) -> Response:
    return render("admin/person_erase.html", "admin/_person_erase_form.html", target="person-erase",
                  person=person, confirm=confirm, errors=errors, status=status)


@bp.route("/people/<int:person_id>/erase", methods=["GET", "POST"])
@hr_required
def person_erase(person_id: int) -> Response:
    """Erase a person for good (perfapp.personal.erasure), after HR types their name."""
    person = db.get_or_404(User, person_id)
    if person.is_former_colleague:
        abort(404)
    try:
        erasure.check_erasable(current_user, person)
    except FormError as e:  # erasing oneself or the last admin: explained, no form to send
        db.session.rollback()
        return _erase_page(person, "", e.errors, status=200 if request.method == "GET" else 422)
    if request.method == "GET":
        return _erase_page(person, "", {})
    confirm = request.form.get("confirm", "")[:200]
    try:
        erasure.erase_person(current_user, person, confirm)
    except FormError as e:
        db.session.rollback()
        return _erase_page(person, confirm, e.errors, status=422)
    db.session.commit()
    message = _("The person was erased. What they gave others now shows as from a former colleague.")
    flash(message, "success")
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("admin.people")
        return response
    return redirect(url_for("admin.people"), 303)


# --- departments ------------------------------------------------------------------

def _parent_choices(tree: list[tuple[Department, int]],
                    dept: Department | None) -> list[tuple[Department, int]]:
    """The tree without `dept` and everything under it (a department can't move inside itself)."""
    choices: list[tuple[Department, int]] = []
    skip_depth: int | None = None
    for row, depth in tree:
        if skip_depth is not None and depth > skip_depth:
            continue
        skip_depth = None
        if dept is not None and row.id == dept.id:
            skip_depth = depth
            continue
        choices.append((row, depth))
    return choices


def _department_context(dept: Department | None, form: Mapping[str, str]) -> dict[str, Any]:
    tree = department_tree()
    return {"department": dept, "form": form, "tree": tree,
            "parents": _tree_options(_parent_choices(tree, dept))}


def _department_values(dept: Department) -> dict[str, str]:
    return {"name_zh": dept.name_zh, "name_en": dept.name_en, "parent_id": str(dept.parent_id or "")}


@bp.route("/departments", methods=["GET", "POST"])
@hr_required
def departments() -> Response:
    if request.method == "GET":
        return render("admin/departments.html", errors={}, **_department_context(None, {}))
    try:
        dept = create_department(current_user, forms.parse_department(request.form))
    except FormError as e:
        return _invalid("admin/departments.html", "admin/_department_form.html", "department-form",
                        e, **_department_context(None, request.form))
    return _done(_("Added “%(name)s”.", name=dept.name), url_for("admin.departments"),
                 "department-form", "admin/_department_form.html",
                 oob=["admin/_department_tree.html"], errors={}, **_department_context(None, {}))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@hr_required
def department(department_id: int) -> Response:
    return _edit(db.get_or_404(Department, department_id), "admin/department.html", "department-form",
                 forms.parse_department, update_department, _department_context,
                 _department_values, url_for("admin.departments"))


# --- projects and milestones ----------------------------------------------------------

def _project_context(project: Project | None, form: Mapping[str, Any]) -> dict[str, Any]:
    if hasattr(form, "getlist"):
        ids = [i for i in (parse_int(v) for v in form.getlist("member_ids")) if i and i > 0]
        members = list(db.session.scalars(select(User).where(User.id.in_(ids[:project_services.MAX_MEMBERS]))))
    else:
        members = list(project.members) if project is not None else []
    return {"project": project, "form": form, "members": members,
            "max_members": project_services.MAX_MEMBERS, "ms_form": {}, "ms_errors": {}}


def _project_values(project: Project) -> dict[str, str]:
    return {"name": project.name, "description": project.description}


@bp.route("/projects")
@hr_required
def projects() -> Response:
    return render("admin/projects.html", projects=project_services.list_projects())


@bp.route("/projects/new", methods=["GET", "POST"])
@hr_required
def project_new() -> Response:
    if request.method == "GET":
        return render("admin/project_new.html", errors={}, **_project_context(None, {}))
    try:
        project = project_services.create_project(current_user, project_forms.parse_project(request.form))
    except FormError as e:
        return _invalid("admin/project_new.html", "admin/_project_form.html", "project-form", e,
                        **_project_context(None, request.form))
    return _done(_("Project “%(name)s” created.", name=project.name),
                 url_for("admin.project", project_id=project.id), "project-form",
                 "admin/_project_created.html", project=project)


@bp.route("/projects/<int:project_id>", methods=["GET", "POST"])
@hr_required
def project(project_id: int) -> Response:
    return _edit(db.get_or_404(Project, project_id), "admin/project.html", "project-form",
                 project_forms.parse_project, project_services.update_project, _project_context, _project_values,
                 url_for("admin.project", project_id=project_id))


@bp.route("/projects/<int:project_id>/archived", methods=["POST"])
@hr_required
def project_archived(project_id: int) -> Response:
    project = db.get_or_404(Project, project_id)
    archived = forms.parse_flag(request.form, "archived")
    project_services.set_project_archived(current_user, project, archived)
    message = (_("“%(name)s” was archived.", name=project.name) if archived
               else _("“%(name)s” is open again.", name=project.name))
    return _done(message, url_for("admin.project", project_id=project.id), "project-archive",
                 "admin/_project_archive.html", project=project)


@bp.route("/projects/<int:project_id>/milestones", methods=["POST"])
@hr_required
def milestone_new(project_id: int) -> Response:
    project = db.get_or_404(Project, project_id)
    try:
        milestone = project_services.add_milestone(current_user, project, project_forms.parse_milestone(request.form))
    except FormError as e:
        context = _project_context(project, _project_values(project))
        context.update(errors={}, ms_form=request.form)
        return _invalid("admin/project.html", "admin/_milestones.html", "milestones", e,
                        errors_key="ms_errors", **context)
    return _done(_("Added “%(name)s”.", name=milestone.name),
                 url_for("admin.project", project_id=project.id), "milestones",
                 "admin/_milestones.html", project=project, ms_form={}, ms_errors={})


def _milestone_values(milestone: Milestone) -> dict[str, str]:
    due = milestone.due_date.isoformat() if milestone.due_date else ""
    return {"name": milestone.name, "due_date": due}


def _milestone_context(milestone: Milestone, form: Mapping[str, str]) -> dict[str, Any]:
    return {"milestone": milestone, "form": form}


@bp.route("/milestones/<int:milestone_id>", methods=["GET", "POST"])
@hr_required
def milestone(milestone_id: int) -> Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    return _edit(milestone, "admin/milestone.html", "milestone-form", project_forms.parse_milestone,
                 project_services.update_milestone, _milestone_context, _milestone_values,
                 url_for("admin.project", project_id=milestone.project_id))


@bp.route("/milestones/<int:milestone_id>/reached", methods=["POST"])
@hr_required
def milestone_reached(milestone_id: int) -> Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    reached = forms.parse_flag(request.form, "reached")
    if reached:
        project_services.reach_milestone(current_user, milestone)
    else:
        project_services.unreach_milestone(current_user, milestone)
    message = (_("“%(name)s” reached. Well done!", name=milestone.name) if reached
               else _("“%(name)s” is open again.", name=milestone.name))
    return _done(message, url_for("admin.project", project_id=milestone.project_id),
                 f"milestone-{milestone.id}", "admin/_milestone.html", m=milestone)


# --- tags -------------------------------------------------------------------------

def _tag_context(tag: Tag | None, form: Mapping[str, str]) -> dict[str, Any]:
    return {"tag": tag, "form": form, "tags": tags_by_kind(), "kinds": TAG_KINDS,
            "sections": TAG_SECTIONS, "taxonomy_kinds": TAXONOMY_KINDS}


def _tag_values(tag: Tag | None) -> dict[str, str]:
    if tag is None:
        return {"kind": "value", "active": "1"}
    return {"name_zh": tag.name_zh, "name_en": tag.name_en, "kind": tag.kind,
            "active": "1" if tag.active else ""}


@bp.route("/tags", methods=["GET", "POST"])
@hr_required
def tags() -> Response:
    if request.method == "GET":
        return render("admin/tags.html", errors={}, **_tag_context(None, _tag_values(None)))
    try:
        tag = create_tag(current_user, forms.parse_tag(request.form))
    except FormError as e:
        return _invalid("admin/tags.html", "admin/_tag_form.html", "tag-form", e,
                        **_tag_context(None, request.form))
    return _done(_("Added “%(name)s”.", name=tag.name), url_for("admin.tags"), "tag-form",
                 "admin/_tag_form.html", oob=["admin/_tag_lists.html"], errors={},
                 **_tag_context(None, _tag_values(None)))


@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
@hr_required
def tag(tag_id: int) -> Response:
    return _edit(db.get_or_404(Tag, tag_id), "admin/tag.html", "tag-form", forms.parse_tag,
                 update_tag, _tag_context, _tag_values, url_for("admin.tags"))


@bp.route("/tags/<int:tag_id>/active", methods=["POST"])
@hr_required
def tag_active(tag_id: int) -> Response:
    tag = db.get_or_404(Tag, tag_id)
    active = forms.parse_flag(request.form, "active")
    set_tag_active(current_user, tag, active)
    message = (_("“%(name)s” is offered again.", name=tag.name) if active
               else _("“%(name)s” is no longer offered.", name=tag.name))
    return _done(message, url_for("admin.tags"), f"tag-{tag.id}", "admin/_tag_row.html", tag=tag)
