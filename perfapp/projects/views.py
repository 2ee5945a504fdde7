"""Project spaces: my projects, a project (members, milestones, its feedback), a milestone (its
retrospective's summary) and the peer review a member answers from the nudge."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback import services as feedback_services
from perfapp.people.models import User
from perfapp.projects import bp, forms, reviews, services
from perfapp.projects.models import Milestone, Project


def _project_for(project_id: int, edit: bool = False) -> Project:
    """The project if this person may see it (edit it, with edit=True); 404 otherwise, so
    outsiders can't tell a project exists."""
    project = db.get_or_404(Project, project_id)
    allowed = (services.can_edit_project if edit else services.can_view_project)(current_user, project)
    if not allowed:
        abort(404)
    return project


def _milestone_for(project_id: int, milestone_id: int, edit: bool = False) -> Milestone:
    project = _project_for(project_id, edit)
    milestone = db.get_or_404(Milestone, milestone_id)
    if milestone.project_id != project.id:
        abort(404)
    return milestone


def _redirect(url: str) -> Response:
    return redirect(url, 303)


@bp.route("/")
@login_required
def index() -> Response:
    """The projects I am on or own."""
    return render("projects/index.html", projects=services.my_projects(current_user),
                  can_create=services.can_create_project(current_user))


def _form_context(project: Project | None, form: Any, errors: dict[str, str]) -> dict[str, Any]:
    if hasattr(form, "getlist"):
        ids = [i for i in (parse_int(v) for v in form.getlist("member_ids")) if i and i > 0]
        found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids[:services.MAX_MEMBERS])))}
        members = [found[i] for i in ids if i in found]
    else:
        members = list(project.members) if project is not None else []
    roles = dict(services.member_roles(project)) if project is not None else {}
    return {"project": project, "form": form, "errors": errors, "members": members,
            "roles": {u.id: r for u, r in roles.items()}, "max_members": services.MAX_MEMBERS}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response:
    """Start a project (managers and HR)."""
    if not services.can_create_project(current_user):
        abort(403)
    if request.method == "GET":
        return render("projects/form.html", **_form_context(None, {}, {}))
    try:
        project = services.create_project(current_user, forms.parse_project(request.form))
    except FormError as e:
        db.session.rollback()
        return render("projects/form.html", status=422, **_form_context(None, request.form, e.errors))
    db.session.commit()
    flash(_("Project “%(name)s” created.", name=project.name), "success")
    return _redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int) -> Response:
    """Rename, describe, change members and their roles (the owner and HR)."""
    project = _project_for(project_id, edit=True)
    if request.method == "GET":
        values = {"name": project.name, "description": project.description}
        return render("projects/form.html", **_form_context(project, values, {}))
    try:
        services.update_project(current_user, project, forms.parse_project(request.form))
    except FormError as e:
        db.session.rollback()
        return render("projects/form.html", status=422, **_form_context(project, request.form, e.errors))
    db.session.commit()
    flash(_("Saved."), "success")
    return _redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>")
@login_required
def detail(project_id: int) -> Response:
    """A project's space: members and roles, milestones, then its feedback (more as a fragment)."""
    project = _project_for(project_id)
    cursor = feedback_services.decode_cursor(request.args.get("before"))
    items, next_cursor = feedback_services.project_feed(current_user, project.id, cursor)
    more_url = url_for("projects.detail", project_id=project.id)
    if wants_fragment("feed-more"):
        return render("feedback/_items.html", items=items, next_cursor=next_cursor, more_url=more_url)
    return render("projects/detail.html", project=project, members=services.member_roles(project),
                  can_edit=services.can_edit_project(current_user, project), items=items,
                  next_cursor=next_cursor, more_url=more_url, ms_form={}, ms_errors={})


@bp.route("/<int:project_id>/milestones", methods=["POST"])
@login_required
def milestone_new(project_id: int) -> Response:
    project = _project_for(project_id, edit=True)
    try:
        milestone = services.add_milestone(current_user, project, forms.parse_milestone(request.form))
    except FormError as e:
        db.session.rollback()
        items, next_cursor = feedback_services.project_feed(current_user, project.id)
        return render("projects/detail.html", status=422, project=project, members=services.member_roles(project),
                      can_edit=True, items=items, next_cursor=next_cursor,
                      more_url=url_for("projects.detail", project_id=project.id),
                      ms_form=request.form, ms_errors=e.errors)
    db.session.commit()
    flash(_("Added “%(name)s”.", name=milestone.name), "success")
    return _redirect(url_for("projects.milestone", project_id=project.id, milestone_id=milestone.id))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>")
@login_required
def milestone(project_id: int, milestone_id: int) -> Response:
    """A milestone: due or reached, and once reached its retrospective as this viewer may read it."""
    milestone = _milestone_for(project_id, milestone_id)
    due = milestone.due_date.isoformat() if milestone.due_date else ""
    return render("projects/milestone.html", **_milestone_context(milestone, {"name": milestone.name, "due_date": due}, {}))


def _milestone_context(milestone: Milestone, form: Any, errors: dict[str, str]) -> dict[str, Any]:
    member = reviews.may_review(current_user, milestone)
    todo = [u for u, done in reviews.teammates_to_review(current_user, milestone) if not done] if member else []
    return {"milestone": milestone, "project": milestone.project, "ms_form": form, "ms_errors": errors,
            "can_edit": services.can_edit_project(current_user, milestone.project),
            "summary": reviews.milestone_summary(current_user, milestone), "is_open": reviews.is_open(milestone),
            "todo": todo, "questions": reviews.QUESTIONS, "answers": reviews.ANSWERS,
            # Members (and the owner) give flowers and badges in the milestone's context.
            "may_give": member or milestone.project.owner_id == current_user.id}


@bp.route("/<int:project_id>/milestones/<int:milestone_id>", methods=["POST"])
@login_required
def milestone_edit(project_id: int, milestone_id: int) -> Response:
    """Rename a milestone or move its due date (the owner and HR)."""
    milestone = _milestone_for(project_id, milestone_id, edit=True)
    try:
        services.update_milestone(current_user, milestone, forms.parse_milestone(request.form))
    except FormError as e:
        db.session.rollback()
        return render("projects/milestone.html", status=422, **_milestone_context(milestone, request.form, e.errors))
    db.session.commit()
    flash(_("Saved."), "success")
    return _redirect(url_for("projects.milestone", project_id=project_id, milestone_id=milestone.id))


@bp.route("/<int:project_id>/archived", methods=["POST"])
@login_required
def archived(project_id: int) -> Response:
    """Archive a project (it leaves the compose sheet and stops nudging) or open it again."""
    project = _project_for(project_id, edit=True)
    archive = forms.parse_flag(request.form, "archived")
    services.set_project_archived(current_user, project, archive)
    db.session.commit()
    flash(_("“%(name)s” was archived.", name=project.name) if archive
          else _("“%(name)s” is open again.", name=project.name), "success")
    return _redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/reached", methods=["POST"])
@login_required
def milestone_reached(project_id: int, milestone_id: int) -> Response:
    """Mark reached (which opens the retrospective and nudges every member) or undo it."""
    milestone = _milestone_for(project_id, milestone_id, edit=True)
    reached = forms.parse_flag(request.form, "reached")
    if reached:
        services.reach_milestone(current_user, milestone)
    else:
        services.unreach_milestone(current_user, milestone)
    db.session.commit()
    flash(_("“%(name)s” reached. Everyone on the project is asked to review their teammates.",
            name=milestone.name) if reached else _("“%(name)s” is open again.", name=milestone.name), "success")
    return _redirect(url_for("projects.milestone", project_id=project_id, milestone_id=milestone.id))


def _review_context(milestone: Milestone, form: Any, errors: dict[str, str]) -> dict[str, Any]:
    teammates = reviews.teammates_to_review(current_user, milestone)
    wanted = parse_int(form.get("reviewee_id"))
    reviewee = next((u for u, _done in teammates if u.id == wanted), None)
    if reviewee is None:
        reviewee = next((u for u, done in teammates if not done), None)
    return {"milestone": milestone, "project": milestone.project, "teammates": teammates, "reviewee": reviewee,
            "done": {u.id for u, done in teammates if done}, "form": form, "errors": errors,
            "is_open": reviews.is_open(milestone), "questions": reviews.QUESTIONS, "answers": reviews.ANSWERS}


@bp.route("/<int:project_id>/milestones/<int:milestone_id>/review", methods=["GET", "POST"])
@login_required
def review(project_id: int, milestone_id: int) -> Response:
    """The peer review: teammates to review, and the form for one of them (?to= picks whom)."""
    milestone = _milestone_for(project_id, milestone_id)
    if not reviews.may_review(current_user, milestone):
        abort(404)
    if request.method == "GET":
        form = {"reviewee_id": request.args.get("to", ""), "visibility": "private"}
        return render("projects/review.html", "projects/_review_form.html", target="review-form",
                      **_review_context(milestone, form, {}))
    data = forms.parse_review(request.form)
    try:
        reviews.submit_review(current_user, milestone, data)
    except FormError as e:
        db.session.rollback()
        return render("projects/review.html", "projects/_review_form.html", target="review-form", status=422,
                      **_review_context(milestone, request.form, e.errors))
    db.session.commit()
    reviewee = db.session.get(User, data.reviewee_id)
    flash(_("Thanks — your review of %(name)s is saved.", name=reviewee.name if reviewee else ""), "success")
    return _redirect(url_for("projects.review", project_id=project_id, milestone_id=milestone.id))
