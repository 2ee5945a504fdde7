"""Locale and timezone selection, and date filters for templates."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_login import current_user
from markupsafe import Markup

from perfapp.core.db import utcnow

LANG_COOKIE = "lang"


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    if value.lower().startswith("zh"):
        return "zh_Hans_CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """The person's setting, then the language cookie, then the browser's language."""
    if not has_request_context():  # CLI and background jobs choose a locale with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    cookie = normalise_locale(request.cookies.get(LANG_COOKIE))
    if cookie:
        return cookie
    best = request.accept_languages.best_match(["en", "en-US", "zh", "zh-CN", "zh-Hans", "zh-TW"])
    return normalise_locale(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def html_lang() -> str:
    return "zh-Hans" if str(get_locale()).startswith("zh") else "en"


def ago(value: datetime | None) -> Markup:
    """A <time> element with a relative, localised date ("3 分钟前" / "3 minutes ago")."""
    if value is None:
        return Markup("")
    delta = value - utcnow()
    if abs(delta) < timedelta(days=7):
        text = format_timedelta(delta, add_direction=True, threshold=1.0)
    else:
        text = format_date(value, "medium")
    full = format_datetime(value, "medium")
    return Markup('<time datetime="{iso}Z" title="{full}">{text}</time>').format(
        iso=value.isoformat(timespec="seconds"), full=full, text=text
    )


def init_i18n(app: Flask) -> None:
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals["html_lang"] = html_lang
