"""Reporting (anyone) and the moderation queue and audit log (HR)."""
from __future__ import annotations

from flask import Response, abort, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from perfapp.audit.guard import refuse
from perfapp.core.htmx import is_htmx, redirect, render, wants_fragment
from perfapp.core.ratelimit import per_person
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.moderation import bp, services
from perfapp.moderation.models import ModerationDecision

# HR's pages, guarded for the whole blueprint in one place.
HR_ONLY = frozenset({"moderation.queue", "moderation.decide", "moderation.log"})


@bp.before_request
def hr_only() -> None:
    if request.endpoint in HR_ONLY and current_user.is_authenticated and not current_user.is_hr:
        refuse()


def _done_message(decision: ModerationDecision) -> str:
    if decision.action == "restore":
        return _("Restored. Everyone who could see it before sees it again.")
    if decision.action == "delete":
        return _("Deleted.")
    name = decision.subject.name if decision.subject else ""
    return ngettext("Deleted. %(name)s can't post for %(num)d day.",
                    "Deleted. %(name)s can't post for %(num)d days.",
                    decision.suspended_days or 0, name=name)


@bp.route("/report/<target_type>/<int:target_id>", methods=["GET", "POST"])
@per_person("RATELIMIT_REPORTS")
@login_required
def report(target_type: str, target_id: int) -> Response:
    """The report sheet; a report hides the row from its reporter at once (a notice in its place)."""
    try:
        kind, obj = services.reportable_for(current_user, target_type, target_id)
    except LookupError:
        abort(404)
    errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        reason = request.form.get("reason", "")
        try:
            services.report(current_user, target_type, target_id, reason)
        except FormError as e:
            db.session.rollback()
            errors = e.errors
        else:
            db.session.commit()
            if is_htmx():
                dom_id = kind.dom_id(obj) if kind.dom_id else f"sheet-{target_type}-{target_id}"
                response = make_response(render_template("moderation/_reported.html", dom_id=dom_id))
                response.headers["HX-Retarget"] = f"#{dom_id}"
                response.headers["HX-Reswap"] = "outerHTML"
                return response
            flash(_("Thank you. It is hidden for you while HR looks at your report."), "success")
            return redirect(url_for("home"), 303)
    return render("moderation/report.html", "moderation/_report_sheet.html",
                  target=f"sheet-{target_type}-{target_id}", status=422 if errors else 200,
                  target_type=target_type, target_id=target_id, errors=errors, reason=reason,
                  own=kind.author_id(obj) == current_user.id)


@bp.route("/")
@login_required
def queue() -> Response:
    return render("moderation/queue.html", cases=services.open_cases(current_user))


@bp.route("/<target_type>/<int:target_id>", methods=["POST"])
@login_required
def decide(target_type: str, target_id: int) -> Response:
    """HR's decision on one reported row: restore, delete, or delete and suspend the author."""
    action = request.form.get("action", "")
    target = f"case-{target_type}-{target_id}"
    reason, days = request.form.get("reason", ""), request.form.get("days")
    try:
        if action == "cancel":  # stepping back from the confirmation: the case as it was
            case = services.open_case(current_user, target_type, target_id)
            if wants_fragment(target):
                return render("moderation/_case.html", case=case, form=request.form)
            return redirect(url_for("moderation.queue"), 303)
        if action in ("delete", "suspend") and request.form.get("confirmed") != "1":
            # Deleting can't be undone: check it, then ask once more, before anything changes.
            services.check_decision(current_user, target_type, target_id, action, reason, days)
            case = services.open_case(current_user, target_type, target_id)
            if not case.reports:
                raise FormError({"form": _("This report was already decided.")})
            if wants_fragment(target):
                return render("moderation/_case.html", case=case, form=request.form, confirming=action)
            return render("moderation/queue.html", cases=[case], form=request.form, confirming=action)
        decision = services.decide(current_user, target_type, target_id, action, reason, days)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        if "form" in e.errors:  # already decided by someone else
            return render("errors/page.html", "errors/_error.html", target=target, status=409,
                          message=e.errors["form"])
        case = services.open_case(current_user, target_type, target_id)
        if wants_fragment(target):
            return render("moderation/_case.html", status=422, case=case, errors=e.errors,
                          form=request.form)
        return render("moderation/queue.html", status=422, cases=[case], errors=e.errors,
                      form=request.form)
    db.session.commit()
    message = _done_message(decision)
    if wants_fragment(target):
        body = render_template("moderation/_decided.html", decision=decision, message=message,
                               key=f"{target_type}-{target_id}")
        body += render_template("admin/_toast.html", message=message)
        response = make_response(body)
        response.vary.add("HX-Request")
        return response
    flash(message, "success")
    return redirect(url_for("moderation.queue"), 303)


@bp.route("/log")
@login_required
def log() -> Response:
    decisions, next_before = services.audit_log(current_user, parse_int(request.args.get("before")))
    return render("moderation/log.html", "moderation/_log_rows.html", target="feed-more",
                  decisions=decisions, next_before=next_before)


@bp.app_template_global("reported_by_me")
def reported_by_me(target_type: str, target_id: int) -> bool:
    """For templates: the viewer reported this row and HR hasn't decided (show the placeholder)."""
    return services.reported_by(current_user, target_type, target_id)
