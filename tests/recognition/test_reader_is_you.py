"""Messages to the reader say you/你, never the reader's own name in the third person.

The cards (feed, flowers, badges) are covered with their fragment keys; these are the pages
rendered per viewer: a badge's holders, one's own citations, stories, customer praise, profiles.
"""
from __future__ import annotations

import re
from html import unescape

import pytest

from perfapp.extensions import db
from perfapp.recognition.badges import AwardInput, award_badge
from perfapp.stories import services as stories

LANGS = [("en", "You", "My badges", "My profile"), ("zh-CN", "你", "我的徽章", "我的主页")]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)  # type: ignore[union-attr]


def between(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


@pytest.fixture()
def awarded(org):  # type: ignore[no-untyped-def]
    """李娜 (no locale: the browser's language) and Emma each hold Helper, from 王伟."""
    org.lina.locale = None
    for person in (org.lina, org.emma):
        award_badge(org.boss, AwardInput(org.anyone.id, person.id, "谢谢你"))
    db.session.commit()
    return org


@pytest.mark.parametrize(("lang", "you", "my_badges", "my_profile"), LANGS)
def test_a_badge_page_and_my_citations_say_you(awarded, login, lang, you, my_badges, my_profile) -> None:
    org = awarded
    c = login(org.lina)
    headers = {"Accept-Language": lang}
    page = text(c.get(f"/walls/badges/{org.anyone.id}", headers=headers))
    mine = between(page, f'id="holder-{org.lina.id}"', "</article>")
    assert f">{you}</a>" in mine and "李娜" not in mine.split('class="fb-names"')[1]
    emma = between(page, f'id="holder-{org.emma.id}"', "</article>")
    assert ">Emma Wilson</a>" in emma

    page = text(c.get(f"/walls/people/{org.lina.id}/badges/{org.anyone.id}", headers=headers))
    assert my_badges in title(page) and "李娜" not in title(page)
    assert "李娜" not in between(page, 'class="card bw-head"', "</section>")
    # Someone else's citations keep their name.
    other = text(c.get(f"/walls/people/{org.emma.id}/badges/{org.anyone.id}", headers=headers))
    assert "Emma Wilson" in title(other)

    assert title(text(c.get(f"/people/{org.lina.id}", headers=headers))).startswith(my_profile)
    # My own wall is titled as its tab is named.
    assert title(text(c.get(f"/walls/people/{org.lina.id}", headers=headers))).startswith(my_badges)
    assert title(text(c.get(f"/people/{org.emma.id}", headers=headers))).startswith("Emma Wilson")


@pytest.mark.parametrize(("lang", "you", "my_badges", "my_profile"), LANGS)
def test_a_story_says_you_to_the_people_in_it_and_to_whoever_shared_it(awarded, login, lang, you, my_badges,
                                                                      my_profile) -> None:
    from sqlalchemy import select

    from perfapp.recognition.models import BadgeAward

    org = awarded
    award = db.session.scalar(select(BadgeAward).where(BadgeAward.receiver_id == org.lina.id))
    story = stories.promote(org.boss, stories.StoryInput("badge_award", award.id, "Helper of the month",
                                                         "She helped everyone.", [], [org.lina.id]))
    db.session.commit()
    headers = {"Accept-Language": lang}
    page = text(login(org.lina).get(f"/stories/{story.id}", headers=headers))
    people = between(page, 'class="story-people"', "</ul>")
    assert f"<span>{you}</span>" in people and "<span>李娜</span>" not in people
    boss = login(org.boss)
    boss_page = text(boss.get(f"/stories/{story.id}", headers=headers))
    assert "<span>李娜</span>" in between(boss_page, 'class="story-people"', "</ul>")
    shared = {"en": "Shared by you", "zh-CN": "由你收录"}[lang]
    assert shared in boss_page and shared not in page
