"""The card cache (perfapp.core.cards) with record versions (perfapp.core.versions): a change shows
for every kind of viewer on the very next request, cards are shared between viewers with the same
facets, and nothing one viewer may see reaches another through a shared card."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import User
from perfapp.reactions.models import Comment

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture()
def org(make_user) -> dict[str, User]:  # type: ignore[no-untyped-def]
    boss = make_user(name="王伟", email="boss@example.com")
    return {
        "boss": boss,
        "lina": make_user(name="李娜", email="lina@example.com", manager=boss),
        "emma": make_user(name="Emma Wilson", email="emma@example.com", manager=boss),
        "zhang": make_user(name="张敏", email="zhang@example.com"),
        "hr": make_user(name="HR Hu", email="hr@example.com", role="hr"),
    }


def praise(author: User, recipient: User, text: str = "Great launch", **kw: Any) -> Feedback:
    item = Feedback(author_id=author.id, recipient_id=recipient.id, kind="praise", visibility="public",
                    text=text, created_at=utcnow(), **kw)
    db.session.add(item)
    db.session.commit()
    return item


def card_html(page: str, item_id: int) -> str:
    start = page.index(f'id="fb-{item_id}"')
    return page[start:page.index("</article>", start)]


def viewers(org: dict[str, User], login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {name: login(person) for name, person in org.items()}


def test_cards_are_shared_by_viewers_with_the_same_facets(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    item = praise(org["emma"], org["lina"])
    clients = viewers(org, login)
    for name in ("zhang", "lina", "boss", "emma", "hr", "zhang"):
        assert "Great launch" in clients[name].get("/walls/").get_data(as_text=True)
    # zhang (twice), and lina: same facets (not the author, may report, may not promote, no
    # reactions)... except lina is the recipient ("you"): 4 facet sets for 6 views, all in English.
    # The wall is made once per change in every language, with its maker's cards: zhang's (the
    # bystanders') and HR's (whose wall is made apart) are ready in Chinese too.
    assert renders.in_language("feedback/_item.html") == {"en": 4, "zh_Hans_CN": 2}
    assert card_html(clients["lina"].get("/walls/").get_data(as_text=True), item.id).count("李娜") == 0


def test_readers_in_other_timezones_share_a_card(org, login, renders, make_user) -> None:  # type: ignore[no-untyped-def]
    """A card's date is written in the organisation's timezone (the browser writes it again in
    the reader's: tests/browser/test_dates.py), so readers of one language in three timezones
    share one card; each page still names its reader's own zone."""
    item = praise(org["emma"], org["lina"])
    readers = {"Asia/Shanghai": org["zhang"], "Europe/Berlin": make_user(name="赵磊"),
               "America/New_York": make_user(name="Sam Lee")}
    for zone, person in readers.items():
        db.session.get(User, person.id).timezone = zone
    db.session.commit()
    pages = {zone: login(person).get("/walls/").get_data(as_text=True) for zone, person in readers.items()}
    # One rendering for the three (the other language's is made with the wall: not shown here)
    assert renders.in_language("feedback/_item.html") == {"en": 1, "zh_Hans_CN": 1}
    assert len({card_html(page, item.id) for page in pages.values()}) == 1
    for zone, page in pages.items():
        assert f'data-tz="{zone}"' in page


@pytest.mark.parametrize("change", ["reaction", "comment", "hide", "rename", "tag"])
def test_a_change_shows_for_every_viewer_on_the_next_request(org, login, make_tag, change) -> None:  # type: ignore[no-untyped-def]
    tag = make_tag("Ownership", "担当")
    item = praise(org["emma"], org["lina"])
    item.tags = [tag]
    db.session.commit()
    item_id = item.id
    clients = viewers(org, login)
    pages = dict.fromkeys(clients, "/walls/")
    pages["lina"] = "/"  # her home feed too
    before = {name: card_html(c.get(pages[name]).get_data(as_text=True), item_id) for name, c in clients.items()}
    if change == "reaction":
        response = clients["zhang"].submit(f"/reactions/feedback/{item_id}/react", {"on": "👍"})
        assert response.status_code == 303
    elif change == "comment":
        response = clients["zhang"].submit(f"/reactions/feedback/{item_id}/comments", {"text": "Agreed!"})
        assert response.status_code == 303
    elif change == "hide":
        db.session.get(Feedback, item_id).hidden = True  # as moderation does once HR decides
        db.session.commit()
    elif change == "rename":
        db.session.get(User, org["emma"].id).set_name("Emma Stone")
        db.session.commit()
    else:
        tag.name_en = "Owning it"
        db.session.commit()
    for name, client in clients.items():
        page = client.get(pages[name]).get_data(as_text=True)
        if change == "hide":  # HR decides in the moderation queue; no list shows it any more
            assert f'id="fb-{item_id}"' not in page, name
            continue
        after = card_html(page, item_id)
        assert after != before[name], name
        if change == "reaction":
            assert '<span class="rx-n">1</span>' in after, name
            assert ('aria-pressed="true"' in after) == (name == "zhang"), name
        elif change == "comment":
            assert db.session.query(Comment).count() == 1
        elif change == "rename":
            assert "Emma Stone" in after or (name == "emma" and "You" in after), name
        elif change == "tag":
            assert "#Owning it" in after, name


def test_a_confidential_authors_card_never_reaches_another_viewer(org, login) -> None:  # type: ignore[no-untyped-def]
    item = Feedback(author_id=org["emma"].id, recipient_id=org["lina"].id, kind="praise", visibility="manager",
                    confidential=True, text="Quietly brilliant", created_at=utcnow())
    db.session.add(item)
    db.session.commit()
    emma, lina, boss = login(org["emma"]), login(org["lina"]), login(org["boss"])
    own = emma.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert "You" in card_html(emma.get("/feedback/given").get_data(as_text=True), item.id)
    assert "Emma Wilson" not in own or "Quietly brilliant" in own
    for client, url in ((lina, "/"), (boss, "/"), (lina, "/")):
        page = client.get(url).get_data(as_text=True)
        card = card_html(page, item.id)
        assert "Quietly brilliant" in card
        assert "Emma" not in card and f"/people/{org['emma'].id}" not in card
        assert "Someone (confidential)" in card
    # A reaction by the author renders the card again, for everyone; still no name.
    assert emma.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}).status_code == 303
    assert "Emma" not in card_html(lina.get("/").get_data(as_text=True), item.id)


def test_a_language_change_shows_on_the_next_request(org, login) -> None:  # type: ignore[no-untyped-def]
    praise(org["emma"], org["lina"])
    lina = login(org["lina"])
    assert "Praise" in lina.get("/").get_data(as_text=True)
    assert lina.submit("/people/language", {"locale": "zh_Hans_CN"}).status_code in (200, 303)
    page = lina.get("/").get_data(as_text=True)
    assert "表扬" in page and ">Praise<" not in page


def test_the_reporter_sees_a_placeholder_others_the_card(org, login) -> None:  # type: ignore[no-untyped-def]
    item = praise(org["emma"], org["lina"])
    zhang, emma = login(org["zhang"]), login(org["emma"])
    zhang.get("/walls/")  # cached under zhang's facets, which other viewers share
    response = zhang.submit(f"/moderation/report/feedback/{item.id}", {"reason": "Not true"})
    assert response.status_code in (200, 303)
    assert f'id="fb-{item.id}"' not in zhang.get("/walls/").get_data(as_text=True)
    other = login(org["hr"]).get("/walls/").get_data(as_text=True)
    assert f'id="fb-{item.id}"' in other and 'id="fb-' in emma.get("/walls/").get_data(as_text=True)


def test_a_write_updates_only_the_rows_it_changes(org, login) -> None:  # type: ignore[no-untyped-def]
    one, two = praise(org["emma"], org["lina"], "one"), praise(org["zhang"], org["lina"], "two")
    before = {f.id: f.version for f in db.session.query(Feedback)}
    assert login(org["boss"]).submit(f"/reactions/feedback/{one.id}/react", {"on": "👍"}).status_code == 303
    db.session.expire_all()
    after = {f.id: f.version for f in db.session.query(Feedback)}
    assert after[one.id] == before[one.id] + 1 and after[two.id] == before[two.id]


def _card_loads(statements: list[str]) -> list[str]:
    """The statements that load feedback records for cards (the light rows read no text)."""
    return [s for s in statements if "feedback.text" in s]


def test_other_renderings_of_a_card_reuse_its_record(org, login, renders) -> None:  # type: ignore[no-untyped-def]
    """A card rendered again for other facets or another language (a manager who may promote, a
    reader in Chinese) in a later request renders from the record the first rendering loaded
    (kept once that request ended), loading nothing, and is what a fresh load renders."""
    from perfapp.core import cards
    from tests.feedback.test_queries import recorded_statements

    item_id = praise(org["emma"], org["lina"]).id
    zhang, boss = login(org["zhang"]), login(org["boss"])
    cards.clear()  # the boss's Home, as he logged in, showed it: forget that rendering
    renders.clear()
    with recorded_statements() as first:
        zhang.get("/walls/")
    assert _card_loads(first)
    with recorded_statements() as again:
        shown = {"boss": card_html(boss.get("/walls/").get_data(as_text=True), item_id),
                 "zh": card_html(zhang.get("/walls/", headers=ZH).get_data(as_text=True), item_id)}
    assert renders.count("feedback/_item.html") == 3 and not _card_loads(again)
    assert "表扬" in shown["zh"] and "/stories/new" in shown["boss"]
    cards.clear()  # the same cards from a fresh load
    assert shown == {"boss": card_html(boss.get("/walls/").get_data(as_text=True), item_id),
                     "zh": card_html(zhang.get("/walls/", headers=ZH).get_data(as_text=True), item_id)}


def test_a_kept_record_that_lacks_what_a_rendering_reads_is_loaded_again(org, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.core import cards
    from tests.feedback.test_queries import recorded_statements

    item = praise(org["emma"], org["lina"], text="Steady hands on the release")
    zhang, boss = login(org["zhang"]), login(org["boss"])
    cards.clear()
    zhang.get("/walls/")
    kept = [record for key, (record, _shared) in cards._records.items() if key[:2] == ("feedback", item.id)]
    assert len(kept) == 1
    with Session(db.engine) as other:  # its text expired (as a commit does), detached again
        other.add(kept[0])
        other.expire(kept[0], ["text"])
        other.expunge(kept[0])
    with recorded_statements() as statements:
        card = card_html(boss.get("/walls/").get_data(as_text=True), item.id)
    assert "Steady hands on the release" in card and _card_loads(statements)


def test_a_page_that_writes_keeps_no_records(org, login) -> None:  # type: ignore[no-untyped-def]
    """Records are kept from page views only: a write's response may render cards from records
    its commit expired."""
    from perfapp.core import cards

    item = praise(org["emma"], org["lina"])
    zhang = login(org["zhang"])
    assert zhang.submit(f"/reactions/feedback/{item.id}/react", {"on": "👍"}, htmx=True,
                        target=f"rx-feedback-{item.id}").status_code == 200
    assert not [key for key in cards._records if key[:2] == ("feedback", item.id)]


def test_a_card_written_since_its_key_was_read_is_shown_but_not_kept(org, app) -> None:  # type: ignore[no-untyped-def]
    """A write between a page's light rows and the cards' load (the record's version moved on):
    the card still shows, but neither its HTML nor its record is kept under the older key."""
    from perfapp.core import cards
    from perfapp.feedback.cards import kind

    item = praise(org["emma"], org["lina"], text="Shipped on a Friday")
    viewer = db.session.get(User, org["zhang"].id)
    facets = cards.facets_of(kind(), item, viewer)
    older = ("feedback", item.id, (item.version - 1, item.created_at), "en", facets)
    with app.test_request_context("/walls/"):
        html, current = cards._rendered(kind(), {item.id: older}, {item.id: facets}, True)
        assert "Shipped on a Friday" in html[item.id] and current == set()
        from flask import g
        assert not g.get("_card_records")


def test_a_card_in_a_list_never_asks_which_page_it_is_on(app, org, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A cached card's thread is closed whatever page first shows it (its HTML is shared by every
    page); the target's own page, which includes the card directly, opens it."""
    item = praise(org["emma"], org["lina"])
    asked: list[str] = []
    own_page = app.jinja_env.globals["on_own_page"]

    def watched(target_type: str, obj: Any) -> bool:
        asked.append(target_type)
        return own_page(target_type, obj)

    monkeypatch.setitem(app.jinja_env.globals, "on_own_page", watched)
    zhang = login(org["zhang"])
    for path in ("/walls/", f"/people/{org['lina'].id}", "/"):
        assert zhang.get(path).status_code == 200
    assert asked == []
    page = zhang.get(f"/feedback/{item.id}").get_data(as_text=True)
    assert asked == ["feedback"]
    assert '<details class="rx-comments" open>' in page


def test_a_card_offers_report_to_everyone_but_its_author(org, login) -> None:  # type: ignore[no-untyped-def]
    """A feed card's report button (a facet): on the recipient's profile, the author's copy has
    none, the recipient's and a bystander's have it, in both languages."""
    item = praise(org["emma"], org["lina"], text="Shipped the audit")
    clients = viewers(org, login)
    path = f"/people/{org['lina'].id}"
    for headers in ({}, ZH):
        shown = {name: card_html(clients[name].get(path, headers=headers).get_data(as_text=True), item.id)
                 for name in ("emma", "lina", "zhang")}
        assert f"/moderation/report/feedback/{item.id}" not in shown["emma"]
        assert f"/moderation/report/feedback/{item.id}" in shown["lina"]
        assert f"/moderation/report/feedback/{item.id}" in shown["zhang"]
