"""Recognition fixtures: a small organisation with departments, values and badges."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback.models import Tag
from perfapp.people.models import Department, User
from perfapp.recognition.models import Badge

# A minimal but real PNG header (signature + IHDR) and a WebP (RIFF/WEBP/VP8) header.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x000\x00\x00\x000\x08\x06\x00\x00\x00" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 64


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture(autouse=True)
def _recognition_config(app: Flask, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Uploads in a temporary folder; company-wide strips computed fresh on every request."""
    saved = {k: app.config.get(k) for k in ("UPLOAD_FOLDER", "WALL_STRIP_TTL", "ORG_TIMEZONE")}
    app.config.update(UPLOAD_FOLDER=str(tmp_path / "uploads"), WALL_STRIP_TTL=0)
    yield
    app.config.update(saved)


@dataclass
class Org:
    boss: User      # 王伟, manages lina and emma
    lina: User      # 李娜
    emma: User      # Emma Wilson
    zhang: User     # 张敏 (another department)
    hr: User
    gone: User      # deactivated
    value: Tag      # a value tag
    skill: Tag      # a capability tag (not allowed on flowers)
    anyone: Badge   # anyone may award, 2 a month
    managers: Badge
    holders: Badge
    hr_only: Badge
    departments: list[Department]


@pytest.fixture()
def org(make_user, make_tag) -> Org:  # type: ignore[no-untyped-def]
    rnd = Department(name_zh="研发", name_en="R&D")
    web = Department(name_zh="前端", name_en="Web", parent=rnd)
    sales = Department(name_zh="销售", name_en="Sales")
    db.session.add_all([rnd, web, sales])
    db.session.commit()
    boss = make_user(name="王伟", email="boss@example.com", department=rnd)
    lina = make_user(name="李娜", email="lina@example.com", manager=boss, department=web, locale="zh_Hans_CN")
    emma = make_user(name="Emma Wilson", email="emma@example.com", manager=boss, department=rnd, locale="en")
    zhang = make_user(name="张敏", email="zhang@example.com", department=sales)
    hr = make_user(name="Helen HR", email="hr@example.com", role="hr", locale="en")
    gone = make_user(name="Gone Person", email="gone@example.com", active=False)
    value = make_tag("Ownership", "担当", kind="value")
    skill = make_tag("Communication", "沟通", kind="capability")

    def badge(name: str, awarders: str, limit: int = 2, tag: Tag | None = None) -> Badge:
        b = Badge(name_zh=name, name_en=name, description_en=f"{name} badge", icon="star", colour="#e5484d",
                  awarders=awarders, monthly_limit=limit, tag_id=tag.id if tag else None)
        db.session.add(b)
        return b

    badges = [badge("Helper", "anyone", tag=value), badge("Coach", "managers"), badge("Guild", "holders"),
              badge("Hero", "hr")]
    db.session.commit()
    return Org(boss, lina, emma, zhang, hr, gone, value, skill, *badges, departments=[rnd, web, sales])
