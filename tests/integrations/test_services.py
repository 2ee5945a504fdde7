"""Customer praise: reading emails safely (charsets, HTML, malformed input), suggestions, confirmation,
and the signed inbound webhook."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from perfapp.core import signals
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.integrations import mail, services
from perfapp.integrations.models import CustomerPraise, InboundNonce
from perfapp.notify.models import Notification
from perfapp.notify.services import inbox
from perfapp.people.models import User
from tests.integrations import corpus

SECRET = "s3cret-for-tests"


def praise_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CustomerPraise)) or 0


def kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


# --- reading ------------------------------------------------------------------------------

def test_gb18030_body_and_utf8_subject(app) -> None:
    parsed = mail.parse_email(corpus.gb18030())
    assert parsed.body == "非常感谢李娜耐心解答我们的问题𠀀，项目按时上线了。"
    assert parsed.subject == "感谢李娜的出色支持"
    assert (parsed.sender_name, parsed.sender_email) == ("王总", "wang.zong@client.example")
    assert parsed.sent_at is not None and parsed.sent_at.isoformat() == "2025-11-25T02:00:00"  # stored as UTC


def test_big5_body(app) -> None:
    assert mail.parse_email(corpus.big5()).body == "多謝張敏的耐心解答，服務一流。"


def test_quoted_printable_body_and_rfc2047_chinese_subject(app) -> None:
    parsed = mail.parse_email(corpus.quoted_printable_subject())
    assert parsed.subject == "感谢李娜的帮助"
    assert parsed.body == "谢谢 Emma Wilson！"


def test_gb2312_labelled_base64_is_read_as_gb18030(app) -> None:
    parsed = mail.parse_email(corpus.gb2312_base64_subject())
    assert parsed.subject == "感谢𠀀李娜" and parsed.body == "谢谢李娜"


def test_html_only_becomes_text_without_scripts_images_or_links(app) -> None:
    body = mail.parse_email(corpus.html_only()).body
    assert "Many thanks to Emma Wilson & 李娜 for the quick fix!" in body
    assert "• Fast\n• Kind" in body and "Click here" in body
    for gone in ("<", "script", "alert", "document.cookie", "tracker.example", "evil.example", "color: red",
                 "Newsletter"):
        assert gone not in body


def test_plain_part_preferred_and_addresses_kept(app) -> None:
    parsed = mail.parse_email(corpus.multipart_alternative())
    assert parsed.body == "Plain thanks to the team."
    assert parsed.addresses == ["emma@example.com", "lina@example.com"]


def test_raw_8bit_headers_and_control_characters(app) -> None:
    raw = ("From: 客户 <c@client.example>\r\nSubject: 谢谢\u202e团队\r\n\r\nhi\x07 there\r\n").encode()
    parsed = mail.parse_email(raw)
    assert parsed.sender_name == "客户" and parsed.subject == "谢谢团队" and parsed.body == "hi there"


def test_unknown_charset_falls_back_without_failing(app) -> None:
    raw = ("From: c@client.example\r\nContent-Type: text/plain; charset=x-made-up\r\n\r\n谢谢").encode()
    assert mail.parse_email(raw).body == "谢谢"


@pytest.mark.parametrize("case", sorted(corpus.MALFORMED))
def test_malformed_messages_are_refused_with_a_reason(app, case) -> None:
    with pytest.raises(mail.MalformedEmail) as e:
        mail.parse_email(corpus.MALFORMED[case])
    assert str(e.value)


def test_malformed_reason_is_translated(app) -> None:
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh_Hans_CN"), pytest.raises(mail.MalformedEmail) as e:
        mail.parse_email(corpus.MALFORMED["no sender"])
    assert "发件人" in str(e.value)


def test_pasted_source_is_unicode_whatever_the_part_declares(app) -> None:
    pasted = corpus.gb18030().decode("gb18030").encode("utf-8")  # what a browser sends after copy and paste
    assert "非常感谢李娜" in mail.parse_email(pasted, pasted=True).body


# --- suggestions ---------------------------------------------------------------------------

def test_suggestions_from_chinese_english_pinyin_and_addresses(team) -> None:
    parsed = mail.ParsedEmail(
        sender_name="Client", sender_email="client@client.example", subject="Thanks to Wang Wei",
        sent_at=None, body="李娜 and Emma Wilson were great. Cc zhang.min@example.com; 赵六 too.",
        addresses=[],
    )
    found = {u.name for u in services.suggest_people(parsed)}
    assert found == {"李娜", "Emma Wilson", "张敏", "王伟"}  # 赵六 is deactivated


def test_traditional_characters_match_by_pinyin(team) -> None:
    parsed = mail.parse_email(corpus.big5())  # 張敏, written in traditional characters
    assert [u.name for u in services.suggest_people(parsed)] == ["张敏"]


def test_to_and_cc_addresses_suggest_people_but_not_the_sender(team) -> None:
    parsed = mail.parse_email(corpus.multipart_alternative())
    assert {u.name for u in services.suggest_people(parsed)} == {"Emma Wilson", "李娜"}
    forwarded = mail.ParsedEmail(sender_name="Emma", sender_email="emma@example.com", subject="Fwd: thanks",
                                 sent_at=None, body="From the client: thank you!", addresses=[])
    assert services.suggest_people(forwarded) == []


# --- import, confirm, discard ---------------------------------------------------------------------

def test_import_keeps_a_draft_with_suggestions_for_the_importer(team) -> None:
    item = services.import_email(team["zhang"], corpus.gb18030(), "upload")
    db.session.commit()
    assert item.status == "draft" and item.created_by_id == team["zhang"].id
    assert services.suggestions(item) == [team["lina"]]
    assert services.get_visible(team["zhang"], item.id) is item
    assert services.get_visible(team["hr"], item.id) is item
    assert services.get_visible(team["lina"], item.id) is None  # not until someone confirms it
    assert kinds(team["lina"]) == []


@pytest.mark.parametrize("case", sorted(corpus.MALFORMED))
def test_import_refuses_malformed_and_keeps_nothing(team, case) -> None:
    with pytest.raises(FormError) as e:
        services.import_email(team["zhang"], corpus.MALFORMED[case], "paste")
    assert e.value.errors["raw"]
    assert praise_count() == 0


def test_import_refuses_over_5_mb(team) -> None:
    with pytest.raises(services.TooLarge):
        services.import_email(team["zhang"], corpus.oversized(), "upload")
    assert praise_count() == 0


def test_confirm_tells_the_people_and_their_managers_once(team) -> None:
    confirmed = []
    signals.customer_praise_confirmed.connect(receiver := lambda _s, praise: confirmed.append(praise.id))
    try:
        item = services.import_email(team["zhang"], corpus.quoted_printable_subject(), "paste")
        services.confirm(team["zhang"], item.id, [team["lina"].id, team["emma"].id, team["lina"].id])
        db.session.commit()
    finally:
        signals.customer_praise_confirmed.disconnect(receiver)
    assert item.status == "confirmed" and item.confirmed_by_id == team["zhang"].id
    assert {p.name for p in item.people} == {"李娜", "Emma Wilson"}
    assert confirmed == [item.id]
    assert kinds(team["lina"]) == ["customer_praise"] and kinds(team["emma"]) == ["customer_praise"]
    assert kinds(team["boss"]) == ["customer_praise_team"]  # one entry although both report to him
    assert services.confirmed_for(team["lina"].id) == [item]
    assert services.get_visible(team["emma"], item.id) is item  # a public recognition now
    entries, _cursor = inbox(team["lina"])
    assert entries[0]["obj"] is item and entries[0]["template"] == "integrations/_inbox_entry.html"


def test_a_manager_in_the_event_is_told_as_a_person_not_as_a_manager(team) -> None:
    item = services.import_email(team["hr"], corpus.gb18030(), "upload")
    services.confirm(team["hr"], item.id, [team["lina"].id, team["boss"].id])
    db.session.commit()
    assert kinds(team["boss"]) == ["customer_praise"]


@pytest.mark.parametrize("ids, fragment", [
    ([], "at least one"), ([999999], "couldn't find"), ([-1], "couldn't find"),
    (["gone"], "no longer active"), (list(range(1, 12)), "at most"),
])
def test_confirm_bad_people_is_refused_and_nothing_changes(team, ids, fragment) -> None:
    item = services.import_email(team["zhang"], corpus.gb18030(), "upload")
    db.session.commit()
    ids = [team["gone"].id if i == "gone" else i for i in ids]
    with pytest.raises(FormError) as e:
        services.confirm(team["zhang"], item.id, ids)
    assert fragment in e.value.errors["person_ids"]
    db.session.rollback()
    assert db.session.get(CustomerPraise, item.id).status == "draft"
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_only_the_importer_or_hr_confirm_a_draft_and_only_once(team) -> None:
    item = services.import_email(team["zhang"], corpus.gb18030(), "upload")
    db.session.commit()
    for who in ("lina", "boss", "emma"):
        with pytest.raises(LookupError):
            services.confirm(team[who], item.id, [team["lina"].id])
        with pytest.raises(LookupError):
            services.discard(team[who], item.id)
    services.confirm(team["hr"], item.id, [team["lina"].id])
    db.session.commit()
    with pytest.raises(FormError) as e:
        services.confirm(team["zhang"], item.id, [team["emma"].id])
    assert "already" in e.value.errors["form"]
    with pytest.raises(FormError):
        services.discard(team["hr"], item.id)
    with pytest.raises(LookupError):
        services.confirm(team["hr"], 999999, [team["lina"].id])


def test_discard_a_draft(team) -> None:
    item = services.import_email(team["zhang"], corpus.gb18030(), "upload")
    db.session.commit()
    services.discard(team["zhang"], item.id)
    db.session.commit()
    assert praise_count() == 0


# --- the signed inbound webhook -----------------------------------------------------------------------

def signed(raw: bytes, at: float | None = None) -> tuple[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return stamp, services.sign(SECRET, stamp, raw)


def test_inbound_good_signature_queues_the_email_for_hr(team) -> None:
    raw = corpus.gb18030()
    stamp, sig = signed(raw)
    item, created = services.receive_inbound(SECRET, stamp, sig, raw)
    db.session.commit()
    assert created and item.status == "queued" and item.origin == "inbound" and item.created_by_id is None
    assert services.queue() == [item]
    assert kinds(team["hr"]) == ["customer_praise_queued"] and kinds(team["lina"]) == []
    for who in ("zhang", "lina", "boss"):  # only HR may confirm what nobody imported
        assert services.get_visible(team[who], item.id) is None
        with pytest.raises(LookupError):
            services.confirm(team[who], item.id, [team["lina"].id])
    services.confirm(team["hr"], item.id, [team["lina"].id])
    db.session.commit()
    assert services.queue() == []


def test_inbound_accepts_a_sha256_prefixed_signature(team) -> None:
    raw = corpus.big5()
    stamp, sig = signed(raw)
    _item, created = services.receive_inbound(SECRET, stamp, "sha256=" + sig.upper(), raw)
    assert created


@pytest.mark.parametrize("tamper", ["body", "timestamp", "secret", "empty", "garbage-stamp"])
def test_inbound_bad_signatures_are_refused(team, tamper) -> None:
    raw = corpus.gb18030()
    stamp, sig = signed(raw)
    args = {"body": (stamp, sig, raw + b" "), "timestamp": (str(int(stamp) + 1), sig, raw),
            "secret": (stamp, services.sign("other", stamp, raw), raw), "empty": (stamp, "", raw),
            "garbage-stamp": ("soon", services.sign(SECRET, "soon", raw), raw)}[tamper]
    with pytest.raises(services.InboundRejected) as e:
        services.receive_inbound(SECRET, *args)
    assert e.value.status == 401 and str(e.value)
    db.session.rollback()
    assert praise_count() == 0 and db.session.scalar(select(func.count()).select_from(InboundNonce)) == 0


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_inbound_stale_or_future_timestamps_are_refused(team, skew) -> None:
    raw = corpus.gb18030()
    stamp, sig = signed(raw, at=time.time() + skew)
    with pytest.raises(services.InboundRejected) as e:
        services.receive_inbound(SECRET, stamp, sig, raw)
    assert e.value.status == 401
    assert praise_count() == 0


def test_inbound_replays_are_refused(team) -> None:
    raw = corpus.gb18030()
    stamp, sig = signed(raw)
    services.receive_inbound(SECRET, stamp, sig, raw)
    db.session.commit()
    with pytest.raises(services.InboundRejected) as e:
        services.receive_inbound(SECRET, stamp, sig, raw)
    assert e.value.status == 409
    db.session.rollback()
    assert praise_count() == 1


def test_inbound_replay_guard_forgets_only_after_twice_the_window(team) -> None:
    from datetime import timedelta

    from perfapp.core.db import utcnow

    db.session.add(InboundNonce(signature="a" * 64, seen_at=utcnow() - timedelta(minutes=11)))
    db.session.add(InboundNonce(signature="b" * 64, seen_at=utcnow() - timedelta(minutes=9)))
    db.session.commit()
    raw = corpus.big5()
    services.receive_inbound(SECRET, *signed(raw), raw)
    db.session.commit()
    kept = set(db.session.scalars(select(InboundNonce.signature)))
    assert "a" * 64 not in kept and "b" * 64 in kept and len(kept) == 2


def test_inbound_same_message_twice_is_one_event(team) -> None:
    raw = corpus.gb18030()
    first, _created = services.receive_inbound(SECRET, *signed(raw, at=time.time() - 10), raw)
    db.session.commit()
    again, created = services.receive_inbound(SECRET, *signed(raw), raw)
    assert again is first and not created and praise_count() == 1


def test_inbound_malformed_is_422_and_not_remembered(team) -> None:
    raw = corpus.MALFORMED["no sender"]
    with pytest.raises(services.InboundRejected) as e:
        services.receive_inbound(SECRET, *signed(raw), raw)
    assert e.value.status == 422
    db.session.rollback()
    assert praise_count() == 0


def test_two_people_confirming_at_once_confirm_once(app, team) -> None:
    from tests.recognition.test_concurrency import race

    item = services.import_email(team["zhang"], corpus.gb18030(), "upload")
    db.session.commit()
    item_id, actors, people = item.id, [team["zhang"].id, team["hr"].id], [team["lina"].id, team["emma"].id]
    db.session.commit()

    def confirm(i: int) -> None:
        services.confirm(db.session.get(User, actors[i]), item_id, [people[i]])

    assert sorted(race(app, confirm, n=2)) == ["ok", "refused"]
    db.session.expire_all()
    assert len(db.session.get(CustomerPraise, item_id).people) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "customer_praise")) == 1


def test_undecodable_bytes_in_addresses_are_text_not_surrogates(app) -> None:
    """A pasted "From: @\\x80" kept a lone surrogate in the address, which failed the import with
    a 500 when stored (found by tests/fuzz/test_mail.py)."""
    from perfapp.integrations.mail import parse_email

    parsed = parse_email("From: x@\x80.com\r\nTo: a@\x81.cn\r\nMessage-ID: <\x82@x>\r\n\r\nthanks".encode(
        "utf-8", "surrogateescape"), pasted=True)
    for value in (parsed.sender_email, parsed.message_id, *parsed.addresses):
        value.encode("utf-8")  # no lone surrogates left
