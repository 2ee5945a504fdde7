"""Reviewer assignment as one balanced problem (a minimum-cost flow), not first come first served.

Every reviewee's open places in the solved groups (peers, cross-team partners) are filled at once:

    source ─(their minimum)→ (reviewee, group) ─(1, cost by evidence)→ reviewer ─(capacity)→ sink
                                 └──────────(shortfall, a large cost)──────────────────→ sink

A reviewer's capacity is what is left under both caps: the per-cycle cap minus what they already
write in this cycle, and the rolling cap minus their reviews and feedback requests of the last
30 days. Approved nominations are placed before the solve (they are respected, and use capacity);
pending proposals are the cheapest edges. Candidates are ranked by evidence of working together
(feedback exchanged, shared projects and milestones, shared meetings in the last 90 days), so
nomination order does not matter: the whole organisation is solved at once.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import networkx as nx
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackAsk
from perfapp.meetings.models import Meeting, MeetingAttendee
from perfapp.people.models import User
from perfapp.projects.models import Milestone, Project, ProjectMember
from perfapp.reviews.models import ATTRIBUTED, SOLVED, ReviewAssignment, ReviewCycle

EVIDENCE_DAYS = 90
ROLLING_DAYS = 30
# Edge costs: an accepted proposal is cheapest, then the strongest evidence; a place left empty
# costs more than any edge, so the solver fills every place it can before it minimises cost.
PROPOSED_COST = 0
NO_EVIDENCE_COST = 100
SHORTFALL_COST = 10_000
OVER_SHARE_COST = 30  # a review above a reviewer's fair share (see solve)
MAX_CANDIDATES = 40  # per reviewee and group considered at all
# Edges per place in the flow: the best few per place are enough to balance (network simplex grows
# faster than linearly with edges; 40 a slot made 10,000 reviewees take minutes).
EDGES_PER_PLACE = 3
MIN_EDGES = 8

Pair = tuple[int, int]


def evidence(person_ids: Iterable[int] | None, now: datetime) -> dict[Pair, int]:
    """How much each pair of people worked together lately (symmetric; (a, b) with a < b).

    Feedback exchanged counts 3 a piece, a shared active project 2 (+1 per milestone of it due or
    reached in the period), a shared meeting 1."""
    since = now - timedelta(days=EVIDENCE_DAYS)
    scores: Counter[Pair] = Counter()

    def add(rows: Iterable[tuple[int, int, int]], weight: int) -> None:
        for a, b, n in rows:
            if a != b:
                scores[(a, b) if a < b else (b, a)] += weight * int(n)

    add(db.session.execute(
        select(Feedback.author_id, Feedback.recipient_id, func.count())
        .where(Feedback.created_at >= since, Feedback.hidden.is_(False))
        .group_by(Feedback.author_id, Feedback.recipient_id)), 3)
    other = aliased(ProjectMember)
    recent_milestones = (select(Milestone.project_id, func.count().label("n"))
                         .where(func.coalesce(Milestone.reached_at, Milestone.due_date) >= since)
                         .group_by(Milestone.project_id).subquery())
    add(db.session.execute(
        select(ProjectMember.user_id, other.user_id, 1 + func.coalesce(func.max(recent_milestones.c.n), 0) / 2)
        .join(other, and_(other.project_id == ProjectMember.project_id, other.user_id > ProjectMember.user_id))
        .join(Project, Project.id == ProjectMember.project_id)
        .outerjoin(recent_milestones, recent_milestones.c.project_id == Project.id)
        .where(Project.archived.is_(False))
        .group_by(ProjectMember.user_id, other.user_id)), 2)
    other_attendee = aliased(MeetingAttendee)
    add(db.session.execute(
        select(MeetingAttendee.user_id, other_attendee.user_id, func.count())
        .join(other_attendee, and_(other_attendee.meeting_id == MeetingAttendee.meeting_id,
                                   other_attendee.user_id > MeetingAttendee.user_id))
        .join(Meeting, Meeting.id == MeetingAttendee.meeting_id)
        .where(Meeting.starts_at >= since, Meeting.starts_at <= now)
        .group_by(MeetingAttendee.user_id, other_attendee.user_id)), 1)
    if person_ids is not None:
        wanted = set(person_ids)
        return {p: s for p, s in scores.items() if p[0] in wanted or p[1] in wanted}
    return dict(scores)


def rolling_load(now: datetime, exclude_cycle_id: int | None = None) -> Counter[int]:
    """Reviews asked of each person (other cycles) and feedback requests sent to them, last 30 days."""
    since = now - timedelta(days=ROLLING_DAYS)
    load: Counter[int] = Counter()
    rows = db.session.execute(
        select(ReviewAssignment.reviewer_id, func.count())
        .where(ReviewAssignment.created_at >= since, ReviewAssignment.reviewer_id.is_not(None),
               ReviewAssignment.status != "declined", ReviewAssignment.group.not_in(ATTRIBUTED),
               ReviewAssignment.cycle_id != (exclude_cycle_id or -1))
        .group_by(ReviewAssignment.reviewer_id))
    for person, n in rows:
        if person is not None:  # not selected (the query keeps people)
            load[person] += n
    from perfapp.feedback.models import FeedbackRequest

    rows = db.session.execute(
        select(FeedbackAsk.recipient_id, func.count())
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .where(FeedbackRequest.created_at >= since).group_by(FeedbackAsk.recipient_id))
    for person, n in rows:
        if person is not None:  # not selected (the query keeps people)
            load[person] += n
    return load


# --- the problem, as plain data (the solver knows nothing of the database) ------------------------

@dataclass
class Problem:
    # (reviewee, group) -> how many more reviewers that group needs
    demand: dict[tuple[int, str], int]
    # (reviewee, group) -> [(reviewer, cost)], best first
    candidates: dict[tuple[int, str], list[tuple[int, int]]]
    # reviewer -> how many more reviews they can take
    capacity: dict[int, int]


@dataclass
class Solution:
    chosen: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    short: dict[tuple[int, str], int] = field(default_factory=dict)


def _edges(problem: Problem, slot: tuple[int, str], need: int, capacity: dict[int, int]) -> list[tuple[int, int]]:
    usable = [(r, c) for r, c in problem.candidates.get(slot, ())[:MAX_CANDIDATES]
              if capacity.get(r, 0) > 0 and r != slot[0]]
    return usable[:max(MIN_EDGES, EDGES_PER_PLACE * need)]


def _components(slots: list[tuple[tuple[int, str], int, list[tuple[int, int]]]]) -> list[list[Any]]:
    """Slots that share no candidate are independent problems (peers: one per team, mostly)."""
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for slot, _need, edges in slots:
        for reviewer, _cost in edges:
            parent[find(("e", *slot))] = find(("r", reviewer))
    groups: dict[object, list[Any]] = defaultdict(list)
    for item in slots:
        groups[find(("e", *item[0]))].append(item)
    return list(groups.values())


def _solve_one(slots: list[Any], capacity: dict[int, int], soft: dict[int, int], solution: Solution) -> None:
    graph: nx.DiGraph[Any] = nx.DiGraph()
    total = sum(need for _slot, need, _edges in slots)
    graph.add_node("s", demand=-total)
    graph.add_node("t", demand=total)
    reviewers: set[int] = set()
    for slot, need, edges in slots:
        node = ("e", *slot)
        graph.add_edge("s", node, capacity=need, weight=0)
        graph.add_edge(node, "t", capacity=need, weight=SHORTFALL_COST)
        for reviewer, cost in edges:
            graph.add_edge(node, ("r", reviewer), capacity=1, weight=cost)
            reviewers.add(reviewer)
    for reviewer in reviewers:
        # Up to the fair share a reviewer costs nothing more; above it (up to the cap) each review
        # costs as much as a fair amount of evidence, so load spreads out instead of piling up.
        fair = min(capacity[reviewer], soft.get(reviewer, 0))
        if fair > 0:
            graph.add_edge(("r", reviewer), "t", capacity=fair, weight=0)
        if capacity[reviewer] > fair:
            graph.add_edge(("r", reviewer), ("o", reviewer), capacity=capacity[reviewer] - fair, weight=OVER_SHARE_COST)
            graph.add_edge(("o", reviewer), "t", capacity=capacity[reviewer] - fair, weight=0)
    _cost, flow = nx.network_simplex(graph)
    for slot, _need, _edges in slots:
        out = flow.get(("e", *slot), {})
        picked = [target[1] for target, amount in out.items() if target != "t" and amount > 0]
        for reviewer in picked:
            capacity[reviewer] -= 1
            soft[reviewer] = soft.get(reviewer, 0) - 1
        solution.chosen[slot] = picked
        if out.get("t", 0):
            solution.short[slot] = out["t"]


def solve(problem: Problem, progress: Callable[[float], None] | None = None) -> Solution:
    """Fill every demand it can with at most `capacity` per reviewer, at the least total cost.

    One group at a time (peers, then partners, with what capacity the peers left), and within a
    group each independent part on its own: peers fall apart into teams, which keeps a 10,000-person
    organisation within a minute (one graph of everything took longer, for the same answer on peers)."""
    capacity = dict(problem.capacity)
    # The fair share: the places to fill spread evenly over everyone who can still take reviews.
    able = sum(1 for c in capacity.values() if c > 0) or 1
    share = max(1, math.ceil(sum(problem.demand.values()) / able))
    soft = dict.fromkeys(capacity, share)
    solution = Solution()
    order = {g: i for i, g in enumerate(SOLVED)}
    groups = sorted({slot[1] for slot in problem.demand}, key=lambda g: order.get(g, len(order)))
    for step, group in enumerate(groups):
        slots = [(slot, need, _edges(problem, slot, need, capacity))
                 for slot, need in problem.demand.items() if slot[1] == group and need > 0]
        for part in _components(slots):
            _solve_one(part, capacity, soft, solution)
        if progress:
            progress(0.4 + 0.4 * (step + 1) / len(groups))
    return solution


# --- building the problem from a cycle ----------------------------------------------------------

@dataclass
class Context:
    """Everything about the organisation the cycle's assignment looks at."""

    reviewees: list[User]
    people: dict[int, User]
    evidence: dict[Pair, int]
    cycle_load: Counter[int]
    rolling: Counter[int]
    existing: dict[int, dict[int, ReviewAssignment]]  # reviewee -> reviewer -> row
    by_department: dict[int, list[int]] = field(default_factory=dict)
    by_manager: dict[int, list[int]] = field(default_factory=dict)
    # Plain ints (reading ORM attributes millions of times was most of the build).
    manager_of: dict[int, int | None] = field(default_factory=dict)
    department_of: dict[int, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        departments: dict[int, list[int]] = defaultdict(list)
        managers: dict[int, list[int]] = defaultdict(list)
        for pid, person in self.people.items():
            self.manager_of[pid], self.department_of[pid] = person.manager_id, person.department_id
            if person.department_id is not None:
                departments[person.department_id].append(pid)
            if person.manager_id is not None:
                managers[person.manager_id].append(pid)
        self.by_department, self.by_manager = dict(departments), dict(managers)


def load_context(cycle: ReviewCycle, reviewees: list[User], now: datetime) -> Context:
    people = {u.id: u for u in db.session.scalars(select(User).where(User.active.is_(True)))}
    rows = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id))
    existing: dict[int, dict[int, ReviewAssignment]] = defaultdict(dict)
    cycle_load: Counter[int] = Counter()
    for row in rows:
        if row.reviewer_id is not None:
            existing[row.reviewee_id][row.reviewer_id] = row
            if row.counts_toward_load and row.source != "solver":
                cycle_load[row.reviewer_id] += 1
    return Context(reviewees=reviewees, people=people, evidence=evidence(None, now), cycle_load=cycle_load,
                   rolling=rolling_load(now, cycle.id), existing=existing)


def capacity_of(cycle: ReviewCycle, ctx: Context, person_id: int) -> int:
    """How many more reviews this person can be asked for in this cycle."""
    return max(0, min(cycle.cycle_cap - ctx.cycle_load[person_id],
                      cycle.rolling_cap - ctx.rolling[person_id] - ctx.cycle_load[person_id]))


def candidates_for(cycle: ReviewCycle, ctx: Context, reviewee: User, group: str,
                   partners_of: dict[int, list[tuple[int, int]]] | None = None) -> list[tuple[int, int]]:
    """(reviewer id, cost) for one reviewee and group, best first: evidenced colleagues of the same
    team for peers, of other teams for partners; for peers, then the rest of the team with no
    evidence (in a large department a window of it that moves with the reviewee, so the same few
    are not everyone's fallback)."""
    me, manager, department = reviewee.id, ctx.manager_of.get(reviewee.id), ctx.department_of.get(reviewee.id)
    mine = ctx.existing.get(me, {})
    taken = set(mine)  # already reviewing them, proposed, or declined (the solver's last proposal is gone)

    def eligible(pid: int) -> bool:
        return pid != me and pid != manager and ctx.manager_of.get(pid) != me and pid not in taken

    def same_team(pid: int) -> bool:
        return (department is not None and ctx.department_of.get(pid) == department) or \
            (manager is not None and ctx.manager_of.get(pid) == manager)

    ranked: dict[int, int] = {}
    for other, score in (partners_of or {}).get(me, []):
        if other in ctx.manager_of and eligible(other) and same_team(other) == (group == "peers"):
            ranked[other] = max(1, NO_EVIDENCE_COST - min(score, NO_EVIDENCE_COST - 1))
    if group == "peers":
        team = list(ctx.by_manager.get(manager, ())) if manager is not None else []
        members = ctx.by_department.get(department, []) if department is not None else []
        if len(members) > MAX_CANDIDATES:
            start = members.index(me) if me in members else me % len(members)
            members = (members[start:] + members[:start])[:MAX_CANDIDATES]
        for other in [*team, *members]:
            if eligible(other):
                ranked.setdefault(other, NO_EVIDENCE_COST)
    for rid, row in mine.items():  # a pending proposal is the cheapest way to fill the place
        if row.status == "proposed" and row.group == group:
            ranked[rid] = PROPOSED_COST
    return sorted(ranked.items(), key=lambda item: (item[1], item[0]))


def neighbours(ev: dict[Pair, int]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (a, b), score in ev.items():
        out[a].append((b, score))
        out[b].append((a, score))
    return out


def build_problem(cycle: ReviewCycle, ctx: Context) -> Problem:
    near = neighbours(ctx.evidence)
    demand: dict[tuple[int, str], int] = {}
    candidates: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for reviewee in ctx.reviewees:
        mine = ctx.existing.get(reviewee.id, {})
        for group in (g for g in cycle.groups if g in ("peers", "partners")):
            kept = sum(1 for row in mine.values()
                       if row.group == group and row.status in ("approved", "submitted") and row.source != "solver")
            need = cycle.minimum(group) - kept
            if need > 0:
                demand[(reviewee.id, group)] = need
                candidates[(reviewee.id, group)] = candidates_for(cycle, ctx, reviewee, group, near)
    capacity = {pid: capacity_of(cycle, ctx, pid) for pid in ctx.people}
    return Problem(demand=demand, candidates=candidates, capacity=capacity)


def explain_short(problem: Problem, slot: tuple[int, str]) -> str:
    """Why a reviewee was left short: "few" (not enough colleagues to ask) or "caps" (they were full)."""
    available = [c for c, _cost in problem.candidates.get(slot, ())]
    return "few" if len(available) < problem.demand.get(slot, 0) else "caps"
