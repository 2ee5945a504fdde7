"""Demo data for projects: owners, members' roles, and a retrospective under way on one milestone
(peer reviews from enough teammates that its aggregates show), written through the services as
people would."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.projects import reviews, services
from perfapp.projects.models import ProjectMember
from perfapp.projects.reviews import ReviewInput

ROLES = (("技术负责人", "Tech lead"), ("设计", "Design"), ("产品", "Product"), ("测试", "QA"), ("后端", "Backend"))
WENT_WELL = (("发布清单非常清楚，大家都知道下一步做什么。", "The launch checklist was clear; everyone knew the next step."),
             ("遇到阻塞时主动找人一起解决。", "Pulled people in as soon as something blocked."),
             ("代码评审又快又细。", "Code reviews were quick and careful."))
IMPROVE = (("演示可以更早分享给客户成功团队。", "Share the demo with customer success earlier."),
           ("会议纪要可以当天发出。", "Send the meeting notes the same day."), ("", ""))


def seed_demo_projects(org: Any) -> None:
    """Owners and roles on every demo project; on the employee's first project, its latest milestone
    reached two days ago with peer reviews from six teammates."""
    rng = org.rng
    for project in org.projects:
        owner = org.manager if org.manager in project.members else project.members[0]
        project.owner_id = owner.id
        for i, row in enumerate(db.session.scalars(
                select(ProjectMember).where(ProjectMember.project_id == project.id))):
            zh, en = ROLES[i % len(ROLES)]
            person = next(p for p in project.members if p.id == row.user_id)
            row.role = zh if org.lang(person) == "zh" else en
    db.session.flush()

    project = next(p for p in org.projects if org.employee in p.members)
    milestone = project.milestones[-1]
    milestone.reached_at = None
    # Reached through the service: members get the nudge to review, and the milestone badge.
    owner = db.session.get(User, project.owner_id)
    assert owner is not None, "every demo project has an owner"
    services.reach_milestone(owner, milestone)
    milestone.reached_at = org.now - timedelta(days=2)
    db.session.flush()
    members = [m for m in project.members if m.active]
    reviewers = [m for m in members if m is not org.employee][:6]
    for reviewer in reviewers:
        for reviewee in rng.sample([m for m in members if m is not reviewer], k=min(3, len(members) - 1)):
            lang = 0 if org.lang(reviewer) == "zh" else 1
            reviews.submit_review(reviewer, milestone, ReviewInput(
                reviewee_id=reviewee.id,
                answers={key: rng.choice((2, 3, 3, 1)) for key in reviews.QUESTIONS},
                went_well=rng.choice(WENT_WELL)[lang], improve=rng.choice(IMPROVE)[lang],
                visibility=rng.choice(("private", "manager")), confidential=rng.random() < 0.2), now=org.now)
    # Flowers given from the milestone's page: its retrospective shows them.
    from perfapp.recognition.flowers import (  # here: recognition imports projects
        FlowerInput,
        give_flowers,
    )

    for giver, receiver in zip(reviewers[:2], reviewers[1:3], strict=False):
        give_flowers(giver, FlowerInput(receiver_id=receiver.id, count=2, milestone_id=milestone.id,
                                        message="发布那天多亏有你" if org.lang(giver) == "zh" else "Launch day was calmer with you"))
    db.session.flush()
