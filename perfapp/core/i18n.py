"""Locale and timezone selection, and date filters for templates."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from babel import dates
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_timezone, gettext, to_user_timezone
from flask_login import current_user
from markupsafe import Markup

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
    return choose_locale(None)


def choose_locale(person_locale: str | None) -> str:
    """select_locale for a person whose own setting is `person_locale` (in a request)."""
    if person_locale:
        return person_locale
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
    """A <time> element the browser turns into "3 分钟前" / "3 minutes ago" (static/js/time.js).

    The server writes only absolute text in the viewer's language (the medium date, the medium
    date and time as its title), so cached HTML never goes stale by the clock; and in the
    organisation's timezone, not the viewer's, so a card is one HTML for everyone who reads its
    language: the browser writes the date again in the person's own timezone (`data-tz` on
    <html>, `page_timezone`). Only a browser without JavaScript shows the organisation's date.
    """
    if value is None:
        return Markup("")
    return _time_element(value, str(get_locale()), current_app.config["ORG_TIMEZONE"])


@lru_cache(maxsize=20_000)
def _time_element(value: datetime, locale: str, zone: str) -> Markup:
    # Kept: Babel's date formatting costs ~0.2 ms a call, and pages show the same dates again.
    stamp = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    tz = dates.get_timezone(zone)
    return Markup('<time class="ago" datetime="{}" title="{}">{}</time>').format(
        stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), dates.format_datetime(stamp, "medium", tzinfo=tz, locale=locale),
        dates.format_date(stamp.astimezone(tz).date(), "medium", locale=locale))


def page_timezone() -> str:
    """The viewer's timezone, for the browser to write dates in (<html data-tz>)."""
    return str(get_timezone())


_CJK = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_LATIN = "[A-Za-z0-9\u00c0-\u024f]"
_CJK_THEN_LATIN = re.compile(f"({_CJK})({_LATIN})")
_LATIN_THEN_CJK = re.compile(f"({_LATIN})({_CJK})")


def autospace(text: str) -> str:
    """A space where Chinese meets a Latin word or a number ("Emma Wilson 给了你反馈").

    Chinese strings hold names without spaces (pages space them with CSS text-autospace);
    text shown outside a page (push notifications, mail) gets the spaces here.
    """
    return _LATIN_THEN_CJK.sub(r"\1 \2", _CJK_THEN_LATIN.sub(r"\1 \2", text))


def month_day(value: datetime) -> str:
    """A day of this year as people write it, in the viewer's timezone: "Dec 12", "12月12日"."""
    return dates.format_skeleton("MMMd", to_user_timezone(value), locale=get_locale() or "en")


def timezone_label(zone: str) -> str:
    """A time zone as people say it, in their language: "中国（上海）时间", "China (Shanghai) Time"."""
    if zone in ("UTC", "Etc/UTC"):
        return gettext("Coordinated Universal Time (UTC)")
    try:
        return dates.get_timezone_location(dates.get_timezone(zone), locale=get_locale() or "en")
    except LookupError:  # an id Babel doesn't know: the id beats nothing
        return zone


def init_i18n(app: Flask) -> None:
    """Template filters and globals."""
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals["page_timezone"] = page_timezone
    app.jinja_env.filters["timezone_label"] = timezone_label
    app.jinja_env.filters["month_day"] = month_day
    app.jinja_env.globals["html_lang"] = html_lang
