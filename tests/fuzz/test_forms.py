"""The forms people type into, through the test client: whatever arrives, the answer is a
success or a 4xx with translated messages, never a 500, and a refused submission saves nothing."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, Tag
from perfapp.notify.models import NotificationPreference
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift
from perfapp.recognition.rules import ensure_automatic_badges
from tests.fuzz.conftest import ZH, assert_translated_errors, int_like, long_text, text


def rows(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture()
def office(make_user, make_tag):  # type: ignore[no-untyped-def]
    """Two colleagues (no language of their own: the browser's is used), a value, a badge."""
    boss = make_user(name="王伟", email="boss@example.com")
    author = make_user(name="Emma Wilson", email="emma@example.com", manager=boss)
    lina = make_user(name="李娜", email="lina@example.com", manager=boss)
    value = make_tag("Ownership", "担当")
    badge = Badge(name_zh="热心助人", name_en="Helper", icon="star", colour="#e5484d", awarders="anyone",
                  monthly_limit=100)
    db.session.add(badge)
    ensure_automatic_badges()  # a migration makes these: not the form's doing
    db.session.commit()
    return {"author": author, "lina": lina, "value": value, "badge": badge, "boss": boss}


def _maybe(strategy: st.SearchStrategy, present: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """A field that is sometimes missing (None), sometimes plausible, sometimes junk."""
    return st.one_of(st.none(), strategy, *([] if present is None else [present]))


def _form(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _check(response, model: Any, before: int, created: tuple[int, ...] = (303,)) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code in created:
        return
    assert 400 <= response.status_code < 500, response.status_code
    assert rows(model) == before
    if response.status_code == 422:
        assert_translated_errors(response.get_data(as_text=True))


compose_fields = st.fixed_dictionaries({
    "recipient_id": st.one_of(st.none(), int_like, st.just("LINA")),
    "text": _maybe(text, long_text),
    "emoji": st.one_of(st.none(), st.lists(st.one_of(st.sampled_from(["👍", "🔥", "💩"]), text), max_size=4)),
    "tag_ids": st.one_of(st.none(), st.lists(st.one_of(int_like, st.just("VALUE")), max_size=12)),
    "free_tags": _maybe(text, st.just(",".join(f"t{i}" for i in range(12)))),
    "behaviour": _maybe(text, long_text), "impact": _maybe(text), "suggestion": _maybe(text),
    "kind": _maybe(st.sampled_from(["praise", "suggestion", "constructive"]), text),
    "visibility": _maybe(st.sampled_from(["public", "private", "manager"]), text),
    "confidential": _maybe(st.sampled_from(["1", "on", "0", ""]), text),
    "development_only": _maybe(st.sampled_from(["1", "0"]), text),
    "development_only_present": _maybe(st.just("1")),
    "project_id": _maybe(int_like), "milestone_id": _maybe(int_like), "ask_id": _maybe(int_like),
})


@given(fields=compose_fields, htmx=st.booleans())
def test_feedback_compose_never_500(office, login, fields, htmx) -> None:
    client = _client(login, office["author"])
    form = _form(fields)
    form = {k: (str(office["lina"].id) if v == "LINA" else v) for k, v in form.items()}
    if "tag_ids" in form:
        form["tag_ids"] = [str(office["value"].id) if t == "VALUE" else t for t in form["tag_ids"]]
    before = rows(Feedback)
    r = client.submit("/feedback/new", form, headers=ZH, htmx=htmx, target="compose")
    _check(r, Feedback, before, created=(200, 303) if htmx else (303,))
    if r.status_code in (200, 303):
        assert rows(Feedback) == before + 1


flower_fields = st.fixed_dictionaries({
    "receiver_id": st.one_of(st.none(), int_like, st.just("LINA")),
    "count": _maybe(int_like, st.sampled_from(["1", "5", "6"])),
    "message": _maybe(text, st.integers(490, 600).map(lambda n: "花" * n)),
    "tag_id": _maybe(int_like, st.just("VALUE")),
})


@given(fields=flower_fields, htmx=st.booleans())
def test_flower_form_never_500(office, login, fields, htmx) -> None:
    client = _client(login, office["author"])
    form = {k: _real(office, v) for k, v in _form(fields).items()}
    before = rows(FlowerGift)
    r = client.submit("/recognition/flowers", form, headers=ZH, htmx=htmx, target="flower-form")
    _check(r, FlowerGift, before, created=(200, 303))


award_fields = st.fixed_dictionaries({
    "badge_id": _maybe(int_like, st.just("BADGE")),
    "receiver_id": st.one_of(st.none(), int_like, st.just("LINA")),
    "citation": _maybe(text, st.integers(490, 600).map(lambda n: "赞" * n)),
})


@given(fields=award_fields, htmx=st.booleans())
def test_badge_award_form_never_500(office, login, fields, htmx) -> None:
    client = _client(login, office["author"])
    form = {k: _real(office, v) for k, v in _form(fields).items()}
    before = rows(BadgeAward)
    r = client.submit("/recognition/award", form, headers=ZH, htmx=htmx, target="award-form")
    _check(r, BadgeAward, before, created=(200, 303))


badge_fields = st.fixed_dictionaries({
    "name_zh": _maybe(text), "name_en": _maybe(text), "description_zh": _maybe(text, long_text),
    "description_en": _maybe(text), "icon": _maybe(st.sampled_from(["star", "award"]), text),
    "icon_source": _maybe(st.sampled_from(["icon", "image"]), text),
    "colour": _maybe(st.sampled_from(["#e5484d", "#ABCDEF"]), text),
    "tag_id": _maybe(int_like), "awarders": _maybe(st.sampled_from(["anyone", "managers", "holders", "hr"]), text),
    "monthly_limit": _maybe(int_like), "active": _maybe(st.sampled_from(["1", ""])),
})


@given(fields=badge_fields, image=st.one_of(st.none(), st.binary(max_size=64)))
def test_hr_badge_form_never_500(office, login, make_user, fields, image) -> None:
    client = _client(login, None, make_user=make_user)
    form: dict[str, Any] = _form(fields)
    if image is not None:
        from io import BytesIO

        form["image"] = (BytesIO(image), "icon.png")
    before = rows(Badge)
    r = client.submit("/recognition/admin/badges", form, headers=ZH, content_type="multipart/form-data")
    _check(r, Badge, before, created=(200, 303))


preference_fields = st.fixed_dictionaries({
    name: _maybe(st.sampled_from(["1", "on", ""]), text)
    for name in ("milestone", "received", "requests", "weekly", "other", "quiet_enabled")
} | {
    "quiet_start": _maybe(st.sampled_from(["21:00", "24:00", "7:5", "23:59"]), text),
    "quiet_end": _maybe(st.sampled_from(["08:00", "21:00", "-1:00"]), text),
    "daily_cap": _maybe(int_like),
})


@given(fields=preference_fields, htmx=st.booleans())
def test_notification_settings_never_500(office, login, fields, htmx) -> None:
    client = _client(login, office["lina"])
    before = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == office["lina"].id))
    snapshot = None if before is None else (before.quiet_start, before.quiet_end, before.daily_cap)
    db.session.rollback()
    r = client.submit("/notify/settings", _form(fields), headers=ZH, htmx=htmx, target="push-settings")
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    if r.status_code == 422:
        assert_translated_errors(r.get_data(as_text=True))
        after = db.session.scalar(select(NotificationPreference).where(
            NotificationPreference.user_id == office["lina"].id))
        assert (None if after is None else (after.quiet_start, after.quiet_end, after.daily_cap)) == snapshot
    else:
        assert r.status_code in (200, 303)


@given(fields=st.dictionaries(st.sampled_from(["q", "mode", "me"]), text, max_size=3))
def test_people_search_never_500(office, login, fields) -> None:
    r = _client(login, office["author"]).get("/people/search", query_string=fields)
    assert r.status_code < 500


# --- helpers ---------------------------------------------------------------------------

_clients: dict[int, Any] = {}


def _client(login, user, make_user=None):  # type: ignore[no-untyped-def]
    """One logged-in client per person for all of a test's examples (logging in hashes a password)."""
    if user is None:
        hr = db.session.scalar(select(type(_any_user())).where(type(_any_user()).role == "hr"))
        user = hr or make_user(name="HR Hui", email="hr@example.com", role="hr")
    key = (id(login), user.id)
    if key not in _clients:
        _clients.clear()
        _clients[key] = login(user)
    return _clients[key]


def _any_user():  # type: ignore[no-untyped-def]
    from perfapp.people.models import User

    return User()


def _real(office: dict, value: Any) -> Any:
    return {"LINA": str(office["lina"].id), "VALUE": str(office["value"].id),
            "BADGE": str(office["badge"].id)}.get(value, value) if isinstance(value, str) else value


def test_tags_are_real(office) -> None:
    assert rows(Tag) == 1  # the fixtures the properties rely on
