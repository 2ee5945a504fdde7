"""Customer praise: import an email (upload, paste), confirm who it is about, HR's queue, inbound webhook."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from perfapp.audit.guard import refuse
from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.ratelimit import per_address
from perfapp.core.security import resource
from perfapp.core.validation import FormError
from perfapp.extensions import csrf, db
from perfapp.integrations import bp, services
from perfapp.people.models import PersonLike, User
from perfapp.people.services import profile_section
from perfapp.stories import services as story_services
from perfapp.stories.forms import ints

# Room for the multipart envelope and the other form fields around a 5 MB message.
FORM_OVERHEAD = 64 * 1024


def _too_large(as_json: bool = False) -> Response:
    message = _("Emails over %(mb)d MB can't be imported.", mb=services.MAX_EMAIL_BYTES // (1024 * 1024))
    if as_json:
        return _json(413, error=message)
    return render("errors/page.html", "errors/_error.html", target="praise-import", status=413, message=message)


def limited_body(limit: int, form: bool) -> Callable[..., Any]:
    """Refuse bodies over the limit from Content-Length before reading them, cap the read otherwise.

    The view is CSRF-exempt so that the app-wide check does not parse (and spool) a huge
    body first; forms get the same check here, after the size is known to be sane."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                if request.content_length is not None and request.content_length > limit:
                    return _too_large(as_json=not form)
                # A raw body is read up to one byte past the limit, so that a body without a
                # Content-Length (chunked) that is too large shows as too large: with the cap
                # at the limit itself, the read would stop there and return a cut message.
                request.max_content_length = limit if form else limit + 1
                if form:
                    request.max_form_memory_size = limit
                    csrf.protect()
            return view(*args, **kwargs)

        csrf.exempt(wrapper)
        return wrapper

    return decorate


def _import_context(errors: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
    drafts = services.my_drafts(current_user)
    return {"errors": errors, "form": form, "drafts": drafts,
            "max_mb": services.MAX_EMAIL_BYTES // (1024 * 1024),
            "inbound_address": current_app.config.get("INBOUND_EMAIL_ADDRESS")}


def _review_context(praise: Any, errors: dict[str, str], picked: list[User], checked: set[int] | None) -> dict:
    suggested = services.suggestions(praise)
    return {"praise": praise, "errors": errors, "suggested": suggested,
            "checked": {p.id for p in suggested} if checked is None else checked,
            "picked": [p for p in picked if p.id not in {s.id for s in suggested}]}


@bp.route("/praise/new", methods=["GET", "POST"])
@login_required
@limited_body(services.MAX_EMAIL_BYTES + FORM_OVERHEAD, form=True)
def import_praise() -> Response:
    """Upload an .eml file or paste the message source; then confirm who it is about."""
    if request.method == "GET":
        return render("integrations/new.html", **_import_context({}, {}))
    if request.form.get("via") == "text":
        return _import_text()
    upload = request.files.get("eml")
    pasted = request.form.get("raw", "")
    try:
        if upload is not None and upload.filename:
            try:
                raw = upload.stream.read(services.MAX_EMAIL_BYTES + 1)
            finally:
                upload.close()  # a big upload is spooled to a temporary file
            praise = services.import_email(current_user, raw, "upload")
        else:
            praise = services.import_email(current_user, pasted.encode("utf-8", "surrogateescape"), "paste")
    except services.TooLarge:
        db.session.rollback()
        return _too_large()
    except FormError as e:
        db.session.rollback()
        return render("integrations/new.html", "integrations/_import_form.html", target="praise-import",
                      status=422, **_import_context(e.errors, {"raw": pasted}))
    db.session.commit()
    url = url_for("integrations.praise", praise_id=praise.id)
    if wants_fragment("praise-import"):
        response = render("integrations/_review.html", **_review_context(praise, {}, [], None))
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)


def _import_text() -> Response:
    """The phone's way in: the customer's name or company and their words, no email source."""
    form = {"customer": request.form.get("customer", ""), "message": request.form.get("message", "")}
    try:
        praise = services.import_text(current_user, form["customer"], form["message"])
    except FormError as e:
        db.session.rollback()
        return render("integrations/new.html", "integrations/_import_text.html", target="praise-text",
                      status=422, **_import_context(e.errors, form))
    db.session.commit()
    url = url_for("integrations.praise", praise_id=praise.id)
    if wants_fragment("praise-text"):
        response = render("integrations/_review.html", **_review_context(praise, {}, [], None))
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)


@bp.route("/praise/<int:praise_id>")
@login_required
def praise(praise_id: int) -> Response:
    """A confirmed event for everyone; before that, the review form for who may confirm it."""
    item = services.get_visible(current_user, praise_id)
    if item is None:
        abort(404)
    if item.is_confirmed:
        return render("integrations/detail.html", praise=item, can_promote=story_services.can_promote(current_user),
                      story=story_services.story_for_source("customer_praise", item.id))
    return render("integrations/review.html", **_review_context(item, {}, [], None))


@bp.route("/praise/<int:praise_id>/confirm", methods=["POST"])
@login_required
def confirm(praise_id: int) -> Response:
    ids = ints(request.form.getlist("person_ids"))
    try:
        item = services.confirm(current_user, praise_id, ids)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        if "form" in e.errors:
            return render("errors/page.html", "errors/_error.html", target="praise-review", status=409,
                          message=e.errors["form"])
        shown = services.get_visible(current_user, praise_id)
        if shown is None:  # gone since it was confirmed a moment ago
            abort(404)
        valid = [i for i in ids if i > 0][:services.MAX_PEOPLE * 2]
        picked = list(db.session.scalars(select(User).where(User.id.in_(valid)))) if valid else []
        return render("integrations/review.html", "integrations/_review.html", target="praise-review",
                      status=422, **_review_context(shown, e.errors, picked, set(ids)))
    db.session.commit()
    if wants_fragment("praise-review"):
        response = render("integrations/_confirmed.html", praise=item)
        response.headers["HX-Trigger"] = "customer-praise-confirmed"
        return response
    flash(_("Confirmed. They and their managers have been told."), "success")
    return redirect(url_for("integrations.praise", praise_id=item.id), 303)


@bp.route("/praise/<int:praise_id>/discard", methods=["POST"])
@login_required
def discard(praise_id: int) -> Response:
    try:
        services.discard(current_user, praise_id)
    except LookupError:
        abort(404)
    except FormError as e:
        db.session.rollback()
        return render("errors/page.html", "errors/_error.html", target="praise-review", status=409,
                      message=e.errors["form"])
    db.session.commit()
    flash(_("Email discarded."), "info")
    return redirect(url_for("integrations.queue") if current_user.is_hr
                    else url_for("integrations.import_praise"), 303)


@bp.route("/queue")
@login_required
def queue() -> Response:
    """HR: customer emails that arrived by themselves (or were left unfinished), to confirm."""
    if not current_user.is_hr:
        refuse()
    return render("integrations/queue.html", items=services.queue())


@bp.route("/inbound/email", methods=["POST"])
@resource
@per_address("RATELIMIT_INBOUND")
@limited_body(services.MAX_EMAIL_BYTES, form=False)
def inbound_email() -> Response:
    """A mail server POSTs the raw message, signed: X-Perfapp-Timestamp and X-Perfapp-Signature
    (hex HMAC-SHA256 of "<timestamp>." + body with INBOUND_EMAIL_SECRET)."""
    secret = current_app.config.get("INBOUND_EMAIL_SECRET")
    if not secret:
        return _json(503, error=_("Inbound email is not configured."))
    raw = request.stream.read(services.MAX_EMAIL_BYTES + 1)
    if len(raw) > services.MAX_EMAIL_BYTES:
        return _too_large(as_json=True)
    try:
        item, created = services.receive_inbound(
            secret, request.headers.get("X-Perfapp-Timestamp", ""),
            request.headers.get("X-Perfapp-Signature", ""), raw)
        db.session.commit()
    except services.InboundRejected as e:
        db.session.rollback()
        return _json(e.status, error=str(e))
    except IntegrityError:  # the same signed request arrived twice at once
        db.session.rollback()
        return _json(409, error=_("This request was already received."))
    return _json(202 if created else 200, id=item.id, status=item.status, duplicate=not created)


def _json(code: int, **body: Any) -> Response:
    response = jsonify(body)
    response.status_code = code
    return response


@profile_section("before_praise", "integrations/_profile_section.html")
def profile_customer_praise(person: PersonLike) -> Markup:
    """Confirmed customer praise about one person on their profile, as HTML (rendered on every
    visit, small: it names the praise's state, so the kept profile follows it)."""
    praise = services.confirmed_for(person.id, viewer=current_user)
    return Markup(render_template("integrations/_customer_praise_section.html", customer_praise=praise)
                  if praise else "")


@bp.app_template_global("recent_customer_praise")
def recent_customer_praise(limit: int = 5) -> list:
    """For templates: the newest confirmed customer praise (walls)."""
    return services.recent_confirmed(limit, viewer=current_user)
