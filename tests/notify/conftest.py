"""Push test helpers: a tiny local push service in a thread (scripted answers, recorded
requests), browser-side key pairs and RFC 8291 decryption to read what we sent."""
from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from perfapp.extensions import db
from perfapp.notify.models import NotificationPreference, PushSubscription
from perfapp.notify.push import b64url_encode
from perfapp.tasks import huey


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)


class PushService:
    """Answers POSTs with the scripted answers in order (then 201) and records them."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.answers_for: dict[str, deque[Answer]] = {}
        self.received: list[Received] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                own = service.answers_for.get(self.path)
                answer = own.popleft() if own else service.answers.popleft() if service.answers else Answer()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def read(self, browser: Browser) -> list[dict[str, Any]]:
        """What this browser was sent, decrypted, oldest inbox entry first (sends run in parallel)."""
        sent = [browser.decrypt(r.body) for r in self.received if r.path == browser.path]
        return sorted(sent, key=lambda p: p.get("id", 0))

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def answer(self, *answers: Answer) -> None:
        """The next answers, to whoever asks first."""
        self.answers.extend(answers)

    def answer_to(self, browser: Browser, *answers: Answer) -> None:
        """The next answers for one browser's endpoint."""
        self.answers_for.setdefault(browser.path, deque()).extend(answers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def push_service(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:  # type: ignore[no-untyped-def]
    """The local push service, admitted the way only tests may (allow-list + insecure local)."""
    service = PushService()
    monkeypatch.setitem(app.config, "PUSH_HOST_ALLOWLIST", (*app.config["PUSH_HOST_ALLOWLIST"], "127.0.0.1"))
    monkeypatch.setitem(app.config, "PUSH_ALLOW_INSECURE_LOCAL_TEST_SERVICE", True)
    huey.flush()
    yield service
    huey.flush()
    service.close()


@pytest.fixture(autouse=True)
def _empty_job_schedule() -> Iterator[None]:
    huey.flush()
    yield
    huey.flush()


class Browser:
    """The browser's side of a subscription: its key pair and auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = b"0123456789abcdef"
        self.public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.path = ""  # where the push service delivers to this browser

    @property
    def p256dh(self) -> str:
        return b64url_encode(self.public)

    @property
    def auth(self) -> str:
        return b64url_encode(self.auth_secret)

    def decrypt(self, body: bytes) -> dict[str, Any]:
        """RFC 8291 / RFC 8188 aes128gcm, the receiving end."""
        salt, idlen = body[:16], body[20]
        sender = body[21:21 + idlen]
        shared = self.key.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender))
        ikm = HKDF(hashes.SHA256(), 32, self.auth_secret, b"WebPush: info\x00" + self.public + sender).derive(shared)
        cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
        plain = AESGCM(cek).decrypt(nonce, body[21 + idlen:], None)
        assert plain.rstrip(b"\x00").endswith(b"\x02")  # the last record's delimiter
        return json.loads(plain.rstrip(b"\x00")[:-1])


@pytest.fixture()
def subscribe(push_service: PushService):  # type: ignore[no-untyped-def]
    """subscribe(user, quiet=False) -> (PushSubscription, Browser) on the local push service.

    Quiet hours are off unless asked for: these tests must not depend on the time of day."""
    count = {"n": 0}

    def make(user, quiet: bool = False, **prefs: Any) -> tuple[PushSubscription, Browser]:  # type: ignore[no-untyped-def]
        count["n"] += 1
        browser = Browser()
        browser.path = f"/push/{user.id}-{count['n']}"
        sub = PushSubscription(user_id=user.id, endpoint=push_service.endpoint(f"{user.id}-{count['n']}"),
                               p256dh=browser.p256dh, auth=browser.auth)
        db.session.add(sub)
        if db.session.get(NotificationPreference, user.id) is None:
            from perfapp.notify.delivery import PREFERENCE_DEFAULTS

            db.session.add(NotificationPreference(user_id=user.id, **{**PREFERENCE_DEFAULTS,
                                                                      "quiet_enabled": quiet, **prefs}))
        db.session.commit()
        return sub, browser

    return make
