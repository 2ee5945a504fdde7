"""Review pages: mine (to write, to nominate, results), a review to answer, nominations, a manager's
approvals, HR's cycles (setup, assignment with its progress, opening) and results.

Forms post normally (the page is boosted): success → 303, bad input → 422 with the form as typed.
htmx requests aimed at a fragment's target get the fragment (perfapp.core.htmx.render).
"""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from perfapp.audit.guard import hr_required
from perfapp.core import pages
from perfapp.core.db import utcnow
from perfapp.core.htmx import redirect, render
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback.cards import feedback_cards
from perfapp.feedback.models import Tag
from perfapp.people.models import Department, User
from perfapp.reviews import bp, forms, results, services
from perfapp.reviews.models import ANONYMOUS, GROUPS, SOLVED, ReviewAssignment, ReviewCycle


def _redirect(url: str) -> Response:
    return redirect(url, 303)


def _cycle_or_404(cycle_id: int) -> ReviewCycle:
    cycle = db.session.get(ReviewCycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _row_or_404(assignment_id: int) -> ReviewAssignment:
    row = db.session.get(ReviewAssignment, assignment_id)
    if row is None:
        abort(404)
    return row


# --- everyone -------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index() -> Response:
    """Reviews to write, nominations asking me, my cycles (nominate / results), my team's approvals."""
    person = current_user._get_current_object()
    cycles = services.my_cycles(person)
    managing = list(db.session.scalars(select(ReviewCycle).where(ReviewCycle.status == "draft"))) if person.is_manager else []
    return render("reviews/index.html", to_write=services.to_write(person), asking=services.nominations_asking(person),
                  cycles=cycles, managing=managing)


def _answer_context(row: ReviewAssignment, **extra: Any) -> dict[str, Any]:
    tags = list(db.session.scalars(select(Tag).where(Tag.id.in_(row.cycle.tag_ids or [-1])).order_by(Tag.id)))
    return dict(row=row, cycle=row.cycle, tags=tags, form=extra.pop("form", {}), errors=extra.pop("errors", {}),
                label=services.label, **extra)


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def answer(assignment_id: int) -> Response:
    """Answer one review (rating chips with their anchors, open text, tags), on the phone."""
    row = _row_or_404(assignment_id)
    if row.reviewer_id != current_user.id:
        abort(404)
    if request.method == "POST":
        try:
            services.answer(current_user, row, forms.parse_answer(request.form, row.cycle))
        except FormError as error:
            db.session.rollback()
            row = _row_or_404(assignment_id)
            return render("reviews/answer.html", status=422,
                          **_answer_context(row, form=forms.form_values(request.form), errors=error.errors))
        db.session.commit()
        flash(_("Thank you: your review is sent."), "success")
        return _redirect(url_for("reviews.index"))
    return render("reviews/answer.html", **_answer_context(row))


@bp.route("/assignments/<int:assignment_id>/decline", methods=["GET", "POST"])
@login_required
def decline(assignment_id: int) -> Response:
    row = _row_or_404(assignment_id)
    if row.reviewer_id != current_user.id or row.group not in services.NOMINATED:
        abort(404)
    if request.method == "POST":
        try:
            services.decline(current_user, row, request.form.get("reason", ""))
        except FormError as error:
            db.session.rollback()
            row = _row_or_404(assignment_id)
            return render("reviews/decline.html", status=422, row=row, form=request.form, errors=error.errors)
        db.session.commit()
        flash(_("You declined. Thank you for saying why."), "success")
        return _redirect(url_for("reviews.index"))
    return render("reviews/decline.html", row=row, form={}, errors={})


def _nominate_context(cycle: ReviewCycle, **extra: Any) -> dict[str, Any]:
    now = utcnow()
    query = request.args.get("q", "")
    return dict(cycle=cycle, rows=services.cycle_rows(cycle, current_user.id), query=query,
                found=services.active_people_matching(query) if query else [],
                suggested={g: services.suggestions(cycle, current_user, g, now, limit=5)
                           for g in services.NOMINATED if g in cycle.groups},
                label=services.label, errors=extra.pop("errors", {}), **extra)


@bp.route("/cycles/<int:cycle_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(cycle_id: int) -> Response:
    """The reviewee proposes peers and cross-team partners; their manager approves."""
    cycle = _cycle_or_404(cycle_id)
    if not services.is_reviewee(cycle, current_user):
        abort(404)
    if request.method == "POST":
        person = db.session.get(User, parse_int(request.form.get("person_id")) or -1)
        try:
            services.nominate(current_user, cycle, person, request.form.get("group", "peers"))
        except FormError as error:
            db.session.rollback()
            cycle = _cycle_or_404(cycle_id)
            return render("reviews/nominate.html", "reviews/_nominations.html", "nominations", status=422,
                          **_nominate_context(cycle, errors=error.errors))
        db.session.commit()
        if request.headers.get("HX-Target") == "nominations":
            return render("reviews/nominate.html", "reviews/_nominations.html", "nominations",
                          **_nominate_context(_cycle_or_404(cycle_id)))
        flash(_("Proposed. Your manager approves your reviewers."), "success")
        return _redirect(url_for("reviews.nominate", cycle_id=cycle_id))
    return render("reviews/nominate.html", "reviews/_nominations.html", "nominations", **_nominate_context(cycle))


@bp.route("/assignments/<int:assignment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(assignment_id: int) -> Response:
    row = _row_or_404(assignment_id)
    cycle_id, reviewee_id = row.cycle_id, row.reviewee_id
    try:
        services.withdraw(current_user, row)
    except PermissionError:
        abort(404)
    except FormError as error:
        db.session.rollback()
        flash(error.errors.get("form", ""), "error")
        return _redirect(url_for("reviews.index"))
    db.session.commit()
    if reviewee_id == current_user.id:
        return _redirect(url_for("reviews.nominate", cycle_id=cycle_id))
    return _redirect(url_for("reviews.team", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/team", methods=["GET", "POST"])
@login_required
def team(cycle_id: int) -> Response:
    """A manager's page: each report's proposed reviewers, to approve, remove or add to."""
    cycle = _cycle_or_404(cycle_id)
    if not current_user.is_manager:
        abort(404)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        reviewee = db.session.get(User, parse_int(request.form.get("reviewee_id")) or -1)
        person = db.session.get(User, parse_int(request.form.get("person_id")) or -1)
        if reviewee is None or reviewee.manager_id != current_user.id:
            abort(404)
        try:
            services.manager_add(current_user, cycle, reviewee, person, request.form.get("group", "peers"))
            db.session.commit()
            flash(_("Reviewer added."), "success")
            return _redirect(url_for("reviews.team", cycle_id=cycle_id))
        except FormError as error:
            db.session.rollback()
            cycle = _cycle_or_404(cycle_id)
            errors, status = error.errors, 422
    team = services.team_nominations(current_user, cycle)
    now = utcnow()
    # Whom a manager can add: the rest of the team, and colleagues from other teams who worked
    # with the report lately (under their caps).
    candidates = {person.id: [u for u in team if u.id != person.id]
                  + services.suggestions(cycle, person, "partners", now, limit=5) for person in team}
    return render("reviews/team.html", status=status, cycle=cycle, team=team, candidates=candidates, errors=errors,
                  form=request.form if status == 422 else {}, label=services.label)


@bp.route("/assignments/<int:assignment_id>/approve", methods=["POST"])
@login_required
def approve(assignment_id: int) -> Response:
    row = _row_or_404(assignment_id)
    cycle_id = row.cycle_id
    try:
        services.approve(current_user, row)
    except PermissionError:
        abort(404)
    except FormError as error:
        db.session.rollback()
        flash(next(iter(error.errors.values())), "error")
        return _redirect(url_for("reviews.team", cycle_id=cycle_id))
    db.session.commit()
    return _redirect(url_for("reviews.team", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/people/<int:person_id>")
@login_required
def results_page(cycle_id: int, person_id: int) -> Response:
    """A reviewee's results by group (the reviewee and their manager only, once finished)."""
    cycle = _cycle_or_404(cycle_id)
    person = db.session.get(User, person_id)
    if person is None or not results.may_read(current_user, cycle, person):
        abort(404)
    # Kept per viewer (perfapp.core.pages): the results keyed by what they are a function of and
    # worked out only when the page renders, the period's feedback as its cards.
    return render("reviews/results.html", keep=True, results=results.ResultsPage(cycle, person, services.label),
                  cards=feedback_cards(results.cycle_feedback(cycle, person)))


# Found by the changes to the reviewee (their cycle, its questions and answers, feedback to them).
pages.stamped("reviews.results_page", about="person_id")


@bp.route("/cycles/<int:cycle_id>/people/<int:person_id>/customers", methods=["POST"])
@login_required
def customer_link(cycle_id: int, person_id: int) -> Response:
    cycle = _cycle_or_404(cycle_id)
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    try:
        _row, token = services.create_customer_link(current_user, cycle, person, request.form.get("customer_name", ""))
    except PermissionError:
        abort(404)
    except FormError as error:
        db.session.rollback()
        return render("reviews/nominate.html", "reviews/_nominations.html", "nominations", status=422,
                      **_nominate_context(cycle, errors=error.errors))
    db.session.commit()
    return render("reviews/customer_link.html", cycle=cycle, url=url_for("reviews.customer", token=token,
                                                                          _external=True))


@bp.route("/c/<token>", methods=["GET", "POST"])
def customer(token: str) -> Response:
    """A customer answers through a one-time link, without an account."""
    try:
        row = services.customer_assignment(token[:100])
        if row is None:
            abort(404)
        if request.method == "POST":
            try:
                services.customer_answer(token[:100], forms.parse_answer(request.form, row.cycle))
            except FormError as error:
                db.session.rollback()
                row = services.customer_assignment(token[:100])
                assert row is not None
                return render("reviews/answer.html", status=422, customer_token=token,
                              **_answer_context(row, form=forms.form_values(request.form), errors=error.errors))
            db.session.commit()
            return render("reviews/customer_done.html")
    except services.LinkGone as gone:
        db.session.rollback()
        return render("reviews/customer_done.html", status=410, message=gone.message)
    return render("reviews/answer.html", customer_token=token, **_answer_context(row))


# --- HR -------------------------------------------------------------------------------------------

def _setup_context(**extra: Any) -> dict[str, Any]:
    return dict(departments=list(db.session.scalars(select(Department).order_by(Department.name_en))),
                tags=list(db.session.scalars(select(Tag).where(Tag.kind.in_(("capability", "value")),
                                                               Tag.active.is_(True)).order_by(Tag.kind, Tag.id))),
                groups=GROUPS, anonymous=ANONYMOUS, solved=SOLVED, label=services.label,
                slots=range(forms.QUESTION_SLOTS), **extra)


@bp.route("/cycles")
@hr_required
def cycles() -> Response:
    rows = list(db.session.scalars(select(ReviewCycle).order_by(ReviewCycle.created_at.desc(), ReviewCycle.id.desc())))
    return render("reviews/cycles.html", cycles=rows)


@bp.route("/cycles/new", methods=["GET", "POST"])
@hr_required
def new_cycle() -> Response:
    if request.method == "POST":
        try:
            cycle = services.create_cycle(current_user, forms.parse_cycle(request.form))
        except FormError as error:
            db.session.rollback()
            return render("reviews/cycle_form.html", status=422,
                          **_setup_context(form=forms.form_values(request.form), errors=error.errors, cycle=None))
        db.session.commit()
        flash(_("Cycle created. Next: nominations and the reviewer assignment."), "success")
        return _redirect(url_for("reviews.cycle", cycle_id=cycle.id))
    return render("reviews/cycle_form.html", **_setup_context(form=forms.default_form(utcnow().date()), errors={},
                                                              cycle=None))


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@hr_required
def edit_cycle(cycle_id: int) -> Response:
    cycle = _cycle_or_404(cycle_id)
    if request.method == "POST":
        try:
            services.update_cycle(current_user, cycle, forms.parse_cycle(request.form))
        except FormError as error:
            db.session.rollback()
            cycle = _cycle_or_404(cycle_id)
            return render("reviews/cycle_form.html", status=422,
                          **_setup_context(form=forms.form_values(request.form), errors=error.errors, cycle=cycle))
        db.session.commit()
        flash(_("Saved."), "success")
        return _redirect(url_for("reviews.cycle", cycle_id=cycle_id))
    return render("reviews/cycle_form.html", **_setup_context(form=forms.cycle_form(cycle), errors={}, cycle=cycle))


def _cycle_context(cycle: ReviewCycle, **extra: Any) -> dict[str, Any]:
    report = cycle.assign_report or {}
    short_people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([s["reviewee_id"] for s in report.get("short", [])][:100] or [-1])))}
    histogram = {int(k): v for k, v in report.get("histogram", {}).items()}
    extra.setdefault("picked", {})
    return dict(cycle=cycle, report=report, histogram=histogram, peak=max(histogram.values(), default=1),
                short_people=short_people, label=services.label,
                reviewee_count=len(services.reviewees(cycle)),
                submitted=db.session.scalar(select(db.func.count()).select_from(ReviewAssignment).where(
                    ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.status == "submitted")) or 0,
                assigned=db.session.scalar(select(db.func.count()).select_from(ReviewAssignment).where(
                    ReviewAssignment.cycle_id == cycle.id, ReviewAssignment.status.in_(("approved", "submitted"))))
                or 0, errors=extra.pop("errors", {}), form=extra.pop("form", {}), **extra)


@bp.route("/cycles/<int:cycle_id>")
@hr_required
def cycle(cycle_id: int) -> Response:
    """HR's page of one cycle: its settings, the assignment (histogram, who is short), open/close.

    ?reviewee=ID (a reviewee left short links here) opens "Add a reviewer by hand" with them picked."""
    reviewee = db.session.get(User, parse_int(request.args.get("reviewee")) or -1)
    picked = {"reviewee": [reviewee]} if reviewee is not None and reviewee.active else {}
    return render("reviews/cycle.html", "reviews/_assignment.html", "assignment",
                  **_cycle_context(_cycle_or_404(cycle_id), picked=picked))


@bp.route("/cycles/<int:cycle_id>/assignment")
@hr_required
def assignment_status(cycle_id: int) -> Response:
    """The assignment's progress bar (htmx polls it while the job runs) and, when done, its report."""
    return render("reviews/cycle.html", "reviews/_assignment.html", "assignment",
                  **_cycle_context(_cycle_or_404(cycle_id)))


@bp.route("/cycles/<int:cycle_id>/assign", methods=["POST"])
@hr_required
def assign(cycle_id: int) -> Response:
    from perfapp.reviews.tasks import assign_reviewers

    cycle = _cycle_or_404(cycle_id)
    if not cycle.is_draft:
        return render("reviews/cycle.html", "reviews/_assignment.html", "assignment", status=409,
                      **_cycle_context(cycle, errors={"form": _("Reviewers are assigned before the cycle opens.")}))
    cycle.assign_progress = 0.0
    cycle.assign_report = None
    db.session.commit()
    assign_reviewers(cycle_id)
    db.session.expire_all()
    if request.headers.get("HX-Request") == "true":
        return render("reviews/cycle.html", "reviews/_assignment.html", "assignment",
                      **_cycle_context(_cycle_or_404(cycle_id)))
    return _redirect(url_for("reviews.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/assignments", methods=["POST"])
@hr_required
def adjust(cycle_id: int) -> Response:
    """HR adds a reviewer before opening (the same refusals as a nomination). Both people come from
    the people picker; a refusal shows the form again, open, with both still picked."""
    cycle = _cycle_or_404(cycle_id)
    reviewee = db.session.get(User, parse_int(request.form.get("reviewee_id")) or -1)
    person = db.session.get(User, parse_int(request.form.get("person_id")) or -1)

    def refused(errors: dict[str, str]) -> Response:
        picked = {"reviewee": [reviewee] if reviewee else [], "person": [person] if person else []}
        return render("reviews/cycle.html", status=422, **_cycle_context(
            _cycle_or_404(cycle_id), form=request.form, errors=errors, picked=picked))

    if reviewee is None or reviewee.is_former_colleague:
        reviewee = None
        return refused({"reviewee_id": _("Choose a reviewee.")})
    if not services.is_reviewee(cycle, reviewee):
        return refused({"reviewee_id": _("%(name)s isn't reviewed in this cycle.", name=reviewee.name)})
    try:
        services.manager_add(current_user, cycle, reviewee, person, request.form.get("group", "peers"))
    except FormError as error:
        db.session.rollback()
        return refused(error.errors)
    db.session.commit()
    flash(_("Reviewer added."), "success")
    return _redirect(url_for("reviews.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/open", methods=["POST"])
@hr_required
def open_cycle(cycle_id: int) -> Response:
    cycle = _cycle_or_404(cycle_id)
    try:
        services.open_cycle(current_user, cycle)
    except FormError as error:
        db.session.rollback()
        return render("reviews/cycle.html", status=409, **_cycle_context(_cycle_or_404(cycle_id), errors=error.errors))
    db.session.commit()
    flash(_("The cycle is open: reviewers have been told."), "success")
    return _redirect(url_for("reviews.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/close", methods=["POST"])
@hr_required
def close_cycle(cycle_id: int) -> Response:
    cycle = _cycle_or_404(cycle_id)
    try:
        services.close_cycle(current_user, cycle)
    except FormError as error:
        db.session.rollback()
        return render("reviews/cycle.html", status=409, **_cycle_context(_cycle_or_404(cycle_id), errors=error.errors))
    db.session.commit()
    flash(_("The cycle is finished: reviewees and their managers can read their results."), "success")
    return _redirect(url_for("reviews.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/results")
@hr_required
def org_results(cycle_id: int) -> Response:
    """HR's aggregates by department and group, only where enough reviewers answered."""
    cycle = _cycle_or_404(cycle_id)
    if cycle.status != "closed":
        abort(404)
    res = results.org_results(cycle)
    department = parse_int(request.args.get("department"))
    group = request.args.get("group", results.ALL)
    if group not in (*ANONYMOUS, results.ALL):
        group = results.ALL
    key = (department if department and department > 0 else None, group)
    return render("reviews/org_results.html", "reviews/_org_cell.html", "org-cell", res=res, key=key,
                  cell=res.cells.get(key), label=services.label, ALL=results.ALL, anonymous=ANONYMOUS)
