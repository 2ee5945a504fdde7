"""Goal pages: mine, a person's, one goal, the form, assigning, check-ins, the goal tree, HR settings.

Plain templates (no page cache): each page is a few queries with eager loading. Forms post
normally (the page is boosted): success → 303 to the goal, bad input → 422 with the form as typed.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from perfapp.core import pages
from perfapp.core.changes import GOALS
from perfapp.core.db import utcnow
from perfapp.core.htmx import redirect, render
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.goals import bp, forms, services, ui
from perfapp.goals.cards import goal_cards, goal_nodes
from perfapp.goals.models import CheckIn, Goal, GoalLink
from perfapp.people.models import Department, User
from perfapp.projects.models import Project, ProjectMember


def _today() -> date:
    return utcnow().date()


def _period() -> tuple[date, date]:
    chosen = services.parse_period_key(request.args.get("period"))
    return chosen or services.period_for(services.settings().cycle, _today())


def _goal_or_404(goal_id: int) -> Goal:
    goal = services.readable_goal(current_user, goal_id)
    if goal is None:
        abort(404)
    return goal


def _redirect(url: str) -> Response:
    return redirect(url, 303)


# --- lists -----------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def mine() -> Response:
    """My goals, and for managers their team's goals that had no check-in lately."""
    stale = services.team_stale_goals(current_user) if current_user.is_manager else []
    return render("goals/mine.html", person=current_user, goals=services.goals_of(current_user, current_user),
                  stale=stale, stale_days=services.settings().stale_days, today=_today())


@bp.route("/people/<int:person_id>")
@login_required
def person(person_id: int) -> Response:
    """A person's goals (private ones only for them, their manager and HR)."""
    owner = db.session.get(User, person_id)
    if owner is None or owner.is_former_colleague:
        abort(404)
    if owner.id == current_user.id:
        return _redirect(url_for("goals.mine"))
    # Kept per viewer (perfapp.core.pages): the name and the goals' cards as plain values.
    return render("goals/person.html", keep=True, name=owner.name,
                  cards=goal_cards(services.goals_of(current_user, owner), show_owner=False))


# Found by the changes to the person (their name, who manages them) and to any goal (progress rolls
# up across owners); not the viewer's: what they may see is decided by their row (role,
# department) and the person's manager, and nothing on the page is read from the viewer's records.
pages.stamped("goals.person", about="person_id", channel=GOALS, viewers_own=False)


# --- one goal --------------------------------------------------------------------------------------

def _detail_context(goal: Goal, **extra: Any) -> dict[str, Any]:
    history = services.checkin_history(goal)
    kpi = goal.kind == "kpi"
    carried = services.successor(goal) if kpi else None
    return dict(goal=goal, carried_into=carried, periods=services.kpi_history(goal) if kpi else [],
                may_roll_over=kpi and carried is None and services.may_roll_over(goal, _today()), supports=services.supports(current_user, goal),
                contributors=services.contributors(current_user, goal, limit=50),
                history=history, chart=list(reversed(history)), may_edit=services.can_edit(current_user, goal),
                may_assign=services.can_assign(current_user), today=_today(),
                form=extra.pop("form", {}), errors=extra.pop("errors", {}), **extra)


@bp.route("/<int:goal_id>")
@login_required
def detail(goal_id: int) -> Response:
    """A goal: key results, what it supports, who contributes, check-ins and their chart."""
    goal = _goal_or_404(goal_id)
    return render("goals/detail.html", **_detail_context(goal))


@bp.route("/<int:goal_id>/checkins", methods=["POST"])
@login_required
def check_in(goal_id: int) -> Response:
    goal = _goal_or_404(goal_id)
    if not services.can_edit(current_user, goal):
        abort(403)
    try:
        services.check_in(current_user, goal, forms.parse_checkin(request.form), today=_today())
    except FormError as error:
        db.session.rollback()
        goal = _goal_or_404(goal_id)
        return render("goals/detail.html", status=422,
                      **_detail_context(goal, form=request.form, errors=error.errors))
    db.session.commit()
    flash(_("Check-in saved."), "success")
    return _redirect(url_for("goals.detail", goal_id=goal_id))


@bp.route("/<int:goal_id>/rollover", methods=["POST"])
@login_required
def rollover(goal_id: int) -> Response:
    """Carry an ended KPI into the current period now (the nightly job does it for everyone)."""
    goal = _goal_or_404(goal_id)
    if not services.can_edit(current_user, goal):
        abort(403)
    try:
        new = services.roll_over(current_user, goal, _today())
    except FormError as error:
        db.session.rollback()
        goal = _goal_or_404(goal_id)
        return render("goals/detail.html", status=422, **_detail_context(goal, errors=error.errors))
    db.session.commit()
    flash(_("The KPI continues in %(period)s.", period=services.period_label(new.period_start, new.period_end)),
          "success")
    return _redirect(url_for("goals.detail", goal_id=new.id))


@bp.route("/checkins/<int:checkin_id>")
@login_required
def checkin(checkin_id: int) -> Response:
    """One check-in with its reactions and comments open."""
    row = db.session.get(CheckIn, checkin_id)
    if row is None or not services.can_see(current_user, row.goal):
        abort(404)
    return render("goals/checkin.html", obj=row, goal=row.goal)


# --- the form ---------------------------------------------------------------------------------------

def _owner_options(actor: User, goal: Goal | None) -> list[tuple[str, str]]:
    options = [("me", _("Myself"))]
    if actor.is_manager or actor.is_hr:
        for report in db.session.scalars(select(User).where(User.manager_id == actor.id, User.active.is_(True))
                                         .order_by(User.sort_key, User.id)):
            options.append((f"person:{report.id}", report.name))
    if actor.is_hr:
        for dept in db.session.scalars(select(Department).order_by(Department.id)):
            options.append((f"department:{dept.id}", dept.name))
    elif actor.is_manager and actor.department is not None:
        options.append((f"department:{actor.department_id}", actor.department.name))
    projects = select(Project).where(Project.archived.is_(False)).order_by(Project.name)
    if not actor.is_hr:
        projects = projects.join(ProjectMember, ProjectMember.project_id == Project.id).where(
            ProjectMember.user_id == actor.id)
    for project in db.session.scalars(projects):
        options.append((f"project:{project.id}", project.name))
    if actor.is_hr:
        options.append(("company", _("The company")))
    if goal is not None:
        current = _owner_value(goal, actor)
        if current not in {value for value, _label in options}:
            options.insert(0, (current, services_owner_label(goal)))
    return options


def services_owner_label(goal: Goal) -> str:
    if goal.owner_type == "company":
        return _("The company")
    if goal.owner_type == "department" and goal.department:
        return goal.department.name
    if goal.owner_type == "project" and goal.project:
        return goal.project.name
    return goal.owner.name if goal.owner else ""


def _owner_value(goal: Goal, actor: User) -> str:
    if goal.owner_type == "person":
        return "me" if goal.owner_id == actor.id else f"person:{goal.owner_id}"
    if goal.owner_type == "company":
        return "company"
    return f"{goal.owner_type}:{goal.department_id if goal.owner_type == 'department' else goal.project_id}"


def _form_values(goal: Goal, actor: User) -> dict[str, Any]:
    return {"title": goal.title, "description": goal.description, "kind": goal.kind,
            "visibility": goal.visibility, "owner": _owner_value(goal, actor),
            "period": services.period_key(goal.period_start, goal.period_end)}


def _kr_rows(goal: Goal | None) -> list[dict[str, str]]:
    if goal is None:
        return []

    def num(value: float) -> str:
        return f"{value:g}"

    return [{"id": str(kr.id), "title": kr.title, "kind": kr.kind, "start": num(kr.start_value),
             "target": num(kr.target_value), "unit": kr.unit, "weight": "" if kr.weight is None else num(kr.weight)}
            for kr in goal.key_results]


def _parents_chosen(goal: Goal | None) -> dict[str, str]:
    """'g:<id>' / 'k:<id>' → weight as text, for the goal's current alignment."""
    if goal is None:
        return {}
    links = db.session.scalars(select(GoalLink).where(GoalLink.child_id == goal.id))
    return {(f"k:{link.kr_id}" if link.kr_id else f"g:{link.parent_id}"): ("" if link.weight is None else f"{link.weight:g}")
            for link in links}


def _form_context(goal: Goal | None, form: Any, rows: list[dict[str, str]], chosen: dict[str, str],
                  errors: dict[str, str]) -> dict[str, Any]:
    setting = services.settings()
    periods = services.period_choices(setting.cycle, _today())
    if goal is not None and (goal.period_start, goal.period_end) not in periods:
        periods.insert(0, (goal.period_start, goal.period_end))
    period = services.parse_period_key(form.get("period")) or (periods[1] if len(periods) > 1 else periods[0])
    while len(rows) < forms.BLANK_KEY_RESULTS:
        rows.append({"id": "", "title": "", "kind": "number", "start": "", "target": "", "unit": "", "weight": ""})
    return {"goal": goal, "form": form, "errors": errors, "kr_rows": rows, "chosen": chosen,
                "periods": [(services.period_key(s, e), services.period_label(s, e)) for s, e in periods],
                "default_period": services.period_key(*period),
                "owners": _owner_options(current_user, goal),
                "align_to": services.alignment_options(current_user, goal, period)}


def _chosen_from(form: Any) -> dict[str, str]:
    return {value: form.get(f"weight-{value}", "") for value in form.getlist("parent")}


def _save(goal: Goal | None) -> Response:
    rows = forms.key_result_rows(request.form)
    if request.form.get("more"):  # "add a key result": the same form with one more row, nothing saved
        rows.append({"id": "", "title": "", "kind": "number", "start": "", "target": "", "unit": "", "weight": ""})
        rows = [r for r in rows if r["title"].strip()] + [rows[-1]]
        context = _form_context(goal, request.form, rows, _chosen_from(request.form), {})
        context["focus_new"] = True
        return render("goals/form.html", **context)
    try:
        data = forms.parse_goal(request.form, current_user)
        saved = (services.update_goal(current_user, goal, data) if goal is not None
                 else services.create_goal(current_user, data))
    except FormError as error:
        db.session.rollback()
        if goal is not None:
            goal = _goal_or_404(goal.id)
        return render("goals/form.html", status=422,
                      **_form_context(goal, request.form, rows, _chosen_from(request.form), error.errors))
    db.session.commit()
    flash(_("Goal saved."), "success")
    return _redirect(url_for("goals.detail", goal_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response:
    """Create a goal with key results, aligned to others."""
    if request.method == "POST":
        return _save(None)
    form = {"owner": request.args.get("owner", "me"), "kind": "objective", "visibility": "public"}
    return render("goals/form.html", **_form_context(None, form, [], {}, {}))


@bp.route("/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(goal_id: int) -> Response:
    goal = _goal_or_404(goal_id)
    if not services.can_edit(current_user, goal):
        abort(403)
    if request.method == "POST":
        return _save(goal)
    return render("goals/form.html", **_form_context(goal, _form_values(goal, current_user), _kr_rows(goal),
                                                     _parents_chosen(goal), {}))


@bp.route("/<int:goal_id>/archive", methods=["POST"])
@login_required
def archive(goal_id: int) -> Response:
    goal = _goal_or_404(goal_id)
    try:
        services.archive_goal(current_user, goal)
    except PermissionError:
        abort(403)
    db.session.commit()
    flash(_("Goal archived."), "success")
    return _redirect(url_for("goals.mine"))


# --- assigning -------------------------------------------------------------------------------------

def _assign_context(goal: Goal, form: Any, errors: dict[str, str]) -> dict[str, Any]:
    if current_user.is_hr:
        departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    else:
        departments = [current_user.department] if current_user.department else []
    ids = [i for i in (parse_int(v) for v in form.getlist("person_ids")) if i] if hasattr(form, "getlist") else []
    picked = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    return {"goal": goal, "form": form, "errors": errors, "departments": departments, "picked": picked}


@bp.route("/<int:goal_id>/assign", methods=["GET", "POST"])
@login_required
def assign(goal_id: int) -> Response:
    """Give many people (or a whole department) their own copy of this goal in one step."""
    goal = _goal_or_404(goal_id)
    if not services.can_assign(current_user):
        abort(403)
    if request.method == "GET":
        return render("goals/assign.html", **_assign_context(goal, {}, {}))
    person_ids = [i for i in (parse_int(v) for v in request.form.getlist("person_ids")) if i]
    department_id = parse_int(request.form.get("department_id"))
    try:
        copies = services.assign(current_user, goal, person_ids, department_id)
    except LookupError:
        abort(404)
    except FormError as error:
        db.session.rollback()
        goal = _goal_or_404(goal_id)
        return render("goals/assign.html", status=422, **_assign_context(goal, request.form, error.errors))
    db.session.commit()
    if copies:
        flash(_("Assigned to %(num)d people.", num=len(copies)) if len(copies) != 1 else
              _("Assigned to one person."), "success")
    else:
        flash(_("Everyone you chose already has this goal."), "success")
    return _redirect(url_for("goals.detail", goal_id=goal.id))


# --- the goal tree ----------------------------------------------------------------------------------

@bp.route("/tree")
@login_required
def tree() -> Response:
    """Company goals of the period; each opens (as a fragment) to the goals that support it."""
    period = _period()
    top, loose = services.tree_roots(current_user, period)
    setting = services.settings()
    periods = services.period_choices(setting.cycle, _today())
    counts = services.child_counts(current_user, top + loose)
    # Kept per viewer (perfapp.core.pages): the rows' HTML (cached cards) as plain values.
    return render("goals/tree.html", keep=True, rows=goal_nodes(top, counts), loose_rows=goal_nodes(loose, counts),
                  period=period, period_name=services.period_label(*period),
                  periods=[(services.period_key(s, e), services.period_label(s, e)) for s, e in periods],
                  current_key=services.period_key(*period))


# Found by the changes to any goal (and to the viewer: whom they manage decides what they see).
pages.stamped("goals.tree", channel=GOALS)


@bp.route("/tree/<int:goal_id>")
@login_required
def tree_node(goal_id: int) -> Response:
    """One goal and the goals that support it: a page, or for htmx only its children (the tree opening)."""
    goal = _goal_or_404(goal_id)
    nodes = [g.id for g, _link in services.contributors(current_user, goal)]
    return render("goals/tree_node.html", "goals/_nodes.html", target=f"kids-{goal.id}", goal=goal, nodes=nodes,
                  counts=services.child_counts(current_user, nodes))


# --- HR settings -------------------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response:
    """HR: the goal cycle and how many days without a check-in before a reminder."""
    if not current_user.is_hr:
        abort(403)
    if request.method == "POST":
        try:
            services.save_settings(current_user, request.form.get("cycle", ""), parse_int(request.form.get("stale_days")))
        except FormError as error:
            db.session.rollback()
            return render("goals/settings.html", status=422, form=request.form, errors=error.errors)
        db.session.commit()
        flash(_("Goal settings saved."), "success")
        return _redirect(url_for("goals.settings"))
    row = services.settings()
    return render("goals/settings.html", form={"cycle": row.cycle, "stale_days": row.stale_days}, errors={})


for _helper in (ui.goal_bar, ui.goal_status, ui.goal_owner_icon):
    bp.add_app_template_global(_helper)


@bp.app_template_global("goal_owner")
def goal_owner(goal: Goal) -> str:
    """Who owns a goal, in the viewer's language."""
    return services_owner_label(goal)


@bp.app_template_global("goal_period")
def goal_period(goal: Goal) -> str:
    return services.period_label(goal.period_start, goal.period_end)
