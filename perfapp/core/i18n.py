"""Locale and timezone selection, and date filters for templates."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from babel import Locale, dates
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_timezone, get_translations, gettext
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from perfapp.core.db import utcnow
from perfapp.core.fragments import _recording, ago_marker
from perfapp.core.templating import app_globals

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


# --- Per-request lookups ---------------------------------------------------------------
# Flask-Babel resolves the locale, timezone and catalogue through `g` on every call (about
# 30 µs for each of the ~300 strings on a feed page). These helpers resolve them once per
# app context and keep them on Flask-Babel's own per-context namespace, tagged with the
# locale (and timezone) objects they were made for: force_locale() and refresh() replace
# those objects, so a changed locale is noticed at once and nothing outlives the request.

def _babel_context() -> Any:
    """Flask-Babel's per-app-context namespace (None outside an app context or before its first use)."""
    globals_ = app_globals()
    return None if globals_ is None else globals_.__dict__.get("_flask_babel")


def _translations() -> Any:
    """The current locale's catalogue, as flask_babel.get_translations() returns it."""
    ns = _babel_context()
    try:
        locale, translations = ns.perf_translations
        if locale is ns.babel_locale:
            return translations
    except AttributeError:
        pass
    translations = get_translations()  # selects the locale first if needed
    ns = _babel_context()
    if ns is not None:
        ns.perf_translations = (getattr(ns, "babel_locale", None), translations)
    return translations


# Jinja callables with the i18n extension's "newstyle" semantics (jinja2.ext._make_new_gettext):
# the result is always %-formatted with the named variables, and in autoescaped templates it
# becomes Markup first, so the variables are escaped and the translation itself is not.
# Without variables the result depends only on the catalogue, the string and autoescaping,
# so it is kept on the catalogue object (one per locale) instead of being rebuilt per call.

def _formatted(translations: Any, autoescape: bool, string: str) -> str:
    memo: dict[tuple[str, bool], str] = translations.__dict__.setdefault("_perf_gettext", {})
    key = (string, autoescape)
    rv = memo.get(key)
    if rv is None:
        text = translations.ugettext(string)
        rv = (Markup(text) if autoescape else text) % {}
        if len(memo) < 10_000:
            memo[key] = rv
    return rv


def markup_gettext(string: str) -> Markup:
    """_(string) as an autoescaped template gets it, for Python that builds template HTML."""
    return _formatted(_translations(), True, string)  # type: ignore[return-value]


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    translations = _translations()
    if not variables:
        return _formatted(translations, eval_ctx.autoescape, string)
    rv = translations.ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # type: ignore[no-any-return]
@pass_eval_context
def template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /,
                      **variables: Any) -> str:
    variables.setdefault("num", num)
    rv = _translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # type: ignore[no-any-return]


@pass_eval_context
def template_pgettext(eval_ctx: EvalContext, context: str, string: str, /, **variables: Any) -> str:
    variables.setdefault("context", context)
    rv = _translations().upgettext(context, string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # type: ignore[no-any-return]


@pass_eval_context
def template_npgettext(eval_ctx: EvalContext, context: str, singular: str, plural: str, num: int, /,
                       **variables: Any) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    rv = _translations().unpgettext(context, singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # type: ignore[no-any-return]


# --- Relative dates -------------------------------------------------------------------------

class _Dates:
    """Babel's formats for one locale and timezone, looked up once."""

    def __init__(self, locale: Locale, tz: tzinfo) -> None:
        self.locale, self.tz = locale, tz
        self.key = str(locale)
        self.datetime_format = dates.get_datetime_format("medium", locale=locale).replace("'", "")
        self.time_pattern = dates.parse_pattern(dates.get_time_format("medium", locale=locale))
        self.clock = _clock(self.time_pattern, locale)
        self.ago_parts: dict[datetime, tuple[str, str]] = {}

    def local(self, value: datetime) -> datetime:
        """Naive UTC to the viewer's timezone, as Flask-Babel's to_user_timezone does.

        (It also calls pytz's normalize(), which after astimezone() gives the same datetime.)
        """
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(self.tz)

    def medium_date(self, local: datetime) -> str:
        """babel.dates.format_date(local, "medium", locale)."""
        return _medium_date(self.key, self.locale, local.date())

    def medium_datetime(self, local: datetime) -> str:
        """babel.dates.format_datetime(value, "medium", tzinfo, locale), step for step (local: in tz)."""
        if self.clock is not None:
            time = self.clock(local.hour, local.minute, local.second)
        else:
            time = self.time_pattern.apply(local.timetz(), self.locale, reference_date=local.date())
        return self.datetime_format.replace("{0}", time).replace("{1}", self.medium_date(local))

    def relative(self, delta: timedelta) -> str:
        return _relative(self.key, self.locale, delta)


# One per (locale, timezone), shared by every request: building one checks its clock against Babel.
_DATES: dict[tuple[str, str], _Dates] = {}


def _dates() -> _Dates:
    ns = _babel_context()
    try:
        found, for_locale, for_tz = ns.perf_dates
        if for_locale is ns.babel_locale and for_tz is ns.babel_tzinfo:
            return found  # type: ignore[no-any-return]
    except AttributeError:
        pass
    locale, tz = get_locale(), get_timezone()
    key = (str(locale), str(tz))
    found = _DATES.get(key)
    if found is None or found.locale != locale:
        found = _Dates(locale, tz)  # type: ignore[arg-type]
        if len(_DATES) < 1024:
            _DATES[key] = found
    ns = _babel_context()
    if ns is not None:
        ns.perf_dates = (found, getattr(ns, "babel_locale", None), getattr(ns, "babel_tzinfo", None))
    return found


# Babel's time fields that depend on nothing but the hour, minute and second, as it formats them.
_CLOCK_FIELDS = {
    "h": lambda h, m, s: h % 12 or 12, "K": lambda h, m, s: h % 12, "H": lambda h, m, s: h,
    "k": lambda h, m, s: h or 24, "m": lambda h, m, s: m, "s": lambda h, m, s: s,
}
_CLOCK_CHECKS = [(h, m, s) for h in range(24) for m, s in ((0, 0), (5, 9), (59, 59))]


def _clock(pattern: dates.DateTimePattern, locale: Locale) -> Any:
    """A function (hour, minute, second) -> what pattern.apply() gives, for patterns made only of
    hour, minute, second and am/pm fields (the medium time of every locale we serve); else None.
    Checked against Babel here, for every hour."""
    fmt, getters = "", []
    for kind, token in dates.tokenize_pattern(pattern.pattern):
        if kind == "chars":
            fmt += token.replace("%", "%%")
            continue
        char, count = token
        if char == "a":
            am, pm = (dates.parse_pattern("a" * count).apply(datetime(2000, 1, 1, hour, tzinfo=UTC), locale)
                      for hour in (9, 21))
            fmt += "%s"
            getters.append(lambda h, m, s, am=am, pm=pm: pm if h >= 12 else am)
        elif char in _CLOCK_FIELDS:
            fmt += f"%0{count}d"
            getters.append(_CLOCK_FIELDS[char])
        else:
            return None

    def clock(h: int, m: int, s: int) -> str:
        return fmt % tuple(get(h, m, s) for get in getters)

    for h, m, s in _CLOCK_CHECKS:
        if clock(h, m, s) != pattern.apply(datetime(2000, 1, 1, h, m, s, tzinfo=UTC).timetz(), locale):
            return None
    return clock


@lru_cache(maxsize=4096)
def _medium_date(key: str, locale: Locale, day: date) -> str:
    return dates.format_date(day, "medium", locale=locale)


_RELATIVE: dict[tuple[str, str, int, bool], str] = {}


def _relative(key: str, locale: Locale, delta: timedelta) -> str:
    """babel.dates.format_timedelta(delta, add_direction=True, threshold=1.0, locale=locale).

    Its text depends only on the unit it picks, the rounded value and the direction, so the
    text is kept per (locale, unit, value, direction); the unit and value are picked here
    exactly as Babel picks them. Only deltas under a week come here: a few hundred keys.
    """
    seconds = delta.total_seconds()  # as Babel >= 2.18 does (older Babel truncated to whole seconds)
    for unit, per_unit in dates.TIMEDELTA_UNITS:
        value = abs(seconds) / per_unit
        if value >= 1.0 or unit == "second":
            if unit == "second" and value > 0:
                value = max(1, value)
            cache_key = (key, unit, int(round(value)), seconds >= 0)
            text = _RELATIVE.get(cache_key)
            if text is None:
                text = dates.format_timedelta(delta, "second", threshold=1.0, add_direction=True,
                                              locale=locale)
                if len(_RELATIVE) < 10_000:
                    _RELATIVE[cache_key] = text
            return text
    return ""  # not reached: "second" always matches


def ago(value: datetime | None) -> Markup:
    """A <time> element with a relative, localised date ("3 分钟前" / "3 minutes ago").

    Under a week the relative time, beyond it the medium date; the title has the medium date
    and time, all in the viewer's locale and timezone (what Flask-Babel's format_timedelta,
    format_date and format_datetime give, without their per-call lookups).
    """
    if value is None:
        return Markup("")
    if _recording.get():
        return ago_marker(value)  # a cached card: filled in on every use (perfapp.core.fragments)
    return _ago(_dates(), value)


def _ago(fmt: _Dates, value: datetime) -> Markup:
    # The <time> tag's opening (with the title) and the medium date depend only on the value,
    # the locale and the timezone: kept per _Dates (one per locale and timezone, shared).
    parts = fmt.ago_parts.get(value)
    if parts is None:
        local = fmt.local(value)
        parts = (f'<time datetime="{escape(value.isoformat(timespec="seconds"))}Z" '
                 f'title="{escape(fmt.medium_datetime(local))}">', str(escape(fmt.medium_date(local))))
        if len(fmt.ago_parts) < 20_000:
            fmt.ago_parts[value] = parts
    delta = value - utcnow()
    text = str(escape(fmt.relative(delta))) if abs(delta) < _WEEK else parts[1]
    return Markup(parts[0] + text + "</time>")


def ago_iso(iso: str) -> Markup:
    """ago() of a naive UTC datetime given as its isoformat() (the fragment cache's markers)."""
    return _ago(_dates(), datetime.fromisoformat(iso))


_WEEK = timedelta(days=7)


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


def timezone_label(zone: str) -> str:
    """A time zone as people say it, in their language: "中国（上海）时间", "China (Shanghai) Time"."""
    if zone in ("UTC", "Etc/UTC"):
        return gettext("Coordinated Universal Time (UTC)")
    try:
        return dates.get_timezone_location(dates.get_timezone(zone), locale=get_locale() or "en")
    except LookupError:  # an id Babel doesn't know: the id beats nothing
        return zone


def init_i18n(app: Flask) -> None:
    """Template filters and globals; replaces the gettext callables Flask-Babel installed."""
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["timezone_label"] = timezone_label
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext,
        pgettext=template_pgettext, npgettext=template_npgettext,
    )
    app.jinja_env.globals["html_lang"] = html_lang
