"""Flower and badge cards through the fragment cache give what their templates render, for
every kind of viewer (the wall's cards are shared between viewers with equal keys)."""
from __future__ import annotations

import pytest
from flask import Flask, g, render_template

from perfapp.extensions import db
from perfapp.reactions.models import Reaction
from perfapp.recognition.models import BadgeAward, FlowerGift
from perfapp.walls.cards import badge_card, flower_card


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
                for model, make, template, rows in ((FlowerGift, flower_card, "walls/_flower_item.html", gifts),
                                                    (BadgeAward, badge_card, "walls/_badge_item.html", awards)):
                    for row in rows:
                        obj = db.session.get(model, row.id)
                        for no_promote in (False, True):
                            cached = str(make(obj, no_promote))
                            app.config["FRAGMENT_CACHE"] = False
                            try:
                                plain = render_template(template, obj=obj, no_promote=no_promote)
                            finally:
                                app.config["FRAGMENT_CACHE"] = True
                            assert cached == plain
                            assert "\x00" not in cached
        db.session.rollback()
