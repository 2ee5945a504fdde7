"""The rendering shortcuts (perfapp.core.templating, i18n, assets) give what the slow paths gave.

Each shortcut replaces a library call on a hot path (Flask-Babel's gettext and date formats,
Jinja's macro imports, Flask-WTF's csrf_token, url_for for static files); these tests compare
them with the library's own answers, in both languages and several timezones.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import Flask, render_template_string
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_timedelta,
    get_translations,
    refresh,
)
from flask_wtf.csrf import generate_csrf
from jinja2 import DictLoader, Environment
from markupsafe import Markup

from perfapp.core import assets, i18n
from perfapp.core.db import utcnow

LOCALES = ("en", "zh_Hans_CN")


def babel_ago(value: datetime) -> Markup:
    """What i18n.ago rendered before it was made fast: Flask-Babel's formatters, call by call."""
    delta = value - i18n.utcnow()  # the clock ago reads (frozen in the tests below)
    if abs(delta) < timedelta(days=7):
        text = format_timedelta(delta, add_direction=True, threshold=1.0)
    else:
        text = format_date(value, "medium")
    return Markup('<time datetime="{iso}Z" title="{full}">{text}</time>').format(
        iso=value.isoformat(timespec="seconds"), full=format_datetime(value, "medium"), text=text)


@pytest.fixture()
def viewer(app: Flask, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A request context whose locale and timezone the test chooses (as a signed-in person's would be)."""
    chosen = {"locale": "en", "tz": "Asia/Shanghai"}
    babel = app.extensions["babel"]
    monkeypatch.setattr(babel, "locale_selector", lambda: chosen["locale"])
    monkeypatch.setattr(babel, "timezone_selector", lambda: chosen["tz"])

    @contextmanager
    def enter(locale: str, tz: str) -> Iterator[None]:
        chosen.update(locale=locale, tz=tz)
        with app.app_context(), app.test_request_context("/"):  # a fresh `g`, as every request has
            yield

    return enter


@pytest.fixture()
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    now = utcnow().replace(microsecond=250_000)
    monkeypatch.setattr(i18n, "utcnow", lambda: now)
    return now


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Europe/London", "UTC", "Australia/Lord_Howe"])
@pytest.mark.parametrize("locale", LOCALES)
def test_ago_matches_flask_babel(viewer, frozen_now: datetime, locale: str, tz: str) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(f"{locale}{tz}")
    with viewer(locale, tz):
        now = frozen_now
        seconds = [0, 1, 44, 45, 59, 60, 89, 90, 3599, 3600, 5399, 5400, 86399, 86400, 6 * 86400 + 86399,
                   7 * 86400, *(rnd.randint(0, 900 * 86400) for _ in range(300))]
        # Around each unit and rounding boundary, at random, in the future, around DST changes.
        values = [now - timedelta(seconds=s) for s in seconds] + [now - timedelta(seconds=s + 0.5) for s in seconds]
        values += [now + timedelta(seconds=rnd.randint(0, 10 * 86400)) for _ in range(30)]
        values += [datetime(2025, 3, 30, 0, 59, 59), datetime(2025, 3, 30, 1, 0), datetime(2025, 10, 26, 1, 0),
                   datetime(2025, 11, 2, 6, 30), datetime(2024, 2, 29, 23, 59, 59)]
        assert [str(i18n.ago(v)) for v in values] == [str(babel_ago(v)) for v in values]
        assert i18n.ago(None) == ""


def test_ago_follows_force_locale_and_refresh(viewer, frozen_now: datetime) -> None:  # type: ignore[no-untyped-def]
    value = utcnow() - timedelta(days=3, hours=2)
    old = utcnow() - timedelta(days=40)
    with viewer("en", "Asia/Shanghai"):
        assert i18n.ago(value) == babel_ago(value)
        assert "ago" in i18n.ago(value)
        with force_locale("zh_Hans_CN"):
            assert i18n.ago(value) == babel_ago(value)
            assert "前" in i18n.ago(value)
        assert "ago" in i18n.ago(value)
        from flask_babel import get_babel
        get_babel().timezone_selector = lambda: "America/New_York"
        before = i18n.ago(old)
        refresh()  # what the settings page does after a person changes timezone
        assert i18n.ago(old) == babel_ago(old)
        assert i18n.ago(old) != before  # the title's clock moved 12 or 13 hours


TEMPLATE = (
    "{{ _('Home') }}|{{ _('Someone (confidential)') }}|{{ gettext('Voice note, %(time)s', time=t) }}|"
    "{{ _('No one matches “%(q)s”.', q=q) }}|{{ ngettext('%(num)d unread', '%(num)d unread', n) }}|"
    "{{ ngettext('%(num)d comment', '%(num)d comments', 1) }}|{{ _('100%% sure') }}|{{ _('%(a)s and %(b)s', a=q, b=t) }}|"
    "{{ pgettext('ctx', 'Home') }}|{{ npgettext('ctx', '%(num)d x', '%(num)d xs', n) }}"
)


def reference_env(autoescape: bool) -> Environment:
    """Jinja with the callables Flask-Babel installs (newstyle), as the app had before."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )
    return env


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("locale", LOCALES)
def test_template_gettext_matches_jinja_newstyle(app: Flask, viewer, locale: str, autoescape: bool) -> None:  # type: ignore[no-untyped-def]
    ours = app.jinja_env.overlay(autoescape=autoescape).from_string(TEMPLATE)
    theirs = reference_env(autoescape).from_string(TEMPLATE)
    values = {"t": "0:07", "q": "<b>李 & \"x\"</b>"}
    with viewer(locale, "UTC"):
        for n in (0, 1, 2, 5, 120):
            for _ in range(2):  # the second time from the memo
                assert ours.render(n=n, **values) == theirs.render(n=n, **values)
        if autoescape:
            assert "&lt;b&gt;" in ours.render(n=1, **values)
        with force_locale("en" if locale != "en" else "zh_Hans_CN"):
            assert ours.render(n=3, **values) == theirs.render(n=3, **values)
    zh = app.jinja_env.from_string("{{ _('Home') }}")
    with viewer("zh_Hans_CN", "UTC"):
        assert zh.render() == "首页"
    with viewer("en", "UTC"):
        assert zh.render() == "Home"


def test_icon_renders_what_the_macro_rendered(app: Flask) -> None:
    macro = app.jinja_env.overlay(autoescape=True).from_string(
        "{% macro icon(name, label=None, cls='') -%}"
        '<svg class="icon {{ cls }}" {% if label %}role="img" aria-label="{{ label }}"{% else %}aria-hidden="true"'
        "{% endif %}><use href=\"{{ static_url('icons/sprite.svg') }}#{{ name }}\"/></svg>"
        "{%- endmacro %}{{ icon(a, b, c) }}")
    ours = app.jinja_env.overlay(autoescape=True).from_string("{{ icon(a, b, c) }}")
    imported = app.jinja_env.from_string('{% from "_macros/ui.html" import icon %}{{ icon(a, b, c) }}')
    with app.test_request_context("/"):
        for args in [("house", None, ""), ('x"<>', "lab<'\"&>", "big"), ("a", Markup("<b>x</b>"), "c&"), ("a", "", "")]:
            expected = macro.render(a=args[0], b=args[1], c=args[2])
            assert ours.render(a=args[0], b=args[1], c=args[2]) == expected
            assert imported.render(a=args[0], b=args[1], c=args[2]) == expected


def test_static_url_follows_the_script_root_and_the_file(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.test_request_context("/"):
        plain = assets.static_url("css/app.css")
        assert plain.startswith("/static/css/app.css?v=")
        assert assets.static_url("css/app.css") == plain
    with app.app_context(), app.test_request_context("/", base_url="http://localhost/perf"):
        assert assets.static_url("css/app.css") == "/perf" + plain
    monkeypatch.setattr(assets, "file_hash", lambda _name: "0123456789")
    with app.test_request_context("/"):
        assert assets.static_url("css/app.css") == "/static/css/app.css?v=0123456789"
    monkeypatch.setitem(app.config, "SERVER_NAME", "perf.example")
    with app.app_context():  # no request: url_for as before (SERVER_NAME decides)
        assert assets.static_url("css/app.css") == "http://perf.example/static/css/app.css?v=0123456789"


def test_csrf_token_is_flask_wtfs(app: Flask) -> None:
    with app.app_context(), app.test_request_context("/"):
        first = render_template_string("{{ csrf_token() }}")
        assert first == generate_csrf()
        assert render_template_string("{{ csrf_token() }}") == first
    with app.app_context(), app.test_request_context("/"):
        assert render_template_string("{{ csrf_token() }}") != first  # a new signature per request


def test_imports_still_see_new_globals(app: Flask) -> None:
    """Jinja makes a fresh macro module when the importing template has globals it lacks."""
    env = app.jinja_env.overlay(loader=DictLoader({"m.html": "{% macro who() %}[{{ extra }}]{% endmacro %}"}))
    plain = env.from_string('{% from "m.html" import who %}{{ who() }}')
    with_extra = env.from_string('{% from "m.html" import who %}{{ who() }}', globals={"extra": "x"})
    with app.test_request_context("/"):
        assert plain.render() == "[]"
        assert with_extra.render() == "[x]"
        assert plain.render() == "[]"


def test_template_url_for_matches_flask_for_every_route(app: Flask) -> None:
    from flask import url_for
    from werkzeug.routing import IntegerConverter

    from perfapp.core.templating import template_url_for

    rnd = random.Random(5)
    with app.test_request_context("/"):
        checked = 0
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            ints = [a for a in rule.arguments if isinstance(rule._converters.get(a), IntegerConverter)]
            for extra in ({}, {"before": 17}, {"page": "next_one"}):
                for _ in range(4):
                    values = {a: (rnd.randint(0, 10**9) if a in ints else rnd.choice(["feedback", "badge_award"]))
                              for a in rule.arguments}
                    values.update(extra)
                    try:
                        expected = url_for(rule.endpoint, **values)
                    except Exception:  # noqa: BLE001 (a converter refusing the value: not a URL to compare)
                        continue
                    assert template_url_for(rule.endpoint, **values) == expected
                    checked += 1
        assert checked > 100
        # What takes Flask's path every time: other strings, None, negative numbers, options.
        assert template_url_for("people.search", q="李 娜&x") == url_for("people.search", q="李 娜&x")
        assert template_url_for("people.search", q="li", me=None) == url_for("people.search", q="li")
        assert template_url_for("home", before=-3) == url_for("home", before=-3)
        assert template_url_for("home", _anchor="feed") == url_for("home", _anchor="feed")
        assert template_url_for("people.profile", person_id=5, _external=True) == url_for(
            "people.profile", person_id=5, _external=True)
    with app.app_context(), app.test_request_context("/", base_url="http://localhost/perf"):
        assert template_url_for("people.profile", person_id=12) == "/perf/people/12"


# The macros as they were (kind_chip without the newline its {% set %} line left before the chip;
# the avatar's hue a class since the CSP forbids style attributes).
OLD_MACROS = """
{% macro avatar(person, size='') -%}
<span class="avatar {{ size }} hue-{{ person.avatar_hue }}" aria-hidden="true">{{ person.initials }}</span>
{%- endmacro %}
{% macro anon_avatar(size='') -%}
<span class="avatar avatar-anon {{ size }}" aria-hidden="true">?</span>
{%- endmacro %}
{% macro kind_chip(kind) -%}
{% set meta = {'praise': ('heart-handshake', _('Praise')), 'suggestion': ('lightbulb', _('Suggestion')),
               'constructive': ('sprout', _('Constructive'))} -%}
<span class="chip chip-{{ kind }}">{{ icon(meta[kind][0]) }}{{ meta[kind][1] }}</span>
{%- endmacro %}
{% macro visibility_label(item) -%}
{% if item.visibility == 'public' %}<span class="meta-item">{{ icon('globe') }}{{ _("Public") }}</span>
{% elif item.visibility == 'manager' %}<span class="meta-item">{{ icon('users') }}{{ _("Recipient and manager") }}</span>
{% else %}<span class="meta-item">{{ icon('lock') }}{{ _("Private") }}</span>{% endif %}
{%- endmacro %}
"""


@pytest.mark.parametrize("locale", LOCALES)
def test_ui_helpers_render_what_the_macros_rendered(app: Flask, viewer, make_user, locale: str) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    people = [make_user(name="李娜"), make_user(name="Emma <Wilson>"), None, {"initials": "AB", "avatar_hue": 4}]
    calls = ("{{ avatar(p) }}|{{ avatar(p, 'avatar-sm') }}|{{ anon_avatar() }}|{{ anon_avatar('avatar-lg') }}|"
             "{{ kind_chip(k) }}|{{ visibility_label(item) }}")
    old = app.jinja_env.from_string(OLD_MACROS.strip().replace("%}\n{% macro", "%}{% macro") + calls)
    new = app.jinja_env.from_string(calls)
    imported = app.jinja_env.from_string(
        '{% from "_macros/ui.html" import avatar, anon_avatar, kind_chip, visibility_label %}' + calls)
    with viewer(locale, "UTC"):
        for person in people:
            for kind in ("praise", "suggestion", "constructive"):
                for visibility in ("public", "manager", "private"):
                    values = {"p": person, "k": kind, "item": SimpleNamespace(visibility=visibility)}
                    assert new.render(**values) == old.render(**values)
                    assert imported.render(**values) == old.render(**values)


@pytest.mark.parametrize("locale", [*LOCALES, "en_GB", "de", "ja", "ar"])
def test_ago_clock_formats_times_as_babel(locale: str) -> None:
    from datetime import time

    import pytz
    from babel import Locale
    from babel.dates import format_time

    parsed = Locale.parse(locale)
    fmt = i18n._Dates(parsed, pytz.timezone("UTC"))
    if locale in LOCALES:
        assert fmt.clock is not None  # the short path is taken for the languages we serve
    if fmt.clock is None:
        return
    for hour in range(24):
        for minute in range(60):
            for second in (0, 7, 59):
                assert fmt.clock(hour, minute, second) == format_time(time(hour, minute, second), "medium",
                                                                     locale=parsed)
