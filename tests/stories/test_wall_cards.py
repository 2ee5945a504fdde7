"""Flower and badge cards from the card cache are what they render to without it, for every kind
of viewer (the wall's cards are shared between viewers with equal facets)."""
from __future__ import annotations

import pytest
from flask import Flask, g

from perfapp.extensions import db
from perfapp.reactions.models import Reaction
from perfapp.recognition.cards import badge_card, flower_card
from perfapp.recognition.models import BadgeAward, FlowerGift


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_cached_wall_cards_are_what_the_templates_render(app: Flask, team, flower, award, locale) -> None:  # type: ignore[no-untyped-def]
    gifts = [flower(), flower(tag_id=None, count=5, message="<b>five</b>"), flower(hidden=True)]
    awards = [award(), award(citation="", giver_id=None), award(hidden=True)]
    db.session.add(Reaction(target_type="flower", target_id=gifts[0].id, user_id=team["boss"].id, emoji="👍"))
    db.session.add(Reaction(target_type="badge_award", target_id=awards[0].id, user_id=team["zhang"].id, emoji="🎉"))
    db.session.commit()
    for viewer in (team["lina"], team["emma"], team["boss"], team["hr"], team["zhang"]):
        for _round in range(2):  # into the cache, then from it
            with app.test_request_context("/walls/"):
                viewer.locale = locale
                g._login_user = viewer
                for model, make, rows in ((FlowerGift, flower_card, gifts), (BadgeAward, badge_card, awards)):
                    for row in rows:
                        obj = db.session.get(model, row.id)
                        for no_promote in (False, True):
                            cached = str(make(obj, no_promote))
                            app.config["CARD_CACHE"] = False
                            try:
                                plain = str(make(obj, no_promote))
                            finally:
                                app.config["CARD_CACHE"] = True
                            assert cached == plain
        db.session.rollback()
