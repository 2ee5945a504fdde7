"""Profiles, the people picker and personal settings."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from perfapp.core import pages
from perfapp.core.htmx import redirect, render
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import services as feedback_services
from perfapp.feedback.cards import feedback_cards_of
from perfapp.people import bp, services
from perfapp.people.services import COMMON_TIMEZONES


@bp.route("/search")
@login_required
def search() -> Response:
    """The picker: a fragment of matching people (also a page without htmx).

    ?me=1 keeps the viewer in the results (admin pickers: HR may manage their own project)."""
    q = request.args.get("q", "")
    exclude_self = request.args.get("me") != "1"
    people = services.search_people(current_user, q, exclude_self=exclude_self)
    mode = request.args.get("mode", "one")
    # Nothing at all is a dead end; "That's you" explains why the person typing their own name sees no one.
    that_you = exclude_self and not people and services.is_self_query(current_user, q)
    # A page with two pickers names the second one's list (e.g. "reviewer-picker-results").
    target = request.headers.get("HX-Target", "")
    if not target.endswith("picker-results"):
        target = "picker-results"
    return render("people/search.html", "people/_results.html", target=target,
                  people=people, q=q, mode=mode, that_you=that_you)


@bp.route("/<int:person_id>")
@login_required
def profile(person_id: int) -> Response:
    """A person's profile. Kept per viewer (perfapp.core.pages): the person, their tags and team
    are passed as plain values, and so are the sections other domains add (flowers and badges,
    customer praise: services.PROFILE_SECTIONS)."""
    cursor = feedback_services.decode_cursor(request.args.get("before"))
    first_page = cursor is None
    found = services.profile_head_and_team(person_id, with_team=first_page)  # the team: first page only
    if found is None:  # no one, or the stand-in for erased people (no profile)
        abort(404)
    person, reports = found
    items, next_cursor = feedback_services.public_praise_cards(person.id, current_user, cursor)
    return render(
        "people/profile.html", "feedback/_items.html", target="feed-more", keep=True,
        person=person, has_items=bool(items), cards=feedback_cards_of(items),
        next_cursor=next_cursor,
        tags=tuple(feedback_services.tag_profile(person.id, current_user)) if first_page else (),
        reports=tuple(reports),
        sections=services.profile_sections(person) if first_page else {},
        more_url=url_for("people.profile", person_id=person.id),
    )


# Found by the changes to the person (praise, flowers, badges, their head, their reports); not the
# viewer's: what they may read of it is decided by their row (role, department), the person's
# manager and the posts they reported (the login query's), and their own reactions move the card.
pages.stamped("people.profile", about="person_id", viewers_own=False)


@bp.route("/me")
@login_required
def me() -> Response:
    return render("people/me.html", person=current_user)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.update_settings(current_user, request.form.get("locale"),
                                     request.form.get("timezone"))
        except FormError as e:
            errors = e.errors
        else:
            db.session.commit()
            refresh()
            flash(_("Settings saved."), "success")
            return redirect(url_for("people.settings"), 303)
    zones = list(COMMON_TIMEZONES)
    if current_user.timezone not in zones:
        zones.insert(0, current_user.timezone)
    return render("people/settings.html", errors=errors, timezones=zones,
                  languages=current_app.config["LANGUAGES"], status=422 if errors else 200)


@bp.route("/language", methods=["POST"])
def language() -> Response:
    """Switch language: saved on the person when logged in, in a cookie either way."""
    from urllib.parse import urlsplit

    from perfapp.core.i18n import LANG_COOKIE

    locale = request.form.get("locale")
    if locale is None or locale not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    target = request.form.get("next") or url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        target = url_for("home")
    response = redirect(target, 303)
    response.set_cookie(LANG_COOKIE, locale, max_age=60 * 60 * 24 * 365, samesite="Lax", httponly=True)
    return response
