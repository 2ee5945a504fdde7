"""Where each page sits in the app: the tab it belongs to and the page its back control leads to.

An installed app has no browser back button, so every page that is not one of the four tabs
shows a back control (templates/base.html). Its href is the page's *parent*, worked out here
from the endpoint and its URL arguments only, so the same URL always shows the same control
(whatever the Referer). static/js/app.js then turns the
control into `history.back()` when the previous page was one of ours, so people land exactly
where they came from; the parent is the fallback for a page opened from a notification or a link.

One table for the tab bar too, instead of a list of endpoints per tab in the template.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from perfapp.core.assets import icon

# The four tabs and the page each opens.
TABS: dict[str, str] = {"home": "home", "give": "feedback.compose", "walls": "walls.praise", "me": "people.me"}
TAB_PAGES = frozenset(TABS.values())

# Endpoint (or blueprint prefix ending in ".") → tab. Exact endpoints win over prefixes.
_TAB_OF: dict[str, str] = {
    "home": "home", "notify.inbox": "home", "feedback.given": "home", "feedback.detail": "home", "feedback.asks": "home",
    "reactions.thread": "home", "people.profile": "home", "people.search": "home", "moderation.report": "home",
    "feedback.compose": "give", "feedback.ask": "give", "feedback.outbox": "give",
    "recognition.flowers": "give", "recognition.award": "give",
    "recognition.flower_gift": "walls", "recognition.badge_award": "walls", "walls.": "walls", "stories.": "walls", "integrations.praise": "walls",
    "people.me": "me", "people.settings": "me", "coaching.": "me", "notify.settings": "me",
    "notify.organisation": "me", "admin.": "me", "audit.": "me", "moderation.queue": "me",
    "moderation.log": "me", "recognition.": "me", "integrations.": "me", "goals.": "me",
    "projects.": "me", "meetings.": "me", "reviews.": "me",
}

Parent = Callable[[Mapping[str, Any]], str | None]


def _to(endpoint: str, **fixed: Any) -> Parent:
    return lambda _args: url_for(endpoint, **fixed)


def _customer_praise_parent(_args: Mapping[str, Any]) -> str:
    # HR confirm customer praise from their queue; anyone else imported it from the form.
    hr = current_user.is_authenticated and current_user.is_hr
    return url_for("integrations.queue" if hr else "integrations.import_praise")


# Endpoint → its parent page. Admin pages name their own parent (admin/_layout.html `back`).
_PARENT_OF: dict[str, Parent] = {
    "notify.inbox": _to("home"),
    "feedback.given": _to("home"),
    "feedback.asks": _to("home"),
    "feedback.detail": _to("home"),
    "reactions.thread": _to("home"),
    "people.profile": _to("home"),
    "people.search": _to("home"),
    "moderation.report": _to("home"),
    "feedback.ask": _to("feedback.compose"),
    "feedback.outbox": _to("feedback.compose"),
    "recognition.flowers": _to("feedback.compose"),
    "recognition.award": _to("feedback.compose"),
    "walls.wall_filter_form": _to("walls.praise"),
    "walls.person": _to("walls.praise"),
    "walls.citations": lambda args: url_for("walls.person", person_id=args["person_id"]),
    "walls.badges": _to("walls.praise"),
    "walls.badge": _to("walls.badges"),
    "recognition.flower_gift": _to("walls.praise"),
    "recognition.badge_award": _to("walls.praise"),
    "stories.index": _to("walls.praise"),
    "stories.detail": _to("stories.index"),
    "stories.new": _to("stories.index"),
    "integrations.praise": _customer_praise_parent,
    "integrations.queue": _to("admin.index"),
    "integrations.import_praise": _to("people.me"),
    "people.settings": _to("people.me"),
    "notify.settings": _to("people.me"),
    "coaching.team": _to("people.me"),
    "coaching.member": _to("coaching.team"),
    "coaching.one_on_ones_index": _to("people.me"),
    "coaching.start_one_on_ones": lambda args: url_for("coaching.member", person_id=args["person_id"]),
    "coaching.one_on_one": _to("coaching.one_on_ones_index"),
    "coaching.records_index": _to("people.me"),
    "coaching.new_record": lambda args: url_for("coaching.member", person_id=args["person_id"]),
    "coaching.record": _to("coaching.records_index"),
    "coaching.edit_record": lambda args: url_for("coaching.record", record_id=args["record_id"]),
    "goals.mine": _to("people.me"),
    "goals.person": lambda args: url_for("people.profile", person_id=args["person_id"]),
    "goals.tree": _to("goals.mine"),
    "goals.tree_node": _to("goals.tree"),
    "goals.detail": _to("goals.mine"),
    "goals.edit": lambda args: url_for("goals.detail", goal_id=args["goal_id"]),
    "goals.assign": lambda args: url_for("goals.detail", goal_id=args["goal_id"]),
    "goals.new": _to("goals.mine"),
    "goals.settings": _to("goals.mine"),
    "goals.checkin": _to("goals.mine"),
    "reviews.index": _to("people.me"),
    "reviews.answer": _to("reviews.index"),
    "reviews.decline": _to("reviews.index"),
    "reviews.nominate": _to("reviews.index"),
    "reviews.team": _to("reviews.index"),
    "reviews.results_page": _to("reviews.index"),
    "reviews.cycles": _to("admin.index"),
    "reviews.new_cycle": _to("reviews.cycles"),
    "reviews.cycle": _to("reviews.cycles"),
    "reviews.edit_cycle": lambda args: url_for("reviews.cycle", cycle_id=args["cycle_id"]),
    "reviews.assignment_status": lambda args: url_for("reviews.cycle", cycle_id=args["cycle_id"]),
    "reviews.org_results": lambda args: url_for("reviews.cycle", cycle_id=args["cycle_id"]),
    "projects.index": _to("people.me"),
    "meetings.index": _to("people.me"),
    "meetings.new": _to("meetings.index"),
    "meetings.import_ics": _to("meetings.index"),
    "meetings.detail": _to("meetings.index"),
    "meetings.edit": lambda args: url_for("meetings.detail", meeting_id=args["meeting_id"]),
    "meetings.calendar": _to("meetings.index"),
    "projects.new": _to("projects.index"),
    "projects.detail": _to("projects.index"),
    "projects.edit": lambda args: url_for("projects.detail", project_id=args["project_id"]),
    "projects.milestone": lambda args: url_for("projects.detail", project_id=args["project_id"]),
    "projects.review": lambda args: url_for("projects.milestone", project_id=args["project_id"],
                                            milestone_id=args["milestone_id"]),
}


def tab_of(endpoint: str | None) -> str | None:
    """The tab a page belongs to ('home', 'give', 'walls', 'me'), or None (login, errors)."""
    if not endpoint:
        return None
    if endpoint in _TAB_OF:
        return _TAB_OF[endpoint]
    prefix = endpoint.split(".", 1)[0] + "."
    return _TAB_OF.get(prefix)


def parent_url(endpoint: str | None, args: Mapping[str, Any] | None = None) -> str | None:
    """The page a back control on this page leads to when there is no in-app history (None for tabs)."""
    if not endpoint or endpoint in TAB_PAGES:
        return None
    parent = _PARENT_OF.get(endpoint)
    if parent is not None:
        return parent(args or {})
    tab = tab_of(endpoint)
    return url_for(TABS[tab]) if tab else None


def current_tab() -> str | None:
    """The tab to highlight for the page being rendered."""
    return tab_of(request.endpoint)


def back_url() -> str | None:
    """Where this page's back control leads (server-side fallback; see the module)."""
    return parent_url(request.endpoint, request.view_args)


def back_link(href: str | None = None, label: str | None = None) -> Markup:
    """The app bar's back control: a 44 px link to `href` (this page's parent by default) that
    static/js/app.js turns into history.back() when the previous page was ours. Empty on tabs."""
    href = href or back_url()
    if not href:
        return Markup("")
    return Markup('<a class="admin-back" href="{href}" data-back aria-label="{label}">{icon}</a>').format(
        href=href, label=label or gettext("Back"), icon=icon("chevron-left"))


def init_navigation(app: Flask) -> None:
    app.add_template_global(current_tab, "current_tab")
    app.add_template_global(back_url, "back_url")
    app.add_template_global(back_link, "back_link")
