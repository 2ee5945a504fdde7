"""A page of feedback cards reads its ids and its cards' light rows (versions, facet columns, the
viewer's own reactions) in one statement (perfapp.core.cards.with_light_rows); Home's first page
reads its counters in the same statement. Right cards, in order, for the right viewer only."""
from __future__ import annotations

import re
from datetime import timedelta

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback, request_feedback
from perfapp.reactions.models import LIKE
from perfapp.reactions.services import set_reaction
from tests.feedback.test_queries import recorded_statements

CARD = re.compile(r'id="fb-(\d+)"')


def _give(author, recipient, text: str, visibility: str = "public", kind: str = "praise", minutes_ago: int = 0):  # type: ignore[no-untyped-def]
    item = give_feedback(author, FeedbackInput(recipient_id=recipient.id, text=text, kind=kind,
                                               visibility=visibility))
    item.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return item


def _flat(statements: list[str]) -> list[str]:
    return [" ".join(s.split()) for s in statements]


def _card_ids(html: str) -> list[int]:
    return [int(i) for i in CARD.findall(html)]


def test_home_reads_counters_ids_and_cards_in_one_statement(make_user, login) -> None:
    boss = make_user(name="王伟")
    me = make_user(name="李娜", manager=boss)
    emma = make_user(name="Emma Wilson", manager=boss)
    older = _give(emma, me, "Older thanks", minutes_ago=30)
    newer = _give(emma, me, "Newer thanks", visibility="private", minutes_ago=5)
    request_feedback(emma, [me.id], "How did my demo go?")
    set_reaction(me, "feedback", older.id, LIKE, True)
    db.session.commit()
    c = login(me)
    with recorded_statements() as statements:
        html = c.get("/").get_data(as_text=True)
    assert _card_ids(html) == [newer.id, older.id]  # newest first
    assert "1 person asked for your feedback" in html  # the counters, read with the cards
    assert f'id="rx-feedback-{older.id}-like" class="rx-btn rx-like" name="off"' in html  # mine, pressed
    assert f'id="rx-feedback-{newer.id}-like" class="rx-btn rx-like" name="on"' in html
    flat = _flat(statements)
    page = [s for s in flat if "feedback.version" in s and "FROM reaction" in s]  # (a miss also loads the card)
    assert len(page) == 1 and "FROM feedback_ask" in page[0] and "ORDER BY" in page[0]


def test_home_with_an_empty_feed_still_reads_its_counters(make_user, login) -> None:
    """A newcomer received nothing yet: the one row of counters (card columns empty) still shows
    getting started and the requests waiting."""
    me, emma = make_user(name="李娜"), make_user(name="Emma Wilson")
    request_feedback(emma, [me.id], "Thoughts on the offsite?")
    db.session.commit()
    html = login(me).get("/").get_data(as_text=True)
    assert _card_ids(html) == []
    assert "1 person asked for your feedback" in html
    assert 'id="getting-started"' in html


def test_home_next_page_continues_where_the_first_ended(make_user, login) -> None:
    me, emma = make_user(name="李娜"), make_user(name="Emma Wilson")
    items = [_give(emma, me, f"Thanks #{n}", minutes_ago=n) for n in range(25)]
    c = login(me)
    first = c.get("/").get_data(as_text=True)
    assert _card_ids(first) == [i.id for i in items[:20]]
    more = re.search(r'hx-get="(/\?before=[^"]+)"', first)
    assert more is not None
    url = more.group(1).replace("&amp;", "&")
    rest = c.get(url, headers={"HX-Request": "true", "HX-Target": "feed-more"})
    assert rest.status_code == 200
    text = rest.get_data(as_text=True)
    assert _card_ids(text) == [i.id for i in items[20:]]
    assert "asked for your feedback" not in text and "<html" not in text  # the cards alone
    # Without htmx the same URL is a whole page holding the same cards.
    whole = c.get(url).get_data(as_text=True)
    assert "<html" in whole and _card_ids(whole) == [i.id for i in items[20:]]


def test_home_never_shows_what_a_viewer_may_not_read(make_user, login) -> None:
    """The manager's team branch reads public and manager-visible feedback only; a colleague's
    home shows nothing of it; a post hidden by moderation shows to no one."""
    boss = make_user(name="王伟")
    me = make_user(name="李娜", manager=boss)
    peer = make_user(name="Emma Wilson", manager=boss)
    private = _give(peer, me, "Just for you", visibility="private")
    public = _give(peer, me, "For everyone")
    hidden = _give(peer, me, "Hidden later")
    db.session.get(Feedback, hidden.id).hidden = True
    db.session.commit()
    assert _card_ids(login(me).get("/").get_data(as_text=True)) == [public.id, private.id]
    assert _card_ids(login(boss).get("/").get_data(as_text=True)) == [public.id]
    assert _card_ids(login(peer).get("/").get_data(as_text=True)) == []


def test_profile_reads_public_praise_and_cards_in_one_statement(make_user, login) -> None:
    me, lina, emma = make_user(name="Me"), make_user(name="李娜"), make_user(name="Emma Wilson")
    shown = _give(emma, lina, "Great launch")
    _give(emma, lina, "Private note", visibility="private")
    _give(emma, lina, "Work on slides", kind="constructive", visibility="manager")
    set_reaction(me, "feedback", shown.id, LIKE, True)
    db.session.commit()
    c = login(me)
    with recorded_statements() as statements:
        response = c.get(f"/people/{lina.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _card_ids(html) == [shown.id]
    assert f'id="rx-feedback-{shown.id}-like" class="rx-btn rx-like" name="off"' in html
    flat = _flat(statements)
    light = [s for s in flat if "feedback.version" in s and "FROM reaction" in s]  # (a miss also loads the card)
    assert len(light) == 1 and "ORDER BY" in light[0]  # the keyset page and its light rows together
    # Another viewer sees the same card without my reaction pressed.
    other = login(emma).get(f"/people/{lina.id}").get_data(as_text=True)
    assert f'id="rx-feedback-{shown.id}-like" class="rx-btn rx-like" name="on"' in other
