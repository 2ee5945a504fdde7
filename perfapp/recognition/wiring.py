"""Signal handlers (automatic badges, inbox entries) and the registries recognition joins: the inbox
shows flowers and badges, moderation can hide and delete them, stories retell them, people react to
them. `connect(app)` is called once from create_app."""
from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _

from perfapp.core import signals
from perfapp.moderation.registry import register_reportable
from perfapp.notify import registry as inbox_registry
from perfapp.notify.services import notify
from perfapp.people.models import User
from perfapp.reactions.registry import Target, register_target
from perfapp.recognition import cards, holdings
from perfapp.recognition.badges import load_awards, readable_award
from perfapp.recognition.checks import can_read
from perfapp.recognition.flowers import load_gifts, readable_gift, refund_flowers
from perfapp.recognition.models import BadgeAward, FlowerGift
from perfapp.recognition.rules import (
    check_feedback_rules,
    check_flower_rules,
    check_milestone_rules,
)
from perfapp.stories.sources import StorySource, register_source


def on_feedback_given(_sender: object, feedback) -> None:
    check_feedback_rules(feedback)


def on_flowers_given(_sender: object, gift: FlowerGift) -> None:
    notify(gift.receiver_id, "flowers_received", ref_type="flower_gift", ref_id=gift.id,
           dedupe_key=f"flower_gift:{gift.id}")
    check_flower_rules(gift)


def on_badge_awarded(_sender: object, award: BadgeAward) -> None:
    notify(award.receiver_id, "badge_received", ref_type="badge_award", ref_id=award.id,
           dedupe_key=f"badge_award:{award.id}")


def on_milestone_reached(_sender: object, milestone, actor=None) -> None:
    check_milestone_rules(milestone)


def _load_gifts(ids: list[int], viewer: User) -> dict[int, Any]:
    return {g.id: g for g in load_gifts(ids) if can_read(g, viewer)}


def _load_awards(ids: list[int], viewer: User) -> dict[int, Any]:
    return {a.id: a for a in load_awards(ids) if can_read(a, viewer)}


def _gift_label(gift: FlowerGift, viewer: User) -> str:
    if viewer.id == gift.receiver_id:
        return _("the flowers you received")
    if viewer.id == gift.giver_id:
        return _("your flowers to %(name)s", name=gift.receiver.name)
    return _("flowers to %(name)s", name=gift.receiver.name)


def _award_label(award: BadgeAward, viewer: User) -> str:
    if viewer.id == award.receiver_id:
        return _("your badge “%(badge)s”", badge=award.badge.name)
    return _("%(name)s's badge “%(badge)s”", name=award.receiver.name, badge=award.badge.name)


def _value_ids(tag: Any) -> list[int]:
    return [tag.id] if tag is not None and tag.kind == "value" and tag.active else []


def _by_id(rows: list[Any]) -> dict[int, Any]:
    return {row.id: row for row in rows}


def connect(app: Flask) -> None:
    """Called once from create_app (blinker ignores a second identical connect; the registries are dicts)."""
    holdings.install()
    cards.connect()  # what a card shows of other rows moves its version
    signals.feedback_given.connect(on_feedback_given)
    signals.flowers_given.connect(on_flowers_given)
    signals.badge_awarded.connect(on_badge_awarded)
    signals.milestone_reached.connect(on_milestone_reached)
    inbox_registry.register("flower_gift", "recognition/_inbox_flower.html", _load_gifts)
    inbox_registry.register("badge_award", "recognition/_inbox_badge.html", _load_awards)
    register_reportable("flower", FlowerGift, lambda gift: gift.giver_id, "recognition/_flower_case.html",
                        on_delete=refund_flowers, can_read=can_read,
                        dom_id=lambda gift: f"flower-{gift.id}")
    # An automatic badge has no giver: a report of it concerns the person who holds it.
    register_reportable("badge_award", BadgeAward, lambda award: award.giver_id or award.receiver_id,
                        "recognition/_award_case.html", can_read=can_read, dom_id=lambda award: f"award-{award.id}")
    # Flowers and badges are public recognition: HR and managers can retell them as stories
    # (never while a report keeps them hidden; a deleted one can't be loaded at all).
    register_source("flower", StorySource(
        load=readable_gift, eligible=lambda gift: not gift.hidden, people=lambda gift: [gift.receiver],
        url=lambda gift: url_for("recognition.flower_gift", gift_id=gift.id), template="stories/_source_flower.html",
        text=lambda gift: gift.message, tag_ids=lambda gift: _value_ids(gift.tag), model=FlowerGift,
    ))
    register_source("badge_award", StorySource(
        load=readable_award, eligible=lambda award: not award.hidden, people=lambda award: [award.receiver],
        url=lambda award: url_for("recognition.badge_award", award_id=award.id), template="stories/_source_badge.html",
        text=lambda award: award.citation or award.badge.description, tag_ids=lambda award: _value_ids(award.badge.tag),
        model=BadgeAward,
    ))
    # Likes, reactions and comments on flowers and badges, like on public praise.
    register_target("flower", Target(
        model=FlowerGift, can_read=can_read, people=lambda gift: (gift.giver_id, gift.receiver_id),
        secret_author_id=lambda _gift: None, label=_gift_label,
        url=lambda gift: url_for("recognition.flower_gift", gift_id=gift.id), template="walls/_flower_item.html",
        load=lambda ids: _by_id(load_gifts(ids)),
    ))
    register_target("badge_award", Target(
        model=BadgeAward, can_read=can_read,
        people=lambda award: tuple(p for p in (award.giver_id, award.receiver_id) if p is not None),
        secret_author_id=lambda _award: None, label=_award_label,
        url=lambda award: url_for("recognition.badge_award", award_id=award.id), template="walls/_badge_item.html",
        load=lambda ids: _by_id(load_awards(ids)),
    ))
