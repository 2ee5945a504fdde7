"""Review pages: with and without htmx, who must not see or do what, bad input answered 4xx in the
person's language with nothing changed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from perfapp.extensions import db
from perfapp.people.models import User
from perfapp.reviews import services
from perfapp.reviews.models import ReviewAssignment, ReviewCycle, ReviewRating
from perfapp.reviews.services import AnswerInput
from tests.conftest import count, htmx_headers
from tests.reviews.conftest import cycle_input


def _finished(org):  # type: ignore[no-untyped-def]
    cycle = services.create_cycle(org["hr"], cycle_input())
    db.session.commit()
    lina = org["team"][0]
    for peer in org["team"][1:7]:
        services.manager_add(org["hr"], cycle, lina, peer, "peers")
    services.manager_add(org["hr"], cycle, lina, org["sales"][0], "partners")
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    rating, text = cycle.questions
    # Everyone answers: Lina's peers and partner, the team's upward reviews of their manager, selves.
    for row in db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id,
                                                                 ReviewAssignment.reviewer_id.is_not(None))):
        services.answer(row.reviewer, row, AnswerInput(ratings={rating.id: 4}, comments={text.id: f"words {row.id}"}))
    services.close_cycle(org["hr"], cycle)
    db.session.commit()
    return cycle, lina


def test_hr_creates_a_cycle_through_the_form(org, login) -> None:
    c = login(org["hr"])
    page = c.get("/reviews/cycles/new")
    assert page.status_code == 200 and "Anonymity thresholds" in page.get_data(as_text=True)
    form = {"name": "H2", "scope": "everyone", "groups": ["self", "manager", "peers"],
            "cycle_cap": "6", "rolling_cap": "12", "purpose": "development", "nominations_close": "2099-01-01",
            "closes": "2099-02-01", "q_kind_0": "rating", "q_text_0": "Delivers", "q_anchors_0": "Low\nMid\nHigh",
            "minimum_peers": "3", "minimum_partners": "0"}
    for g in ("peers", "reports", "partners", "customers"):
        form[f"threshold_{g}_scores"] = form[f"threshold_{g}_comments"] = "5"
    response = c.submit("/reviews/cycles/new", form)
    assert response.status_code == 303
    assert count(ReviewCycle) == 1


def test_a_threshold_below_three_is_a_translated_422(org, login) -> None:
    c = login(org["hr"])
    form = {"name": "H2", "groups": ["peers"], "threshold_peers_scores": "2", "closes": "2099-02-01",
            "nominations_close": "2099-01-01", "cycle_cap": "6", "rolling_cap": "12", "q_text_0": "Q",
            "q_kind_0": "text"}
    response = c.submit("/reviews/cycles/new", form, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and count(ReviewCycle) == 0
    assert "阈值" in response.get_data(as_text=True)


def test_lowering_a_threshold_after_opening_is_refused(org, cycle, login) -> None:
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    c = login(org["hr"])
    page = c.get(f"/reviews/cycles/{cycle.id}/edit")
    assert page.status_code == 200
    form = {"name": cycle.name, "purpose": "development", "closes": cycle.closes_at.date().isoformat()}
    for g in ("peers", "reports", "partners", "customers"):
        form[f"threshold_{g}_scores"] = form[f"threshold_{g}_comments"] = "5"
    form["threshold_peers_scores"] = "3"
    response = c.submit(f"/reviews/cycles/{cycle.id}/edit", form)
    assert response.status_code == 422
    assert "locked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReviewCycle, cycle.id).threshold("peers") == 5


def test_hr_pages_refuse_everyone_else(org, cycle, login) -> None:
    c = login(org["manager"])
    for url in ("/reviews/cycles", f"/reviews/cycles/{cycle.id}", "/reviews/cycles/new"):
        assert c.get(url).status_code == 403


def test_nominating_through_the_page_with_and_without_htmx(org, cycle, login) -> None:
    lina = org["team"][0]
    c = login(lina)
    page = c.get(f"/reviews/cycles/{cycle.id}/nominate")
    assert page.status_code == 200 and 'id="nominations"' in page.get_data(as_text=True)
    fragment = c.get(f"/reviews/cycles/{cycle.id}/nominate?q=peer", headers=htmx_headers("nominations"))
    assert "<html" not in fragment.get_data(as_text=True) and "Peer 1" in fragment.get_data(as_text=True)
    response = c.submit(f"/reviews/cycles/{cycle.id}/nominate", {"person_id": org["team"][1].id, "group": "peers"},
                        htmx=True, target="nominations")
    assert response.status_code == 200 and "waiting for your manager" in response.get_data(as_text=True)
    # Herself as her own peer: a translated 422, nothing added.
    response = c.submit(f"/reviews/cycles/{cycle.id}/nominate", {"person_id": lina.id, "group": "peers"},
                        headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and count(ReviewAssignment) == 1
    # The manager approves.
    m = login(org["manager"])
    row = db.session.scalar(select(ReviewAssignment))
    assert m.get(f"/reviews/cycles/{cycle.id}/team").status_code == 200
    assert m.submit(f"/reviews/assignments/{row.id}/approve").status_code == 303
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, row.id).status == "approved"
    # A colleague can't approve someone else's reviewers.
    other = login(org["team"][3])
    assert other.submit(f"/reviews/assignments/{row.id}/approve").status_code == 404


def test_answering_on_the_phone_and_after_the_deadline(org, cycle, login) -> None:
    row = services.manager_add(org["manager"], cycle, org["team"][0], org["team"][1], "peers")
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    c = login(org["team"][1])
    page = c.get(f"/reviews/assignments/{row.id}")
    assert page.status_code == 200 and "rv-chip" in page.get_data(as_text=True)
    rating = cycle.questions[0]
    assert login(org["team"][2]).get(f"/reviews/assignments/{row.id}").status_code == 404
    cycle.closes_at = cycle.closes_at.replace(year=2000)
    db.session.commit()
    response = c.submit(f"/reviews/assignments/{row.id}", {f"q{rating.id}": "3"}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and count(ReviewRating) == 0
    assert "截止" in response.get_data(as_text=True)


def test_who_must_not_see_results(org, login) -> None:
    cycle, lina = _finished(org)
    url = f"/reviews/cycles/{cycle.id}/people/{lina.id}"
    assert login(lina).get(url).status_code == 200
    html = login(org["manager"]).get(url).get_data(as_text=True)
    assert "words" in html  # the manager reads the comments of a shown group
    for nobody in (org["team"][1], org["director"], org["hr"], org["sales"][0]):
        assert login(nobody).get(url).status_code == 404, nobody.name
    # HR reads aggregates only, never a comment.
    hr = login(org["hr"])
    page = hr.get(f"/reviews/cycles/{cycle.id}/results")
    assert page.status_code == 200 and "words" not in page.get_data(as_text=True)
    fragment = hr.get(f"/reviews/cycles/{cycle.id}/results?group=peers", headers=htmx_headers("org-cell"))
    assert "<html" not in fragment.get_data(as_text=True)


def test_a_small_group_shows_neither_scores_nor_comments(org, login) -> None:
    cycle, lina = _finished(org)
    html = login(lina).get(f"/reviews/cycles/{cycle.id}/people/{lina.id}").get_data(as_text=True)
    partners = html.split('id="group-partners"')[1].split("</section>")[0]
    assert "Not shown" in partners and "words" not in partners
    # The manager's own answer is attributed.
    assert org["manager"].name in html.split('id="group-manager"')[1].split("</section>")[0]


def test_a_customer_link_twice_is_a_translated_410(org, cycle, client) -> None:
    services.open_cycle(org["hr"], cycle)
    _row, token = services.create_customer_link(org["team"][0], cycle, org["team"][0], "ACME")
    db.session.commit()
    rating = cycle.questions[0]
    assert client.get(f"/reviews/c/{token}").status_code == 200
    client.refresh_csrf(f"/reviews/c/{token}")
    assert client.submit(f"/reviews/c/{token}", {f"q{rating.id}": "5"}).status_code == 200
    again = client.submit(f"/reviews/c/{token}", {f"q{rating.id}": "1"}, headers={"Accept-Language": "zh-CN"})
    assert again.status_code == 410 and count(ReviewRating) == 1
    assert client.get("/reviews/c/unknown").status_code == 404


def test_declining_needs_a_reason(org, cycle, login) -> None:
    row = services.nominate(org["team"][0], cycle, org["team"][1], "peers")
    db.session.commit()
    c = login(org["team"][1])
    assert "would like your review" in c.get("/reviews/").get_data(as_text=True)
    assert c.submit(f"/reviews/assignments/{row.id}/decline", {"reason": ""}).status_code == 422
    assert c.submit(f"/reviews/assignments/{row.id}/decline", {"reason": "On leave"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, row.id).status == "declined"


def test_hr_runs_the_assignment_and_sees_the_histogram(org, cycle, login) -> None:
    c = login(org["hr"])
    response = c.submit(f"/reviews/cycles/{cycle.id}/assign", htmx=True, target="assignment")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Reviews per reviewer" in html and "<html" not in html
    full = c.get(f"/reviews/cycles/{cycle.id}").get_data(as_text=True)
    assert "rv-histogram" in full
    assert (cycle.closes_at - timedelta(days=1)) > cycle.nominations_close_at


def test_every_filter_pair_on_hrs_page_shows_enough_or_nothing(org, login) -> None:
    """Every department × group HR can pick: a shown aggregate has at least 5 answers, and two
    shown ones nested in each other differ by 0 or at least 5 (the service test checks the atoms)."""
    import re
    from itertools import combinations

    cycle, _lina = _finished(org)
    hr = login(org["hr"])
    shown: dict[tuple[str, str], int] = {}
    for department in ("", str(org["eng"].id), str(org["sales_dept"].id)):
        for group in ("all", "peers", "reports", "partners", "customers"):
            html = hr.get(f"/reviews/cycles/{cycle.id}/results?department={department}&group={group}",
                          headers=htmx_headers("org-cell")).get_data(as_text=True)
            found = re.search(r"(\d+) answers?", html)
            if found:
                shown[(department, group)] = int(found.group(1))
            else:
                assert "Not shown" in html
    assert shown and all(n >= 5 for n in shown.values())
    for (a, na), (b, nb) in combinations(shown.items(), 2):
        nested = (a[1] == b[1] or "all" in (a[1], b[1])) and ("" in (a[0], b[0]) or a[0] == b[0])
        if nested:
            assert abs(na - nb) == 0 or abs(na - nb) >= 5, (a, b, na, nb)


def test_hr_adds_a_reviewer_through_the_people_picker(org, cycle, login) -> None:
    """Both people come from the picker the give sheet uses (two on one page, each its own list);
    a short reviewee's "Add" opens the form with them picked."""
    lina, emma = org["team"][0], org["sales"][0]
    c = login(org["hr"])
    page = c.get(f"/reviews/cycles/{cycle.id}").get_data(as_text=True)
    assert 'id="reviewee-picker-q"' in page and 'id="reviewer-picker-q"' in page
    assert 'name="reviewee_id" class="input"' not in page  # no raw id box any more
    # The picker's search answers each picker's own list (with htmx), or a page (without).
    fragment = c.get("/people/search?mode=one&me=1&q=sam", headers=htmx_headers("reviewer-picker-results"))
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and f'data-pick="{emma.id}"' in html
    assert "<html" in c.get("/people/search?mode=one&q=sam").get_data(as_text=True)
    prefilled = c.get(f"/reviews/cycles/{cycle.id}?reviewee={lina.id}").get_data(as_text=True)
    assert f'name="reviewee_id" value="{lina.id}"' in prefilled and 'id="add-reviewer" open' in prefilled
    for htmx in (False, True):
        before = count(ReviewAssignment)
        response = c.submit(f"/reviews/cycles/{cycle.id}/assignments",
                            {"reviewee_id": lina.id, "person_id": org["team"][1 + htmx].id, "group": "peers"},
                            htmx=htmx)
        assert response.status_code == 303 and count(ReviewAssignment) == before + 1
    rows = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.reviewee_id == lina.id)).all()
    assert {(r.reviewer_id, r.status, r.source) for r in rows} == {
        (org["team"][1].id, "approved", "manager"), (org["team"][2].id, "approved", "manager")}


def test_hr_adding_a_reviewer_refuses_bad_choices_in_chinese(org, cycle, login) -> None:
    lina = org["team"][0]
    gone = org["team"][6]
    gone.active = False
    busy = org["sales"][1]
    cycle.cycle_cap = 1
    services.manager_add(org["hr"], cycle, org["team"][1], busy, "partners")
    db.session.commit()
    c = login(org["hr"])
    zh = {"Accept-Language": "zh-CN"}
    url = f"/reviews/cycles/{cycle.id}/assignments"
    refusals = [
        ({"person_id": busy.id}, "选择被评价人"),  # no reviewee picked
        ({"reviewee_id": 999999, "person_id": busy.id}, "选择被评价人"),
        ({"reviewee_id": lina.id}, "选择一位同事"),  # no reviewer picked
        ({"reviewee_id": lina.id, "person_id": "x"}, "选择一位同事"),
        ({"reviewee_id": lina.id, "person_id": gone.id}, "已停用"),
        ({"reviewee_id": lina.id, "person_id": lina.id}, f"{lina.name}不能做自己的同事评价人"),
        ({"reviewee_id": lina.id, "person_id": busy.id}, "份评价"),  # at the cycle's cap
        ({"reviewee_id": lina.id, "person_id": org["team"][2].id, "group": "self"}, "同事或跨部门伙伴"),
    ]
    before = count(ReviewAssignment)
    for form, words in refusals:
        for htmx in (False, True):
            response = c.submit(url, {"group": "peers", **form}, headers=zh, htmx=htmx)
            html = response.get_data(as_text=True)
            assert response.status_code == 422, form
            assert words in html, (form, words)
            assert 'id="add-reviewer" open' in html
    # The picked people stay picked on the refused form.
    html = c.submit(url, {"reviewee_id": lina.id, "person_id": busy.id, "group": "peers"}).get_data(as_text=True)
    assert f'name="reviewee_id" value="{lina.id}"' in html and f'name="person_id" value="{busy.id}"' in html
    # Someone outside a list-scoped cycle isn't a reviewee: a 422, not an error page.
    cycle.scope, cycle.scope_ids = "list", [org["team"][1].id]
    db.session.commit()
    response = c.submit(url, {"reviewee_id": lina.id, "person_id": org["team"][2].id}, headers=zh)
    assert response.status_code == 422 and "不在本轮评价" in response.get_data(as_text=True)
    assert count(ReviewAssignment) == before


def test_only_hr_adds_reviewers_by_hand(org, cycle, login) -> None:
    lina = org["team"][0]
    for who in (org["manager"], lina, org["director"]):
        response = login(who).submit(f"/reviews/cycles/{cycle.id}/assignments",
                                     {"reviewee_id": lina.id, "person_id": org["team"][1].id, "group": "peers"})
        assert response.status_code == 403
    assert count(ReviewAssignment) == 0
    services.open_cycle(org["hr"], cycle)
    db.session.commit()
    before = count(ReviewAssignment)
    response = login(org["hr"]).submit(f"/reviews/cycles/{cycle.id}/assignments",
                                       {"reviewee_id": lina.id, "person_id": org["team"][1].id, "group": "peers"},
                                       headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and count(ReviewAssignment) == before


def test_the_results_page_reads_in_a_fixed_number_of_statements(org, login) -> None:
    """Batch reads: one statement per answer table for all groups at once, never one per group,
    per question or per reviewer, so a reviewee with more groups and answers costs the same."""
    from tests.feedback.test_queries import recorded_statements

    cycle, lina = _finished(org)
    manager, quiet = org["manager"], org["team"][1]

    def statements(person) -> list[str]:  # type: ignore[no-untyped-def]
        c = login(person)
        url = f"/reviews/cycles/{cycle.id}/people/{person.id}"
        assert c.get(url).status_code == 200
        with recorded_statements() as seen:
            assert c.get(url).status_code == 200
        return seen

    # Lina: self, manager, skip-level, six peers, a partner. Her manager: self, manager, seven
    # reports. A teammate: self, manager, skip-level only.
    counts = {who.name: len(statements(who)) for who in (lina, manager, quiet)}
    assert len(set(counts.values())) == 1, counts
    assert counts[lina.name] <= 12, counts


def test_the_results_page_is_kept_and_shows_a_rename_next(app, org, login) -> None:  # type: ignore[no-untyped-def]
    """Kept per viewer (perfapp.core.pages): found again without rendering, rendered again when
    anything it shows changes (here the attributed manager's name), in the viewer's language."""
    from flask import template_rendered

    cycle, lina = _finished(org)
    url = f"/reviews/cycles/{cycle.id}/people/{lina.id}"
    c = login(lina)
    first = c.get(url).get_data(as_text=True)
    seen: list[str] = []

    def record(_sender, template, context, **_kw) -> None:  # type: ignore[no-untyped-def]
        seen.append(template.name)

    template_rendered.connect(record, app)
    try:
        assert c.get(url).get_data(as_text=True) == first and seen == []
        db.session.get(User, org["manager"].id).set_name("Wang Renamed")
        db.session.commit()
        again = c.get(url).get_data(as_text=True)
        assert "Wang Renamed" in again.split('id="group-manager"')[1].split("</section>")[0]
        assert "reviews/results.html" in seen
    finally:
        template_rendered.disconnect(record, app)
    chinese = c.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "评价结果" in chinese
