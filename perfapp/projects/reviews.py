"""A milestone's retrospective: each member reviews each teammate in three quick questions and a
line or two of free text, for 7 days after the milestone is reached.

The words are feedback in the milestone's context (perfapp.feedback gives and guards them, so
confidential stays confidential and each answer is read under its own visibility); the quick
answers are PeerReview rows, shown only as aggregates over enough reviewers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import services as feedback_services
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput
from perfapp.people.models import User
from perfapp.projects.models import Milestone, PeerReview, ProjectMember

QUESTIONS = {
    "delivered": _l("Delivered what they committed to"),
    "collaborated": _l("Helped the team move forward"),
    "communicated": _l("Kept others informed"),
}
ANSWERS = {1: _l("Not yet"), 2: _l("Yes"), 3: _l("Stood out")}
REVIEW_VISIBILITIES = ("private", "manager")
MAX_WORDS = 1000
MIN_GROUP_FLOOR = 3  # the product's rule: aggregates never show for fewer reviewers than this


def min_group() -> int:
    """How many reviewers an aggregate needs (configurable, never below 3)."""
    return max(MIN_GROUP_FLOOR, int(current_app.config.get("PEER_REVIEW_MIN_GROUP", 5)))


def is_open(milestone: Milestone, now: datetime | None = None) -> bool:
    """Reviews are taken from the moment it is reached for 7 days (not on an archived project)."""
    closes = milestone.review_closes_at
    return closes is not None and (now or utcnow()) < closes and not milestone.project.archived


def _members(milestone: Milestone) -> list[User]:
    return list(db.session.scalars(
        select(User).join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == milestone.project_id).order_by(User.sort_key, User.id)))


def teammates_to_review(reviewer: User, milestone: Milestone) -> list[tuple[User, bool]]:
    """The active teammates this member reviews here, each with whether it is done."""
    done = set(db.session.scalars(select(PeerReview.reviewee_id).where(
        PeerReview.milestone_id == milestone.id, PeerReview.reviewer_id == reviewer.id)))
    return [(m, m.id in done) for m in _members(milestone) if m.active and m.id != reviewer.id]


def may_review(reviewer: User, milestone: Milestone) -> bool:
    return any(m.id == reviewer.id for m in _members(milestone))


@dataclass
class ReviewInput:
    """The peer-review form for one teammate."""

    reviewee_id: int | None = None
    answers: dict[str, int | None] = field(default_factory=dict)
    went_well: str = ""
    improve: str = ""
    visibility: str = "private"
    confidential: bool = False


def submit_review(reviewer: User, milestone: Milestone, data: ReviewInput, now: datetime | None = None) -> PeerReview:
    """Store one teammate's review: the words as feedback in the milestone's context, the quick answers
    beside it. Nothing is kept when anything is wrong."""
    if not may_review(reviewer, milestone):
        raise PermissionError("only the project's members review each other")
    errors: dict[str, str] = {}
    if not is_open(milestone, now):
        raise FormError({"form": _("This retrospective is closed.")})
    teammates = {u.id: done for u, done in teammates_to_review(reviewer, milestone)}
    if data.reviewee_id not in teammates:
        errors["reviewee_id"] = _("Choose a teammate on this project.")
    elif teammates[data.reviewee_id]:
        errors["reviewee_id"] = _("You have already reviewed this teammate.")
    answers: dict[str, int] = {}
    for key in QUESTIONS:
        value = data.answers.get(key)
        if value not in ANSWERS:
            errors[key] = _("Pick one answer.")
        else:
            answers[key] = value
    went_well, improve = data.went_well.strip(), data.improve.strip()
    for name, text in (("went_well", went_well), ("improve", improve)):
        if len(text) > MAX_WORDS:
            errors[name] = _("Keep it under %(n)d characters.", n=MAX_WORDS)
    if not went_well and not improve and "went_well" not in errors:
        errors["went_well"] = _("Write what went well or one thing to improve.")
    if data.visibility not in REVIEW_VISIBILITIES:
        errors["visibility"] = _("Choose who can see it.")
    if errors:
        raise FormError(errors)
    try:
        feedback = feedback_services.give_feedback(reviewer, FeedbackInput(
            recipient_id=data.reviewee_id, text=went_well, suggestion=improve,
            kind="suggestion" if improve else "praise", visibility=data.visibility,
            confidential=data.confidential, project_id=milestone.project_id, milestone_id=milestone.id))
    except FormError as e:
        renamed = {"text": "went_well", "suggestion": "improve", "recipient_id": "reviewee_id"}
        raise FormError({renamed.get(k, k): v for k, v in e.errors.items()}) from e
    review = PeerReview(milestone_id=milestone.id, reviewer_id=reviewer.id, reviewee_id=data.reviewee_id,
                        feedback_id=feedback.id, **answers)
    db.session.add(review)
    db.session.flush()
    return review


# --- the milestone's summary ----------------------------------------------------------------------

@dataclass
class QuestionSummary:
    key: str
    label: str
    shares: dict[int, int]  # answer -> whole per cent
    average: float


@dataclass
class Aggregate:
    """Quick answers over a group of reviewers; `questions` is empty below the threshold."""

    reviewers: int
    threshold: int
    questions: list[QuestionSummary] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return bool(self.questions)

    @property
    def went_well(self) -> list[QuestionSummary]:
        return [q for q in self.questions if q.average >= 2.25]

    @property
    def to_improve(self) -> list[QuestionSummary]:
        return [q for q in self.questions if q.shares.get(1, 0) >= 25]


def _aggregate(*where: object) -> Aggregate:
    threshold = min_group()
    columns: list[ColumnElement[int]] = [func.count(func.distinct(PeerReview.reviewer_id))]
    for key in QUESTIONS:
        col = getattr(PeerReview, key)
        columns += [func.count().filter(col == n) for n in ANSWERS]
    row = db.session.execute(select(*columns).where(*where)).one()  # type: ignore[arg-type]
    reviewers, counts = row[0], list(row[1:])
    result = Aggregate(reviewers=reviewers, threshold=threshold)
    if reviewers < threshold:
        return result
    for i, key in enumerate(QUESTIONS):
        per = dict(zip(ANSWERS, counts[i * len(ANSWERS):(i + 1) * len(ANSWERS)], strict=True))
        total = sum(per.values()) or 1
        result.questions.append(QuestionSummary(
            key=key, label=str(QUESTIONS[key]), shares={n: round(100 * c / total) for n, c in per.items()},
            average=sum(n * c for n, c in per.items()) / total))
    return result


@dataclass
class Summary:
    team: Aggregate
    about_me: Aggregate
    answers: list[Feedback]
    flowers: list
    badges: list


def milestone_summary(viewer: User, milestone: Milestone) -> Summary:
    """What went well and what to improve at this milestone, as this viewer may read it."""
    from perfapp.recognition.models import BadgeAward, FlowerGift

    team = _aggregate(PeerReview.milestone_id == milestone.id)
    about_me = _aggregate(PeerReview.milestone_id == milestone.id, PeerReview.reviewee_id == viewer.id)
    answers = list(db.session.scalars(
        select(Feedback).where(Feedback.milestone_id == milestone.id, Feedback.visible_to(viewer))
        .options(joinedload(Feedback.author), joinedload(Feedback.recipient), joinedload(Feedback.project),
                 joinedload(Feedback.milestone))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(50)))
    # Given in the milestone's context: its own badge (by rule), and the flowers and badges given
    # from its page.
    flowers = list(db.session.scalars(
        select(FlowerGift).where(FlowerGift.milestone_id == milestone.id, FlowerGift.hidden.is_(False))
        .options(joinedload(FlowerGift.giver), joinedload(FlowerGift.receiver))
        .order_by(FlowerGift.created_at.desc()).limit(20)))
    badges = list(db.session.scalars(
        select(BadgeAward).where(BadgeAward.milestone_id == milestone.id, BadgeAward.hidden.is_(False))
        .options(joinedload(BadgeAward.badge), joinedload(BadgeAward.receiver))
        .order_by(BadgeAward.created_at.desc()).limit(30)))
    return Summary(team=team, about_me=about_me, answers=answers, flowers=flowers, badges=badges)
