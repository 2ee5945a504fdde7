"""Demo data for review cycles: a finished 360 of the platform team (results to read, with a
cross-team group too small to show) and an open one with reviews still to write. Run from
perfapp.seed.demo after meetings."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from perfapp.extensions import db
from perfapp.reviews import services
from perfapp.reviews.models import ReviewAssignment, ReviewCycle
from perfapp.reviews.services import AnswerInput, CycleInput, QuestionInput

ANCHORS_ZH = ["很少做到", "有时做到", "通常做到", "几乎总是", "堪称榜样"]
ANCHORS_EN = ["Rarely", "Sometimes", "Usually", "Almost always", "A model for others"]
WORDS = (("方案讲得很清楚，评审很顺。", "Explains designs clearly; reviews go smoothly."),
         ("可以更早把风险说出来。", "Could raise risks earlier."),
         ("帮新人很多，谢谢！", "Helps newcomers a lot — thank you!"),
         ("代码质量高，测试全。", "High-quality code with good tests."),
         ("希望多分享一些经验。", "Would love more knowledge sharing."),
         ("跨组沟通主动。", "Reaches out across teams."))


def _questions() -> list[QuestionInput]:
    anchors = [f"{zh} {en}" for zh, en in zip(ANCHORS_ZH, ANCHORS_EN, strict=True)]
    return [QuestionInput("rating", "说到做到 Delivers what they commit to", anchors),
            QuestionInput("rating", "成就他人 Helps others succeed", anchors),
            QuestionInput("text", "继续做什么？可以尝试什么？ What to keep doing, what to try next?")]


def _answer_everything(org: Any, cycle: ReviewCycle, rows: list[ReviewAssignment], when: Any) -> None:
    rng = org.rng
    tag_ids = cycle.tag_ids
    for row in rows:
        reviewer = row.reviewer
        if reviewer is None:  # a customer answers through a link (the rows given have a reviewer)
            continue
        zh, en = rng.choice(WORDS)
        ratings = {q.id: rng.choice((3, 4, 4, 5)) for q in cycle.questions if q.kind == "rating"}
        comments = {q.id: zh if org.lang(reviewer) == "zh" else en for q in cycle.questions if q.kind == "text"}
        services.answer(reviewer, row, AnswerInput(
            ratings=ratings, comments=comments, strengths=rng.sample(tag_ids, min(2, len(tag_ids))),
            growth=rng.sample(tag_ids, min(1, len(tag_ids)))), now=when)


def seed_demo_reviews(org: Any) -> None:
    """A finished cycle (results for the employee and the manager) and an open one."""
    hr, employee, manager = org.people["hr"], org.employee, org.manager
    platform = org.departments["platform"]
    team = [p for p in org.team["platform"] if p.id not in (manager.id,)]
    tags = [t.id for t in org.tags if t.kind in ("capability", "value")][:6]
    others = [p for p in org.everyone if p.department_id != platform.id and p.active]

    # The finished one: four months ago.
    start = org.now - timedelta(days=130)
    done = services.create_cycle(hr, CycleInput(
        name="2026 上半年 360 · H1 360", scope="departments", scope_ids=[platform.id],
        groups=["self", "manager", "peers", "reports", "partners", "customers"],
        minimums={"peers": 5, "partners": 2},
        tag_ids=tags, nominations_close_at=start + timedelta(days=7), closes_at=start + timedelta(days=21),
        questions=_questions()), now=start)
    db.session.flush()
    peers = [p for p in team if p.id != employee.id][:6]
    for peer in peers:
        services.manager_add(hr, done, employee, peer, "peers", now=start)
    for partner in others[:2]:  # two cross-team partners: below the threshold, not shown
        services.manager_add(hr, done, employee, partner, "partners", now=start)
    services.open_cycle(hr, done, now=start + timedelta(days=8))
    rows = list(db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == done.id,
                                                                  ReviewAssignment.reviewer_id.is_not(None))))
    _answer_everything(org, done, rows, start + timedelta(days=12))
    # Five customers answered through their links: with the two partners hidden, the total would
    # give them away, so this next-smallest group is held back too (the results page says so).
    for i in range(5):
        _row, token = services.create_customer_link(employee, done, employee, f"客户 Client {i + 1}",
                                                    now=start + timedelta(days=8))
        services.customer_answer(token, AnswerInput(
            ratings={q.id: org.rng.choice((4, 5)) for q in done.questions if q.kind == "rating"}),
            now=start + timedelta(days=9))
    services.close_cycle(hr, done, now=start + timedelta(days=21))
    done.created_at = start
    db.session.execute(update(ReviewAssignment).where(ReviewAssignment.cycle_id == done.id)
                       .values(created_at=start))

    # The open one: the employee has colleagues' reviews to write.
    opened = org.now - timedelta(days=3)
    live = services.create_cycle(hr, CycleInput(
        name="2026 下半年 360 · H2 360", scope="departments", scope_ids=[platform.id],
        groups=["self", "manager", "peers", "partners", "customers"], minimums={"peers": 5, "partners": 2},
        tag_ids=tags, nominations_close_at=opened, closes_at=org.now + timedelta(days=10),
        questions=_questions()), now=opened - timedelta(days=7))
    db.session.flush()
    for reviewee in [p for p in team if p.id != employee.id][:3]:
        services.manager_add(hr, live, reviewee, employee, "peers", now=opened)
    services.open_cycle(hr, live, now=opened)
    live.created_at = opened - timedelta(days=7)
    db.session.flush()


def load_reviews(org: Any, rng: Any, writer: Any, tag_ids: list[int]) -> None:
    """`seed-load`: a finished 360 of the whole organisation, four months ago, every review answered,
    so each person has results to read (the load benchmark's "results" page). Self, manager, up to
    six teammates as peers and, for managers, their reports; ~9 answers a person. Bulk inserts."""
    import json

    from perfapp.core.db import table_of, utcnow
    from perfapp.reviews.models import ReviewComment, ReviewQuestion, ReviewRating, ReviewTagVote

    reports: dict[int, list[int]] = {}
    for person in range(1, org.people + 1):
        if org.manager[person]:
            reports.setdefault(org.manager[person], []).append(person)
    start = utcnow().replace(microsecond=0) - timedelta(days=130)
    opened, closed = start + timedelta(days=8), start + timedelta(days=21)
    tags = tag_ids[:6]
    writer.write_chunked(table_of(ReviewCycle), (
        "id", "name", "status", "purpose", "scope", "scope_ids", "groups", "thresholds", "minimums", "tag_ids",
        "cycle_cap", "rolling_cap", "nominations_close_at", "closes_at", "created_by_id", "created_at", "opened_at",
        "closed_at"), [(
            1, "2026 上半年 360 · H1 360", "closed", "development", "everyone", "[]",
            json.dumps(["self", "manager", "peers", "reports"]), "{}", json.dumps({"peers": 5}), json.dumps(tags),
            6, 12, writer.stamp(start + timedelta(days=7)), writer.stamp(closed), org.demo_ids["hr"],
            writer.stamp(start), writer.stamp(opened), writer.stamp(closed))])
    questions = _questions()
    writer.write_chunked(table_of(ReviewQuestion), ("id", "cycle_id", "position", "kind", "text", "anchors"),
                         [(i, 1, i - 1, q.kind, q.text, json.dumps(q.anchors, ensure_ascii=False))
                          for i, q in enumerate(questions, start=1)])
    rating_ids = [i for i, q in enumerate(questions, start=1) if q.kind == "rating"]
    text_ids = [i for i, q in enumerate(questions, start=1) if q.kind == "text"]

    created, submitted = writer.stamp(start), writer.stamp(start + timedelta(days=12))
    rows: list[tuple[Any, ...]] = []
    ratings: list[tuple[int, int, int]] = []
    comments: list[tuple[int, int, str]] = []
    votes: list[tuple[int, int, bool]] = []
    random_ = rng.random  # ~360,000 draws for 10,000 people: random() costs a fifth of randint()

    def add(reviewee: int, reviewer: int, group: str, source: str) -> None:
        aid = len(rows) + 1
        rows.append((aid, 1, reviewee, reviewer, group, "submitted", source, "", "", submitted, created))
        ratings.extend((aid, q, 3 + int(random_() * 3)) for q in rating_ids)
        if random_() < 0.6:
            zh, en = WORDS[int(random_() * len(WORDS))]
            comments.extend((aid, q, zh if org.zh[reviewer] else en) for q in text_ids)
        if tags and random_() < 0.5:
            votes.append((aid, tags[int(random_() * len(tags))], True))

    for person in range(1, org.people + 1):
        add(person, person, "self", "organisation")
        boss = org.manager[person]
        if boss:
            add(person, boss, "manager", "organisation")
            add_peers = [p for p in reports[boss] if p != person][:6]
            for peer in add_peers:
                add(person, peer, "peers", "solver")
        for report in reports.get(person, ()):
            add(person, report, "reports", "organisation")
    writer.write_chunked(table_of(ReviewAssignment), (
        "id", "cycle_id", "reviewee_id", "reviewer_id", "group", "status", "source", "decline_reason",
        "customer_name", "submitted_at", "created_at"), rows)
    writer.write_chunked(table_of(ReviewRating), ("assignment_id", "question_id", "value"), ratings)
    writer.write_chunked(table_of(ReviewComment), ("assignment_id", "question_id", "text"), comments)
    writer.write_chunked(table_of(ReviewTagVote), ("assignment_id", "tag_id", "strength"), votes)
