"""HR erases a person: what is about them goes, what they gave others stays without them.

What happens to each kind of row (README "Erasure" says the same for HR):
- about them, gone: their person row, sessions, invites, settings, notifications and push
  subscriptions, idempotency keys, feedback and recognition they received (with the tags on it, its
  reactions, comments, reports and any story made from it), requests they made and asks sent to
  them, reactions they left, reports they filed, stories featuring them, customer praise about
  only them, their goals and the check-ins on them, their voice notes (local folder or S3 bucket)
  on anything;
- written confidentially, gone: confidential feedback they gave is deleted, not re-attributed,
  so nothing (its id, its time next to their other acts) can tie it back to them;
- written for others, kept without them: non-confidential feedback, flowers, badge awards,
  comments and goal check-ins they gave, and stories they promoted, point at one shared "former colleague" row
  (shown translated, no profile, no link), their voice taken off;
- their name and email are cut out of the free text that stays (anyone's comments, messages,
  citations, story texts, reasons) and out of remembered idempotent answers;
- aggregates stay without identity: the value and tag counts of what they gave (it stays,
  attributed to nobody), audit rows with the person pointer cleared.

The person row is deleted rather than kept as a tombstone: every foreign key to it is either
moved to the former-colleague row, cleared, or cascades, so a forgotten table makes the final
DELETE fail (a RESTRICT foreign key) instead of leaving a dangling id. Cross-domain cleanups call
the domains' own functions (purge_target, forget_reports, voice.detach); erasure is the one use
case that must see every table, and tests/personal/test_erasure.py reflects the schema to prove
nothing names the person afterwards.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from perfapp.coaching.models import ActionItem, AgendaItem, FormalRecord, PrivateNote
from perfapp.core import signals
from perfapp.core.db import rowcount
from perfapp.core.models import IdempotencyRecord
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import voice
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest
from perfapp.goals.models import CheckIn, Goal, GoalLink
from perfapp.goals.services import recompute
from perfapp.integrations.models import CustomerPraise, CustomerPraisePerson
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.moderation.services import forget_reports
from perfapp.notify.models import Notification
from perfapp.people.models import FORMER_COLLEAGUE_EMAIL, User
from perfapp.reactions.models import Comment, Reaction
from perfapp.recognition.models import BadgeAward, FlowerGift
from perfapp.stories.models import Story, StoryPerson

from perfapp.auth.models import Invite  # isort: skip  (auth imports people)
from perfapp.auth.services import forget_login_failures  # isort: skip

#: What replaces the erased person's name or email inside text that stays (language-neutral).
REDACTED = "[…]"
#: Free text that may mention a person by name (scrubbed); structured columns are handled above.
FREE_TEXT: tuple[InstrumentedAttribute[Any], ...] = (
    Feedback.text, Feedback.behaviour, Feedback.impact, Feedback.suggestion, FeedbackRequest.about,
    Comment.text, FlowerGift.message, BadgeAward.citation, Story.title, Story.text,
    CustomerPraise.subject, CustomerPraise.body, CustomerPraise.sender_name,
    Report.reason, ModerationDecision.reason, PostingSuspension.reason,
    Goal.description, Goal.status_reason, CheckIn.note, CheckIn.status_reason,
    AgendaItem.text, ActionItem.text, PrivateNote.text, FormalRecord.summary, FormalRecord.strengths,
    FormalRecord.growth, FormalRecord.recommendation,
)
#: Names shorter than this are not searched for in others' text (a two-letter Latin name would
#: cut pieces out of ordinary words); Chinese names of two characters are searched.
MIN_LATIN_NAME = 4


@dataclass
class Erased:
    """What an erasure removed or re-attributed (shown to HR, recorded in the audit log as counts)."""

    deleted: dict[str, int] = field(default_factory=dict)
    kept_anonymous: dict[str, int] = field(default_factory=dict)
    voice_files: int = 0

    def add(self, bucket: dict[str, int], name: str, n: int) -> None:
        if n:
            bucket[name] = bucket.get(name, 0) + n


def former_colleague() -> User:
    """The shared row that erased people's kept contributions point at (made on first use)."""
    row = db.session.scalar(select(User).where(User.email == FORMER_COLLEAGUE_EMAIL))
    if row is None:
        row = User(email=FORMER_COLLEAGUE_EMAIL, stored_name="", search_key="", title="", role="employee",
                   active=False, password_hash=None)
        db.session.add(row)
        db.session.flush()
    return row


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_erasable(actor: User, person: User) -> None:
    """Raise PermissionError or FormError (translated) when `actor` may not erase `person`."""
    if not actor.is_hr:
        raise PermissionError("HR or admin only")
    if person.is_former_colleague:
        raise PermissionError("the former-colleague row is not a person")
    if person.id == actor.id:
        raise FormError({"form": _("You can't erase yourself. Ask another HR person or an admin.")})
    if person.role in ("hr", "admin") and not actor.is_admin:
        raise PermissionError("only an admin can erase HR and admin accounts")
    if person.is_admin:
        others = db.session.scalar(select(func.count()).select_from(User).where(
            User.role == "admin", User.active.is_(True), User.id != person.id)) or 0
        if not others:
            raise FormError({"form": _("%(name)s is the last admin; make someone else an admin first.",
                                       name=person.name)})


def erase_person(actor: User, person: User, confirmation: str) -> Erased:
    """Erase `person` for good once `confirmation` repeats their name; flushes, the view commits."""
    check_erasable(actor, person)
    if not confirmation.strip() or _normalised(confirmation) != _normalised(person.name):
        raise FormError({"confirm": _("Type %(name)s exactly as shown to confirm.", name=person.name)})
    result = Erased()
    pid, name, email = person.id, person.stored_name, person.email
    former = former_colleague()

    _erase_feedback(pid, former, result)
    _erase_requests(pid, result)
    _erase_recognition(pid, former, result)
    _erase_social(pid, former, result)
    _erase_stories(pid, former, result)
    _erase_customer_praise(pid, result)
    _erase_goals(pid, former, result)
    _erase_moderation(pid, result)

    db.session.execute(update(Invite).where(Invite.invited_by_id == pid).values(invited_by_id=None))
    forget_login_failures(email)  # failed logins are counted per address (its hash), not per person
    # Their reports move up to their own manager, so the organisation tree stays connected.
    db.session.execute(update(User).where(User.manager_id == pid).values(manager_id=person.manager_id))
    # Inbox entries of others whose keys embed the person's id (a story they declined).
    db.session.execute(delete(Notification).where(Notification.dedupe_key.like(f"story-declined:%:{pid}")))
    _scrub_text(name, email, result)
    _audit(actor, person, result)

    db.session.flush()
    db.session.delete(person)  # sessions, settings, notifications, subscriptions... cascade
    db.session.flush()
    return result


# --- the parts ----------------------------------------------------------------------------------

def _delete_content(target_type: str, rows: Iterable[Any], result: Erased, label: str) -> list[int]:
    """Delete content rows the way moderation does: reactions, comments, reports and inbox entries
    on them go too (signals.content_deleted); voice files go after the commit (ORM delete)."""
    ids = []
    for row in rows:
        ids.append(row.id)
        signals.content_deleted.send(target_type, target_type=target_type, target_id=row.id)
        db.session.delete(row)
    if ids:
        forget_reports(target_type, ids)
        db.session.execute(delete(Notification).where(Notification.ref_type == target_type,
                                                      Notification.ref_id.in_(ids)))
        _drop_stories_from(target_type, ids, result)
    result.add(result.deleted, label, len(ids))
    db.session.flush()
    return ids


def _drop_stories_from(source_type: str, source_ids: list[int], result: Erased) -> None:
    stories = db.session.scalars(select(Story).where(Story.source_type == source_type,
                                                     Story.source_id.in_(source_ids))).all()
    _delete_stories(stories, result)


def _delete_stories(stories: Iterable[Story], result: Erased) -> None:
    stories = [s for s in stories if s in db.session and s not in db.session.deleted]
    if stories:
        _delete_content("story", stories, result, "stories")


def _erase_feedback(pid: int, former: User, result: Erased) -> None:
    received_or_secret = db.session.scalars(select(Feedback).where(or_(
        Feedback.recipient_id == pid, (Feedback.author_id == pid) & Feedback.confidential.is_(True)))).all()
    result.voice_files += sum(1 for f in received_or_secret if f.voice_key)
    _delete_content("feedback", received_or_secret, result, "feedback")
    kept = db.session.scalars(select(Feedback).where(Feedback.author_id == pid)).all()
    for item in kept:
        if item.voice_key:  # their voice is theirs, even in feedback that stays for its recipient
            voice.detach(item)
            result.voice_files += 1
        item.author_id = former.id
    result.add(result.kept_anonymous, "feedback", len(kept))


def _erase_requests(pid: int, result: Erased) -> None:
    requests = db.session.scalars(select(FeedbackRequest).where(FeedbackRequest.requester_id == pid)).all()
    for r in requests:
        db.session.delete(r)  # its asks go with it (and their inbox entries, by foreign key)
    result.add(result.deleted, "requests", len(requests))
    asks = db.session.execute(delete(FeedbackAsk).where(FeedbackAsk.recipient_id == pid))
    result.add(result.deleted, "asks", rowcount(asks))


def _erase_recognition(pid: int, former: User, result: Erased) -> None:
    _delete_content("flower", db.session.scalars(select(FlowerGift).where(FlowerGift.receiver_id == pid)).all(),
                    result, "flowers")
    _delete_content("badge_award", db.session.scalars(
        select(BadgeAward).where(BadgeAward.receiver_id == pid)).all(), result, "badge_awards")
    gifts = db.session.execute(update(FlowerGift).where(FlowerGift.giver_id == pid)
                               .values(giver_id=former.id, version=FlowerGift.version + 1))
    awards = db.session.execute(update(BadgeAward).where(BadgeAward.giver_id == pid)
                                .values(giver_id=former.id, version=BadgeAward.version + 1))
    result.add(result.kept_anonymous, "flowers", rowcount(gifts))
    result.add(result.kept_anonymous, "badge_awards", rowcount(awards))


def _erase_social(pid: int, former: User, result: Erased) -> None:
    reaction_ids = list(db.session.scalars(select(Reaction.id).where(Reaction.user_id == pid)))
    if reaction_ids:
        db.session.execute(delete(Notification).where(Notification.ref_type == "reaction",
                                                      Notification.ref_id.in_(reaction_ids)))
        db.session.execute(delete(Reaction).where(Reaction.id.in_(reaction_ids)))
    result.add(result.deleted, "reactions", len(reaction_ids))
    comments = db.session.execute(update(Comment).where(Comment.author_id == pid).values(author_id=former.id))
    result.add(result.kept_anonymous, "comments", rowcount(comments))


def _erase_goals(pid: int, former: User, result: Erased) -> None:
    """Their own goals go (with their check-ins' reactions and comments); the goals they supported
    roll up without them; check-ins they wrote on others' goals stay, from a former colleague."""
    goals = db.session.scalars(select(Goal).where(Goal.owner_id == pid)).all()
    ids = [g.id for g in goals]
    if ids:
        _delete_content("goal_checkin", db.session.scalars(select(CheckIn).where(CheckIn.goal_id.in_(ids))).all(),
                        result, "goal_check_ins")
        parents = set(db.session.scalars(select(GoalLink.parent_id).where(
            GoalLink.child_id.in_(ids), GoalLink.parent_id.not_in(ids))))
        db.session.execute(delete(GoalLink).where(or_(GoalLink.child_id.in_(ids), GoalLink.parent_id.in_(ids))))
        db.session.execute(update(Goal).where(Goal.source_id.in_(ids)).values(source_id=None))
        for goal in goals:
            db.session.delete(goal)
        db.session.flush()
        for parent in db.session.scalars(select(Goal).where(Goal.id.in_(parents))):
            recompute(parent)
    result.add(result.deleted, "goals", len(ids))
    written = db.session.execute(update(CheckIn).where(CheckIn.author_id == pid).values(author_id=former.id))
    result.add(result.kept_anonymous, "goal_check_ins", rowcount(written))
    db.session.execute(update(Goal).where(Goal.created_by_id == pid).values(created_by_id=None))


def _erase_stories(pid: int, former: User, result: Erased) -> None:
    featured = db.session.scalars(select(Story).join(StoryPerson).where(StoryPerson.user_id == pid)).all()
    _delete_stories(featured, result)
    promoted = db.session.execute(update(Story).where(Story.promoter_id == pid).values(promoter_id=former.id))
    result.add(result.kept_anonymous, "stories", rowcount(promoted))


def _erase_customer_praise(pid: int, result: Erased) -> None:
    about = db.session.scalars(select(CustomerPraise).join(CustomerPraisePerson).where(
        CustomerPraisePerson.user_id == pid)).all()
    only_them = [p for p in about if [u.id for u in p.people] == [pid]]
    _delete_content("customer_praise", only_them, result, "customer_praise")
    db.session.execute(delete(CustomerPraisePerson).where(CustomerPraisePerson.user_id == pid))
    db.session.execute(update(CustomerPraise).where(CustomerPraise.created_by_id == pid).values(created_by_id=None))
    db.session.execute(update(CustomerPraise).where(CustomerPraise.confirmed_by_id == pid)
                       .values(confirmed_by_id=None))
    # Suggested people are a JSON list of ids: filtered in Python (JSON functions differ per engine).
    for praise in db.session.scalars(select(CustomerPraise).where(CustomerPraise.suggested_ids.is_not(None))):
        if pid in (praise.suggested_ids or []):
            praise.suggested_ids = [i for i in praise.suggested_ids if i != pid]


def _erase_moderation(pid: int, result: Erased) -> None:
    report_ids = list(db.session.scalars(select(Report.id).where(Report.reporter_id == pid)))
    if report_ids:
        db.session.execute(delete(Notification).where(Notification.ref_type == "report",
                                                      Notification.ref_id.in_(report_ids)))
        db.session.execute(delete(Report).where(Report.id.in_(report_ids)))
    result.add(result.deleted, "reports", len(report_ids))
    db.session.execute(update(ModerationDecision).where(ModerationDecision.actor_id == pid).values(actor_id=None))
    db.session.execute(update(ModerationDecision).where(ModerationDecision.subject_id == pid)
                       .values(subject_id=None))
    db.session.execute(update(PostingSuspension).where(PostingSuspension.created_by_id == pid)
                       .values(created_by_id=None))


def _needles(name: str, email: str) -> list[str]:
    needles = [email] if email else []
    name = name.strip()
    if name and (len(name) >= MIN_LATIN_NAME or not name.isascii()):
        needles.append(name)
    return needles


def _scrub_text(name: str, email: str, result: Erased) -> None:
    """Cut the name and email out of free text that stays (case-insensitively for Latin names)."""
    db.session.flush()
    needles = _needles(name, email)
    if not needles:
        return
    patterns = [re.compile(re.escape(n), re.IGNORECASE) for n in needles]
    changed = 0
    for column in FREE_TEXT:
        model = column.class_
        match = or_(*(func.lower(column).contains(n.lower(), autoescape=True) for n in needles))
        for row in db.session.scalars(select(model).where(match)):
            value = getattr(row, column.key)
            for pattern in patterns:
                value = pattern.sub(REDACTED, value)
            setattr(row, column.key, value)
            changed += 1
    # Remembered answers of idempotent requests are HTML that may show the name: forget the body
    # (a retry of such a request still gets its status, so it is still not applied twice).
    lowered = [n.lower().encode() for n in needles]
    for record in db.session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.body.is_not(None))
                                     .execution_options(yield_per=200)):
        if record.body and any(n in record.body.lower() for n in lowered):
            record.body = b""
    result.add(result.kept_anonymous, "texts_redacted", changed)


def _audit(actor: User, person: User, result: Erased) -> None:
    """Record the erasure by pseudonym; deleting the person row then unlinks every entry about them."""
    from perfapp.audit import services as audit  # here: audit's services import people lazily too

    audit.record("person.erased", actor=actor, subject=person,
                 details={"deleted": result.deleted, "kept_anonymous": result.kept_anonymous,
                          "voice_files": result.voice_files})
