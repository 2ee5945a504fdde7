"""Give flowers, award badges; HR pages for the allowance, the badge catalogue and collusion signals."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    make_response,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from perfapp.audit.guard import hr_required
from perfapp.core.htmx import is_htmx, redirect, render, wants_fragment
from perfapp.core.ratelimit import per_person
from perfapp.core.security import resource
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.feedback.services import Suggestion, give_suggestions
from perfapp.people.models import PersonLike, User
from perfapp.people.services import profile_section
from perfapp.projects.models import Milestone
from perfapp.recognition import bp, forms
from perfapp.recognition.badges import (
    ICON_MAX_BYTES,
    award_badge,
    awardable_badges,
    catalogue,
    create_badge,
    readable_award,
    recognition_of,
    sniff_image,
    update_badge,
    upload_dir,
)
from perfapp.recognition.checks import MAX_MESSAGE, check_milestone, value_tags
from perfapp.recognition.collusion import SIGNAL_DAYS, SIGNAL_REPEAT, collusion_signals
from perfapp.recognition.flowers import (
    MAX_FLOWERS_PER_GIFT,
    default_allowance,
    flowers_left,
    give_flowers,
    list_quotas,
    readable_gift,
    remove_quota,
    set_default_allowance,
    set_quota,
)
from perfapp.recognition.models import (
    AWARDERS,
    BADGE_COLOURS,
    BADGE_ICONS,
    Badge,
    BadgeAward,
    FlowerGift,
)
from perfapp.recognition.ui import badge_colour, badge_icon, flower_row

UPLOAD_REQUEST_LIMIT = 256 * 1024  # a badge form with a 100 KB image is far below this


def _person(raw: str | None) -> User | None:
    person_id = parse_int(raw)
    return db.session.get(User, person_id) if person_id and person_id > 0 else None


def _sent(fragment: str, trigger: str, message: str, next_url: str, **context: Any) -> Response:
    """Commit; htmx gets the celebration fragment, a plain form a 303 and a flash. The fragment is
    rendered before the commit, from the rows as written: after it, the gift or award and the
    person it names would each be read again."""
    if request.headers.get("HX-Request") == "true":
        response = render(fragment, **context)
        response.headers["HX-Trigger"] = trigger
        db.session.commit()
        return response
    db.session.commit()
    flash(message, "success")
    return redirect(next_url, 303)


def _refused(page: str, fragment: str, target: str, context: Any, error: FormError) -> Response:
    """Nothing is kept; 422 with the form as typed and the messages next to the fields."""
    db.session.rollback()
    return render(page, fragment, target=target, status=422, **context(request.form.to_dict(), error.errors))


def _milestone(form: dict) -> Milestone | None:
    """The milestone a gift or an award is given at (a milestone page links here with ?milestone=)."""
    return check_milestone(current_user, parse_int(form.get("milestone_id")), {}) if form.get("milestone_id") else None


def _prefill(form: dict, *pairs: tuple[str, str]) -> dict:
    for arg, key in pairs:
        if request.args.get(arg):
            form[key] = request.args[arg]
    return form


def _suggested(form: dict) -> list[Suggestion]:
    """The give sheet's suggestions (the same people as on feedback), unless someone is picked already."""
    return [] if form.get("receiver_id") else give_suggestions(current_user)


# --- flowers -------------------------------------------------------------------------------

def _flower_context(form: dict, errors: dict[str, str]) -> dict[str, Any]:
    left, allowance = flowers_left(current_user)
    return {"form": form, "errors": errors, "receiver": _person(form.get("receiver_id")),
            "left": left, "allowance": allowance, "tags": value_tags(), "suggested": _suggested(form),
            "max_flowers": MAX_FLOWERS_PER_GIFT, "max_message": MAX_MESSAGE, "milestone": _milestone(form)}


@bp.route("/flowers", methods=["GET", "POST"])
@per_person("RATELIMIT_FLOWERS")
@login_required
def flowers() -> Response:
    """Give little red flowers from this month's allowance. GET accepts ?to= to pre-fill."""
    if request.method == "POST":
        try:
            gift = give_flowers(current_user, forms.parse_flowers(request.form))
        except FormError as e:
            return _refused("recognition/flowers.html", "recognition/_flower_form.html", "flower-form",
                            _flower_context, e)
        left, allowance = flowers_left(current_user)
        message = ngettext("You sent %(num)d flower to %(name)s.", "You sent %(num)d flowers to %(name)s.",
                           gift.count, name=gift.receiver.name)
        return _sent("recognition/_flowers_sent.html", "flowers-sent", message, url_for("recognition.flowers"),
                     gift=gift, left=left, allowance=allowance)
    form = _prefill({"count": "1"}, ("to", "receiver_id"), ("milestone", "milestone_id"))
    return render("recognition/flowers.html", **_flower_context(form, {}))


# --- awarding badges -----------------------------------------------------------------------

def _award_context(form: dict, errors: dict[str, str]) -> dict[str, Any]:
    return {"form": form, "errors": errors, "receiver": _person(form.get("receiver_id")),
            "badges": awardable_badges(current_user), "max_message": MAX_MESSAGE,
            "suggested": _suggested(form), "milestone": _milestone(form)}


@bp.route("/award", methods=["GET", "POST"])
@per_person("RATELIMIT_BADGES")
@login_required
def award() -> Response:
    """Award a badge with a citation. GET accepts ?to= and ?badge= to pre-fill."""
    if request.method == "POST":
        try:
            award_row = award_badge(current_user, forms.parse_award(request.form))
        except FormError as e:
            return _refused("recognition/award.html", "recognition/_award_form.html", "award-form", _award_context, e)
        message = _("You awarded “%(badge)s” to %(name)s.", badge=award_row.badge.name, name=award_row.receiver.name)
        return _sent("recognition/_award_sent.html", "badge-awarded", message,
                     url_for("walls.badge", badge_id=award_row.badge_id), award=award_row)
    form = _prefill({}, ("to", "receiver_id"), ("badge", "badge_id"), ("milestone", "milestone_id"))
    return render("recognition/award.html", **_award_context(form, {}))


# --- one gift or award (where its reactions, the inbox and stories link) ------------------------

def _item_page(row: FlowerGift | BadgeAward | None, kind: str) -> Response:
    if row is None:  # missing, or reported and the viewer is not HR
        abort(404)
    title = row.receiver.name if isinstance(row, FlowerGift) else row.badge.name
    return render("recognition/item.html", kind=kind, obj=row, title=title)


@bp.route("/flowers/<int:gift_id>")
@login_required
def flower_gift(gift_id: int) -> Response:
    """One flower gift with its comments open."""
    return _item_page(readable_gift(gift_id, current_user), "flower")


@bp.route("/awards/<int:award_id>")
@login_required
def badge_award(award_id: int) -> Response:
    """One badge award with its comments open."""
    return _item_page(readable_award(award_id, current_user), "badge")


@bp.route("/badge-images/<name>")
@resource
@login_required
def badge_image(name: str) -> Response:
    """An uploaded badge image: its real type (sniffed again), never sniffed by the browser,
    cached for a year (names are random and never reused)."""
    folder = upload_dir()
    path = folder / name
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        abort(404)
    with path.open("rb") as fh:
        kind = sniff_image(fh.read(16))
    if kind is None:
        abort(404)
    response = send_file(path, mimetype=kind[1], conditional=True, max_age=60 * 60 * 24 * 365)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


# Python globals rather than macros (walls draw dozens of them); in ui.py so walls can draw them too.
for _global in (badge_icon, badge_colour, flower_row):
    bp.add_app_template_global(_global)


@dataclass(frozen=True)
class ProfileSummary:
    """Flowers received and badges held, as a profile shows them (a plain value: kept pages)."""

    person_id: int
    flowers: int
    badge_count: int
    icons: tuple[Markup, ...]  # the first four badges' icons


@profile_section("top", "recognition/_profile_summary.html")
def profile_summary(person: PersonLike) -> ProfileSummary:
    """Flower total and badges for the profile page (one statement: badges.recognition_of)."""
    held, flowers = recognition_of(person, current_user)
    return ProfileSummary(person.id, flowers, sum(h.count for h in held),
                          tuple(badge_icon(h.badge, "badge-icon-sm") for h in held[:4]))


# --- HR: the allowance --------------------------------------------------------------------

def _allowance_context(errors: dict[str, str] | None = None, quota_errors: dict[str, str] | None = None,
                       form: dict | None = None, quota_form: dict | None = None) -> dict[str, Any]:
    return {"errors": errors or {}, "quota_errors": quota_errors or {},
            "form": form or {"monthly_flowers": str(default_allowance())},
            "quota_form": quota_form or {}, "quotas": list_quotas(),
            "quota_person": _person((quota_form or {}).get("person_id"))}


def _with_toast(response: Response, message: str) -> Response:
    response.set_data(response.get_data(as_text=True) + render_template("admin/_toast.html", message=message))
    return response


def _hr_done(message: str) -> Response:
    db.session.commit()
    if wants_fragment("allowance"):
        return _with_toast(render("recognition/_allowance.html", **_allowance_context()), message)
    flash(message, "success")
    return redirect(url_for("recognition.allowance"), 303)


def _hr_invalid(**context: Any) -> Response:
    db.session.rollback()
    return render("recognition/allowance.html", "recognition/_allowance.html", target="allowance",
                  status=422, **_allowance_context(**context))


@bp.route("/admin/flowers", methods=["GET", "POST"])
@hr_required
def allowance() -> Response:
    """HR: the default monthly allowance and people's own allowances."""
    if request.method == "GET":
        return render("recognition/allowance.html", **_allowance_context())
    try:
        set_default_allowance(current_user, parse_int(request.form.get("monthly_flowers")))
    except FormError as e:
        return _hr_invalid(errors=e.errors, form=request.form.to_dict())
    return _hr_done(_("Saved."))


@bp.route("/admin/flowers/people", methods=["POST"])
@hr_required
def allowance_person() -> Response:
    try:
        quota = set_quota(current_user, parse_int(request.form.get("person_id")),
                                   parse_int(request.form.get("monthly")))
    except FormError as e:
        return _hr_invalid(quota_errors=e.errors, quota_form=request.form.to_dict())
    return _hr_done(_("%(name)s can give %(n)d flowers a month.", name=quota.user.name, n=quota.monthly))


@bp.route("/admin/flowers/people/<int:person_id>/remove", methods=["POST"])
@hr_required
def allowance_person_remove(person_id: int) -> Response:
    remove_quota(current_user, person_id)
    return _hr_done(_("Back to the default allowance."))


# --- HR: the badge catalogue ---------------------------------------------------------------

def _badge_values(badge: Badge | None) -> dict[str, str]:
    if badge is None:
        return {"icon": "award", "icon_source": "icon", "colour": BADGE_COLOURS[0], "awarders": "anyone",
                "monthly_limit": "3", "active": "1"}
    return {
        "name_zh": badge.name_zh, "name_en": badge.name_en, "description_zh": badge.description_zh,
        "description_en": badge.description_en, "icon": badge.icon or "award",
        "icon_source": "image" if badge.image else "icon", "colour": badge.colour,
        "tag_id": str(badge.tag_id or ""), "awarders": badge.awarders, "monthly_limit": str(badge.monthly_limit),
        "active": "1" if badge.active else "",
    }


def _badge_context(badge: Badge | None, form: dict, errors: dict[str, str]) -> dict[str, Any]:
    return {"badge": badge, "form": form, "errors": errors, "icons": BADGE_ICONS, "colours": BADGE_COLOURS,
            "awarders": AWARDERS, "tags": value_tags(), "badges": catalogue(include_inactive=True),
            "max_kb": ICON_MAX_BYTES // 1024}


def _check_upload_size() -> None:
    if (request.content_length or 0) > UPLOAD_REQUEST_LIMIT:
        abort(413)


def _badge_saved(badge: Badge, message: str, created: bool = False) -> Response:
    """Commit; an edit made with htmx gets the form back with a toast, a new badge opens its own page."""
    db.session.commit()
    if wants_fragment("badge-form") and not created:
        return _with_toast(render("recognition/_badge_form.html", **_badge_context(badge, _badge_values(badge), {})),
                           message)
    flash(message, "success")
    url = url_for("recognition.badge_edit", badge_id=badge.id)
    if is_htmx():
        response = make_response("")
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.route("/admin/badges", methods=["GET", "POST"])
@hr_required
def badges() -> Response:
    """HR: the badge catalogue, and a form to add a badge."""
    if request.method == "GET":
        return render("recognition/badges.html", **_badge_context(None, _badge_values(None), {}))
    _check_upload_size()
    try:
        badge = create_badge(current_user, forms.parse_badge(request.form, request.files))
    except FormError as e:
        db.session.rollback()
        return render("recognition/badges.html", "recognition/_badge_form.html", target="badge-form", status=422,
                      **_badge_context(None, request.form.to_dict(), e.errors))
    return _badge_saved(badge, _("Added “%(name)s”.", name=badge.name), created=True)


@bp.route("/admin/badges/<int:badge_id>", methods=["GET", "POST"])
@hr_required
def badge_edit(badge_id: int) -> Response:
    badge = db.get_or_404(Badge, badge_id)
    if request.method == "GET":
        return render("recognition/badge_edit.html", **_badge_context(badge, _badge_values(badge), {}))
    _check_upload_size()
    try:
        update_badge(current_user, badge, forms.parse_badge(request.form, request.files))
    except FormError as e:
        db.session.rollback()
        badge = db.get_or_404(Badge, badge_id)
        return render("recognition/badge_edit.html", "recognition/_badge_form.html", target="badge-form",
                      status=422, **_badge_context(badge, request.form.to_dict(), e.errors))
    return _badge_saved(badge, _("Saved."))


# --- HR: collusion signals --------------------------------------------------------------------

@bp.route("/signals")
@hr_required
def collusion() -> Response:
    """HR: unusual giver→receiver patterns in the last 30 days (signals only)."""
    return render("recognition/signals.html", signals=collusion_signals(current_user),
                  days=SIGNAL_DAYS, repeat=SIGNAL_REPEAT)
