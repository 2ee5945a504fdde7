"""the automatic badges exist from the start: their catalogue rows are data, not made on a page view

Until now the badge pages created the automatic badges' rows on first sight, a write on a GET.
The rows are inserted here (when missing), with the texts perfapp.recognition.rules.RULES had
when this was written; the write path (rules.earn) still creates a missing one. HR may edit
the texts afterwards, so downgrading leaves the rows.

Revision ID: 66fd5843c8ee
Revises: b3d7f2a9c1e6
Create Date: 2026-12-04 06:00:00.000000

"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '66fd5843c8ee'
down_revision = 'b3d7f2a9c1e6'
branch_labels = None
depends_on = None

# (rule, icon, colour, name_zh, name_en, description_zh, description_en)
RULES = (
    ("first-feedback", "message-square-heart", "#e5484d", "初次反馈", "First feedback",
     "送出了第一条反馈。", "Gave their first piece of feedback."),
    ("constructive-10", "sprout", "#30a46c", "成长伙伴", "Growth partner",
     "送出了 10 条建设性反馈，帮助同事成长。", "Gave 10 pieces of constructive feedback to help colleagues grow."),
    ("five-departments", "handshake", "#0090ff", "跨界之星", "Bridge builder",
     "收到了来自 5 个不同部门同事的小红花。", "Received flowers from colleagues in 5 different departments."),
    ("milestone", "milestone", "#8e4ec6", "里程碑功臣", "Milestone maker",
     "参与的项目达成了里程碑。", "Was on the team when a project milestone was reached."),
)

badge = sa.table(
    "badge", sa.column("rule", sa.String), sa.column("icon", sa.String), sa.column("colour", sa.String),
    sa.column("name_zh", sa.String), sa.column("name_en", sa.String), sa.column("description_zh", sa.String),
    sa.column("description_en", sa.String), sa.column("awarders", sa.String), sa.column("monthly_limit", sa.Integer),
    sa.column("active", sa.Boolean), sa.column("created_at", sa.DateTime),
)


def upgrade():
    conn = op.get_bind()
    have = set(conn.execute(sa.select(badge.c.rule).where(badge.c.rule.is_not(None))).scalars())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [dict(rule=rule, icon=icon, colour=colour, name_zh=zh, name_en=en, description_zh=dzh,
                 description_en=den, awarders="hr", monthly_limit=1, active=True, created_at=now)
            for rule, icon, colour, zh, en, dzh, den in RULES if rule not in have]
    if rows:
        op.bulk_insert(badge, rows)


def downgrade():
    pass
