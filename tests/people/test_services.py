"""The people picker's search: Chinese characters, pinyin, initials, Latin names, email."""
from __future__ import annotations

import pytest

from perfapp.core.validation import FormError
from perfapp.people import services
from perfapp.people.models import search_key_for


@pytest.fixture()
def org(make_user):  # type: ignore[no-untyped-def]
    return {
        "me": make_user(name="王伟"),
        "lina": make_user(name="李娜", email="na.li@example.com"),
        "linan": make_user(name="林楠"),
        "emma": make_user(name="Emma Wilson", email="ewilson@example.com"),
        "gone": make_user(name="李四", active=False),
    }


@pytest.mark.parametrize(("query", "expected"), [
    ("李娜", "lina"), ("lina", "lina"), ("LiNa", "lina"), ("ln", "lina"), ("李", "lina"),
    ("emma", "emma"), ("ew", "emma"), ("wilson", "emma"), ("ewilson", "emma"), ("na.li", "lina"),
])
def test_search_matches(org, query, expected) -> None:
    found = services.search_people(org["me"], query)
    assert found and found[0].id == org[expected].id


def test_search_excludes_self_and_deactivated_and_escapes_like(org) -> None:
    assert services.search_people(org["me"], "wang") == []
    assert org["gone"] not in services.search_people(org["me"], "李")
    assert services.search_people(org["me"], "%") == []
    assert services.search_people(org["me"], "_") == []
    assert services.search_people(org["me"], "   ") == []


def test_prefix_matches_rank_first(org) -> None:
    names = [p.name for p in services.search_people(org["me"], "lin")]
    assert set(names[:2]) == {"李娜", "林楠"}


def test_search_key_tokens() -> None:
    key = search_key_for("李娜", "na.li@example.com")
    for token in ("李娜", "lina", "ln", "na.li"):
        assert f" {token} " in key


def test_settings_validation(org) -> None:
    me = org["me"]
    services.update_settings(me, "zh_Hans_CN", "Europe/Berlin")
    assert (me.locale, me.timezone) == ("zh_Hans_CN", "Europe/Berlin")
    for locale, tz, field in (("fr", "UTC", "locale"), ("en", "Mars/Base", "timezone")):
        with pytest.raises(FormError) as info:
            services.update_settings(me, locale, tz)
        assert field in info.value.errors
    assert (me.locale, me.timezone) == ("zh_Hans_CN", "Europe/Berlin")
