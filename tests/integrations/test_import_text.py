"""Customer praise from a phone: the forwarding address with its copy button, and pasting just the
customer's name and words instead of an email's raw source."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.integrations import services
from perfapp.integrations.models import CustomerPraise

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
URL = "/integrations/praise/new"
WORDS = "Li Na fixed our outage in an hour. 李娜 thank you!"


def praise_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomerPraise)) or 0


@pytest.fixture()
def inbound_address(app):  # type: ignore[no-untyped-def]
    app.config["INBOUND_EMAIL_ADDRESS"] = "praise@perfapp.example.com"
    yield "praise@perfapp.example.com"
    app.config["INBOUND_EMAIL_ADDRESS"] = None


# --- the service -----------------------------------------------------------------------------------

def test_import_text_makes_a_draft_that_suggests_the_people_named(team) -> None:
    praise = services.import_text(team["emma"], "  Chen Jing,   Acme Ltd ", WORDS)
    assert (praise.status, praise.origin, praise.created_by_id) == ("draft", "text", team["emma"].id)
    assert praise.sender_name == "Chen Jing, Acme Ltd"
    assert praise.sender_email == "" and praise.subject == "" and praise.sent_at is None
    assert praise.body == WORDS
    assert team["lina"].id in praise.suggested_ids
    assert praise.sender_public == "Chen Jing, Acme Ltd"  # no dangling " · " without an address


def test_import_text_keeps_an_address_given_with_the_name(team) -> None:
    praise = services.import_text(team["emma"], "Chen Jing <chen@acme.example>", WORDS)
    assert praise.sender_email == "chen@acme.example"
    assert praise.sender_public.endswith("acme.example")


@pytest.mark.parametrize(("customer", "message", "field"), [
    ("", WORDS, "customer"), ("   ", WORDS, "customer"), ("x" * 201, WORDS, "customer"),
    ("Acme", "", "message"), ("Acme", " \n\t ", "message"), ("Acme", "y" * 20_001, "message"),
])
def test_import_text_refuses_bad_input_and_saves_nothing(team, customer, message, field) -> None:
    with pytest.raises(FormError) as e:
        services.import_text(team["emma"], customer, message)
    assert field in e.value.errors
    assert praise_count() == 0


# --- over HTTP ------------------------------------------------------------------------------------

def test_pasted_text_plain_form_redirects_to_the_review(team, login) -> None:
    client = login(team["emma"])
    r = client.submit(URL, {"via": "text", "customer": "Chen Jing, Acme", "message": WORDS})
    assert r.status_code == 303
    praise = db.session.scalars(select(CustomerPraise)).one()
    assert r.headers["Location"].endswith(f"/integrations/praise/{praise.id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Chen Jing, Acme" in page and "fixed our outage" in page
    assert 'name="person_ids"' in page  # the same review and confirm as an imported email


def test_pasted_text_over_htmx_swaps_in_the_review(team, login) -> None:
    r = login(team["emma"]).submit(URL, {"via": "text", "customer": "Acme", "message": WORDS},
                                   htmx=True, target="praise-text")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="praise-review"' in html and "<html" not in html
    assert r.headers["HX-Push-Url"].startswith("/integrations/praise/")
    assert "HX-Request" in r.headers["Vary"]


@pytest.mark.parametrize("htmx", [False, True])
def test_pasted_text_bad_input_is_a_translated_422_and_nothing_is_saved(team, login, htmx) -> None:
    client = login(team["emma"])
    r = client.submit(URL, {"via": "text", "customer": "", "message": "  "}, htmx=htmx, target="praise-text",
                      headers=ZH)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "请填写是谁写的：客户姓名或公司。" in html and "请粘贴客户写的内容。" in html
    assert 'aria-invalid="true"' in html and 'id="praise-text"' in html
    assert ("<html" in html) is not htmx
    assert praise_count() == 0
    # What was typed stays.
    r = client.submit(URL, {"via": "text", "customer": "Acme", "message": ""}, htmx=htmx, target="praise-text")
    assert r.status_code == 422 and 'value="Acme"' in r.get_data(as_text=True)
    assert praise_count() == 0


def test_pasted_text_needs_a_login_and_csrf(team, client, login) -> None:
    r = client.post(URL, data={"via": "text", "customer": "Acme", "message": WORDS})
    assert r.status_code in (302, 303, 400, 401)
    r = login(team["emma"]).submit(URL, {"via": "text", "customer": "Acme", "message": WORDS}, csrf=False)
    assert r.status_code == 400
    assert praise_count() == 0


def test_only_the_importer_and_hr_see_a_pasted_draft(team, login) -> None:
    r = login(team["emma"]).submit(URL, {"via": "text", "customer": "Acme", "message": WORDS})
    url = r.headers["Location"]
    assert login(team["zhang"]).get(url).status_code == 404
    assert login(team["hr"]).get(url).status_code == 200


def test_the_forwarding_address_shows_with_a_copy_button_when_configured(team, login, inbound_address) -> None:
    html = login(team["zhang"]).get(URL, headers=ZH).get_data(as_text=True)
    assert '<span id="inbound-address">praise@perfapp.example.com</span>' in html
    assert 'data-copy-target="inbound-address"' in html
    assert "转发邮件" in html and "已复制" in html
    assert "onclick" not in html  # behaviour lives in static/js/copy.js (CSP: no inline handlers)


def test_no_forwarding_address_section_when_unset(team, login) -> None:
    html = login(team["zhang"]).get(URL).get_data(as_text=True)
    assert "inbound-address" not in html
    assert 'id="praise-text"' in html and 'id="praise-import"' in html
