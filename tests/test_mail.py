"""Outgoing mail senders (perfapp.core.mail): the log, an SMTP server, the test outbox."""
from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from perfapp.core import mail


class _FakeSmtp(socketserver.StreamRequestHandler):
    """Just enough of SMTP (RFC 5321) to receive one message: no TLS, no auth."""

    received: list[bytes] = []

    def handle(self) -> None:
        self.wfile.write(b"220 fake ESMTP\r\n")
        data = False
        body: list[bytes] = []
        for line in self.rfile:
            if data:
                if line == b".\r\n":
                    data = False
                    self.received.append(b"".join(body))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-fake\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture()
def smtp_server() -> Iterator[tuple[str, int]]:
    _FakeSmtp.received = []
    server = socketserver.TCPServer(("127.0.0.1", 0), _FakeSmtp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address  # type: ignore[misc]
    server.shutdown()
    server.server_close()


def test_the_smtp_sender_delivers_utf8_mail(smtp_server) -> None:
    host, port = smtp_server
    sender = mail.SmtpSender(f"smtp://{host}:{port}", "perfapp@example.com")
    sender.send(mail.Message(to="lina@example.com", subject="设置新的 perfapp 密码", body="李娜，你好：\nhttps://x/y\n"))
    [raw] = _FakeSmtp.received
    assert b"To: lina@example.com" in raw and b"From: perfapp <perfapp@example.com>" in raw
    assert b"=?utf-8?" in raw  # the Chinese subject is encoded, not sent raw


@pytest.mark.parametrize("url", ["", "http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_bad_smtp_urls_are_refused(url) -> None:
    with pytest.raises(ValueError):
        mail.SmtpSender(url, "perfapp@example.com")


def test_smtp_url_parts() -> None:
    s = mail.SmtpSender("smtps://user%40corp:p%3Ass@mail.example.com", "a@b.c")
    assert (s.tls, s.host, s.port, s.user, s.password) == (True, "mail.example.com", 465, "user@corp", "p:ss")
    assert mail.SmtpSender("smtp://mail.example.com", "a@b.c").port == 587


def test_an_unreachable_smtp_server_raises_so_the_job_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        mail.SmtpSender(f"smtp://127.0.0.1:{port}", "a@b.c", timeout=2).send(mail.Message("a@b.c", "s", "b"))


def test_the_log_sender_writes_the_whole_message(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="perfapp.mail"):
        mail.LogSender().send(mail.Message(to="lina@example.com", subject="Hi", body="link: http://x/auth/reset/t"))
    assert "lina@example.com" in caplog.text and "http://x/auth/reset/t" in caplog.text


@pytest.mark.parametrize(("kind", "cls"), [("log", mail.LogSender), ("memory", mail.MemorySender),
                                           ("LOG", mail.LogSender)])
def test_the_configured_sender(app, monkeypatch, kind, cls) -> None:
    monkeypatch.setitem(app.config, "MAIL_SENDER", kind)
    assert isinstance(mail.sender(), cls)


def test_an_unknown_sender_is_a_clear_error(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_SENDER", "carrier-pigeon")
    with pytest.raises(ValueError, match="log, smtp or memory"):
        mail.sender()
