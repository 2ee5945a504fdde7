"""Idempotency-Key: a retried submission (the outbox, the service worker, a flaky network)
takes effect once.

A client makes one key per submission and sends it as the `Idempotency-Key` header with
every try. Per person and key, for at least 24 hours:
  - the same key with the same payload gets the first result again (no new row);
  - the same key with a different payload gets 422;
  - a duplicate arriving while the first is still running gets 409.

The "in progress" marker is committed in its own short write transaction before the view
runs, so concurrent duplicates see it (SQLite serialises on BEGIN IMMEDIATE, PostgreSQL on
the unique index). "done" is written inside the view's own commit, so a key is done exactly
when the view's changes exist, even if the process dies before storing the response.
A request that changed nothing (a validation error, a crash before commit) gives its key
back, so the person can fix the draft and send it again with the same key.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Literal

import click
from flask import Request, Response, current_app, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from perfapp.core.db import rowcount, utcnow
from perfapp.core.errors import error_response
from perfapp.core.htmx import is_htmx
from perfapp.core.models import IdempotencyRecord
from perfapp.extensions import db

KEY_HEADER = "Idempotency-Key"
#: Sent by the outbox with the id of the person who wrote the draft: a draft queued by one
#: account must never be posted by whoever is logged in on that device later.
USER_HEADER = "X-Perfapp-User"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,100}")
MIN_RETENTION = timedelta(hours=24)
#: An "in progress" marker this old belongs to a worker that died before committing:
#: nothing of it exists, so a retry may take the key over.
ABANDONED_AFTER = timedelta(minutes=2)
#: Headers a replay needs to mean the same as the first answer.
REPLAYED_HEADERS = ("Location", "HX-Trigger", "HX-Redirect", "HX-Retarget", "HX-Reswap", "Vary")
IGNORED_FIELDS = frozenset({"csrf_token"})

Outcome = Literal["claimed", "replay", "in_progress", "mismatch"]


def retention() -> timedelta:
    """How long keys are remembered: IDEMPOTENCY_TTL_HOURS, never under 24 hours."""
    hours = current_app.config.get("IDEMPOTENCY_TTL_HOURS", 24)
    return max(MIN_RETENTION, timedelta(hours=hours))


def request_fingerprint(req: Request) -> str:
    """A hash of what the request asks for: method, path, form fields and uploaded files.

    The CSRF token is left out (a retry after a reload carries a fresh one), and so are
    empty fields and empty file inputs: a browser form and the outbox's FormData may differ
    there without meaning anything different.
    """
    parts: list[tuple[str, str]] = []
    for name, value in req.form.items(multi=True):
        if name not in IGNORED_FIELDS and value != "":
            parts.append((name, value))
    for name, storage in req.files.items(multi=True):
        data = storage.stream.read()
        storage.stream.seek(0)
        if data or storage.filename:
            parts.append((name, "file:" + hashlib.sha256(data).hexdigest()))
    digest = hashlib.sha256(f"{req.method} {req.path}\n".encode())
    digest.update(json.dumps(sorted(parts), ensure_ascii=False).encode())
    return digest.hexdigest()


def claim(user_id: int, key: str, request_hash: str, now: datetime | None = None
          ) -> tuple[Outcome, IdempotencyRecord | None]:
    """Take the key for this request, or say why not; commits its own short transaction."""
    now = now or utcnow()
    db.session.commit()  # whatever the request read so far: the marker commits on its own
    # A key past its retention is forgotten; so is a marker its worker abandoned.
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
        IdempotencyRecord.created_at < now - retention(),
    ))
    record = IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash,
                               state="in_progress", created_at=now)
    db.session.add(record)
    try:
        db.session.commit()
        return "claimed", record
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
    if existing is None:  # released between our insert and this read: try once more
        return claim(user_id, key, request_hash, now)
    outcome: Outcome
    if existing.request_hash != request_hash:
        outcome = "mismatch"
    elif existing.state == "done" and (existing.status_code is not None
                                       or existing.created_at < now - ABANDONED_AFTER):
        outcome = "replay"
    elif existing.state == "done":  # committed a moment ago; its answer is being stored
        outcome = "in_progress"
    elif existing.created_at < now - ABANDONED_AFTER and _take_over(existing, now):
        outcome = "claimed"
    else:
        outcome = "in_progress"
    db.session.commit()
    return outcome, existing


def _take_over(record: IdempotencyRecord, now: datetime) -> bool:
    """Restart an abandoned marker; only one of several retries wins it."""
    won = rowcount(db.session.execute(update(IdempotencyRecord).where(
        IdempotencyRecord.id == record.id, IdempotencyRecord.state == "in_progress",
        IdempotencyRecord.created_at == record.created_at,
    ).values(created_at=now))) == 1
    db.session.commit()
    return won


def release(record_id: int) -> None:
    """Give the key back: the request it was claimed for changed nothing."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.id == record_id, IdempotencyRecord.state == "in_progress"))
    db.session.commit()


def store_response(record_id: int, response: Response) -> None:
    """Keep the answer of a done request, for replays."""
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
        state="done", status_code=response.status_code, body=response.get_data(),
        content_type=response.headers.get("Content-Type"), headers=json.dumps(headers),
    ))
    db.session.commit()


def replay(record: IdempotencyRecord) -> Response:
    """The stored answer again, marked as a replay."""
    if record.status_code is None:  # done, but the worker died before storing the answer
        response = make_response("", 200)
    else:
        response = make_response(record.body or b"", record.status_code)
        if record.content_type:
            response.headers["Content-Type"] = record.content_type
        for name, value in json.loads(record.headers or "{}").items():
            response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def purge_expired(now: datetime | None = None) -> int:
    """Delete keys past their retention; returns how many."""
    cutoff = (now or utcnow()) - retention()
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    db.session.flush()
    return rowcount(result)


def _refusal(status: int, message: str) -> Response:
    response = error_response(status, message)
    if is_htmx():
        # The compose form stays as it is; the message shows as a toast.
        response.headers["HX-Retarget"] = "#toasts"
        response.headers["HX-Reswap"] = "beforeend"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour an Idempotency-Key header on a POST view (put it under @login_required)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(KEY_HEADER)
        if key is None or request.method != "POST":
            return view(*args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            return _refusal(400, _("The Idempotency-Key header must be 8 to 100 letters, digits, "
                                   "dashes or underscores."))
        author = request.headers.get(USER_HEADER)
        if author is not None and author != str(current_user.id):
            return _refusal(403, _("This was written while someone else was logged in on this device."))
        outcome, record = claim(current_user.id, key, request_fingerprint(request))
        if outcome == "replay":
            return replay(record)  # type: ignore[arg-type]
        if outcome == "mismatch":
            return _refusal(422, _("This submission was already sent with different content. "
                                   "Check your feedback before sending it again."))
        if outcome == "in_progress":
            return _refusal(409, _("This is still being sent. Try again in a moment."))
        return _run_claimed(record.id, view, args, kwargs)  # type: ignore[union-attr]

    return wrapper


def _run_claimed(record_id: int, view: Callable[..., Any], args: tuple, kwargs: dict) -> Response:
    session = db.session()
    marked = committed = False

    # Both events also fire when a SAVEPOINT is released (begin_nested): only the outermost
    # commit makes the view's changes real.
    def mark_done(sess: Session) -> None:
        nonlocal marked
        if not marked and not sess.in_nested_transaction():
            marked = True
            sess.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                         .values(state="done"))

    def note_commit(sess: Session) -> None:
        nonlocal committed
        if marked and not sess.in_nested_transaction():
            committed = True

    event.listen(session, "before_commit", mark_done)
    event.listen(session, "after_commit", note_commit)
    try:
        response = make_response(view(*args, **kwargs))
    except BaseException:
        if not committed:
            release(record_id)
        raise
    finally:
        event.remove(session, "before_commit", mark_done)
        event.remove(session, "after_commit", note_commit)
    if committed:
        store_response(record_id, response)
    else:
        release(record_id)
    return response


@click.command("purge-idempotency-keys")
def purge_command() -> None:
    """Delete Idempotency-Key records past their retention (run daily)."""
    count = purge_expired()
    db.session.commit()
    click.echo(f"deleted {count} idempotency records")
