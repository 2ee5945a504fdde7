"""Dates in each person's own timezone, zh and en: the server writes a card's date in the
organisation's timezone (one HTML for every reader of its language); the browser writes it
again in the person's (static/js/time.js, from <html data-tz>)."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from perfapp.extensions import db
from perfapp.feedback import services
from perfapp.feedback.services import FeedbackInput
from perfapp.people.models import User

# 2026-03-01 02:30 UTC: 1 March in Shanghai (the organisation's), 28 February in New York.
WHEN = datetime(2026, 3, 1, 2, 30)
SEEN = {
    ("zh", "America/New_York"): ("2026年2月28日", r"^2026年2月28日 21:30:00$"),
    ("zh", "Asia/Shanghai"): ("2026年3月1日", r"^2026年3月1日 10:30:00$"),
    ("en", "America/New_York"): ("Feb 28, 2026", r"^Feb 28, 2026, 9:30:00\sPM$"),
    ("en", "Asia/Shanghai"): ("Mar 1, 2026", r"^Mar 1, 2026, 10:30:00\sAM$"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_old_card_shows_each_persons_own_date(phone, org, lang, shot, log_in, in_app) -> None:
    def setup() -> int:
        for person_id, zone in ((org.lina.id, "America/New_York"), (org.emma.id, "Asia/Shanghai")):
            person = db.session.get(User, person_id)
            person.timezone, person.locale = zone, ("zh_Hans_CN" if lang == "zh" else "en")
        item = services.give_feedback(db.session.get(User, org.emma.id), FeedbackInput(
            recipient_id=org.lina.id, text="Thanks for the careful release notes."))
        item.created_at = WHEN
        db.session.commit()
        return item.id

    feedback_id = in_app(setup)
    for person, zone in ((org.lina, "America/New_York"), (org.emma, "Asia/Shanghai")):
        page = phone(lang).page
        log_in(page, person)
        page.goto(f"/feedback/{feedback_id}")
        when = page.locator(f'time.ago[datetime="{WHEN:%Y-%m-%dT%H:%M:%S}Z"]').first
        day, title = SEEN[(lang, zone)]
        expect(when).to_have_text(day)
        expect(when).to_have_attribute("title", re.compile(title))
        if zone == "America/New_York":
            shot(page, "date-in-own-timezone", lang)
