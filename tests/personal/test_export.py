"""A person downloads their own data: everything they may see, nothing they may not, nobody else's."""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from perfapp.extensions import db
from perfapp.personal import export
from tests.conftest import htmx_headers
from tests.personal.conftest import EMAIL, NAME, World


def _unzip(response: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    data = response.get_data()
    response.close()  # what a WSGI server does: closes the temporary file the zip was built in
    archive = zipfile.ZipFile(io.BytesIO(data))
    files = {n: archive.read(n) for n in archive.namelist()}
    return json.loads(files.pop("data.json")), files


def test_collect_hides_the_author_of_confidential_feedback_received(world: World) -> None:
    data = export.collect(world.other)
    received = {f["id"]: f for f in data["feedback_received"]}
    assert received[world.secret.id]["from"] is None
    assert set(received[world.secret.id]) == set(received[world.kept.id])  # no extra field points at it
    assert received[world.kept.id]["from"] == {"id": world.gone.id, "name": NAME}
    dumped = json.dumps(received[world.secret.id], ensure_ascii=False)
    assert NAME not in dumped and EMAIL not in dumped
    # The asks the confidential author answered are not listed with who answered either.
    assert all("ask" not in key for key in received[world.secret.id])


def test_collect_covers_every_kind_of_data(world: World) -> None:
    data = export.collect(world.gone)
    assert data["profile"]["email"] == EMAIL and data["profile"]["manager"]["name"] == "王伟"
    assert data["settings"]["language"] == "zh_Hans_CN" and data["settings"]["notifications"]["weekly"] is False
    given = {f["id"]: f for f in data["feedback_given"]}
    assert given[world.secret.id]["confidential"] is True  # their own: they wrote it
    assert given[world.kept.id]["voice_file"].startswith("voice/")
    assert data["feedback_received"][0]["from"]["name"] == "Other Person"
    assert data["requests_made"][0]["about"] == "My design review"
    assert data["requests_received"][0]["about"] == "Sprint retro"
    assert {f["direction"] for f in data["flowers"]} == {"given", "received"}
    assert {b["direction"] for b in data["badges"]} == {"given", "received"}
    assert {s["title"] for s in data["stories"]} == {f"{NAME} saves the day", "Backing each other"}
    assert data["reactions"][0]["emoji"] == "👍" and data["comments"][0]["text"] == "Happy to help"
    assert data["notifications"][0]["kind"] == "feedback_received"
    assert data["push_subscriptions"] == [{"push_service": "fcm.googleapis.com", "device": "Mozilla/5.0 (Android)",
                                           "created_at": data["push_subscriptions"][0]["created_at"]}]


def test_download_is_a_no_store_zip_of_their_own_data_and_voice(world: World, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world.gone)
    r = c.submit("/personal/export")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=perfapp-data-")
    raw = r.get_data()
    data, files = _unzip(r)
    assert data["profile"]["email"] == EMAIL
    voice = {n: b for n, b in files.items() if n.startswith("voice/")}
    assert voice == {f"voice/{k}": b for k, b in zip(world.voice_keys_theirs, [b"their voice 1", b"their voice 2"],
                                                      strict=True)}
    assert b"secret-token" not in raw and "README.txt" in files
    from sqlalchemy import select

    from perfapp.audit.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "data.exported"))
    assert entry is not None and entry.actor_ref == entry.subject_ref == world.gone.audit_ref


def test_nobody_can_download_someone_elses_data(world: World, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world.hr)  # not even HR
    for url in (f"/personal/export?person_id={world.gone.id}", f"/personal/export?user={world.gone.id}"):
        r = c.submit(url, {"person_id": world.gone.id})
        data, _files = _unzip(r)
        assert data["profile"]["email"] == "hr@example.com"
    assert c.get(f"/personal/export/{world.gone.id}").status_code == 404


def test_export_needs_a_session_a_post_and_the_csrf_token(world: World, client, login) -> None:  # type: ignore[no-untyped-def]
    # Without a session there is no CSRF token either: refused before anything is read.
    r = client.post("/personal/export")
    assert r.status_code in (302, 400, 401) and r.mimetype != "application/zip"
    r = client.post("/personal/export", headers=htmx_headers())
    assert r.status_code in (400, 401) and r.mimetype != "application/zip"
    c = login(world.gone)
    assert c.get("/personal/export").status_code == 405
    r = c.submit("/personal/export", csrf=False, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 400 and r.mimetype != "application/zip"


def test_settings_page_offers_the_download_in_both_languages(world: World, login) -> None:  # type: ignore[no-untyped-def]
    c = login(world.other)
    en = c.get("/people/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Download my data" in en and 'action="/personal/export"' in en
    db.session.commit()
    zh = login(world.gone).get("/people/settings").get_data(as_text=True)  # 赵小雪 chose Chinese
    assert "下载我的数据" in zh and "保密反馈仍不会显示作者" in zh
