"""The protocol part of Web Push: the endpoint guard (SSRF), keys, payload size, encryption
and the guarded POST against a local push service."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from perfapp.notify import push
from tests.notify.conftest import Answer, Browser

ALLOW = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", "*.notify.windows.com")


def fixed(*addresses: str):  # type: ignore[no-untyped-def]
    """A resolver that answers every name with these addresses (and records what it was asked)."""
    asked: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


# --- the guard -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QAbc",
    "https://db5p.notify.windows.com/w/?token=abc",
    "https://FCM.googleapis.com./fcm/send/abc",
])
def test_known_push_services_are_admitted(url: str) -> None:
    target = push.check_endpoint(url, ALLOW)
    assert target.scheme == "https" and target.port == 443


@pytest.mark.parametrize("url", [
    "http://fcm.googleapis.com/fcm/send/abc",           # not https
    "http://127.0.0.1/push",                            # loopback over http
    "https://127.0.0.1/push",                           # not allow-listed
    "https://169.254.169.254/latest/meta-data/",        # cloud metadata
    "https://[::1]/push",
    "https://evil.example.com/push",
    "https://fcm.googleapis.com.evil.example/x",        # suffix trick
    "https://notify.windows.com/w/",                    # the wildcard means subdomains only
    "https://x.notify.windows.com.evil.example/w/",
    "https://user:pw@fcm.googleapis.com/fcm/send/abc",  # credentials
    "https://fcm.googleapis.com:8443/fcm/send/abc",     # another port
    "https://fcm.googleapis.com/fcm send/abc",          # whitespace
    "ftp://fcm.googleapis.com/x",
    "fcm.googleapis.com/fcm/send/abc",
    "",
    "https://fcm.googleapis.com/" + "a" * 1100,
])
def test_everything_else_is_refused(url: str) -> None:
    with pytest.raises(push.EndpointRefused):
        push.check_endpoint(url, ALLOW)


def test_the_local_test_service_needs_both_switches() -> None:
    url = "http://127.0.0.1:8765/notify/abc"
    with pytest.raises(push.EndpointRefused):
        push.check_endpoint(url, (*ALLOW, "127.0.0.1"))                      # allow-listed, not test mode
    with pytest.raises(push.EndpointRefused):
        push.check_endpoint(url, ALLOW, allow_local_test=True)              # test mode, not allow-listed
    assert push.check_endpoint(url, (*ALLOW, "127.0.0.1"), allow_local_test=True).port == 8765
    # Test mode admits loopback, never the metadata service or private networks.
    for literal in ("169.254.169.254", "10.0.0.1", "192.168.1.1"):
        with pytest.raises(push.EndpointRefused):
            push.check_endpoint(f"http://{literal}/x", (*ALLOW, literal), allow_local_test=True)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.8.8", "10.1.2.3", "172.16.0.1", "192.168.0.10", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "::1", "::", "fe80::1", "fc00::1", "fec0::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1", "64:ff9b::7f00:1", "not-an-ip",
])
def test_internal_addresses_are_never_connected_to(address: str) -> None:
    assert not push.address_allowed(address)


def test_public_addresses_are_fine() -> None:
    assert push.address_allowed("142.250.72.10") and push.address_allowed("2607:f8b0:4005:80b::200a")


@pytest.mark.parametrize("answers", [("127.0.0.1",), ("10.0.0.7",), ("169.254.169.254",), ("::1",),
                                     ("142.250.72.10", "192.168.1.20")])
def test_a_push_host_resolving_inside_is_refused_at_send_time(answers: tuple[str, ...]) -> None:
    resolve = fixed(*answers)
    sender = push.Sender(allowlist=ALLOW, resolve=resolve, timeout=2)
    message = push.Prepared("https://fcm.googleapis.com/fcm/send/abc", b"x", {})
    result = sender.send(message)
    assert result.refused and result.gone and not result.retryable
    assert resolve.asked == ["fcm.googleapis.com"]  # type: ignore[attr-defined]


def test_a_refused_host_is_checked_again_at_send_time() -> None:
    # A row stored when the allow-list was wider is refused once the allow-list no longer names it.
    sender = push.Sender(allowlist=("fcm.googleapis.com",), resolve=fixed("142.250.72.10"))
    result = sender.send(push.Prepared("https://web.push.apple.com/QAbc", b"x", {}))
    assert result.refused


def test_the_connection_goes_to_the_checked_address(push_service) -> None:  # type: ignore[no-untyped-def]
    # The name resolves (via the injected resolver) to the local service: we connect to exactly
    # that address and still send the name as Host.
    resolve = fixed("127.0.0.1")
    sender = push.Sender(allowlist=("push.test",), allow_local_test=True, resolve=resolve)
    result = sender.send(push.Prepared(f"http://push.test:{push_service.port}/push/abc", b"hello",
                                       {"TTL": "60", "Content-Type": "application/octet-stream"}))
    sender.close()
    assert result.status == 201
    got = push_service.received[-1]
    assert got.path == "/push/abc" and got.body == b"hello" and got.headers["host"] == f"push.test:{push_service.port}"


def test_dns_answers_are_not_trusted_twice(push_service) -> None:  # type: ignore[no-untyped-def]
    # Rebinding: the first answer is public, the next would be internal. The second lookup
    # never happens while the checked connection is alive, and a new connection re-checks.
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    sender = push.Sender(allowlist=("push.test",), allow_local_test=True,
                         resolve=lambda _h, _p: next(answers))
    message = push.Prepared(f"http://push.test:{push_service.port}/push/abc", b"x", {"TTL": "60"})
    assert sender.send(message).status == 201
    assert sender.send(message).status == 201  # same connection, same checked address
    sender.close()
    assert sender.send(message).refused        # a fresh connection resolves again and refuses
    sender.close()


def test_redirects_are_not_followed(push_service) -> None:  # type: ignore[no-untyped-def]
    push_service.answer(Answer(307, {"Location": "http://169.254.169.254/"}))
    sender = push.Sender(allowlist=("127.0.0.1",), allow_local_test=True)
    result = sender.send(push.Prepared(push_service.endpoint("a"), b"x", {"TTL": "60"}))
    sender.close()
    assert result.status == 307 and not result.ok and not result.retryable and not result.gone
    assert len(push_service.received) == 1


def test_a_dead_service_is_a_retryable_network_error() -> None:
    sender = push.Sender(allowlist=("127.0.0.1",), allow_local_test=True, timeout=1)
    result = sender.send(push.Prepared("http://127.0.0.1:9/push/a", b"x", {}))
    assert result.status == 0 and result.retryable and result.error


# --- keys and payloads -------------------------------------------------------------------------

def test_browser_keys_must_be_real() -> None:
    browser = Browser()
    push.check_keys(browser.p256dh, browser.auth)
    bad = [("", browser.auth), ("not base64!", browser.auth), (push.b64url_encode(b"\x04" + b"\x01" * 64), browser.auth),
           (push.b64url_encode(b"\x02" + b"\x01" * 32), browser.auth), (browser.p256dh, push.b64url_encode(b"short")),
           (browser.p256dh, "ü")]
    for p256dh, auth in bad:
        with pytest.raises(ValueError):
            push.check_keys(p256dh, auth)


def test_payloads_stay_under_4_kb_and_keep_their_shape() -> None:
    huge = "这是一段很长的反馈。" * 2000
    data = push.build_payload("标题" * 200, huge, "/feedback/1", tag="note-1", id=1)
    assert len(data) <= push.MAX_PAYLOAD_BYTES
    payload = json.loads(data)
    assert payload["url"] == "/feedback/1" and payload["body"].endswith("…") and len(payload["title"]) <= 120
    assert json.loads(push.build_payload("Hi", "short", "/"))["body"] == "short"
    # Even when the other fields are big, the body gives way so the whole still fits.
    squeezed = push.build_payload("t", "b" * 200, "/x", extra="y" * 3000)
    assert len(squeezed) <= push.MAX_PAYLOAD_BYTES


def test_encrypted_for_the_browser_with_a_reusable_vapid_token() -> None:
    keys = push.generate_vapid_keys()
    crypto = push.Encrypter(keys.private_pem, "mailto:push@example.com")
    browser = Browser()
    endpoint = "https://fcm.googleapis.com/fcm/send/abc"
    first = crypto.prepare(endpoint, browser.p256dh, browser.auth, b'{"title":"hi"}', ttl=60, urgency="low")
    second = crypto.prepare(endpoint, browser.p256dh, browser.auth, b'{"title":"again"}', ttl=60)
    assert browser.decrypt(first.body) == {"title": "hi"} and browser.decrypt(second.body) == {"title": "again"}
    assert len(first.body) < 4096
    assert first.headers["Content-Encoding"] == "aes128gcm"
    assert first.headers["Content-Type"] == "application/octet-stream"
    assert first.headers["TTL"] == "60" and first.headers["Urgency"] == "low"
    token, key = first.headers["Authorization"].removeprefix("vapid t=").split(", k=")
    assert key == keys.public_key and first.headers["Authorization"] == second.headers["Authorization"]
    public_pem = serialization.load_pem_private_key(keys.private_pem, None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(token, public_pem, algorithms=["ES256"], options={"verify_aud": False})
    assert claims["aud"] == "https://fcm.googleapis.com" and claims["sub"] == "mailto:push@example.com"
    assert claims["exp"] <= datetime.now(UTC).timestamp() + 24 * 3600


def test_configured_keys_as_pem_or_raw() -> None:
    keys = push.generate_vapid_keys()
    assert push.keys_from_config(keys.private_pem.decode()) == keys
    number = serialization.load_pem_private_key(keys.private_pem, None).private_numbers().private_value  # type: ignore[union-attr]
    assert push.keys_from_config(push.b64url_encode(number.to_bytes(32, "big"))).public_key == keys.public_key


def test_retry_after_as_seconds_or_date() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert push.parse_retry_after("120") == 120
    assert push.parse_retry_after(format_datetime(now + timedelta(minutes=5), usegmt=True), now.timestamp()) == 300
    assert push.parse_retry_after("soon") is None and push.parse_retry_after(None) is None
