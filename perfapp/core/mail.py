"""Outgoing mail through a pluggable sender (MAIL_SENDER): "log" (default), "smtp", "memory".

- log: the message, link included, goes to the server log (logger "perfapp.mail"); enough for
  one machine where an operator passes links on, and for development.
- smtp: sent to SMTP_URL (smtp://user:password@host:587 upgrades with STARTTLS when offered;
  smtps://host:465 is TLS from the start), from MAIL_FROM.
- memory: kept in `OUTBOX` (tests read the messages from there).

Mail is queued when the transaction that caused it commits (never if it rolls back) and sent by
a background job, so a request answers in the same time whether or not it sent anything (a
"forgot password" request must not reveal, by its speed, that an address has an account).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from perfapp.extensions import db

log = logging.getLogger("perfapp.mail")
_PENDING = "perfapp.mail.pending"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str  # plain text


class MailSender(Protocol):
    def send(self, message: Message) -> None: ...


class LogSender:
    """Writes the whole message to the server log."""

    def send(self, message: Message) -> None:
        log.warning("mail to %s\nSubject: %s\n\n%s", message.to, message.subject, message.body)


OUTBOX: list[Message] = []


class MemorySender:
    """Keeps messages in OUTBOX, for tests."""

    def send(self, message: Message) -> None:
        OUTBOX.append(message)


class SmtpSender:
    """Sends through an SMTP server named by a URL."""

    def __init__(self, url: str, sender: str, timeout: float = 15.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 587)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.sender = sender
        self.timeout = timeout

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = formataddr(("perfapp", self.sender))
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)
        context = ssl.create_default_context()
        if self.tls:
            server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            server.ehlo()
            if not self.tls and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            if self.user:
                server.login(self.user, self.password)
            server.send_message(mail)


def sender() -> MailSender:
    """The sender the configuration names."""
    kind = (current_app.config.get("MAIL_SENDER") or "log").lower()
    if kind == "smtp":
        return SmtpSender(current_app.config.get("SMTP_URL") or "", current_app.config["MAIL_FROM"])
    if kind == "memory":
        return MemorySender()
    if kind != "log":
        raise ValueError(f"MAIL_SENDER must be log, smtp or memory, not {kind!r}")
    return LogSender()


def absolute_url(endpoint: str, **values: str) -> str:
    """A link to put in an email, also from a background job.

    PUBLIC_URL when set, and it must be wherever mail leaves the machine: a request's Host header
    is whatever its sender wrote, and a reset link pointing at an attacker's host would hand them
    the token. Unset (development, the "log" sender) the request's own host, or localhost.
    """
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    path = adapter.build(endpoint, values)
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        base = request.host_url if has_request_context() else "http://localhost"
    return base.rstrip("/") + path


def check_config(app: Flask) -> None:
    """Refuse to start with a mail setup that could send links built from a request's Host header."""
    if (app.config.get("MAIL_SENDER") or "log").lower() == "smtp":
        if not app.config.get("SMTP_URL"):
            raise RuntimeError("MAIL_SENDER=smtp needs SMTP_URL")
        if not app.config.get("PUBLIC_URL"):
            raise RuntimeError("MAIL_SENDER=smtp needs PUBLIC_URL (the address people open the app at)")


def send_after_commit(message: Message) -> None:
    """Send this message once the current transaction commits."""
    db.session.info.setdefault(_PENDING, []).append(message)


def _enqueue(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        from perfapp.core.tasks import deliver_mail

        for message in pending:
            deliver_mail(asdict(message))


def _drop(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def install() -> None:
    """Send what a transaction queued once it commits (create_app, once per process)."""
    for name, listener in (("after_commit", _enqueue), ("after_rollback", _drop)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
