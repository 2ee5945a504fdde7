"""The getting-started cards on Home: who sees them, what they show, hiding them (with and without htmx)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from perfapp.core.db import utcnow
from perfapp.extensions import db
from perfapp.feedback.models import Feedback, FeedbackRequest
from perfapp.notify.models import NotificationPreference
from perfapp.onboarding import services
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.recognition.flowers import FlowerInput, give_flowers
from tests.conftest import htmx_headers

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CARD = 'id="getting-started"'


def dismissals() -> int:
    return db.session.scalar(select(func.count()).select_from(GettingStartedDismissal)) or 0


def give(author, recipient, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        db.session.add(Feedback(author_id=author.id, recipient_id=recipient.id, kind="praise",
                                visibility="private", text=f"Thanks {i}"))
    db.session.commit()


@pytest.fixture()
def pair(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="李娜", email="lina@example.com"), make_user(name="Emma Wilson", email="emma@example.com")


def test_a_new_person_sees_the_cards_in_their_language(pair, login) -> None:
    new, _ = pair
    c = login(new)
    html = c.get("/").get_data(as_text=True)
    assert CARD in html and "Getting started" in html
    assert 'href="/feedback/new"' in html and "Thank someone who helped you this week" in html
    assert 'href="/notify/settings"' in html and "between 21:00 and 08:00" in html
    assert "You have 10 flowers left to give this month (of 10)" in html
    assert 'href="/walls/"' in html and "data-install-button" in html
    assert "Nothing here yet" in html
    zh = c.get("/", headers=ZH).get_data(as_text=True)
    assert "新手上路" in zh and "21:00 到 08:00" in zh and "Getting started" not in zh


def test_the_cards_show_the_persons_own_quiet_hours_and_flowers(pair, login) -> None:
    new, other = pair
    db.session.add(NotificationPreference(user_id=new.id, quiet_enabled=True, quiet_start=22 * 60, quiet_end=7 * 60,
                                          milestone=True, received=True, requests=True, weekly=True, other=True,
                                          daily_cap=5))
    db.session.commit()
    give_flowers(new, FlowerInput(receiver_id=other.id, count=3, message="谢谢你的帮忙"))
    db.session.commit()
    html = login(new).get("/").get_data(as_text=True)
    assert "between 22:00 and 07:00" in html
    assert "You have 7 flowers left to give this month (of 10)" in html
    # They gave something: the first action is done, so it is no longer suggested.
    assert "Thank someone who helped you this week" not in html


def test_people_under_way_do_not_see_them(pair, login) -> None:
    busy, other = pair
    give(busy, other, n=services.UNDER_WAY - 1)
    assert CARD in login(busy).get("/").get_data(as_text=True)  # still finding their way
    db.session.add(FeedbackRequest(requester_id=busy.id, about="How was my demo?",
                                   expires_at=utcnow() + timedelta(days=7)))
    db.session.commit()
    assert services.things_given(busy) == services.UNDER_WAY
    assert CARD not in login(busy).get("/").get_data(as_text=True)


def test_only_home_shows_them_and_only_its_first_page(pair, login) -> None:
    new, other = pair
    c = login(new)
    assert CARD not in c.get("/feedback/given").get_data(as_text=True)
    give(other, new)
    page = c.get("/", headers=htmx_headers(target="feed-more"))  # the feed's next page: a fragment
    assert CARD not in page.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_hiding_them_is_remembered_for_the_person(pair, login, htmx) -> None:
    new, other = pair
    c = login(new)
    assert CARD in c.get("/").get_data(as_text=True)  # also puts the page in the page cache
    response = c.submit("/onboarding/dismiss", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.get_data(as_text=True) == ""
    else:
        assert response.status_code == 303 and response.headers["Location"].endswith("/")
        assert "Tips hidden" in c.get("/").get_data(as_text=True)
    assert dismissals() == 1
    assert CARD not in c.get("/").get_data(as_text=True)
    assert CARD not in login(new).get("/").get_data(as_text=True)  # another phone: hidden there too
    assert CARD in login(other).get("/").get_data(as_text=True)  # only theirs
    assert c.submit("/onboarding/dismiss", htmx=htmx).status_code in (200, 303) and dismissals() == 1


def test_hiding_needs_a_login_and_a_csrf_token(pair, client, login) -> None:
    new, _ = pair
    response = client.post("/onboarding/dismiss")
    assert response.status_code in (302, 400, 401) and dismissals() == 0
    c = login(new)
    refused = c.submit("/onboarding/dismiss", csrf=False)
    assert refused.status_code == 400 and dismissals() == 0
    assert c.get("/onboarding/dismiss").status_code == 405 and dismissals() == 0


def test_the_dismissal_goes_with_the_person(pair) -> None:
    new, _ = pair
    services.dismiss(new)
    db.session.commit()
    assert services.getting_started(new) is None and services.dismiss(new) is False
