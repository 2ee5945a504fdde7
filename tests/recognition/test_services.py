"""Recognition use cases without HTTP: flowers and the allowance, badges, automatic badges, signals."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from perfapp.core.db import utcnow
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import services as feedback_services
from perfapp.feedback.services import FeedbackInput
from perfapp.moderation.models import PostingSuspension
from perfapp.moderation.registry import REPORTABLE
from perfapp.notify import services as notify_services
from perfapp.notify.models import Notification
from perfapp.projects import services as project_services
from perfapp.recognition.badges import (
    AwardInput,
    BadgeInput,
    award_badge,
    awardable_badges,
    create_badge,
    holds,
    update_badge,
    upload_dir,
)
from perfapp.recognition.collusion import collusion_signals
from perfapp.recognition.flowers import (
    FlowerInput,
    default_allowance,
    flower_total,
    flowers_left,
    give_flowers,
    refund_flowers,
    remove_quota,
    set_default_allowance,
    set_quota,
)
from perfapp.recognition.models import Badge, BadgeAward, FlowerGift, GiverMonth
from perfapp.recognition.months import month_key, month_start
from perfapp.recognition.rules import RULES, automatic_badges_missing, ensure_automatic_badges
from tests.recognition.conftest import PNG, WEBP, count


def give(giver, receiver, n: int = 1, message: str = "Thank you for the launch", **kw):  # type: ignore[no-untyped-def]
    gift = give_flowers(giver, FlowerInput(receiver_id=receiver.id, count=n, message=message, **kw))
    db.session.commit()
    return gift


def award(giver, badge, receiver, citation: str = "Saved the release"):  # type: ignore[no-untyped-def]
    row = award_badge(giver, AwardInput(badge_id=badge.id, receiver_id=receiver.id, citation=citation))
    db.session.commit()
    return row


def refused(fn, *args, field: str) -> str:  # type: ignore[no-untyped-def]
    """Call, expect a FormError on `field`, roll back like the view does; returns the message."""
    with pytest.raises(FormError) as e:
        fn(*args)
    db.session.rollback()
    assert field in e.value.errors, e.value.errors
    return e.value.errors[field]


# --- flowers ---------------------------------------------------------------------------------

def test_giving_flowers_spends_the_allowance_and_the_receiver_keeps_them(org) -> None:
    assert flowers_left(org.emma) == (10, 10)
    gift = give(org.emma, org.lina, 3, tag_id=org.value.id)
    assert gift.month == month_key() and gift.tag_id == org.value.id
    assert flowers_left(org.emma) == (7, 10)
    give(org.zhang, org.lina, 2)
    assert flower_total(org.lina) == 5
    note = db.session.scalar(select(Notification).where(Notification.user_id == org.lina.id))
    assert note.ref_type == "flower_gift" and note.ref_id == gift.id and note.dedupe_key == f"flower_gift:{gift.id}"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"n": 0}, "count"), ({"n": 6}, "count"), ({"n": None}, "count"),
    ({"message": ""}, "message"), ({"message": "   "}, "message"), ({"message": "x" * 501}, "message"),
    ({"tag": "skill"}, "tag_id"), ({"tag_id": 99999}, "tag_id"),
])
def test_bad_flower_input_changes_nothing(org, kwargs, field) -> None:
    data = FlowerInput(receiver_id=org.lina.id, count=kwargs.get("n", 1), message=kwargs.get("message", "Thanks"),
                       tag_id=org.skill.id if kwargs.get("tag") else kwargs.get("tag_id"))
    refused(give_flowers, org.emma, data, field=field)
    assert count(FlowerGift) == 0 and flowers_left(org.emma) == (10, 10)


def test_a_500_character_message_is_fine(org) -> None:
    assert give(org.emma, org.lina, message="花" * 500).message == "花" * 500


def test_no_flowers_for_yourself_the_deactivated_or_nobody(org) -> None:
    for person_id in (org.emma.id, org.gone.id, 99999, None):
        refused(give_flowers, org.emma, FlowerInput(receiver_id=person_id, count=1, message="Hi"),
                field="receiver_id")
    assert count(FlowerGift) == 0 and count(GiverMonth, GiverMonth.flowers_spent > 0) == 0


def test_more_flowers_than_remain_is_refused_with_what_is_left(org) -> None:
    give(org.emma, org.lina, 5)
    give(org.emma, org.zhang, 4)
    message = refused(give_flowers, org.emma, FlowerInput(receiver_id=org.lina.id, count=2, message="Hi"),
                      field="count")
    assert "1" in message
    assert flowers_left(org.emma) == (1, 10) and flower_total(org.lina) == 5
    give(org.emma, org.lina, 1)
    assert "no flowers left" in refused(give_flowers, org.emma,
                                        FlowerInput(receiver_id=org.lina.id, count=1, message="Hi"), field="count")


def test_a_suspended_person_cannot_give(org) -> None:
    db.session.add(PostingSuspension(user_id=org.emma.id, until=utcnow() + timedelta(days=2)))
    db.session.commit()
    refused(give_flowers, org.emma, FlowerInput(receiver_id=org.lina.id, count=1, message="Hi"), field="form")
    refused(award_badge, org.emma, AwardInput(org.anyone.id, org.lina.id, "Hi"), field="form")
    assert count(FlowerGift) == 0 and count(BadgeAward) == 0


def test_no_rollover_each_month_starts_full(org) -> None:
    last_month = month_key(month_start() - timedelta(days=1))
    db.session.add(GiverMonth(user_id=org.emma.id, month=last_month, flowers_spent=10))
    db.session.commit()
    assert flowers_left(org.emma) == (10, 10)


def test_the_month_turns_at_midnight_on_the_1st_in_the_organisations_timezone(app) -> None:
    app.config["ORG_TIMEZONE"] = "Asia/Shanghai"  # UTC+8
    assert month_key(datetime(2026, 1, 31, 15, 59)) == "2026-01"
    assert month_key(datetime(2026, 1, 31, 16, 0)) == "2026-02"
    assert month_start(datetime(2026, 2, 10)) == datetime(2026, 1, 31, 16, 0)
    app.config["ORG_TIMEZONE"] = "America/New_York"  # UTC-5 in February
    assert month_key(datetime(2026, 2, 1, 3, 0)) == "2026-01"
    assert month_key(datetime(2026, 2, 1, 5, 0)) == "2026-02"


def test_hr_sets_the_default_and_gives_some_people_more(org) -> None:
    set_default_allowance(org.hr, 4)
    set_quota(org.hr, org.boss.id, 20)
    db.session.commit()
    assert flowers_left(org.emma) == (4, 4)
    assert flowers_left(org.boss) == (20, 20)
    give(org.boss, org.lina, 5)
    assert flowers_left(org.boss) == (15, 20)
    remove_quota(org.hr, org.boss.id)
    db.session.commit()
    assert flowers_left(org.boss) == (0, 4)  # spent 5 of now 4: nothing left, never negative


def test_only_hr_changes_allowances_and_numbers_are_checked(org) -> None:
    with pytest.raises(PermissionError):
        set_default_allowance(org.emma, 50)
    with pytest.raises(PermissionError):
        set_quota(org.emma, org.emma.id, 50)
    refused(set_default_allowance, org.hr, -1, field="monthly_flowers")
    refused(set_default_allowance, org.hr, None, field="monthly_flowers")
    refused(set_quota, org.hr, 99999, 5, field="person_id")
    refused(set_quota, org.hr, org.lina.id, 1001, field="monthly")
    assert default_allowance() == 10


def test_moderation_delete_refunds_this_month_and_removes_the_flowers(org) -> None:
    gift = give(org.emma, org.lina, 4)
    REPORTABLE["flower"].on_delete(gift)  # type: ignore[misc]
    db.session.delete(gift)
    db.session.commit()
    assert flowers_left(org.emma) == (10, 10)
    assert flower_total(org.lina) == 0


def test_no_refund_for_last_months_flowers_which_never_expire(org) -> None:
    old = FlowerGift(giver_id=org.emma.id, receiver_id=org.lina.id, count=3, message="Old", month="2001-01",
                     created_at=datetime(2001, 1, 5))
    db.session.add(old)
    give(org.emma, org.lina, 2)
    refund_flowers(old)
    db.session.commit()
    assert flowers_left(org.emma) == (8, 10)
    assert flower_total(org.lina) == 5


def test_reported_flowers_are_left_out_of_the_total_except_for_hr(org) -> None:
    gift = give(org.emma, org.lina, 3)
    give(org.zhang, org.lina, 1)
    gift.hidden = True
    db.session.commit()
    assert flower_total(org.lina, org.emma) == 1
    assert flower_total(org.lina, org.hr) == 4


def test_recognition_of_reads_badges_and_flowers_together(org) -> None:
    """What a profile and a badge wall show: badges held, newest first, and the flower total
    (reported gifts counted for HR only), the same with badges held and without."""
    from perfapp.recognition.badges import holdings, recognition_of
    from tests.feedback.test_queries import recorded_statements

    assert recognition_of(org.lina, org.emma) == ([], 0)  # nothing yet: nothing invented
    give(org.emma, org.lina, 3).hidden = True
    give(org.zhang, org.lina, 2)
    db.session.commit()
    for holds_badges in (False, True):
        if holds_badges:
            award(org.emma, org.anyone, org.lina)
        with recorded_statements() as statements:
            held, flowers = recognition_of(org.lina, org.emma)
        reads = [s for s in statements if "badge_holding" in s or "flower_gift" in s]
        assert len(reads) == 1 and "flower_gift" in reads[0]  # one statement for both
        assert flowers == 2  # the reported gift left out
        assert len(held) == int(holds_badges)
    assert [(h.badge.id, h.count) for h in held] == [(h.badge.id, h.count) for h in holdings(org.lina, org.emma)]
    assert [(h.badge.id, h.count) for h in held] == [(org.anyone.id, 1)]
    assert recognition_of(org.lina, org.hr)[1] == 5  # HR counts reported gifts


# --- the catalogue ---------------------------------------------------------------------------

def badge_input(**kw) -> BadgeInput:  # type: ignore[no-untyped-def]
    base = {"name_zh": "客户之星", "name_en": "Customer star", "description_en": "For customers", "icon": "star",
            "colour": "#0090ff", "awarders": "anyone", "monthly_limit": 3}
    return BadgeInput(**{**base, **kw})


def test_hr_creates_badges_with_a_built_in_icon_or_an_uploaded_image(org, app) -> None:
    star = create_badge(org.hr, badge_input(tag_id=org.value.id))
    assert (star.icon, star.image, star.tag_id) == ("star", None, org.value.id)
    for data, ext in ((PNG, "png"), (WEBP, "webp")):
        badge = create_badge(org.hr, badge_input(use_image=True, image=data))
        assert badge.image.endswith(f".{ext}") and len(badge.image) == 32 + 1 + len(ext)
        assert (upload_dir() / badge.image).read_bytes() == data
    db.session.commit()
    assert upload_dir().is_relative_to(app.config["UPLOAD_FOLDER"])


@pytest.mark.parametrize(("kw", "field"), [
    ({"name_zh": ""}, "name_zh"), ({"name_en": "x" * 41}, "name_en"), ({"description_en": "x" * 301}, "description_en"),
    ({"icon": "skull"}, "icon"), ({"colour": "red"}, "colour"), ({"colour": "#12345"}, "colour"),
    ({"awarders": "everyone"}, "awarders"), ({"monthly_limit": 0}, "monthly_limit"),
    ({"monthly_limit": None}, "monthly_limit"), ({"tag": "skill"}, "tag_id"),
    ({"use_image": True}, "image"),
    ({"use_image": True, "image": b"<html><script>alert(1)</script></html>"}, "image"),
    ({"use_image": True, "image": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}, "image"),
    ({"use_image": True, "image": b"GIF89a" + b"\x00" * 40}, "image"),
    ({"use_image": True, "image": PNG + b"\x00" * (100 * 1024)}, "image"),
])
def test_bad_badges_are_refused_and_nothing_is_stored(org, kw, field) -> None:
    if kw.pop("tag", None):
        kw["tag_id"] = org.skill.id
    before = count(Badge)
    refused(create_badge, org.hr, badge_input(**kw), field=field)
    assert count(Badge) == before
    assert not upload_dir().exists() or not any(upload_dir().iterdir())


def test_an_image_of_exactly_100_kb_is_accepted(org) -> None:
    data = PNG + b"\x00" * (100 * 1024 - len(PNG))
    assert create_badge(org.hr, badge_input(use_image=True, image=data)).image


def test_only_hr_manages_the_catalogue(org) -> None:
    with pytest.raises(PermissionError):
        create_badge(org.emma, badge_input())
    with pytest.raises(PermissionError):
        update_badge(org.emma, org.anyone, badge_input())


# --- awarding ----------------------------------------------------------------------------------

def test_anyone_awards_within_the_monthly_limit(org) -> None:
    first = award(org.emma, org.anyone, org.lina)
    award(org.emma, org.anyone, org.zhang)
    assert "2 times a month" in refused(award_badge, org.emma, AwardInput(org.anyone.id, org.boss.id, "Hi"),
                                        field="badge_id")
    assert count(BadgeAward) == 2
    award(org.zhang, org.anyone, org.boss)  # the limit is per giver
    note = db.session.scalar(select(Notification).where(Notification.user_id == org.lina.id,
                                                         Notification.ref_type == "badge_award"))
    assert note.ref_id == first.id and note.dedupe_key == f"badge_award:{first.id}"


def test_awarding_last_months_limit_does_not_count_now(org) -> None:
    db.session.add_all([BadgeAward(badge_id=org.anyone.id, receiver_id=org.lina.id, giver_id=org.emma.id,
                                   citation="old", month="2001-01") for _ in range(2)])
    db.session.commit()
    award(org.emma, org.anyone, org.lina)


def test_who_may_award(org) -> None:
    refused(award_badge, org.emma, AwardInput(org.managers.id, org.lina.id, "Hi"), field="badge_id")
    award(org.boss, org.managers, org.lina)  # the boss has direct reports
    refused(award_badge, org.emma, AwardInput(org.holders.id, org.lina.id, "Hi"), field="badge_id")
    award(org.hr, org.holders, org.emma)  # HR may start a holders-only badge
    award(org.emma, org.holders, org.lina)  # now Emma holds it and may pass it on
    refused(award_badge, org.emma, AwardInput(org.hr_only.id, org.lina.id, "Hi"), field="badge_id")
    award(org.hr, org.hr_only, org.lina)
    assert count(BadgeAward) == 4


def test_hidden_awards_do_not_make_someone_a_holder(org) -> None:
    row = award(org.hr, org.holders, org.emma)
    row.hidden = True
    db.session.commit()
    refused(award_badge, org.emma, AwardInput(org.holders.id, org.lina.id, "Hi"), field="badge_id")


@pytest.mark.parametrize(("badge", "receiver", "citation", "field"), [
    ("anyone", "emma", "Hi", "receiver_id"),
    ("anyone", "gone", "Hi", "receiver_id"),
    ("anyone", "lina", "", "citation"),
    ("anyone", "lina", "x" * 501, "citation"),
    (None, "lina", "Hi", "badge_id"),
    ("retired", "lina", "Hi", "badge_id"),
    ("automatic", "lina", "Hi", "badge_id"),
])
def test_bad_awards_change_nothing(org, badge, receiver, citation, field) -> None:
    if badge == "retired":
        org.anyone.active = False
        db.session.commit()
    badge_id = {"anyone": org.anyone.id, "retired": org.anyone.id, None: 99999,
                "automatic": ensure_automatic_badges()["first-feedback"].id}[badge]
    db.session.commit()
    refused(award_badge, org.emma, AwardInput(badge_id, getattr(org, receiver).id, citation), field=field)
    assert count(BadgeAward) == 0 and count(Notification) == 0


def test_awardable_badges_show_what_is_left(org) -> None:
    award(org.emma, org.anyone, org.lina)
    assert [(b.name_en, left) for b, left in awardable_badges(org.emma)] == [("Helper", 1)]
    assert {b.name_en for b, _n in awardable_badges(org.hr)} == {"Helper", "Coach", "Guild", "Hero"}


# --- automatic badges ---------------------------------------------------------------------------

def rule_awards(rule: str, person=None) -> list[BadgeAward]:  # type: ignore[no-untyped-def]
    query = select(BadgeAward).join(Badge).where(Badge.rule == rule)
    if person is not None:
        query = query.where(BadgeAward.receiver_id == person.id)
    return list(db.session.scalars(query))


def test_automatic_badge_rows_are_seeded_idempotently(app) -> None:
    ensure_automatic_badges()
    ensure_automatic_badges()
    db.session.commit()
    assert sorted(db.session.scalars(select(Badge.rule).where(Badge.rule.is_not(None)))) == sorted(RULES)
    assert not automatic_badges_missing()


def test_first_feedback_earns_a_badge_once_and_notifies(org) -> None:
    feedback_services.give_feedback(org.emma, FeedbackInput(recipient_id=org.lina.id, text="Thanks"))
    feedback_services.give_feedback(org.emma, FeedbackInput(recipient_id=org.zhang.id, text="Thanks"))
    db.session.commit()
    [earned] = rule_awards("first-feedback")
    assert earned.receiver_id == org.emma.id and earned.giver_id is None and earned.source == "once"
    assert notify_services.unread_count(org.emma) == 1


def test_ten_constructive_feedback_earn_a_badge(org) -> None:
    for i in range(10):
        feedback_services.give_feedback(org.emma, FeedbackInput(
            recipient_id=org.lina.id, text=f"Try this {i}", kind="constructive", visibility="private"))
        db.session.commit()
        assert len(rule_awards("constructive-10")) == (1 if i == 9 else 0)
    feedback_services.give_feedback(org.emma, FeedbackInput(
        recipient_id=org.lina.id, text="More", kind="constructive", visibility="private"))
    db.session.commit()
    assert len(rule_awards("constructive-10")) == 1


def test_flowers_from_five_departments_earn_a_badge(org, make_user) -> None:
    from perfapp.people.models import Department

    departments = [Department(name_zh=f"部门{i}", name_en=f"Dept {i}") for i in range(5)]
    db.session.add_all(departments)
    db.session.commit()
    givers = [make_user(name=f"Giver {i}", department=d) for i, d in enumerate(departments)]
    hidden = give(givers[4], org.lina)
    hidden.hidden = True  # reported: does not count
    db.session.commit()
    give(givers[0], org.lina)
    give(givers[0], org.lina)  # the same department twice counts once
    for g in givers[1:4]:
        give(g, org.lina)
    assert rule_awards("five-departments") == []
    give(make_user(name="Another", department=departments[4]), org.lina)
    assert [a.receiver_id for a in rule_awards("five-departments")] == [org.lina.id]


def test_a_reached_milestone_earns_its_members_a_badge_once(org, make_project) -> None:
    project = make_project("Apollo", members=(org.lina, org.emma, org.gone), milestones=("Beta", "Launch"))
    beta, launch = project.milestones
    project_services.reach_milestone(org.hr, beta)
    db.session.commit()
    assert sorted(a.receiver_id for a in rule_awards("milestone")) == sorted([org.lina.id, org.emma.id])
    assert rule_awards("milestone")[0].citation == "Apollo › Beta"
    project_services.unreach_milestone(org.hr, beta)
    project_services.reach_milestone(org.hr, beta)
    db.session.commit()
    assert len(rule_awards("milestone")) == 2
    project_services.reach_milestone(org.hr, launch)
    db.session.commit()
    assert len(rule_awards("milestone", org.lina)) == 2  # one per milestone
    notes = db.session.scalars(select(Notification.ref_type).where(Notification.user_id == org.lina.id,
                                                                 Notification.kind == "badge_received"))
    assert list(notes) == ["badge_award", "badge_award"]


def test_a_retired_automatic_badge_is_not_earned(org) -> None:
    ensure_automatic_badges()["first-feedback"].active = False
    db.session.commit()
    feedback_services.give_feedback(org.emma, FeedbackInput(recipient_id=org.lina.id, text="Thanks"))
    db.session.commit()
    assert rule_awards("first-feedback") == []


# --- collusion signals -------------------------------------------------------------------------------

def test_collusion_signals_find_repeats_reciprocal_pairs_and_rings(org, make_user) -> None:
    a, b, c, d, e, f, g = (make_user(name=n) for n in "ABCDEFG")
    set_default_allowance(org.hr, 100)
    for _ in range(5):
        give(a, b)  # repeated
    give(c, d)
    award(d, org.anyone, c)  # reciprocal, through a badge
    give(e, f)
    give(f, g)
    give(g, e)  # a ring of three
    old = FlowerGift(giver_id=b.id, receiver_id=a.id, count=1, message="old", month="2001-01",
                     created_at=utcnow() - timedelta(days=31))
    db.session.add(old)
    db.session.commit()
    signals = collusion_signals(org.hr)
    assert [(x.name, y.name, n) for x, y, n in signals.repeated] == [("A", "B", 5)]
    assert [(x.name, y.name, ab, ba) for x, y, ab, ba in signals.reciprocal] == [("C", "D", 1, 1)]
    assert [tuple(p.name for p in ring) for ring in signals.rings] == [("E", "F", "G")]
    with pytest.raises(PermissionError):
        collusion_signals(org.emma)


# --- holdings (the walls' summary of who holds what) ----------------------------------------

def holdings_from_awards() -> dict[tuple[int, int], tuple[int, int]]:
    from sqlalchemy import func

    rows = db.session.execute(select(BadgeAward.badge_id, BadgeAward.receiver_id, func.count(), func.max(BadgeAward.id))
                              .where(BadgeAward.hidden.is_(False)).group_by(BadgeAward.badge_id, BadgeAward.receiver_id))
    return {(b, r): (n, last) for b, r, n, last in rows}


def holdings_stored() -> dict[tuple[int, int], tuple[int, int]]:
    from perfapp.recognition.models import BadgeHolding

    return {(h.badge_id, h.user_id): (h.count, h.last_award_id) for h in db.session.scalars(select(BadgeHolding))}


def test_holdings_follow_awards_reports_restores_and_deletes(org, make_project) -> None:
    first = award(org.emma, org.anyone, org.lina)
    award(org.zhang, org.anyone, org.lina)
    award(org.boss, org.managers, org.lina)
    project = make_project("Apollo", members=(org.lina, org.emma))
    project_services.reach_milestone(org.hr, project.milestones[0])
    db.session.commit()
    assert holdings_stored() == holdings_from_awards() and holdings_stored()[(org.anyone.id, org.lina.id)][0] == 2
    first.hidden = True  # reported
    db.session.commit()
    assert holdings_stored() == holdings_from_awards() and holdings_stored()[(org.anyone.id, org.lina.id)][0] == 1
    first.hidden = False  # restored
    db.session.commit()
    assert holdings_stored()[(org.anyone.id, org.lina.id)][0] == 2
    coach = db.session.scalar(select(BadgeAward).where(BadgeAward.badge_id == org.managers.id))
    db.session.delete(coach)  # deleted by moderation
    db.session.commit()
    assert holdings_stored() == holdings_from_awards() and (org.managers.id, org.lina.id) not in holdings_stored()
    assert not holds(org.lina, org.managers) and holds(org.lina, org.anyone)
