"""Customer emails: the .eml parser and the two ways in (import form, signed inbound endpoint).
Any bytes give a parsed message or a translated MalformedEmail, never another exception; over
HTTP never a 500, and a refused message stores nothing."""
from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.integrations.mail import MalformedEmail, ParsedEmail, parse_email
from perfapp.integrations.models import CustomerPraise
from perfapp.integrations.services import sign
from tests.fuzz.conftest import ZH, assert_translated_errors, text

SECRET = "fuzz-secret"
_HEADER_NAMES = st.sampled_from(["From", "To", "Cc", "Subject", "Date", "Message-ID", "Content-Type",
                                 "Content-Transfer-Encoding", "MIME-Version", "Content-Disposition"])
_HEADER_VALUES = st.one_of(
    text,
    st.sampled_from(["=?utf-8?b?5p2O5aic?=", "=?gb2312?q?=C0=EE?=", "=?x-unknown?b?AAA=?=", "李娜 <lina@example.com>",
                     "multipart/mixed; boundary=\"b\"", "multipart/alternative", "text/html; charset=gbk",
                     "text/plain; charset=\"no-such-charset\"", "base64", "quoted-printable",
                     "Tue, 31 Feb 2026 25:61:00 +9999", "<a@b>", "attachment; filename=\"x.txt\"",
                     "\"Acme\" <>", "undisclosed-recipients:;"]),
)
_BODIES = st.one_of(
    st.binary(max_size=300), text.map(lambda t: t.encode("utf-8", "surrogateescape")),
    st.sampled_from([b"--b\r\nContent-Type: text/html\r\n\r\n<p>Hi<script>x</script></p>\r\n--b--",
                     b"--b\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n\xc0\xee\xc4\xc8\r\n",
                     b"PGgxPnRoYW5rcyE8L2gxPg==", b"=E6=9D=8E=E5=A8=9C=\r\n=ZZ", b"<html><head><title>t",
                     b"\x00\xff" * 20]),
)
emails = st.builds(
    lambda headers, body, crlf: (crlf.join(f"{k}: {v}" for k, v in headers).encode("utf-8", "surrogateescape")
                                 + crlf.encode() * 2 + body),
    st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8), _BODIES, st.sampled_from(["\r\n", "\n"]),
)


@given(raw=st.one_of(st.binary(max_size=2000), emails), pasted=st.booleans())
def test_parse_email_reads_or_refuses_cleanly(app, raw, pasted) -> None:
    try:
        parsed = parse_email(raw, pasted=pasted)
    except MalformedEmail as e:
        assert str(e)
        return
    assert isinstance(parsed, ParsedEmail) and parsed.body and "@" in parsed.sender_email
    assert "\x00" not in parsed.body + parsed.subject + parsed.sender_name


@pytest.fixture()
def importer(make_user, login):  # type: ignore[no-untyped-def]
    make_user(name="李娜", email="lina@example.com")
    return login(make_user(name="王伟", email="boss@example.com"))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomerPraise)) or 0


@given(raw=st.one_of(emails.map(lambda b: b.decode("utf-8", "replace")), text), htmx=st.booleans(),
       as_file=st.booleans())
def test_import_form_never_500(importer, raw, htmx, as_file) -> None:
    from io import BytesIO

    before = _count()
    data: dict[str, Any] = {"eml": (BytesIO(raw.encode()), "message.eml")} if as_file else {"raw": raw}
    r = importer.submit("/integrations/praise/new", data, headers=ZH, htmx=htmx, target="praise-import",
                        content_type="multipart/form-data")
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    if r.status_code >= 400:
        assert _count() == before
    if r.status_code == 422:
        assert_translated_errors(r.get_data(as_text=True))


@pytest.fixture()
def inbound(app, make_user):  # type: ignore[no-untyped-def]
    make_user(name="李娜", email="lina@example.com")
    saved = app.config.get("INBOUND_EMAIL_SECRET")
    app.config["INBOUND_EMAIL_SECRET"] = SECRET
    yield app.test_client()
    app.config["INBOUND_EMAIL_SECRET"] = saved


@given(raw=st.one_of(emails, st.binary(max_size=500)), signed=st.booleans(),
       stamp=st.one_of(st.none(), text, st.integers(min_value=-2**70, max_value=2**70).map(str)))
def test_inbound_endpoint_never_500(inbound, raw, signed, stamp) -> None:
    # A header can't carry line breaks (the client refuses them before any server sees them).
    timestamp = str(int(time.time())) if stamp is None else stamp.replace("\r", "").replace("\n", "")
    try:
        timestamp.encode("latin-1")
    except UnicodeEncodeError:
        timestamp = timestamp.encode("utf-8", "surrogateescape").decode("latin-1")
    signature = sign(SECRET, timestamp, raw) if signed else "0" * 64
    before = _count()
    r = inbound.post("/integrations/inbound/email", data=raw, content_type="message/rfc822",
                     headers={"X-Perfapp-Timestamp": timestamp, "X-Perfapp-Signature": signature})
    assert r.status_code < 500, r.get_data(as_text=True)[:2000]
    body = r.get_json()
    if r.status_code >= 400:
        assert body["error"] and _count() == before
