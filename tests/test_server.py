"""The app behind a real gunicorn (gunicorn.conf.py), over real keep-alive connections.

Defect 7: a 413 on an oversized voice note left the keep-alive connection dead (gunicorn
announced keep-alive, then closed after draining 64 KB): the next request on it failed.
Defect 8: the inbound email endpoint cut a chunked body over 5 MB and answered 401.
The server runs from this checkout on its own SQLite file; PORT picks a free port unless
PERFAPP_TEST_SERVER_PORT names one.
"""
from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfapp import create_app
from perfapp.config import TestConfig
from perfapp.extensions import db
from perfapp.integrations import services

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
SECRET = "server-test-secret"
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("gunicorn")
    url = f"sqlite:///{folder / 'server.db'}"

    class SeedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    seed_app = create_app(SeedConfig)
    with seed_app.app_context():
        from perfapp.auth.services import hash_password
        from perfapp.people.models import User

        db.create_all()
        person = User(email="lina@example.com", password_hash=hash_password(PASSWORD))
        person.set_name("李娜")
        db.session.add(person)
        db.session.commit()
        db.engine.dispose()
    port = int(os.environ.get("PERFAPP_TEST_SERVER_PORT") or _free_port())
    env = {**os.environ, "DATABASE_URL": url, "INBOUND_EMAIL_SECRET": SECRET, "WEB_CONCURRENCY": "1",
           "GUNICORN_THREADS": "2", "VOICE_STORAGE_DIR": str(folder / "voice"),
           "HUEY_SQLITE_PATH": str(folder / "huey.db"), "RATELIMIT_ENABLED": "0"}
    env.pop("ACCESS_LOG", None)
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
            finally:
                conn.close()
        else:
            raise RuntimeError("gunicorn did not start: " + (folder / "gunicorn.log").read_text()[-2000:])
        yield port
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def _logged_in(port: int) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    """A keep-alive connection, logged in: (connection, headers carrying the cookie and token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    conn.request("GET", "/auth/login")
    r = conn.getresponse()
    page = r.read().decode()
    cookie = r.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    conn.request("POST", "/auth/login", body=f"csrf_token={token}&email=lina%40example.com&password={PASSWORD}",
                 headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    assert r.status == 303, r.status
    cookie = (r.getheader("Set-Cookie") or cookie).split(";")[0]
    return conn, {"Cookie": cookie, "X-CSRFToken": token}


def _next_request_works(conn: http.client.HTTPConnection, headers: dict[str, str]) -> None:
    conn.request("GET", "/notify/unread", headers=headers)
    r = conn.getresponse()
    assert r.status == 200 and "count" in r.read().decode()


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "perfappboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"recipient_id\"\r\n\r\n1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"voice\"; filename=\"a.webm\"\r\n"
            "Content-Type: audio/webm\r\n\r\n").encode() + b"\x1a" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_413_voice_upload_leaves_the_keep_alive_connection_usable(server: int) -> None:
    conn, headers = _logged_in(server)
    body, content_type = _multipart(3 * MB)
    conn.request("POST", "/feedback/new", body=body, headers={**headers, "Content-Type": content_type})
    r = conn.getresponse()
    r.read()
    assert r.status == 413
    if r.getheader("Connection", "").lower() == "close":
        conn.close()  # announced: a new connection is the client's normal next step
        conn, headers = _logged_in(server)
    # The same socket (or an announced new one) answers the next request.
    _next_request_works(conn, headers)
    _next_request_works(conn, headers)
    conn.close()


def test_a_413_chunked_voice_upload_leaves_the_connection_usable(server: int) -> None:
    conn, headers = _logged_in(server)
    body, content_type = _multipart(3 * MB)
    chunks = (body[i:i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
    conn.request("POST", "/feedback/new", body=chunks, encode_chunked=True,
                 headers={**headers, "Content-Type": content_type})
    r = conn.getresponse()
    r.read()
    assert r.status == 413
    if r.getheader("Connection", "").lower() == "close":
        conn.close()
        conn, headers = _logged_in(server)
    _next_request_works(conn, headers)
    conn.close()


def test_a_huge_body_is_answered_413_with_connection_close(server: int) -> None:
    """Past what is worth draining, the server says it closes (rather than announcing keep-alive
    and closing anyway) and closes: the 413 reaches the client whole."""
    sock = socket.create_connection(("127.0.0.1", server), timeout=15)
    sock.sendall(b"POST /feedback/new HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 200000000\r\n\r\n"
                 + b"x" * MB)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 413")
    assert "connection: close" in head and "keep-alive" not in head


def test_a_chunked_inbound_email_over_5_mb_is_413(server: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    stamp = str(int(time.time()))
    raw = b"Subject: big\r\n\r\n" + b"x" * (services.MAX_EMAIL_BYTES + 1024)
    signature = services.sign(SECRET, stamp, raw)
    chunks = (raw[i:i + 256 * 1024] for i in range(0, len(raw), 256 * 1024))
    conn.request("POST", "/integrations/inbound/email", body=chunks, encode_chunked=True,
                 headers={"Content-Type": "message/rfc822", "X-Perfapp-Timestamp": stamp,
                          "X-Perfapp-Signature": signature})
    r = conn.getresponse()
    body = r.read().decode()
    assert r.status == 413 and "5 MB" in body, (r.status, body)
    if r.getheader("Connection", "").lower() == "close":
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server, timeout=15)
    conn.request("GET", "/healthz")
    assert conn.getresponse().read() == b"ok"
    conn.close()


def test_a_chunked_inbound_email_under_5_mb_is_accepted(server: int) -> None:
    """The fix cuts nothing that fits: a chunked message under the limit is received."""
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    stamp = str(int(time.time()))
    raw = (b"From: Customer <c@customer.example>\r\nTo: praise@perfapp.example\r\nSubject: Thanks\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "李娜 was wonderful.\r\n".encode() * 40_000)
    assert len(raw) < services.MAX_EMAIL_BYTES
    signature = services.sign(SECRET, stamp, raw)
    chunks = (raw[i:i + 100_000] for i in range(0, len(raw), 100_000))
    conn.request("POST", "/integrations/inbound/email", body=chunks, encode_chunked=True,
                 headers={"Content-Type": "message/rfc822", "X-Perfapp-Timestamp": stamp,
                          "X-Perfapp-Signature": signature})
    r = conn.getresponse()
    body = r.read().decode()
    assert r.status in (200, 202), (r.status, body)
    conn.close()
