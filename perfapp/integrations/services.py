"""Customer praise use cases: import an email, suggest people, confirm, discard, inbound webhook."""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import timedelta
from functools import cache

from flask_babel import gettext as _
from pypinyin import lazy_pinyin
from sqlalchemy import ColumnElement, Select, bindparam, delete, func, select
from sqlalchemy.orm import selectinload

from perfapp.core import signals
from perfapp.core.db import rows, utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.integrations import mail
from perfapp.integrations.models import CustomerPraise, CustomerPraisePerson, InboundNonce
from perfapp.notify.services import notify
from perfapp.people.models import User
from perfapp.people.services import picked_people

MAX_EMAIL_BYTES = 5 * 1024 * 1024
MAX_PEOPLE = 10
MAX_SUGGESTIONS = 10
INBOUND_WINDOW_SECONDS = 5 * 60
ORIGINS = ("upload", "paste", "inbound", "text")
MAX_CUSTOMER_CHARS = 200
MAX_TEXT_CHARS = 20_000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_PINYIN_TEXT_CHARS = 3000


class TooLarge(Exception):
    """The message is over MAX_EMAIL_BYTES (views answer 413)."""


class InboundRejected(Exception):
    """The inbound request is refused: `status` is the HTTP status, str(e) a translated reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- suggestions: who is this email about? --------------------------------------------

def _grams(text: str) -> set[str]:
    """Latin words and their 2- and 3-word joins (both orders for two words: "Li Na" and "Na Li")."""
    words = re.findall(r"[a-z]+", text)
    grams = set(words)
    grams.update(a + b for a, b in zip(words, words[1:], strict=False))
    grams.update(b + a for a, b in zip(words, words[1:], strict=False))
    grams.update(a + b + c for a, b, c in zip(words, words[1:], words[2:], strict=False))
    return grams


def _pinyin_runs(text: str) -> str:
    """The text's Chinese as " syllable syllable … " (traditional characters read the same as simplified)."""
    runs = _CJK.findall(text)
    joined = "|".join(runs)[:_PINYIN_TEXT_CHARS]
    # pypinyin's annotations say `errors` returns a str; it also takes a list (one item per
    # character), as its documentation shows.
    syllables = lazy_pinyin(joined, errors=lambda chars: ["|"] * len(chars))  # type: ignore[arg-type,return-value]
    return " " + " ".join(s for s in syllables) + " "


def suggest_people(parsed: mail.ParsedEmail, limit: int = MAX_SUGGESTIONS) -> list[User]:
    """Active people the email mentions: their address, their name (Chinese or Latin) or its pinyin."""
    text = f"{parsed.subject}\n{parsed.body}"
    lowered = text.lower()
    sender = parsed.sender_email.lower()
    addresses = (set(parsed.addresses) | set(_EMAIL.findall(lowered))) - {sender}
    found: dict[int, None] = {}
    if addresses:
        for uid in db.session.scalars(
            select(User.id).where(User.active.is_(True), func.lower(User.email).in_(addresses)).order_by(User.id)
        ):
            found.setdefault(uid, None)
    grams = _grams(lowered)
    pinyin_text: str | None = None
    rows = db.session.execute(
        select(User.id, User.name, User.email, User.search_key).where(User.active.is_(True)).order_by(User.sort_key, User.id)
    ).all()
    for uid, name, email, key in rows:
        if uid in found or email.lower() == sender:
            continue
        local = email.split("@")[0].lower()
        if name.isascii():
            hit = "".join(name.lower().split()) in grams or (len(local) >= 4 and local.isalpha() and local in grams)
        elif len(name) >= 2 and name in text:
            hit = True
        else:
            # The search key holds the name's pinyin ("lina"): Latin spellings, then Chinese that reads the same.
            spelled = [t for t in key.split() if len(t) >= 4 and t.isascii() and t.isalpha()]
            hit = any(t in grams for t in spelled)
            if not hit and spelled and _CJK.search(text):
                if pinyin_text is None:
                    pinyin_text = _pinyin_runs(text)
                if spelled[0] in pinyin_text.replace(" ", ""):
                    hit = f" {' '.join(lazy_pinyin(name))} " in pinyin_text
        if hit:
            found.setdefault(uid, None)
        if len(found) >= limit:
            break
    ids = list(found)[:limit]
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [people[i] for i in ids if i in people]


# --- importing --------------------------------------------------------------------------------

def read_email(raw: bytes, field: str = "eml", pasted: bool = False) -> mail.ParsedEmail:
    """Parse the raw message (TooLarge over 5 MB; FormError on `field` when it can't be read)."""
    if len(raw) > MAX_EMAIL_BYTES:
        raise TooLarge(len(raw))
    if not raw.strip():
        raise FormError({field: _("Choose an .eml file or paste the message.")})
    try:
        return mail.parse_email(raw, pasted)
    except mail.MalformedEmail as e:
        raise FormError({field: str(e)}) from e


def import_email(actor: User | None, raw: bytes, origin: str) -> CustomerPraise:
    """Read a customer's email into a praise event waiting for someone to confirm who it is about."""
    if origin not in ORIGINS:
        raise ValueError(origin)
    pasted = origin == "paste"
    return _create(actor, read_email(raw, "raw" if pasted else "eml", pasted), origin)


def import_text(actor: User, customer: str, message: str) -> CustomerPraise:
    """Make a customer praise from just the words (who wrote, what they said), as an email would be.

    For a phone, where copying an email's raw source is out of reach: the person pastes the message
    and names the customer; it waits for confirmation like any imported email."""
    customer = " ".join(customer.split())
    message = message.strip()
    errors: dict[str, str] = {}
    if not customer:
        errors["customer"] = _("Say who wrote it: the customer's name or company.")
    elif len(customer) > MAX_CUSTOMER_CHARS:
        errors["customer"] = _("Keep it under %(n)d characters.", n=MAX_CUSTOMER_CHARS)
    if not message:
        errors["message"] = _("Paste what the customer wrote.")
    elif len(message) > MAX_TEXT_CHARS:
        errors["message"] = _("Keep it under %(n)d characters.", n=MAX_TEXT_CHARS)
    if errors:
        raise FormError(errors)
    addresses = _EMAIL.findall(customer)
    parsed = mail.ParsedEmail(sender_name=customer, sender_email=addresses[0][:254] if addresses else "",
                              subject="", sent_at=None, body=message)
    return _create(actor, parsed, "text")


def _create(actor: User | None, parsed: mail.ParsedEmail, origin: str) -> CustomerPraise:
    praise = CustomerPraise(
        status="draft" if actor is not None else "queued", origin=origin,
        sender_name=parsed.sender_name, sender_email=parsed.sender_email, subject=parsed.subject,
        sent_at=parsed.sent_at, body=parsed.body, message_id=parsed.message_id,
        suggested_ids=[u.id for u in suggest_people(parsed)],
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(praise)
    db.session.flush()
    if actor is None:
        for hr_id in db.session.scalars(select(User.id).where(User.role.in_(("hr", "admin")), User.active.is_(True))):
            notify(hr_id, "customer_praise_queued", ref_type="customer_praise", ref_id=praise.id,
                   dedupe_key=f"customer-praise-queued:{praise.id}")
    return praise


def suggestions(praise: CustomerPraise) -> list[User]:
    """The people suggested when the email was read, still active."""
    ids = praise.suggested_ids or []
    if not ids:
        return []
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))}
    return [people[i] for i in ids if i in people]


def get_visible(viewer: User, praise_id: int) -> CustomerPraise | None:
    """One event if the viewer may read it, else None (callers answer 404)."""
    praise = db.session.get(CustomerPraise, praise_id)
    return praise if praise is not None and praise.can_be_read_by(viewer) else None


def _pending_for(actor: User, praise_id: int) -> CustomerPraise:
    # Locked: of two people confirming (or discarding) at once, the second sees the first's outcome.
    praise = db.session.scalar(select(CustomerPraise).where(CustomerPraise.id == praise_id).with_for_update()
                               .execution_options(populate_existing=True))
    if praise is None or not praise.can_be_read_by(actor):
        raise LookupError(praise_id)
    if praise.is_confirmed:
        raise FormError({"form": _("This customer praise is already confirmed.")})
    if not praise.can_be_confirmed_by(actor):
        raise LookupError(praise_id)
    return praise


def confirm(actor: User, praise_id: int, person_ids: list[int]) -> CustomerPraise:
    """Say who the email is about: it becomes a recognition event and they and their managers hear of it."""
    praise = _pending_for(actor, praise_id)
    people, error = picked_people(person_ids, MAX_PEOPLE)
    if error:
        raise FormError({"person_ids": error})
    praise.people = people
    praise.status = "confirmed"
    praise.confirmed_by_id = actor.id
    praise.confirmed_at = utcnow()
    db.session.flush()
    ids = {p.id for p in people}
    for person in people:
        notify(person.id, "customer_praise", ref_type="customer_praise", ref_id=praise.id,
               dedupe_key=f"customer-praise:{praise.id}")
    managers = {p.manager_id for p in people if p.manager_id and p.manager_id not in ids}
    for manager in db.session.scalars(select(User).where(User.id.in_(managers), User.active.is_(True))):
        notify(manager.id, "customer_praise_team", ref_type="customer_praise", ref_id=praise.id,
               dedupe_key=f"customer-praise-team:{praise.id}")
    signals.customer_praise_confirmed.send(praise, praise=praise)
    return praise


def discard(actor: User, praise_id: int) -> None:
    """Throw away an email nobody has confirmed yet (wrong message, not praise)."""
    praise = _pending_for(actor, praise_id)
    db.session.delete(praise)
    db.session.flush()


def queue(limit: int = 50) -> list[CustomerPraise]:
    """Inbound emails waiting for HR, oldest first (plus drafts nobody finished, for HR)."""
    return list(db.session.scalars(
        select(CustomerPraise).where(CustomerPraise.status.in_(("queued", "draft")))
        .order_by(CustomerPraise.status.desc(), CustomerPraise.created_at, CustomerPraise.id).limit(limit)
    ))


def my_drafts(user: User, limit: int = 10) -> list[CustomerPraise]:
    """Emails this person imported and hasn't confirmed yet."""
    return list(db.session.scalars(
        select(CustomerPraise).where(CustomerPraise.status == "draft", CustomerPraise.created_by_id == user.id)
        .order_by(CustomerPraise.created_at.desc(), CustomerPraise.id.desc()).limit(limit)
    ))


def _shown_to(viewer: User | None) -> list[ColumnElement[bool]]:
    """Reported (hidden) events are left out for everyone but HR."""
    return [] if viewer is not None and viewer.is_hr else [CustomerPraise.hidden.is_(False)]


def confirmed_for(person_id: int, limit: int = 5, viewer: User | None = None) -> list[CustomerPraise]:
    """Confirmed customer praise about one person, newest first (their profile and wall).

    Every profile asks and most people have none: the ids come first, as columns on the cursor
    (db.rows), and only the praise found is loaded through the ORM (with the people it names)."""
    ids = [row.id for row in rows(_confirmed_ids(viewer is not None and viewer.is_hr),
                                  {"person_id": person_id, "n": limit})]
    if not ids:
        return []
    loaded = {praise.id: praise for praise in db.session.scalars(
        select(CustomerPraise).where(CustomerPraise.id.in_(ids)).options(selectinload(CustomerPraise.people)))}
    return [loaded[praise_id] for praise_id in ids if praise_id in loaded]


@cache
def _confirmed_ids(is_hr: bool) -> Select:
    """Built once: every profile asks."""
    shown = [] if is_hr else [CustomerPraise.hidden.is_(False)]
    return (select(CustomerPraise.id)
            .join(CustomerPraisePerson, CustomerPraisePerson.praise_id == CustomerPraise.id)
            .where(CustomerPraisePerson.user_id == bindparam("person_id"), CustomerPraise.status == "confirmed",
                   *shown)
            .order_by(CustomerPraise.confirmed_at.desc(), CustomerPraise.id.desc()).limit(bindparam("n")))


def recent_confirmed(limit: int = 5, viewer: User | None = None) -> list[CustomerPraise]:
    """The newest confirmed customer praise across the company (for walls)."""
    return list(db.session.scalars(
        select(CustomerPraise).where(CustomerPraise.status == "confirmed", *_shown_to(viewer))
        .order_by(CustomerPraise.confirmed_at.desc(), CustomerPraise.id.desc()).limit(limit)
        .options(selectinload(CustomerPraise.people))
    ))


# --- the inbound webhook ---------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>." + body, hex: what a mail server sends as X-Perfapp-Signature."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def receive_inbound(secret: str, timestamp: str, signature: str, raw: bytes,
                    now: float | None = None) -> tuple[CustomerPraise, bool]:
    """Check the signature, freshness and replay guard, then queue the email for HR. (event, created)"""
    now = time.time() if now is None else now
    try:
        stamp = int(timestamp)
    except ValueError:
        raise InboundRejected(401, _("The request has no valid timestamp.")) from None
    signature = signature.strip().lower().removeprefix("sha256=")
    if not hmac.compare_digest(sign(secret, timestamp, raw), signature):
        raise InboundRejected(401, _("The signature doesn't match."))
    if abs(now - stamp) > INBOUND_WINDOW_SECONDS:
        raise InboundRejected(401, _("The request is too old (or its clock is wrong)."))
    # Signatures are kept twice the window: anything older is refused as stale anyway.
    db.session.execute(delete(InboundNonce).where(
        InboundNonce.seen_at < utcnow() - timedelta(seconds=2 * INBOUND_WINDOW_SECONDS)))
    if db.session.get(InboundNonce, signature) is not None:
        raise InboundRejected(409, _("This request was already received."))
    db.session.add(InboundNonce(signature=signature))
    db.session.flush()
    try:
        parsed = read_email(raw)
    except FormError as e:
        raise InboundRejected(422, next(iter(e.errors.values()))) from e
    if parsed.message_id:
        # A mail server that retries after a lost answer re-signs the same message: one event.
        existing = db.session.scalar(
            select(CustomerPraise).where(CustomerPraise.message_id == parsed.message_id).limit(1))
        if existing is not None:
            return existing, False
    return _create(None, parsed, "inbound"), True


# --- other domains see customer praise ----------------------------------------------------------

def load_for_inbox(ids: list[int], viewer: User) -> dict[int, CustomerPraise]:
    rows = db.session.scalars(
        select(CustomerPraise).where(CustomerPraise.id.in_(ids)).options(selectinload(CustomerPraise.people))
    )
    return {p.id: p for p in rows if p.can_be_read_by(viewer)}


def load_source(praise_id: int, viewer: User) -> CustomerPraise | None:
    return get_visible(viewer, praise_id)
