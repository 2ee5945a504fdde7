"""The compose endpoint's JSON answers for programmatic senders (the outbox, the service worker),
and the Drafts & outbox page."""
from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback

JSON = {"Accept": "application/json"}


def feedback_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


@pytest.fixture()
def pair(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Emma Wilson"), make_user(name="李娜")


def test_json_success_is_201_with_id_and_url(pair, login, make_tag) -> None:
    author, recipient = pair
    tag = make_tag()
    r = login(author).submit("/feedback/new", {"recipient_id": recipient.id, "text": "Thanks!", "emoji": "🙏",
                                               "tag_ids": tag.id, "free_tags": "协作"}, headers=JSON)
    assert r.status_code == 201 and r.mimetype == "application/json"
    assert "Accept" in r.headers["Vary"]
    fb = db.session.scalar(select(Feedback))
    assert r.get_json() == {"id": fb.id, "url": f"/feedback/{fb.id}"}
    assert fb.text == "Thanks!" and {t.name_en for t in fb.tags} == {"Ownership", "协作"}


@pytest.mark.parametrize("locale, expected", [
    ("en", "Write a line, pick an emoji or add a tag."),
    ("zh_Hans_CN", None),
])
def test_json_validation_errors_are_422_per_field_translated(pair, login, locale, expected, app) -> None:
    author, recipient = pair
    author.locale = locale
    db.session.commit()
    r = login(author).submit("/feedback/new", {"recipient_id": recipient.id, "emoji": "🦄"}, headers=JSON)
    assert r.status_code == 422 and r.mimetype == "application/json"
    errors = r.get_json()["errors"]
    assert set(errors) == {"emoji"}
    if expected:
        assert errors["emoji"] == "Pick emoji from the row."
    else:
        assert re.search(r"[\u4e00-\u9fff]", errors["emoji"])  # in Chinese
    assert feedback_count() == 0


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_a_deactivated_recipient_is_422_with_the_translated_reason(pair, login, locale) -> None:
    author, recipient = pair
    author.locale = locale
    recipient.active = False
    db.session.commit()
    r = login(author).submit("/feedback/new", {"recipient_id": recipient.id, "text": "Still thanks"},
                             headers={**JSON, "Idempotency-Key": "a-queued-draft-0001"})
    assert r.status_code == 422
    message = r.get_json()["errors"]["recipient_id"]
    assert "李娜" in message
    assert ("no longer active" in message) is (locale == "en")
    assert feedback_count() == 0


def test_json_missing_recipient_and_unknown_ids(pair, login) -> None:
    author, _recipient = pair
    c = login(author)
    r = c.submit("/feedback/new", {"text": "x"}, headers=JSON)
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"recipient_id"}
    r = c.submit("/feedback/new", {"recipient_id": "abc", "text": "x", "project_id": 999999}, headers=JSON)
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"recipient_id", "project_id"}
    assert feedback_count() == 0


def test_html_answers_are_unchanged_without_json(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    r = c.submit("/feedback/new", {"recipient_id": recipient.id, "text": "hi"},
                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 303
    r = c.submit("/feedback/new", {"text": "hi"}, headers={"Accept": "*/*"})
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)


def test_json_error_pages_for_programmatic_senders(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    r = c.submit("/feedback/new", {"recipient_id": recipient.id, "text": "hi"}, headers=JSON, csrf=False)
    assert r.status_code == 400 and r.get_json() == {"error": "This form has expired. Reload the page and try again."}
    r = c.get("/feedback/999999", headers=JSON)
    assert r.status_code == 404 and "error" in r.get_json()


# --- the Drafts & outbox page --------------------------------------------------------------

def _strings(page: str) -> dict:
    # A data attribute (htmx drops <script> data blocks from swapped pages, see the template).
    match = re.search(r"<div id=\"outbox-strings\" hidden data-strings='([^']*)'></div>", page)
    assert match, "no outbox strings"
    return json.loads(html.unescape(match.group(1)))


@pytest.mark.parametrize("locale, title, waiting", [
    ("en", "Drafts & outbox", "Waiting for connection"),
    ("zh_Hans_CN", "草稿与发件箱", "等待联网"),
])
def test_outbox_page_is_translated_chrome_with_strings_and_templates(pair, login, locale, title, waiting) -> None:
    author, _recipient = pair
    author.locale = locale
    db.session.commit()
    page = login(author).get("/feedback/outbox").get_data(as_text=True)
    assert f"<title>{title}" in page and "data-outbox-page" in page
    strings = _strings(page)
    assert strings["states"]["queued"] == waiting
    assert "{name}" in strings["to"] and "{time}" in strings["voice"]
    for template in ("outbox-item-template", "outbox-queued-template", "draft-restored-template"):
        assert f'<template id="{template}">' in page
    assert 'src="/static/js/outbox.js?v=' in page and f'data-user="{author.id}"' in page


def test_outbox_page_needs_login(client) -> None:
    r = client.get("/feedback/outbox")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_outbox_page_as_htmx_navigation_is_a_full_page(pair, login) -> None:
    author, _recipient = pair
    r = login(author).get("/feedback/outbox", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert r.status_code == 200 and "data-outbox-page" in r.get_data(as_text=True)


def test_compose_sheet_and_me_link_to_the_outbox(pair, login) -> None:
    author, _recipient = pair
    c = login(author)
    compose = c.get("/feedback/new").get_data(as_text=True)
    assert 'href="/feedback/outbox" data-outbox-link' in compose
    assert '<template id="outbox-queued-template">' in compose
    assert 'hx-encoding="multipart/form-data"' in compose
    assert 'href="/feedback/outbox"' in c.get("/people/me").get_data(as_text=True)


def test_outbox_script_only_for_people_logged_in(client) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert "js/outbox.js" not in page
