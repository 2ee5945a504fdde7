"""The walls: the merged praise wall (filters, strips, keyset pages), badge walls and holders."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import quote, unquote

import pytest

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import User
from perfapp.recognition.models import BadgeAward, FlowerGift
from perfapp.recognition.rules import ensure_automatic_badges
from perfapp.walls import services
from perfapp.walls.services import WallFilter
from tests.conftest import htmx_headers


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def praise(author, recipient, text_: str, minutes: int = 0, tags=(), **kw) -> Feedback:  # type: ignore[no-untyped-def]
    item = Feedback(author_id=author.id, recipient_id=recipient.id, kind=kw.pop("kind", "praise"),
                    visibility=kw.pop("visibility", "public"), text=text_,
                    created_at=kw.pop("at", utcnow() - timedelta(minutes=minutes)), **kw)
    item.tags = list(tags)
    db.session.add(item)
    return item


def flower(giver, receiver, message: str, minutes: int = 0, **kw) -> FlowerGift:  # type: ignore[no-untyped-def]
    gift = FlowerGift(giver_id=giver.id, receiver_id=receiver.id, count=kw.pop("count", 1), message=message,
                      month="2026-01", created_at=kw.pop("at", utcnow() - timedelta(minutes=minutes)), **kw)
    db.session.add(gift)
    return gift


def badge_award(badge, receiver, citation: str, minutes: int = 0, giver=None, **kw) -> BadgeAward:  # type: ignore[no-untyped-def]
    row = BadgeAward(badge_id=badge.id, receiver_id=receiver.id, giver_id=giver.id if giver else None,
                     citation=citation, month="2026-01",
                     created_at=kw.pop("at", utcnow() - timedelta(minutes=minutes)), **kw)
    db.session.add(row)
    return row


def texts(items) -> list[str]:  # type: ignore[no-untyped-def]
    """What each wall entry says (the wall lists ids; its cards load the rows)."""
    models = {"praise": Feedback, "flower": FlowerGift, "badge": BadgeAward}
    rows = [db.session.get(models[i.kind], i.id) for i in items]
    return [getattr(r, "text", None) or getattr(r, "message", None) or r.citation for r in rows]


@pytest.fixture()
def wall(org):  # type: ignore[no-untyped-def]
    """One of every kind of thing, some of which must never reach a wall."""
    praise(org.emma, org.lina, "public praise", 1, tags=[org.value])
    flower(org.zhang, org.lina, "a flower", 2, tag_id=org.value.id)
    badge_award(org.anyone, org.zhang, "a badge", 3, giver=org.emma)
    praise(org.emma, org.lina, "private praise", 4, visibility="private")
    praise(org.emma, org.lina, "manager praise", 5, visibility="manager")
    praise(org.emma, org.lina, "development only praise", 6, development_only=True, tags=[org.value])
    praise(org.emma, org.lina, "constructive", 7, kind="constructive", visibility="private",
           development_only=True, tags=[org.value])
    flower(org.zhang, org.emma, "hidden flower", 8, hidden=True, tag_id=org.value.id)
    badge_award(org.anyone, org.emma, "hidden badge", 9, giver=org.zhang, hidden=True)
    db.session.commit()
    return org


def test_the_wall_merges_kinds_newest_first_and_never_shows_private_or_hidden(wall) -> None:
    items, cursor = services.praise_wall(wall.emma)
    assert texts(items) == ["public praise", "a flower", "a badge"] and cursor is None
    assert [i.kind for i in items] == ["praise", "flower", "badge"]
    hr_items, _c = services.praise_wall(wall.hr)
    assert texts(hr_items) == ["public praise", "a flower", "a badge", "hidden flower", "hidden badge"]


def test_strips_count_values_of_public_things_only(wall) -> None:
    # public praise + the flower carry #Ownership; the badge is linked to it too. Private,
    # development-only, constructive and hidden rows carry it as well but must not count.
    assert [(t.name_en, n) for t, n in services.top_values()] == [("Ownership", 3)]
    assert [a.citation for a in services.newest_awards()] == ["a badge"]


def test_strip_labels_are_kept_with_their_counts_and_outlive_the_request(wall, app, monkeypatch) -> None:
    """With a TTL the value strip's counts and names are read once per TTL, not per page; the
    kept tags are copies that still read after their session is gone."""
    from tests.feedback.test_queries import recorded_statements

    monkeypatch.setitem(app.config, "WALL_STRIP_TTL", 300)
    monkeypatch.setattr(services, "_cache", {})
    value_id, lina_id = wall.value.id, wall.lina.id
    first = services.top_values()
    db.session.remove()  # the request that read them ends
    with recorded_statements() as statements:
        again = services.top_values()
    assert statements == [] and again is first
    assert [(t.id, t.name_en, t.name_zh, n) for t, n in again] == [(value_id, "Ownership", "担当", 3)]
    lina = db.session.get(User, lina_id)
    with recorded_statements() as statements:
        assert [t.name_en for t, _n in services.person_top_tags(lina)] == ["Ownership"]
        assert [t.name_en for t, _n in services.person_top_tags(lina)] == ["Ownership"]
    assert len([s for s in statements if "FROM tag" in s]) == 1


def test_keyset_pages_cover_everything_once_even_with_ties(org) -> None:
    same = utcnow() - timedelta(hours=1)
    for i in range(7):
        praise(org.emma, org.lina, f"p{i}", at=same)
        flower(org.zhang, org.lina, f"f{i}", at=same)
        badge_award(org.anyone, org.zhang, f"b{i}", at=same, giver=org.emma)
    for i in range(5):
        flower(org.zhang, org.lina, f"later{i}", minutes=i)
    db.session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        items, next_cursor = services.praise_wall(org.emma, cursor=services.decode_cursor(cursor), limit=4)
        seen += texts(items)
        pages += 1
        if next_cursor is None:
            break
        cursor = next_cursor
    assert len(seen) == 26 and len(set(seen)) == 26 and pages == 7
    assert seen[:5] == [f"later{i}" for i in range(5)]


def test_filters_by_department_value_badge_and_time(wall, make_user) -> None:
    web_person = make_user(name="Web dev", department=wall.departments[1])
    flower(wall.zhang, web_person, "to a web dev", 0)
    flower(wall.zhang, wall.emma, "last month", at=utcnow() - timedelta(days=40))
    db.session.commit()

    def shown(**kw) -> list[str]:  # type: ignore[no-untyped-def]
        return texts(services.praise_wall(wall.emma, WallFilter(**kw))[0])

    # R&D includes its sub-department Web (李娜 and the web dev); 张敏 is in Sales.
    assert shown(department_id=wall.departments[0].id) == ["to a web dev", "public praise", "a flower", "last month"]
    assert shown(department_id=wall.departments[2].id) == ["a badge"]
    assert shown(tag_id=wall.value.id) == ["public praise", "a flower", "a badge"]
    assert shown(badge_id=wall.anyone.id) == ["a badge"]
    assert shown(badge_id=wall.managers.id) == []
    assert "last month" not in shown(period="30d") and "last month" in shown(period="90d")


def test_praise_wall_page_and_its_next_page_fragment(wall, login) -> None:
    for i in range(25):
        flower(wall.zhang, wall.lina, f"more {i}", 10 + i)
    db.session.commit()
    client = login(wall.emma)
    page = text(client.get("/walls/"))
    assert "This month's top values" in page and "Newest badges" in page and "#Ownership" in page
    assert ">My badges</a>" in page  # the tab says what it opens, as 我的徽章 does
    for hidden in ("private praise", "manager praise", "development only praise", "constructive",
                   "hidden flower", "hidden badge"):
        assert hidden not in page
    cards = 'class="card rc rc-flower', 'class="card rc rc-badge', 'class="card fb '
    assert sum(page.count(c) for c in cards) == services.PAGE_SIZE
    assert 'id="wf-department"' not in page  # the filter form loads when the sheet opens
    cursor = services.praise_wall(wall.emma, limit=20)[1]  # the page after the first 20 of 28
    more = client.get(f"/walls/?before={cursor}", headers=htmx_headers("feed-more"))
    body = text(more)
    assert more.status_code == 200 and "<html" not in body and "This month's top values" not in body
    assert body.count('class="card rc') == 8
    filtered = text(client.get(f"/walls/?badge={wall.anyone.id}"))
    assert "a badge" in filtered and "a flower" not in filtered and "Filters on" in filtered
    assert f'<option value="{wall.anyone.id}" selected>' in filtered  # an active filter shows its form


def test_the_filter_form_as_a_fragment_and_a_page(wall, login) -> None:
    client = login(wall.emma)
    fragment = client.get(f"/walls/filter?tag={wall.value.id}", headers=htmx_headers("wall-filter-body"))
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body
    assert f'<option value="{wall.value.id}" selected>#Ownership</option>' in body
    assert 'id="wf-department"' in body and "R&D" in body and "Web" in body
    assert "<html" in text(client.get("/walls/filter"))


def test_bad_wall_arguments_are_ignored(wall, login) -> None:
    r = login(wall.emma).get("/walls/?before=garbage&department=x&tag=-1&period=forever")
    assert r.status_code == 200 and "public praise" in text(r)


def test_a_persons_badge_wall_shows_counts_citations_and_top_tags(wall, login) -> None:
    badge_award(wall.anyone, wall.lina, "first time", 60 * 24 * 3, giver=wall.emma)
    badge_award(wall.anyone, wall.lina, "second time", 5, giver=wall.zhang)
    badge_award(wall.managers, wall.lina, "hidden one", 6, giver=wall.boss, hidden=True)
    db.session.commit()
    client = login(wall.zhang)
    page = text(client.get(f"/walls/people/{wall.lina.id}"))
    assert "Helper" in page and "×2" in page and "Coach" not in page
    assert "#Ownership" in page  # public praise and the flower; not the private ones
    url = f"/walls/people/{wall.lina.id}/badges/{wall.anyone.id}"
    fragment = client.get(url, headers=htmx_headers(f"citations-{wall.anyone.id}"))
    body = text(fragment)
    first = (utcnow() - timedelta(minutes=60 * 24 * 3)).strftime("%Y-%m-%dT%H:%M")
    assert "First earned <time" in body and f'datetime="{first}' in body and "</time>, latest <time" in body
    assert "<html" not in body and body.index("second time") < body.index("first time")
    assert "from Emma Wilson" in body
    assert "<html" in text(client.get(url))
    assert client.get(f"/walls/people/{wall.lina.id}/badges/{wall.managers.id}").status_code == 404  # hidden only
    assert client.get("/walls/people/99999").status_code == 404


def test_top_tags_leave_out_private_and_development_feedback(org) -> None:
    praise(org.emma, org.lina, "private", tags=[org.skill], visibility="private")
    praise(org.emma, org.lina, "dev", tags=[org.skill], development_only=True)
    db.session.commit()
    assert services.person_top_tags(org.lina) == []


def test_company_badges_and_a_badges_holders_newest_first(org, login, make_user) -> None:
    people = [make_user(name=f"Holder {i}") for i in range(30)]
    for i, person in enumerate(people):
        badge_award(org.anyone, person, f"citation {i}", minutes=100 - i, giver=org.emma)
    badge_award(org.anyone, people[0], "again", minutes=0, giver=org.zhang)
    badge_award(org.anyone, org.lina, "reported citation", minutes=0, giver=org.zhang, hidden=True)
    ensure_automatic_badges()  # as the migration made them
    db.session.commit()
    client = login(org.zhang)
    catalogue = text(client.get("/walls/badges"))
    assert "#Ownership" in catalogue and "Helper" in catalogue and "30 holders" in catalogue
    assert "Earned automatically" in catalogue and "First feedback" in catalogue
    page = text(client.get(f"/walls/badges/{org.anyone.id}"))
    assert "30 people hold it" in page and "Award this badge" in page
    assert page.index("Holder 0") < page.index("Holder 29") < page.index("Holder 28")
    assert "×2" in page and "again" in page and "reported citation" not in page
    assert page.count('class="card holder"') == services.HOLDERS_PAGE_SIZE
    # Following the infinite scroll shows each of the 30 holders exactly once.
    seen = re.findall(r'id="holder-(\d+)"', page)
    cursor = services.holders(org.anyone, org.zhang)[1]
    while cursor:
        more = client.get(f"/walls/badges/{org.anyone.id}?before={cursor}", headers=htmx_headers("feed-more"))
        body = text(more)
        assert "<html" not in body
        seen += re.findall(r'id="holder-(\d+)"', body)
        found = re.search(r'hx-get="/walls/badges/\d+\?before=([^"]+)"', body)
        cursor = unquote(found.group(1)) if found else None
    assert sorted(map(int, seen)) == sorted(p.id for p in people)
    # "Load more" followed as a plain link (no JavaScript) is a whole page: head, holders, next link.
    cursor = services.holders(org.anyone, org.zhang)[1]
    plain = client.get(f"/walls/badges/{org.anyone.id}?before={quote(cursor)}")
    assert plain.status_code == 200
    body = text(plain)
    assert "<html" in body and "30 people hold it" in body and 'class="card holder"' in body
    coach = text(client.get(f"/walls/badges/{org.managers.id}"))
    assert "Nobody holds this badge yet." in coach and "Award this badge" not in coach
    assert client.get("/walls/badges/99999").status_code == 404


def _strip(client, headers=None) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/walls/", headers=headers or {}).get_data(as_text=True)
    found = re.search(r'<section aria-labelledby="newest-title".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_the_newest_badges_strip_is_shared_but_follows_every_change_on_the_next_request(wall, login) -> None:
    """The strip is one cached fragment for all viewers, keyed by the awards' versions: a new
    award, a renamed receiver or badge, a hidden award and a language change each show at once."""
    emma, lina = login(wall.emma), login(wall.lina)  # Emma reads English, 李娜 Chinese
    assert "Newest badges" in _strip(emma) and "最新徽章" in _strip(lina)
    assert "张敏" in _strip(emma) and "张敏" in _strip(lina)
    badge_award(wall.managers, wall.lina, "new one", giver=wall.boss)
    db.session.commit()
    assert "Coach" in _strip(emma) and "Coach" in _strip(lina)
    wall.lina.name = "李娜娜"
    wall.managers.name_en, wall.managers.name_zh = "Mentor", "导师"
    db.session.commit()
    assert "李娜娜" in _strip(emma) and "Mentor" in _strip(emma) and "导师" in _strip(lina)
    assert "Coach" not in _strip(emma) + _strip(lina)
    award = db.session.scalars(db.select(BadgeAward).where(BadgeAward.citation == "new one")).one()
    award.hidden = True
    db.session.commit()
    assert "Mentor" not in _strip(emma) and "导师" not in _strip(lina)
    assert "张敏" in _strip(lina)
