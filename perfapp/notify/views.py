"""The inbox page, Me → Notifications (push) and HR's organisation nudges."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, make_response, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from perfapp.audit.guard import hr_required
from perfapp.core.htmx import redirect, render, wants_fragment
from perfapp.core.ratelimit import per_person
from perfapp.core.security import resource
from perfapp.core.validation import FormError, parse_int
from perfapp.extensions import db
from perfapp.notify import bp, delivery, nudges, preferences, services
from perfapp.notify.forms import parse_preferences
from perfapp.notify.registry import PUSH_CATEGORIES


@bp.route("/")
@login_required
def inbox() -> Response:
    entries, next_before = services.inbox(current_user, parse_int(request.args.get("before")))
    unread_ids = {e["note"].id for e in entries if e["note"].read_at is None}
    # Opening the inbox reads it, but a GET writes nothing: the page posts back what it showed
    # (notify.read, once it has loaded). The tab bar's count already shows this page as read.
    return render("notify/inbox.html", "notify/_entries.html", target="feed-more",
                  entries=entries, next_before=next_before, unread_ids=unread_ids,
                  read_upto=max(unread_ids, default=None), unread_count=lambda: 0)


@bp.route("/read", methods=["POST"])
@login_required
def read() -> Response:
    """The inbox was shown: its entries up to the newest it showed are read (not any that
    arrived since)."""
    services.mark_all_read(current_user, upto=parse_int(request.form.get("upto")))
    db.session.commit()
    return make_response("", 204)


# --- Me → Notifications ------------------------------------------------------------------------

def _categories() -> list[tuple[str, str, str]]:
    return [
        ("milestone", _("Milestones reached"), _("Invites you to give your teammates feedback")),
        ("received", _("Feedback, flowers and badges you receive"), _("The moment they arrive")),
        ("requests", _("Requests for your feedback"), _("And a reminder after 3 days if still open")),
        ("weekly", _("Weekly nudge"), _("When you haven't given feedback in two weeks")),
        ("other", _("Everything else in your inbox"), _("Stories, comments and other updates")),
    ]


def _settings_page(errors: dict[str, str], form: MultiDict | None = None,
                   saved: str | None = None) -> Response:
    pref = preferences.preference_for(current_user)
    if form is None:
        values = {name: getattr(pref, name) for name in PUSH_CATEGORIES}
        values.update(quiet_enabled=pref.quiet_enabled, quiet_start=preferences.format_hhmm(pref.quiet_start),
                      quiet_end=preferences.format_hhmm(pref.quiet_end), daily_cap=pref.daily_cap)
    else:  # keep what was typed
        parsed = parse_preferences(form)
        values = {**parsed.switches, "quiet_enabled": parsed.quiet_enabled, "quiet_start": parsed.quiet_start,
                  "quiet_end": parsed.quiet_end, "daily_cap": parsed.daily_cap}
    context = {
        "errors": errors, "values": values, "categories": _categories(),
        "devices": preferences.devices(current_user), "device_label": preferences.device_label,
        "timezone": current_user.timezone, "min_cap": preferences.MIN_CAP, "max_cap": preferences.MAX_CAP,
        "saved": saved,
    }
    if wants_fragment("push-devices"):
        return render("notify/settings.html", "notify/_devices.html", target="push-devices", **context)
    context["vapid_public_key"] = delivery.vapid_keys().public_key
    db.session.commit()  # the key pair, made on first use
    context["kept"] = {}
    if not nudges.weekly_nudge_enabled():  # not offered, but the person's choice is kept for later
        context["categories"] = [c for c in context["categories"] if c[0] != "weekly"]
        context["kept"] = {"weekly": values["weekly"]}
    return render("notify/settings.html", "notify/_settings_form.html", target="push-settings",
                  status=422 if errors else 200, **context)


def _saved(message: str, target: str, fragment: str, next_url: str, **context: Any) -> Response:
    """htmx: the fragment and a toast; a plain form: 303 and a flash."""
    if not wants_fragment(target):
        flash(message, "success")
        return redirect(next_url, 303)
    body = render_template(fragment, **context) + render_template("admin/_toast.html", message=message)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response:
    """Push on this device, the devices list, nudge switches, quiet hours and the daily cap."""
    if request.method == "POST":
        try:
            preferences.update_preferences(current_user, parse_preferences(request.form))
        except FormError as e:
            db.session.rollback()
            return _settings_page(e.errors, request.form)
        db.session.commit()
        if wants_fragment("push-settings"):
            return _settings_page({}, saved=_("Notification settings saved."))
        flash(_("Notification settings saved."), "success")
        return redirect(url_for("notify.settings"), 303)
    return _settings_page({})


def _json_error(message: str, status: int = 422) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.route("/push/subscribe", methods=["POST"])
@per_person("RATELIMIT_PUSH")
@resource
@login_required
def push_subscribe() -> Response:
    """The page's push.js posts this device's PushSubscription (JSON)."""
    try:
        sub = preferences.subscribe(current_user, preferences.parse_subscription(
            request.get_json(silent=True), request.user_agent.string or "", str(get_locale())))
    except FormError as e:
        db.session.rollback()
        return _json_error(next(iter(e.errors.values())))
    db.session.commit()
    response = jsonify(ok=True, id=sub.id, message=_("Push notifications are on for this device."))
    response.status_code = 201
    return response


@bp.route("/push/unsubscribe", methods=["POST"])
@resource
@login_required
def push_unsubscribe() -> Response:
    """The browser unsubscribed this device: forget it (only ever the person's own)."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _json_error(_("The browser sent an incomplete push subscription."))
    removed = preferences.unsubscribe(current_user, endpoint)
    db.session.commit()
    return jsonify(ok=True, removed=removed, message=_("Push notifications are off for this device."))


@bp.route("/push/devices/<int:subscription_id>/remove", methods=["POST"])
@login_required
def remove_device(subscription_id: int) -> Response:
    try:
        preferences.remove_device(current_user, subscription_id)
    except LookupError:
        abort(404)
    db.session.commit()
    return _saved(_("Device removed."), "push-devices", "notify/_devices.html", url_for("notify.settings"),
                  devices=preferences.devices(current_user), device_label=preferences.device_label)


@bp.route("/unread")
@resource
@login_required
def unread() -> Response:
    """The unread count for the tab bar (app.js asks when the service worker shows a push)."""
    count = services.unread_count(current_user)
    response = jsonify(count=count, label=ngettext("%(num)d unread", "%(num)d unread", count))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/organisation", methods=["GET", "POST"])
@hr_required
def organisation() -> Response:
    """HR: organisation-wide nudges (the weekly nudge)."""
    if request.method == "POST":
        setting = preferences.set_weekly_nudge(current_user, request.form.get("weekly_nudge", "") in ("1", "on"))
        db.session.commit()
        return _saved(_("Nudge settings saved."), "org-nudges", "notify/_organisation_form.html",
                      url_for("notify.organisation"), setting=setting)
    return render("notify/organisation.html", "notify/_organisation_form.html", target="org-nudges",
                  setting=preferences.nudge_setting())
