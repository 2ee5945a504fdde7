"""HR erases a person: afterwards no table, column or voice file names them, and what they gave
others stays as from "a former colleague". Who may erase, and bad confirmations, change nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import JSON, Integer, LargeBinary, String, Text, cast, func, or_, select

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.people.models import FORMER_COLLEAGUE_EMAIL, User
from perfapp.personal import erasure
from perfapp.reactions.models import Comment
from perfapp.recognition.models import FlowerGift
from tests.conftest import htmx_headers
from tests.personal.conftest import EMAIL, NAME, World

ZH = {"Accept-Language": "zh-CN"}


def _person_fk_columns():  # type: ignore[no-untyped-def]
    person = db.metadata.tables["person"]
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table is person for fk in column.foreign_keys):
                yield table, column


def traces(name: str, email: str, person_id: int) -> list[str]:
    """Every place in the database that still names the person or points at their id."""
    found: list[str] = []
    needles = [name.lower(), email.lower()]
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            if isinstance(kind, String | Text | JSON):
                text = func.lower(cast(column, Text()))
                hits = db.session.execute(select(column).select_from(table).where(
                    or_(*(text.contains(n, autoescape=True) for n in needles)))).all()
                found += [f"{table.name}.{column.name} = {row[0]!r}" for row in hits]
            elif isinstance(kind, LargeBinary):
                for (blob,) in db.session.execute(select(column).select_from(table).where(column.is_not(None))):
                    if any(n.encode() in bytes(blob).lower() for n in needles):
                        found.append(f"{table.name}.{column.name} holds the name")
    for table, column in _person_fk_columns():
        if isinstance(column.type, Integer):
            n = db.session.scalar(select(func.count()).select_from(table).where(column == person_id))
            if n:
                found.append(f"{table.name}.{column.name} = {person_id} ({n} rows)")
    if db.session.get(User, person_id) is not None:
        found.append("person row")
    # JSON lists of person ids (customer praise suggestions)
    from perfapp.integrations.models import CustomerPraise

    for ids in db.session.scalars(select(CustomerPraise.suggested_ids)):
        if person_id in (ids or []):
            found.append("customer_praise.suggested_ids")
    return found


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_search_finds_every_trace_before_erasure(world: World) -> None:
    """The search itself works: before erasure it finds the person all over the schema."""
    found = traces(NAME, EMAIL, world.gone.id)
    tables = {f.split(".")[0] for f in found}
    assert {"person", "feedback", "comment", "flower_gift", "badge_award", "story", "customer_praise",
            "moderation_decision", "idempotency_record", "login_session", "notification",
            "push_subscription", "feedback_request", "reaction", "report"} <= tables, tables


def test_erasure_leaves_no_trace_in_any_table_or_voice_file(world: World, login, voice_dir: Path) -> None:
    pid = world.gone.id
    kept_id, others_note_id, other_id = world.kept.id, world.others_note.id, world.other.id
    theirs, others = world.voice_keys_theirs, world.voice_keys_others
    c = login(world.hr)
    r = c.submit(f"/admin/people/{pid}/erase", {"confirm": f"  {NAME} "})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/people")
    db.session.expire_all()

    assert traces(NAME, EMAIL, pid) == []
    files = files_under(voice_dir)
    assert not any(k in files for k in theirs)                  # their voice: gone, even on kept feedback
    assert world.voice_keys_others[1] in files                  # others' voice on others' feedback: stays
    assert others[0] not in files                               # voice on feedback they received: gone
    for data in files.values():
        assert NAME.encode() not in data and EMAIL.encode() not in data

    # What they gave others stays, from "a former colleague", without voice; the secret one is gone.
    former = db.session.scalar(select(User).where(User.email == FORMER_COLLEAGUE_EMAIL))
    kept = db.session.get(Feedback, kept_id)
    assert kept is not None and kept.author_id == former.id and kept.voice_key is None
    assert [t.name_en for t in kept.tags] == ["Ownership"]     # value counts keep counting it
    assert db.session.scalar(select(func.count()).select_from(Feedback).where(Feedback.confidential.is_(True))) == 0
    assert db.session.scalar(select(FlowerGift.giver_id).where(FlowerGift.receiver_id == other_id)) == former.id
    assert db.session.scalar(select(Comment.author_id).where(Comment.text == "Happy to help")) == former.id
    note = db.session.get(Feedback, others_note_id)
    assert note is not None and note.text == f"Thanks for backing {erasure.REDACTED} and me ({erasure.REDACTED})"
    assert former.active is False and former.password_hash is None and former.search_key == ""
    # Their direct report now reports to their manager.
    assert db.session.get(User, world.report.id).manager_id == world.boss.id  # type: ignore[union-attr]


def test_pages_and_caches_stop_showing_the_name(app, world: World, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "CARD_CACHE", True)
    gone_id, kept_id = world.gone.id, world.kept.id
    viewer = login(world.other)
    pages = ["/walls/praise", f"/people/{world.other.id}", "/", f"/feedback/{kept_id}"]
    before = [viewer.get(url, headers=ZH).get_data(as_text=True) for url in pages]
    assert any(NAME in page for page in before)  # cached now: the cards and the pages
    hr = login(world.hr)
    assert hr.submit(f"/admin/people/{gone_id}/erase", {"confirm": NAME}).status_code == 303
    for url in pages:
        page = viewer.get(url, headers=ZH).get_data(as_text=True)
        assert NAME not in page and EMAIL not in page, url
    detail = viewer.get(f"/feedback/{kept_id}", headers=ZH).get_data(as_text=True)
    assert "前同事" in detail
    english = viewer.get(f"/feedback/{kept_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A former colleague" in english
    former = db.session.scalar(select(User.id).where(User.email == FORMER_COLLEAGUE_EMAIL))
    assert f"/people/{former}" not in english           # no link to the stand-in
    assert viewer.get(f"/people/{former}").status_code == 404
    assert viewer.get(f"/walls/people/{former}").status_code == 404
    assert viewer.get(f"/people/{gone_id}").status_code == 404


def test_erased_person_is_logged_out(world: World, login) -> None:  # type: ignore[no-untyped-def]
    theirs = login(world.gone)
    assert login(world.hr).submit(f"/admin/people/{world.gone.id}/erase", {"confirm": NAME}).status_code == 303
    r = theirs.get("/people/me")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_confirmation_page_and_htmx_erase(world: World, login) -> None:  # type: ignore[no-untyped-def]
    gone_id = world.gone.id
    c = login(world.hr)
    page = c.get(f"/admin/people/{gone_id}/erase", headers=ZH).get_data(as_text=True)
    assert "无法撤销" in page and NAME in page and 'name="confirm"' in page
    r = c.submit(f"/admin/people/{gone_id}/erase", {"confirm": NAME}, htmx=True, target="person-erase")
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/admin/people"
    db.session.expire_all()
    assert db.session.get(User, gone_id) is None


@pytest.mark.parametrize("typed", ["", "赵小", "赵小雪雪", "xiaoxue.zhao@example.com", "Other Person"])
@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_confirmation_is_a_translated_422_and_changes_nothing(world: World, login, typed: str,
                                                                     htmx: bool) -> None:
    c = login(world.hr)
    headers = {**ZH, **(htmx_headers("person-erase") if htmx else {})}
    r = c.submit(f"/admin/people/{world.gone.id}/erase", {"confirm": typed}, headers=headers)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "请完全按照显示输入" in body
    assert body.lstrip().startswith("<section" if htmx else "<!doctype")
    db.session.expire_all()
    assert db.session.get(User, world.gone.id) is not None
    assert len(traces(NAME, EMAIL, world.gone.id)) > 20


def test_employees_and_managers_cannot_erase(world: World, login) -> None:  # type: ignore[no-untyped-def]
    for who in (world.other, world.boss):  # boss manages 赵小雪
        c = login(who)
        assert c.get(f"/admin/people/{world.gone.id}/erase").status_code == 403
        assert c.submit(f"/admin/people/{world.gone.id}/erase", {"confirm": NAME}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, world.gone.id) is not None


def test_hr_cannot_erase_themselves_hr_colleagues_or_admins(world: World, make_user, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world.hr)
    r = c.submit(f"/admin/people/{world.hr.id}/erase", {"confirm": "HR Person"}, headers=ZH)
    assert r.status_code == 422 and "不能清除自己" in r.get_data(as_text=True)
    page = c.get(f"/admin/people/{world.hr.id}/erase").get_data(as_text=True)
    assert 'name="confirm"' not in page
    other_hr = make_user(name="HR Two", role="hr")
    assert c.submit(f"/admin/people/{other_hr.id}/erase", {"confirm": "HR Two"}).status_code == 403
    assert c.submit(f"/admin/people/{world.admin.id}/erase", {"confirm": "Admin Person"}).status_code == 403
    db.session.expire_all()
    assert {u.id for u in db.session.scalars(select(User))} >= {world.hr.id, other_hr.id, world.admin.id}
    # ...an admin may erase an HR person.
    assert login(world.admin).submit(f"/admin/people/{other_hr.id}/erase", {"confirm": "HR Two"}).status_code == 303


def test_the_last_admin_cannot_be_erased(world: World, make_user) -> None:  # type: ignore[no-untyped-def]
    # Defence in depth (the acting admin is normally an active admin too): with the actor's own
    # account switched off, erasing the only active admin is refused.
    second = make_user(name="Second Admin", role="admin", active=False)
    with pytest.raises(erasure.FormError) as refused:
        erasure.erase_person(second, world.admin, "Admin Person")
    assert "form" in refused.value.errors
    with pytest.raises(erasure.FormError):
        erasure.check_erasable(second, second)


def test_the_former_colleague_row_is_not_erasable_nor_listed(world: World, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world.hr)
    assert c.submit(f"/admin/people/{world.gone.id}/erase", {"confirm": NAME}).status_code == 303
    former = db.session.scalar(select(User).where(User.email == FORMER_COLLEAGUE_EMAIL))
    assert c.get(f"/admin/people/{former.id}/erase").status_code == 404
    assert "former-colleague" not in c.get("/admin/people").get_data(as_text=True)


def test_a_second_erasure_reuses_the_former_colleague(world: World, login) -> None:  # type: ignore[no-untyped-def]
    other_id = world.other.id
    c = login(world.admin)
    assert c.submit(f"/admin/people/{world.gone.id}/erase", {"confirm": NAME}).status_code == 303
    assert c.submit(f"/admin/people/{other_id}/erase", {"confirm": "other person"}).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == FORMER_COLLEAGUE_EMAIL)) == 1
    db.session.expire_all()
    assert traces("Other Person", "other@example.com", other_id) == []


def test_admin_person_page_links_to_erasure_for_hr_only(world: World, login) -> None:  # type: ignore[no-untyped-def]
    page = login(world.hr).get(f"/admin/people/{world.gone.id}").get_data(as_text=True)
    assert f"/admin/people/{world.gone.id}/erase" in page
    own = login(world.hr).get(f"/admin/people/{world.hr.id}").get_data(as_text=True)
    assert "/erase" not in own


def test_erasure_is_audited_by_a_pseudonym_that_no_longer_resolves(world: World, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.audit.models import AuditEntry

    gone_ref, hr_ref, gone_id = world.gone.audit_ref, world.hr.audit_ref, world.gone.id
    assert login(world.hr).submit(f"/admin/people/{gone_id}/erase", {"confirm": NAME}).status_code == 303
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
    assert entry is not None and entry.actor_ref == hr_ref and entry.subject_ref == gone_ref
    assert entry.details["deleted"]["feedback"] == 2 and entry.details["voice_files"] == 3
    assert db.session.scalar(select(User).where(User.audit_ref == gone_ref)) is None
    # A refused attempt is not an erasure.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "person.erased")) == 1
