"""Results by group, and that nothing shown lets anyone work out a group below its threshold.

Whatever a viewer sees is a set of aggregates; adding and subtracting them can isolate exactly the
*atoms* (answers that fall in the same shown aggregates). So the check is: over everything one
person could ever see (the reviewee's page, the manager's page for every report, HR's page for every
filter pair: a viewer who is all three), every atom holds at least its threshold of answers, and
every pair of shown aggregates where one contains the other differs by 0 or by at least the
threshold. Brute force on a fixture organisation, and a hypothesis property over random ones.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import combinations
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import Department
from perfapp.reviews import results, services
from perfapp.reviews.models import ANONYMOUS, THRESHOLD_FLOOR, ReviewAssignment, ReviewCycle
from perfapp.reviews.services import AnswerInput


def visible_sets(cycle, rows, people, departments) -> list[tuple[str, frozenset, int]]:  # type: ignore[no-untyped-def]
    """(label, answer ids, threshold) of every aggregate shown to someone who sees it all."""
    by_person: dict[int, list] = defaultdict(list)
    for row in rows:
        if row.group in ANONYMOUS:
            by_person[row.reviewee_id].append(row)
    shown: list[tuple[str, frozenset, int]] = []
    for person_id, mine in by_person.items():
        counts: dict[str, int] = defaultdict(int)
        for row in mine:
            counts[row.group] += 1
        hidden, _ = results.person_cells(cycle, counts)
        for group in counts:
            if group not in hidden:
                shown.append((f"{person_id}:{group}", frozenset(r.id for r in mine if r.group == group),
                              cycle.threshold(group)))
        if results.ALL not in hidden:
            shown.append((f"{person_id}:all", frozenset(r.id for r in mine),
                          max(cycle.threshold(g) for g in counts)))
    cells, sizes, threshold, _ = results.org_cells(cycle, rows, people, departments)
    hidden_cells = results.suppress(cells, sizes, threshold)
    for key, classes in cells.items():
        if key not in hidden_cells:
            ids = frozenset(r.id for r in rows if (r.reviewee_id, r.group) in classes)
            shown.append((f"hr:{key}", ids, max(threshold[c] for c in classes)))
    return shown


def assert_nothing_small_derivable(cycle, rows, people, departments) -> None:  # type: ignore[no-untyped-def]
    shown = visible_sets(cycle, rows, people, departments)
    group_of = {r.id: r.group for r in rows}
    # Every pair of filters: a difference is empty or big enough.
    for (la, a, _ta), (lb, b, _tb) in combinations(shown, 2):
        for big, small in ((a, b), (b, a)):
            if small <= big:
                diff = big - small
                need = max((cycle.threshold(group_of[i]) for i in diff), default=0)
                assert not diff or len(diff) >= max(THRESHOLD_FLOOR, need), (la, lb, len(diff))
    # Every atom of everything shown (what any combination of additions and subtractions isolates).
    membership: dict[int, set[str]] = defaultdict(set)
    for label, ids, _t in shown:
        for i in ids:
            membership[i].add(label)
    atoms: dict[frozenset, set[int]] = defaultdict(set)
    for i, labels in membership.items():
        atoms[frozenset(labels)].add(i)
    for labels, ids in atoms.items():
        need = max(cycle.threshold(group_of[i]) for i in ids)
        assert len(ids) >= max(THRESHOLD_FLOOR, need), (sorted(labels), len(ids))


def test_suppress_hides_the_next_smallest_group() -> None:
    # Peers 2 (below 5): hidden; the total would give them away by subtraction, so the smallest
    # other group (partners, 5) goes too; reports (9) and the total stay.
    counts = {"peers": 2, "partners": 5, "reports": 9}
    cycle = ReviewCycle(thresholds={})
    hidden, no_comments = results.person_cells(cycle, counts)
    assert hidden == {"peers", "partners"}
    assert no_comments >= hidden


def test_a_total_of_too_few_is_hidden_too() -> None:
    cycle = ReviewCycle(thresholds={})
    hidden, _ = results.person_cells(cycle, {"peers": 2, "reports": 1})
    assert hidden == {"peers", "reports", results.ALL}


# --- on a fixture organisation, through the real pages' services -----------------------------------

def _answer_all(cycle, rows) -> None:  # type: ignore[no-untyped-def]
    rating = cycle.questions[0]
    for i, row in enumerate(rows):
        services.answer(row.reviewer, row, AnswerInput(ratings={rating.id: 1 + i % 5}, comments={
            cycle.questions[1].id: f"comment {row.id}"}))


def test_brute_force_over_all_filter_pairs_on_a_fixture_organisation(org, make_user) -> None:
    eng = org["eng"]
    platform = Department(name_zh="平台组", name_en="Platform", parent_id=eng.id)
    db.session.add(platform)
    db.session.commit()
    extra = [make_user(name=f"Pat {i}", manager=org["manager"], department=platform) for i in range(3)]
    cycle = services.create_cycle(org["hr"], _input())
    db.session.commit()
    team = org["team"] + extra
    # Lina (team[0]) gets 6 peers, 2 partners (hidden, and the next-smallest hidden with them),
    # her manager gets 10 direct reports, Pat 0 gets 3 peers (hidden), Sam 0 gets 5 partners.
    plan = [(team[0], p, "peers") for p in team[1:7]] + [(team[0], s, "partners") for s in org["sales"]]
    plan += [(extra[0], p, "peers") for p in team[:3]] + [(org["sales"][0], p, "partners") for p in team[:5]]
    for reviewee, reviewer, group in plan:
        services.manager_add(org["hr"], cycle, reviewee, reviewer, group)
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    rows = list(db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id,
                                                                  ReviewAssignment.reviewer_id.is_not(None))))
    _answer_all(cycle, rows)
    services.close_cycle(org["hr"], cycle)
    db.session.commit()
    rows = results._submitted(cycle.id)
    departments = list(db.session.scalars(select(Department)))
    people = {u.id: u for u in [org["manager"], org["director"], *team, *org["sales"]]}
    assert_nothing_small_derivable(cycle, rows, people, departments)

    lina = results.person_results(cycle, team[0])
    shown = {g.group: g for g in lina.groups}
    # Partners (2) are hidden; the total would give them away, so the next-smallest group goes too.
    assert not shown["partners"].shown and not shown["peers"].shown and lina.hidden_any
    assert shown["manager"].shown and shown["manager"].attributed_to == [org["manager"].name]
    assert shown["self"].shown
    assert lina.total.shown and lina.total.reviewers == 8  # includes the hidden partners, safely
    assert shown["peers"].comments == [] and shown["partners"].comments == []
    assert lina.total.questions[0].total == 8  # a distribution, not only an average
    boss = results.person_results(cycle, org["manager"])
    reports = next(g for g in boss.groups if g.group == "reports")
    assert reports.shown and reports.reviewers == 10 and reports.comments_shown
    assert len(reports.comments) == 10 and all(text.startswith("comment") for _q, text in reports.comments)
    assert sum(reports.questions[0].counts) == 10

    org_view = results.org_results(cycle)
    for key, cell in org_view.cells.items():
        assert cell.reviewers >= 5, key


def _input():  # type: ignore[no-untyped-def]
    from tests.reviews.conftest import cycle_input

    return cycle_input()


# --- random organisations --------------------------------------------------------------------------

@st.composite
def organisations(draw):  # type: ignore[no-untyped-def]
    n_depts = draw(st.integers(1, 4))
    departments = [SimpleNamespace(id=1, parent_id=None)]
    for d in range(2, n_depts + 1):
        departments.append(SimpleNamespace(id=d, parent_id=draw(st.integers(1, d - 1))))
    n_people = draw(st.integers(1, 10))
    people = {p: SimpleNamespace(id=p, department_id=draw(st.integers(1, n_depts))) for p in range(1, n_people + 1)}
    thresholds = {g: {"scores": draw(st.integers(3, 6)), "comments": 5} for g in ANONYMOUS}
    rows = []
    for reviewee in people:
        for group in ANONYMOUS:
            for _ in range(draw(st.integers(0, 8))):
                rows.append(SimpleNamespace(id=len(rows) + 1, reviewee_id=reviewee, group=group))
    return ReviewCycle(thresholds=thresholds), rows, people, departments


@settings(max_examples=150, deadline=None)
@given(organisations())
def test_nothing_below_a_threshold_is_derivable_in_random_organisations(case) -> None:  # type: ignore[no-untyped-def]
    cycle, rows, people, departments = case
    assert_nothing_small_derivable(cycle, rows, people, departments)


def test_results_are_seeded_not_in_arrival_order(org, cycle) -> None:
    # The shuffle is stable per cycle and person (reloads don't reshuffle towards arrival order).
    assert cycle.closes_at - cycle.nominations_close_at > timedelta(0)
