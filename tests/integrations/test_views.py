"""Customer praise over HTTP: upload and paste (with and without htmx), size and format limits,
confirmation, visibility, the profile, HR's queue and the signed inbound endpoint."""
from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from perfapp.core import connection
from perfapp.extensions import db
from perfapp.integrations import services
from perfapp.integrations.models import CustomerPraise
from perfapp.notify.models import Notification
from tests.integrations import corpus

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
SECRET = "inbound-test-secret"


def praise_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomerPraise)) or 0


def only_praise() -> CustomerPraise:
    rows = list(db.session.scalars(select(CustomerPraise)))
    assert len(rows) == 1
    return rows[0]


def upload(client, raw: bytes, htmx: bool = False, headers: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    """POST an .eml as the form would. The body is built in memory: the test client would spool a
    big one to a temporary file that nobody closes when the app refuses it unread."""
    boundary, body = encode_multipart({
        "csrf_token": client.csrf or client.refresh_csrf(),
        "eml": FileStorage(io.BytesIO(raw), filename="praise.eml", content_type="message/rfc822"),
    })
    headers = dict(headers or {})
    if htmx:
        headers.update({"HX-Request": "true", "HX-Target": "praise-import"})
    return client.post("/integrations/praise/new", input_stream=io.BytesIO(body), headers=headers,
                       content_type=f'multipart/form-data; boundary="{boundary}"')


@pytest.fixture()
def inbound_secret(app):  # type: ignore[no-untyped-def]
    app.config["INBOUND_EMAIL_SECRET"] = SECRET
    yield SECRET
    app.config["INBOUND_EMAIL_SECRET"] = None


def post_inbound(client, raw: bytes, stamp: str | None = None, signature: str | None = None):  # type: ignore[no-untyped-def]
    stamp = stamp or str(int(time.time()))
    signature = signature if signature is not None else services.sign(SECRET, stamp, raw)
    return client.post("/integrations/inbound/email", data=raw, content_type="message/rfc822",
                       headers={"X-Perfapp-Timestamp": stamp, "X-Perfapp-Signature": signature})


# --- import ------------------------------------------------------------------------------------

def test_the_import_page_is_for_every_employee(team, login) -> None:
    html = login(team["zhang"]).get("/integrations/praise/new").get_data(as_text=True)
    assert 'id="praise-import"' in html and 'name="eml"' in html and 'name="raw"' in html
    assert "/integrations/praise/new" in login(team["zhang"]).get("/people/me").get_data(as_text=True)


def test_upload_plain_form_redirects_to_the_review(team, login) -> None:
    r = upload(login(team["zhang"]), corpus.gb18030())
    assert r.status_code == 303
    item = only_praise()
    assert r.headers["Location"].endswith(f"/integrations/praise/{item.id}")
    assert item.origin == "upload" and item.body.startswith("非常感谢李娜")


def test_upload_with_htmx_returns_the_review_fragment(team, login) -> None:
    r = upload(login(team["zhang"]), corpus.gb18030(), htmx=True)
    assert r.status_code == 200
    item = only_praise()
    assert r.headers["HX-Push-Url"] == f"/integrations/praise/{item.id}"
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="praise-review"') and "<html" not in html
    assert "感谢李娜的出色支持" in html and "wang.zong@client.example" in html
    assert f'name="person_ids" value="{team["lina"].id}" checked' in html  # suggested and ticked


def test_paste_the_source(team, login) -> None:
    pasted = corpus.quoted_printable_subject().decode("ascii")
    r = login(team["zhang"]).submit("/integrations/praise/new", {"raw": pasted})
    assert r.status_code == 303
    item = only_praise()
    assert item.origin == "paste" and item.subject == "感谢李娜的帮助" and item.body == "谢谢 Emma Wilson！"


def test_big5_upload_is_read(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.big5())
    item = only_praise()
    html = c.get(f"/integrations/praise/{item.id}").get_data(as_text=True)
    assert "多謝張敏的耐心解答，服務一流。" in html
    assert f'name="person_ids" value="{team["zhang"].id}" checked' in html


def test_html_only_email_is_shown_as_text_never_html(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.html_only())
    item = only_praise()
    html = c.get(f"/integrations/praise/{item.id}").get_data(as_text=True)
    assert "Many thanks to Emma Wilson &amp; 李娜 for the quick fix!" in html
    for bad in ("tracker.example", "evil.example", "document.cookie", 'alert("xss")', "<b>Emma"):
        assert bad not in html
    assert html.count("<script") == html.count('<script src="/static/')  # only our own scripts
    assert "<img" not in html


def test_mail_text_that_looks_like_html_is_escaped(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.message('Thanks! <script>alert(1)</script> <img src=x onerror=alert(1)>',
                             subject="<b>hi</b>"))
    html = c.get(f"/integrations/praise/{only_praise().id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("case", sorted(corpus.MALFORMED))
@pytest.mark.parametrize("htmx", [False, True])
def test_malformed_upload_is_422_with_a_message(team, login, case, htmx) -> None:
    r = upload(login(team["zhang"]), corpus.MALFORMED[case], htmx=htmx)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="err-eml"' in html and ("<html" in html) is not htmx
    assert praise_count() == 0


def test_malformed_message_is_explained_in_chinese(team, login) -> None:
    r = upload(login(team["zhang"]), corpus.MALFORMED["no sender"], headers=ZH)
    assert r.status_code == 422 and "发件人" in r.get_data(as_text=True)


def test_nothing_chosen_is_422(team, login) -> None:
    r = login(team["zhang"]).submit("/integrations/praise/new", {"raw": "  "})
    assert r.status_code == 422 and 'id="err-raw"' in r.get_data(as_text=True)
    assert praise_count() == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_over_5_mb_is_413(team, login, htmx) -> None:
    r = upload(login(team["zhang"]), corpus.oversized(), htmx=htmx)
    assert r.status_code == 413 and "5 MB" in r.get_data(as_text=True)
    assert praise_count() == 0


def test_a_file_just_over_5_mb_inside_a_small_enough_request_is_413(team, login) -> None:
    raw = corpus.oversized()[: services.MAX_EMAIL_BYTES + 100]
    assert len(raw) + 1000 < services.MAX_EMAIL_BYTES + 64 * 1024  # passes the Content-Length check
    r = upload(login(team["zhang"]), raw)
    assert r.status_code == 413 and praise_count() == 0


class Untouchable(io.RawIOBase):
    """A request body of `size` bytes that fails the test if anyone reads it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self.pos = size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.size + offset if whence == 2 else offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, _buffer) -> int:  # type: ignore[no-untyped-def,override]
        raise AssertionError("the body was read")


def test_413_comes_from_content_length_before_reading_the_body(team, login, app, inbound_secret,
                                                                monkeypatch) -> None:
    # The connection guard drains what is left after the answer (perfapp.core.connection):
    # off here, to show that the app decides from Content-Length without reading.
    monkeypatch.setattr(connection, "DRAIN_MAX_BYTES", 0)
    c = login(team["zhang"])
    big = services.MAX_EMAIL_BYTES + 1024 * 1024
    r = c.post("/integrations/praise/new", input_stream=Untouchable(big),
               content_type="multipart/form-data; boundary=x")
    assert r.status_code == 413 and "5 MB" in r.get_data(as_text=True)
    r = c.post("/integrations/inbound/email", input_stream=Untouchable(big), content_type="message/rfc822")
    assert r.status_code == 413 and "error" in r.get_json()


def test_upload_needs_the_csrf_token(team, login) -> None:
    c = login(team["zhang"])
    r = c.submit("/integrations/praise/new", {"raw": corpus.gb18030().decode("latin-1")}, csrf=False)
    assert r.status_code == 400 and praise_count() == 0


# --- review and confirm --------------------------------------------------------------------------

def test_a_draft_is_only_for_its_importer_and_hr(team, login) -> None:
    upload(login(team["zhang"]), corpus.gb18030())
    item = only_praise()
    for who in ("lina", "boss", "emma"):
        assert login(team[who]).get(f"/integrations/praise/{item.id}").status_code == 404
        assert login(team[who]).submit(f"/integrations/praise/{item.id}/confirm",
                                       {"person_ids": team["lina"].id}).status_code == 404
    assert login(team["hr"]).get(f"/integrations/praise/{item.id}").status_code == 200
    assert only_praise().status == "draft"


def test_confirm_with_htmx_then_profiles_show_it(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    r = c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": [team["lina"].id, team["emma"].id]},
                 htmx=True, target="praise-review")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "customer-praise-confirmed"
    assert r.get_data(as_text=True).lstrip().startswith('<div id="praise-review"')
    item = only_praise()
    assert item.status == "confirmed" and {p.name for p in item.people} == {"李娜", "Emma Wilson"}
    profile = login(team["emma"]).get(f"/people/{team['lina'].id}").get_data(as_text=True)
    assert 'id="customer-praise-title"' in profile and "感谢李娜的出色支持" in profile
    assert "wang.zong@client.example" not in profile and "client.example" in profile  # the domain, not the address
    assert 'id="customer-praise-title"' not in login(team["emma"]).get(f"/people/{team['zhang'].id}").get_data(as_text=True)
    wall = login(team["zhang"]).get(f"/walls/people/{team['lina'].id}").get_data(as_text=True)
    assert 'id="customer-praise-title"' in wall and "感谢李娜的出色支持" in wall
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.user_id == team["boss"].id)))
    assert kinds == {"customer_praise_team"}
    lina_inbox = login(team["lina"]).get("/notify/").get_data(as_text=True)
    assert "感谢李娜的出色支持" in lina_inbox


def test_confirm_plain_form_redirects_to_the_event_everyone_can_read(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    r = c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": team["lina"].id})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/integrations/praise/{item.id}")
    page = login(team["emma"]).get(f"/integrations/praise/{item.id}")
    assert page.status_code == 200 and "非常感谢李娜" in page.get_data(as_text=True)
    assert "Promote to story" not in page.get_data(as_text=True)
    assert "/stories/new?source_type=customer_praise" in login(team["boss"]).get(
        f"/integrations/praise/{item.id}").get_data(as_text=True)


@pytest.mark.parametrize("ids, message", [([], "Choose at least one person."),
                                          (["999999"], "find that person"), (["x"], "find that person")])
@pytest.mark.parametrize("htmx", [False, True])
def test_confirm_bad_people_is_422_and_nothing_changes(team, login, ids, message, htmx) -> None:
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    r = c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": ids}, htmx=htmx, target="praise-review")
    assert r.status_code == 422 and message in r.get_data(as_text=True).replace("&#39;", "'")
    assert ("<html" in r.get_data(as_text=True)) is not htmx
    assert only_praise().status == "draft"
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_confirm_twice_is_409(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": team["lina"].id})
    assert c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": team["emma"].id}).status_code == 409
    assert [p.name for p in only_praise().people] == ["李娜"]


def test_discard(team, login) -> None:
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    assert login(team["lina"]).submit(f"/integrations/praise/{item.id}/discard").status_code == 404
    r = c.submit(f"/integrations/praise/{item.id}/discard")
    assert r.status_code == 303 and praise_count() == 0


# --- HR's queue and the inbound endpoint ------------------------------------------------------------

def test_the_queue_is_for_hr(team, login) -> None:
    assert login(team["zhang"]).get("/integrations/queue").status_code == 403
    assert login(team["hr"]).get("/integrations/queue").status_code == 200


def test_inbound_good_signature_is_queued_for_hr(team, client, login, inbound_secret) -> None:
    r = post_inbound(client, corpus.gb18030())
    assert r.status_code == 202 and r.get_json()["status"] == "queued"
    item = only_praise()
    queue = login(team["hr"]).get("/integrations/queue").get_data(as_text=True)
    assert f"/integrations/praise/{item.id}" in queue
    assert login(team["zhang"]).get(f"/integrations/praise/{item.id}").status_code == 404
    hr = login(team["hr"])
    assert "This email arrived by itself" in hr.get(f"/integrations/praise/{item.id}").get_data(as_text=True)
    assert hr.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": team["lina"].id}).status_code == 303
    assert only_praise().status == "confirmed"


def test_inbound_bad_signature_is_401(team, client, inbound_secret) -> None:
    r = post_inbound(client, corpus.gb18030(), signature="0" * 64)
    assert r.status_code == 401 and r.get_json()["error"]
    r = post_inbound(client, corpus.gb18030(), signature="")
    assert r.status_code == 401
    assert praise_count() == 0


def test_inbound_stale_timestamp_is_401(team, client, inbound_secret) -> None:
    r = post_inbound(client, corpus.gb18030(), stamp=str(int(time.time()) - 6 * 60))
    assert r.status_code == 401 and praise_count() == 0


def test_inbound_replay_is_409(team, client, inbound_secret) -> None:
    raw = corpus.gb18030()
    stamp = str(int(time.time()))
    assert post_inbound(client, raw, stamp=stamp).status_code == 202
    r = post_inbound(client, raw, stamp=stamp)
    assert r.status_code == 409 and r.get_json()["error"]
    assert praise_count() == 1


def test_inbound_malformed_is_422(team, client, inbound_secret) -> None:
    r = post_inbound(client, corpus.MALFORMED["broken multipart"])
    assert r.status_code == 422 and r.get_json()["error"] and praise_count() == 0


def test_inbound_over_5_mb_is_413(team, client, inbound_secret) -> None:
    r = post_inbound(client, corpus.oversized())
    assert r.status_code == 413 and praise_count() == 0


def test_inbound_is_off_without_a_secret(team, client) -> None:
    assert post_inbound(client, corpus.gb18030()).status_code == 503
    assert praise_count() == 0


def test_the_customer_praise_card_names_its_reader_you(team, login) -> None:
    """Shown to 李娜, the card's people line says 你 (her zh locale), not her own name; others see it."""
    c = login(team["zhang"])
    upload(c, corpus.gb18030())
    item = only_praise()
    c.submit(f"/integrations/praise/{item.id}/confirm", {"person_ids": [team["lina"].id, team["emma"].id]})
    team["lina"].locale = "zh_Hans_CN"
    db.session.commit()
    def people_line(viewer) -> str:  # type: ignore[no-untyped-def]
        page = login(viewer).get(f"/walls/people/{team['lina'].id}").get_data(as_text=True)
        card = page.split(f'id="customer-praise-{item.id}"')[1]
        return card.split('class="meta-item">', 1)[1].split("</span>", 1)[0].split("</svg>")[-1].strip()

    assert people_line(team["lina"]) == "你, Emma Wilson"
    assert people_line(team["emma"]) == "李娜, You"
