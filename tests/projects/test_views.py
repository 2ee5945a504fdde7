"""Project spaces over HTTP: who sees and edits what, the peer review from the nudge, htmx fragments,
bad input that changes nothing, GETs that write nothing."""
from __future__ import annotations

from html import unescape

import pytest

from perfapp.extensions import db
from perfapp.feedback.models import Feedback
from perfapp.projects.models import Milestone, PeerReview, Project
from perfapp.projects.services import reach_milestone
from tests.conftest import count, htmx_headers


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


@pytest.fixture()
def world(make_user, make_project):  # type: ignore[no-untyped-def]
    boss = make_user(name="Boss Wang")
    ann = make_user(name="Ann Li", manager=boss)
    bob = make_user(name="Bob Chen", manager=boss)
    outsider = make_user(name="Out Sider")
    project = make_project("Apollo", members=(ann, bob))
    project.owner_id = boss.id
    db.session.commit()
    return {"boss": boss, "ann": ann, "bob": bob, "outsider": outsider, "project": project,
            "milestone": project.milestones[0]}


def urls(w) -> dict[str, str]:  # type: ignore[no-untyped-def]
    p, m = w["project"].id, w["milestone"].id
    return {"detail": f"/projects/{p}", "edit": f"/projects/{p}/edit", "milestone": f"/projects/{p}/milestones/{m}",
            "review": f"/projects/{p}/milestones/{m}/review", "reached": f"/projects/{p}/milestones/{m}/reached",
            "new_milestone": f"/projects/{p}/milestones"}


def test_members_see_the_space_outsiders_get_404(world, login) -> None:  # type: ignore[no-untyped-def]
    u = urls(world)
    ann = login(world["ann"])
    listing = ann.get("/projects/")
    assert listing.status_code == 200 and "Apollo" in text(listing)
    page = ann.get(u["detail"])
    body = text(page)
    assert page.status_code == 200 and "Ann Li" in body and "Bob Chen" in body and "Launch" in body
    assert 'data-back' in body and u["edit"] not in body  # a member who is not the owner can't edit
    assert ann.get(u["edit"]).status_code == 404
    assert ann.get(u["milestone"]).status_code == 200
    outsider = login(world["outsider"])
    assert "Apollo" not in text(outsider.get("/projects/"))
    for name in ("detail", "edit", "milestone", "review"):
        assert outsider.get(u[name]).status_code == 404, name
    assert outsider.submit(u["reached"], {"reached": "1"}).status_code == 404
    assert world["milestone"].reached_at is None
    # The owner (a manager, not on the project) may edit but has nobody to review as a member.
    boss = login(world["boss"])
    assert boss.get(u["edit"]).status_code == 200
    assert boss.get(u["review"]).status_code == 404
    assert boss.get(f"/projects/{world['project'].id}/milestones/999999").status_code == 404


def test_anonymous_is_sent_to_login(world, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(urls(world)["detail"])
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


def test_a_manager_creates_a_project_and_edits_roles(world, login, make_user) -> None:  # type: ignore[no-untyped-def]
    boss = login(world["boss"])
    assert boss.get("/projects/new").status_code == 200
    response = boss.submit("/projects/new", {"name": "Gemini", "member_ids": [str(world["ann"].id)]})
    assert response.status_code == 303
    project = db.session.scalars(db.select(Project).where(Project.name == "Gemini")).one()
    assert project.owner_id == world["boss"].id
    response = boss.submit(f"/projects/{project.id}/edit", {
        "name": "Gemini", "member_ids": [str(world["ann"].id)], f"role-{world['ann'].id}": "Tech lead"})
    assert response.status_code == 303
    assert "Tech lead" in text(boss.get(f"/projects/{project.id}"))
    # An employee can't start one.
    assert login(world["ann"]).get("/projects/new").status_code == 403


@pytest.mark.parametrize(("form", "message"), [
    ({"name": ""}, "Please fill this in."),
    ({"name": "x" * 121}, "Use at most 120 characters."),
    ({"name": "Ok", "member_ids": ["999999"]}, "We couldn't find one of those people."),
])
def test_bad_project_input_is_422_and_saves_nothing(world, login, form, message) -> None:  # type: ignore[no-untyped-def]
    boss = login(world["boss"])
    before = count(Project)
    response = boss.submit("/projects/new", form)
    assert response.status_code == 422 and message in text(response)
    assert count(Project) == before


def test_milestones_added_and_reached_by_the_owner(world, login) -> None:  # type: ignore[no-untyped-def]
    u = urls(world)
    boss = login(world["boss"])
    bad = boss.submit(u["new_milestone"], {"name": "Beta", "due_date": "31/03/2026"})
    assert bad.status_code == 422 and "Enter a date like 2026-03-31." in text(bad)
    assert count(Milestone) == 1
    assert boss.submit(u["new_milestone"], {"name": "Beta", "due_date": "2026-03-31"}).status_code == 303
    assert count(Milestone) == 2
    assert login(world["ann"]).submit(u["reached"], {"reached": "1"}).status_code == 404  # a member, not the owner
    response = boss.submit(u["reached"], {"reached": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(u["milestone"])
    assert world["milestone"].reached_at is not None
    page = text(boss.get(u["milestone"]))
    assert "Retrospective" in page and "Peer reviews are open until" in page


def test_the_peer_review_from_the_nudge(world, login) -> None:  # type: ignore[no-untyped-def]
    u = urls(world)
    reach_milestone(world["boss"], world["milestone"])
    db.session.commit()
    ann = login(world["ann"])
    page = ann.get(u["review"])
    assert page.status_code == 200 and "Bob Chen" in text(page) and "Kept others informed" in text(page)
    fragment = ann.get(u["review"] + f"?to={world['bob'].id}", headers=htmx_headers("review-form"))
    assert "<html" not in text(fragment) and 'id="review-form"' in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    boosted = ann.get(u["review"], headers=htmx_headers("main", boosted=True))
    assert "<html" in text(boosted)
    form = {"reviewee_id": str(world["bob"].id), "delivered": "3", "collaborated": "2"}
    bad = ann.submit(u["review"], {**form, "went_well": "Good"}, htmx=True, target="review-form")
    assert bad.status_code == 422 and "Pick one answer." in text(bad) and "<html" not in text(bad)
    assert count(PeerReview) == count(Feedback) == 0
    done = ann.submit(u["review"], {**form, "communicated": "3", "went_well": "Solid demo", "visibility": "private"})
    assert done.status_code == 303
    assert count(PeerReview) == 1 and db.session.scalars(db.select(Feedback)).one().milestone_id == world["milestone"].id
    again = text(ann.get(u["review"]))
    assert "All done" in again
    # Bob reads it on the milestone page; the outsider never sees it.
    assert "Solid demo" in text(login(world["bob"]).get(u["milestone"]))
    assert "Solid demo" not in text(login(world["boss"]).get(u["milestone"]))  # private: not even the manager


def test_project_stream_shows_only_what_the_viewer_may_read(world, login) -> None:  # type: ignore[no-untyped-def]
    from perfapp.feedback.services import FeedbackInput, give_feedback

    p = world["project"]
    give_feedback(world["ann"], FeedbackInput(recipient_id=world["bob"].id, text="Public thanks", project_id=p.id))
    give_feedback(world["bob"], FeedbackInput(recipient_id=world["ann"].id, text="Private note", kind="suggestion",
                                              visibility="private", project_id=p.id))
    db.session.commit()
    ann_page = text(login(world["ann"]).get(urls(world)["detail"]))
    assert "Public thanks" in ann_page and "Private note" in ann_page
    boss = login(world["boss"])
    boss_page = text(boss.get(urls(world)["detail"]))
    assert "Public thanks" in boss_page and "Private note" not in boss_page
    more = boss.get(urls(world)["detail"] + "?before=2999-01-01T00:00:00_1", headers=htmx_headers("feed-more"))
    assert "<html" not in text(more) and "Public thanks" in text(more)


def test_zh_pages_render(world, login) -> None:  # type: ignore[no-untyped-def]
    reach_milestone(world["boss"], world["milestone"])
    world["ann"].locale = "zh_Hans_CN"
    db.session.commit()
    ann = login(world["ann"])
    assert "我的项目" in text(ann.get("/projects/"))
    assert "互评" in text(ann.get(urls(world)["review"]))
    assert "复盘" in text(ann.get(urls(world)["milestone"]))


def test_owner_renames_a_milestone_and_archives_the_project(world, login) -> None:  # type: ignore[no-untyped-def]
    u = urls(world)
    assert login(world["ann"]).submit(u["milestone"], {"name": "Hacked"}).status_code == 404
    assert login(world["ann"]).submit(f"{u['detail']}/archived", {"archived": "1"}).status_code == 404
    boss = login(world["boss"])
    bad = boss.submit(u["milestone"], {"name": "", "due_date": "2026-13-01"})
    assert bad.status_code == 422 and "Please fill this in." in text(bad)
    assert world["milestone"].name == "Launch"
    assert boss.submit(u["milestone"], {"name": "GA", "due_date": "2026-12-24"}).status_code == 303
    assert world["milestone"].name == "GA" and str(world["milestone"].due_date) == "2026-12-24"
    assert boss.submit(f"{u['detail']}/archived", {"archived": "1"}).status_code == 303
    assert world["project"].archived is True
    assert "Open again" in text(boss.get(u["detail"]))
