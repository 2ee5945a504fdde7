"""Results of a cycle, and the rule that keeps small groups anonymous.

A reviewee and their manager read results by group; HR reads aggregates by department. Anything
anyone can see is an aggregate over a set of answers (a "cell"). Whoever sees several cells can
add and subtract them, so hiding each small cell is not enough: what matters is the *atoms* of
the visible cells (answers that fall in exactly the same visible cells). Every number a viewer can
compute from what is shown is a combination of atoms, so every atom must hold enough answers.
`suppress` hides cells until that holds: first each cell below its threshold, then, for an atom
still too small, the smallest other cell that separates it from its neighbours (Viva Glint's
"suppress the next-smallest group"), or else the smallest cell that contains it.

Per person, the cells are each anonymous group and "all anonymous reviewers". HR's cells are built
only from groups already shown on the person's own page, so a group hidden there can never come
back inside an organisation total. Comments show only inside a shown group that also meets its
comment threshold, shuffled, without times; totals show no comments.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from perfapp.core.db import run, table_of
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, Tag
from perfapp.feedback.services import TagLabel
from perfapp.people.models import Department, User
from perfapp.people.services import PersonRef
from perfapp.reviews.models import (
    ANONYMOUS,
    ATTRIBUTED,
    GROUPS,
    ReviewAssignment,
    ReviewComment,
    ReviewCycle,
    ReviewQuestion,
    ReviewRating,
    ReviewTagVote,
)

ALL = "all"  # the cell of every anonymous reviewer


# --- the suppression rule (pure) ------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)  # a cell
C = TypeVar("C", bound=Hashable)  # a class of answers


def atoms(cells: Mapping[K, frozenset[C]], sizes: Mapping[C, int]) -> dict[frozenset[K], set[C]]:
    """Classes of answers grouped by exactly which cells hold them: {cells holding it: classes}."""
    member: dict[C, set[K]] = defaultdict(set)
    for key, classes in cells.items():
        for c in classes:
            member[c].add(key)
    out: dict[frozenset[K], set[C]] = defaultdict(set)
    for c, keys in member.items():
        if sizes.get(c, 0) > 0:
            out[frozenset(keys)].add(c)
    return dict(out)


def suppress(cells: Mapping[K, frozenset[C]], sizes: Mapping[C, int],
             threshold: Mapping[C, int]) -> set[K]:
    """The cells to hide so that every atom of the visible ones holds at least its threshold.

    `cells` maps a cell to the classes of answers it aggregates, `sizes` a class to its number of
    answers (reviewers), `threshold` a class to the smallest number that may show."""
    def size(classes: AbstractSet[C]) -> int:
        return sum(sizes.get(c, 0) for c in classes)

    def need(classes: AbstractSet[C]) -> int:
        return max((threshold[c] for c in classes if sizes.get(c, 0) > 0), default=0)

    hidden = {k for k, classes in cells.items() if 0 < size(classes) < need(classes)}
    while True:
        visible = {k: v for k, v in cells.items() if k not in hidden}
        small = [(size(classes), sorted(map(str, keys)), keys) for keys, classes in atoms(visible, sizes).items()
                 if size(classes) < need(classes)]
        if not small:
            return hidden
        _n, _names, keys = min(small)
        # A neighbour atom differs from this one in one cell: hiding that cell merges them.
        others = atoms(visible, sizes)
        separating = {k for other in others if other != keys and len(other ^ keys) == 1 for k in other ^ keys}
        pool = separating or set(keys)
        hidden.add(min(pool, key=lambda k: (size(visible[k]), str(k))))


# --- one person's results ------------------------------------------------------------------------

@dataclass
class QuestionResult:
    question: ReviewQuestion
    counts: list[int]  # answers per point of the scale, 1..n
    average: float

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> list[int]:
        total = self.total or 1
        return [round(100 * c / total) for c in self.counts]


@dataclass
class GroupResult:
    group: str
    reviewers: int  # answers received (shown only when the group shows)
    shown: bool
    comments_shown: bool = False
    attributed_to: list[str] = field(default_factory=list)
    questions: list[QuestionResult] = field(default_factory=list)
    strengths: list[tuple[Tag, int]] = field(default_factory=list)
    growth: list[tuple[Tag, int]] = field(default_factory=list)
    comments: list[tuple[ReviewQuestion, str]] = field(default_factory=list)


@dataclass
class PersonResults:
    cycle: ReviewCycle
    person: User
    groups: list[GroupResult]
    total: GroupResult
    feedback_ids: list[int]
    hidden_any: bool


def may_read(viewer: User, cycle: ReviewCycle, person: User) -> bool:
    """The reviewee and their manager, once the cycle is finished. Not HR (aggregates only), not
    peers, not other managers."""
    return cycle.status == "closed" and (viewer.id == person.id or person.manager_id == viewer.id)


def _submitted(cycle_id: int, reviewee_ids: list[int] | None = None) -> list[ReviewAssignment]:
    stmt = select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle_id,
                                          ReviewAssignment.status == "submitted")
    if reviewee_ids is not None:
        stmt = stmt.where(ReviewAssignment.reviewee_id.in_(reviewee_ids))
    return list(db.session.scalars(stmt.options(joinedload(ReviewAssignment.reviewer))))


def person_cells(cycle: ReviewCycle, counts: Mapping[str, int]) -> tuple[set[str], set[str]]:
    """(groups whose scores are hidden, groups whose comments are hidden) for one reviewee, from the
    number of answers per anonymous group; ALL is hidden when it is in the first set."""
    present = [g for g in ANONYMOUS if counts.get(g, 0) > 0]
    cells = {g: frozenset([g]) for g in present}
    cells[ALL] = frozenset(present)
    hidden = suppress(cells, counts, {g: cycle.threshold(g) for g in ANONYMOUS})
    no_comments = set(hidden) | {g for g in present if counts[g] < cycle.threshold(g, "comments")}
    return set(hidden), no_comments


def _aggregate(result: GroupResult, rows: list[ReviewAssignment], questions: list[ReviewQuestion],
               ratings: dict[int, list[ReviewRating]], votes: dict[int, list[ReviewTagVote]],
               tags: dict[int, Tag]) -> None:
    for q in questions:
        if q.kind != "rating":
            continue
        counts = [0] * len(q.anchors)
        for row in rows:
            for r in ratings.get(row.id, ()):
                if r.question_id == q.id and 1 <= r.value <= len(counts):
                    counts[r.value - 1] += 1
        total = sum(counts)
        result.questions.append(QuestionResult(q, counts, sum((i + 1) * c for i, c in enumerate(counts)) / total
                                               if total else 0.0))
    strengths: Counter[int] = Counter()
    growth: Counter[int] = Counter()
    for row in rows:
        for v in votes.get(row.id, ()):
            (strengths if v.strength else growth)[v.tag_id] += 1
    result.strengths = [(tags[t], n) for t, n in strengths.most_common() if t in tags]
    result.growth = [(tags[t], n) for t, n in growth.most_common() if t in tags]


def _by_assignment(model: Any, ids: list[int]) -> dict[int, list[Any]]:
    """Rows of an answer table (ratings, comments, tag votes) grouped by assignment, in chunks. Read
    as plain rows (Core), not loaded as objects: a results page reads a hundred or more, and they
    are only counted and shown, never changed."""
    out: dict[int, list[Any]] = defaultdict(list)
    table = table_of(model)
    for start in range(0, len(ids), 500):
        for row in run(select(*table.c).where(table.c.assignment_id.in_(ids[start:start + 500]))):
            out[row.assignment_id].append(row)
    return out


def _tags(cycle: ReviewCycle) -> dict[int, Tag]:
    return {t.id: t for t in db.session.scalars(select(Tag).where(Tag.id.in_(cycle.tag_ids or [-1])))}


def person_results(cycle: ReviewCycle, person: User, seed: int | None = None,
                   rows: list[ReviewAssignment] | None = None, tags: dict[int, Tag] | None = None,
                   feedback_ids: list[int] | None = None) -> PersonResults:
    """What the reviewee and their manager read (call may_read first); `rows`, `tags` and
    `feedback_ids` when the caller read them already (ResultsPage)."""
    rows = _submitted(cycle.id, [person.id]) if rows is None else rows
    ids = [r.id for r in rows]
    ratings, votes = _by_assignment(ReviewRating, ids), _by_assignment(ReviewTagVote, ids)
    comments = _by_assignment(ReviewComment, ids)
    tags = _tags(cycle) if tags is None else tags
    questions = list(cycle.questions)
    by_question = {q.id: q for q in questions}
    by_group: dict[str, list[ReviewAssignment]] = defaultdict(list)
    for row in rows:
        by_group[row.group].append(row)
    counts = {g: len(v) for g, v in by_group.items()}
    hidden, no_comments = person_cells(cycle, counts)
    # Shuffled with a seed of the cycle and person: the same order on every visit (reloading must
    # not reshuffle towards the order answers came in), and no order of arrival.
    rng = random.Random(seed if seed is not None else cycle.id * 1_000_003 + person.id)
    groups = []
    for group in GROUPS:
        if group not in cycle.groups:
            continue
        members = by_group.get(group, [])
        attributed = group in ATTRIBUTED
        shown = bool(members) and (attributed or group not in hidden)
        result = GroupResult(group=group, reviewers=len(members) if shown else 0, shown=shown)
        if shown:
            if attributed:
                result.attributed_to = [r.reviewer.name for r in members if r.reviewer is not None]
            _aggregate(result, members, questions, ratings, votes, tags)
            if attributed or group not in no_comments:
                result.comments_shown = True
                words = [(by_question[c.question_id], c.text) for r in members for c in comments.get(r.id, ())
                         if c.question_id in by_question]
                if not attributed:
                    rng.shuffle(words)
                result.comments = words
        groups.append(result)
    anonymous = [r for g in ANONYMOUS for r in by_group.get(g, [])]
    total_shown = bool(anonymous) and ALL not in hidden
    total = GroupResult(group=ALL, reviewers=len(anonymous) if total_shown else 0, shown=total_shown)
    if total_shown:
        _aggregate(total, anonymous, questions, ratings, votes, tags)
    return PersonResults(
        cycle=cycle, person=person, groups=groups, total=total,
        feedback_ids=cycle_feedback(cycle, person) if feedback_ids is None else feedback_ids,
        hidden_any=any(g in hidden for g in counts if g in ANONYMOUS) or ALL in hidden)


def cycle_feedback(cycle: ReviewCycle, person: User) -> list[int]:
    """The feedback shown beside a reviewee's results: what they received in the cycle's period."""
    start = (cycle.opened_at or cycle.created_at) - timedelta(days=180)
    return period_feedback(person, start, cycle.closed_at or cycle.closes_at)


def period_feedback(person: User, start: datetime, end: datetime, limit: int = 20) -> list[int]:
    """The feedback the person received in the cycle's period (ids; cards check who may read them)."""
    return list(db.session.scalars(select(Feedback.id).where(
        Feedback.recipient_id == person.id, Feedback.hidden.is_(False),
        Feedback.created_at >= start, Feedback.created_at <= end)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)))


# --- HR: aggregates by department -----------------------------------------------------------------

@dataclass
class OrgResults:
    cycle: ReviewCycle
    departments: list[Department]
    # (department id or None for everyone, group or ALL) -> result, only the cells that show
    cells: dict[tuple[int | None, str], GroupResult]
    hidden: set[tuple[int | None, str]]


def _subtree(departments: list[Department]) -> dict[int, set[int]]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for d in departments:
        children[d.parent_id].append(d.id)
    out: dict[int, set[int]] = {}

    def walk(root: int) -> set[int]:
        if root not in out:
            out[root] = {root}
            for child in children.get(root, ()):
                out[root] |= walk(child)
        return out[root]

    for d in departments:
        walk(d.id)
    return out


def org_cells(cycle: ReviewCycle, rows: list[ReviewAssignment], people: Mapping[int, User],
              departments: list[Department]) -> tuple[dict, dict, dict, dict]:
    """HR's candidate cells over (reviewee, group) classes that show on the reviewee's own page."""
    per_person: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.group in ANONYMOUS:
            per_person[row.reviewee_id][row.group] += 1
    sizes: dict[tuple[int, str], int] = {}
    threshold: dict[tuple[int, str], int] = {}
    for person_id, counts in per_person.items():
        hidden, _no_comments = person_cells(cycle, counts)
        for group, n in counts.items():
            if group not in hidden:
                sizes[(person_id, group)] = n
                threshold[(person_id, group)] = cycle.threshold(group)
    subtree = _subtree(departments)
    cells: dict[tuple[int | None, str], frozenset] = {}
    scopes: list[tuple[int | None, set[int] | None]] = [(None, None)] + [(d.id, subtree[d.id]) for d in departments]
    for dept_id, dept_ids in scopes:
        members = [k for k in sizes if dept_ids is None or (people.get(k[0]) is not None
                                                           and people[k[0]].department_id in dept_ids)]
        for group in (*ANONYMOUS, ALL):
            chosen = frozenset(k for k in members if group == ALL or k[1] == group)
            if chosen:
                cells[(dept_id, group)] = chosen
    return cells, sizes, threshold, per_person


def org_results(cycle: ReviewCycle) -> OrgResults:
    """Every department-and-group aggregate HR may read (call only for HR, on a finished cycle)."""
    rows = _submitted(cycle.id)
    departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({r.reviewee_id for r in rows} or {-1})))}
    cells, sizes, threshold, _per_person = org_cells(cycle, rows, people, departments)
    hidden = suppress(cells, sizes, threshold)
    ids = [r.id for r in rows]
    ratings, votes, tags = _by_assignment(ReviewRating, ids), _by_assignment(ReviewTagVote, ids), _tags(cycle)
    shown: dict[tuple[int | None, str], GroupResult] = {}
    for key, classes in cells.items():
        if key in hidden:
            continue
        members = [r for r in rows if (r.reviewee_id, r.group) in classes]
        result = GroupResult(group=key[1], reviewers=len(members), shown=True)
        _aggregate(result, members, list(cycle.questions), ratings, votes, tags)
        shown[key] = result
    return OrgResults(cycle=cycle, departments=departments, cells=shown, hidden=set(hidden))


# --- what a results page shows, as plain values -------------------------------------------------
# A reviewee's results page is kept per viewer (perfapp.core.pages): the view passes these frozen
# copies of PersonResults (texts in the page's language), never the rows themselves.

@dataclass(frozen=True)
class QuestionShown:
    position: int
    text: str
    anchors: tuple[str, ...]


@dataclass(frozen=True)
class DistributionShown:
    question: QuestionShown
    counts: tuple[int, ...]
    average: float

    @property
    def shares(self) -> list[int]:
        total = sum(self.counts) or 1
        return [round(100 * c / total) for c in self.counts]


@dataclass(frozen=True)
class GroupShown:
    group: str
    label: str
    reviewers: int
    shown: bool
    comments_shown: bool
    attributed_to: tuple[str, ...]
    questions: tuple[DistributionShown, ...]
    strengths: tuple[tuple[TagLabel, int], ...]
    growth: tuple[tuple[TagLabel, int], ...]
    comments: tuple[tuple[QuestionShown, str], ...]

    @classmethod
    def of(cls, result: GroupResult, label: str) -> GroupShown:
        def question(q: ReviewQuestion) -> QuestionShown:
            return QuestionShown(q.position, q.text, tuple(q.anchors or ()))

        return cls(result.group, label, result.reviewers, result.shown, result.comments_shown,
                   tuple(result.attributed_to),
                   tuple(DistributionShown(question(q.question), tuple(q.counts), q.average) for q in result.questions),
                   tuple((TagLabel.of(t), n) for t, n in result.strengths),
                   tuple((TagLabel.of(t), n) for t, n in result.growth),
                   tuple((question(q), text) for q, text in result.comments))


@dataclass(frozen=True)
class ResultsShown:
    person: PersonRef
    cycle_name: str
    for_pay: bool
    groups: tuple[GroupShown, ...]
    total: GroupShown
    hidden_any: bool

    @classmethod
    def of(cls, res: PersonResults, label: Callable[[str], str]) -> ResultsShown:
        return cls(PersonRef.of(res.person), res.cycle.name, res.cycle.for_pay,
                   tuple(GroupShown.of(g, label(g.group)) for g in res.groups),
                   GroupShown.of(res.total, label(res.total.group)), res.hidden_any)


class ResultsPage:
    """A reviewee's results for a kept page (perfapp.core.pages), worked out only when the page is
    rendered. They are a function of what `page_key` names: a finished cycle's answers, questions,
    thresholds and groups never change (answers are written once; an open cycle locks the rest),
    so the key is the submitted reviews (and the names shown of attributed reviewers), the tags'
    names, the cycle's name and the reviewee. A page found again reads no answer."""

    def __init__(self, cycle: ReviewCycle, person: User, label: Callable[[str], str]) -> None:
        self._cycle, self._person, self._label = cycle, person, label
        self._rows = _submitted(cycle.id, [person.id])
        self._tags = _tags(cycle)
        self._shown: ResultsShown | None = None

    def page_key(self) -> tuple[Any, ...]:
        cycle = self._cycle
        return (cycle.id, cycle.name, cycle.status, cycle.closed_at, cycle.for_pay, PersonRef.of(self._person),
                tuple((r.id, r.group, r.reviewer.name if r.reviewer is not None else None) for r in self._rows),
                tuple(TagLabel.of(t) for _i, t in sorted(self._tags.items())))

    def shown(self) -> ResultsShown:
        if self._shown is None:
            res = person_results(self._cycle, self._person, rows=self._rows, tags=self._tags, feedback_ids=[])
            self._shown = ResultsShown.of(res, self._label)
        return self._shown
