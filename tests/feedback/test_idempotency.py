"""Idempotency-Key on POST /feedback/new: replays, mismatches, duplicates in flight, per-person
keys, retention, and eight concurrent retries of one submission creating exactly one row."""
from __future__ import annotations

import json
import multiprocessing as mp
import threading
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select, update

from perfapp.core import idempotency
from perfapp.core.db import utcnow
from perfapp.core.models import IdempotencyRecord
from perfapp.extensions import db
from perfapp.feedback.models import Feedback

KEY = "6f1c2b1e-4a57-4b8e-9a51-0f6a3d9c2e11"
JSON = {"Accept": "application/json"}
RETRIES = 8


def feedback_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback)) or 0


def record_count() -> int:
    return db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


@pytest.fixture()
def pair(make_user):  # type: ignore[no-untyped-def]
    return make_user(name="Emma Wilson"), make_user(name="李娜")


def payload(recipient, text: str = "Thanks for the launch checklist") -> dict:  # type: ignore[no-untyped-def]
    return {"recipient_id": recipient.id, "text": text, "emoji": ["👍", "🙏"], "free_tags": "协作"}


def send(client, data: dict, key: str = KEY, **kw):  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key, **kw.pop("headers", JSON)}
    return client.submit("/feedback/new", data, headers=headers, **kw)


# --- replays -----------------------------------------------------------------------------------

def test_same_key_same_payload_replays_the_first_answer(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    first = send(c, payload(recipient))
    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == {"id", "url"} and body["url"] == f"/feedback/{body['id']}"
    assert "Idempotent-Replayed" not in first.headers
    again = send(c, payload(recipient))
    assert again.status_code == 201 and again.get_json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert feedback_count() == 1


def test_replay_ignores_field_order_csrf_token_and_empty_fields(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    data = payload(recipient)
    assert send(c, data).status_code == 201
    reordered = {"free_tags": "协作", "emoji": ["🙏", "👍"], "text": data["text"], "behaviour": "",
                 "recipient_id": str(recipient.id)}
    c.refresh_csrf("/feedback/new")  # a reload gives a new token
    again = send(c, reordered)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert feedback_count() == 1


def test_htmx_answer_is_replayed_with_its_trigger(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    headers = {"HX-Request": "true", "HX-Target": "compose"}
    first = send(c, payload(recipient), headers=headers)
    assert first.status_code == 200 and first.headers["HX-Trigger"] == "feedback-sent"
    again = send(c, payload(recipient), headers=headers)
    assert again.status_code == 200 and again.headers["HX-Trigger"] == "feedback-sent"
    assert again.get_data() == first.get_data() and "<html" not in again.get_data(as_text=True)
    assert feedback_count() == 1


def test_plain_form_redirect_is_replayed(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    first = send(c, payload(recipient), headers={})
    assert first.status_code == 303
    again = send(c, payload(recipient), headers={})
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert feedback_count() == 1


def test_a_programmatic_retry_of_an_htmx_send_counts_as_sent(pair, login) -> None:
    """The page's htmx request got through but its answer was lost; the outbox retries as JSON."""
    author, recipient = pair
    c = login(author)
    assert send(c, payload(recipient), headers={"HX-Request": "true", "HX-Target": "compose"}).status_code == 200
    retry = send(c, payload(recipient))
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert feedback_count() == 1


def test_done_without_a_stored_answer_still_replays_as_success(pair, login) -> None:
    """The worker committed the feedback but died before storing its answer."""
    author, recipient = pair
    c = login(author)
    assert send(c, payload(recipient)).status_code == 201
    db.session.execute(update(IdempotencyRecord).values(status_code=None, body=None))
    db.session.commit()
    # A moment after the commit the answer is still being stored: a duplicate waits (409).
    assert send(c, payload(recipient)).status_code == 409
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    again = send(c, payload(recipient))
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert feedback_count() == 1


# --- refusals -------------------------------------------------------------------------------

@pytest.mark.parametrize("locale, word", [("en", "different content"), ("zh_Hans_CN", "不同")])
def test_same_key_different_payload_is_422_translated(pair, login, locale, word) -> None:
    author, recipient = pair
    author.locale = locale
    db.session.commit()
    c = login(author)
    assert send(c, payload(recipient)).status_code == 201
    other = send(c, payload(recipient, text="Something else entirely"))
    assert other.status_code == 422
    assert word in other.get_json()["error"]
    assert feedback_count() == 1
    assert db.session.scalar(select(Feedback.text)) == "Thanks for the launch checklist"


def test_mismatch_over_htmx_is_a_toast_and_keeps_the_form(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    assert send(c, payload(recipient)).status_code == 201
    r = send(c, payload(recipient, text="changed"), headers={"HX-Request": "true", "HX-Target": "compose"})
    assert r.status_code == 422
    assert r.headers["HX-Retarget"] == "#toasts" and r.headers["HX-Reswap"] == "beforeend"
    assert 'class="toast toast-error"' in r.get_data(as_text=True)


@pytest.mark.parametrize("locale, word", [("en", "still being sent"), ("zh_Hans_CN", "正在发送")])
def test_duplicate_while_the_first_is_in_progress_is_409(app, pair, login, locale, word) -> None:
    author, recipient = pair
    author.locale = locale
    db.session.commit()
    c = login(author)
    with app.test_request_context("/feedback/new", method="POST", data=payload(recipient)):
        from flask import request

        digest = idempotency.request_fingerprint(request)
    assert idempotency.claim(author.id, KEY, digest)[0] == "claimed"
    r = send(c, payload(recipient))
    assert r.status_code == 409 and word in r.get_json()["error"]
    assert feedback_count() == 0


def test_an_abandoned_marker_is_taken_over(pair, login) -> None:
    """A worker that died before committing left "in progress" behind: nothing of it exists."""
    author, recipient = pair
    c = login(author)
    db.session.add(IdempotencyRecord(user_id=author.id, key=KEY, request_hash="x" * 64, state="in_progress",
                                     created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    # Different payload hash: still a mismatch, not a takeover.
    assert send(c, payload(recipient)).status_code == 422
    db.session.execute(update(IdempotencyRecord).values(request_hash=_digest(payload(recipient))))
    db.session.commit()
    r = send(c, payload(recipient))
    assert r.status_code == 201 and feedback_count() == 1


def _digest(data: dict) -> str:
    from flask import current_app, request

    with current_app.test_request_context("/feedback/new", method="POST", data=data):
        return idempotency.request_fingerprint(request)


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "semi;colon-1234", "中文中文中文中文中文"])
def test_malformed_keys_are_400_and_change_nothing(pair, login, key) -> None:
    author, recipient = pair
    c = login(author)
    r = send(c, payload(recipient), key=key)
    assert r.status_code == 400 and "Idempotency-Key" in r.get_json()["error"]
    assert feedback_count() == 0 and record_count() == 0


def test_a_draft_written_by_another_account_is_refused(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    r = send(c, payload(recipient), headers={**JSON, "X-Perfapp-User": str(recipient.id)})
    assert r.status_code == 403 and "someone else" in r.get_json()["error"]
    assert feedback_count() == 0 and record_count() == 0
    assert send(c, payload(recipient), headers={**JSON, "X-Perfapp-User": str(author.id)}).status_code == 201


def test_csrf_is_still_required(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    r = send(c, payload(recipient), csrf=False)
    assert r.status_code == 400 and r.get_json()["error"]
    assert feedback_count() == 0 and record_count() == 0


def test_anonymous_senders_never_reach_the_key_store(pair, client) -> None:
    _author, recipient = pair
    r = send(client, payload(recipient))
    # A programmatic (JSON) sender gets 401, not the HTML login page (perfapp.core.security).
    assert r.status_code == 401 and r.get_json()["error"]
    assert feedback_count() == 0 and record_count() == 0


# --- what gives a key back -----------------------------------------------------------------

def test_a_validation_error_gives_the_key_back(pair, login) -> None:
    """Nothing was created, so the person may fix the draft and send it with the same key."""
    author, recipient = pair
    c = login(author)
    bad = send(c, {"text": "for whom?"})
    assert bad.status_code == 422 and "recipient_id" in bad.get_json()["errors"]
    assert record_count() == 0
    assert send(c, payload(recipient)).status_code == 201
    assert feedback_count() == 1


def test_a_crash_before_commit_gives_the_key_back(pair, login, monkeypatch) -> None:
    author, recipient = pair
    c = login(author)
    from perfapp.feedback import services

    def boom(*_a, **_kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "give_feedback", boom)
    with pytest.raises(RuntimeError):
        send(c, payload(recipient))
    assert record_count() == 0
    monkeypatch.undo()
    assert send(c, payload(recipient)).status_code == 201


def test_done_is_committed_with_the_feedback(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    send(c, payload(recipient))
    row = db.session.scalar(select(IdempotencyRecord))
    assert row.state == "done" and row.status_code == 201 and row.user_id == author.id
    assert json.loads(row.body)["id"] == db.session.scalar(select(Feedback.id))


# --- keys belong to one person, for at least a day --------------------------------------------

def test_keys_are_per_person(pair, login, make_user) -> None:
    author, recipient = pair
    other = make_user(name="张敏")
    assert send(login(author), payload(recipient)).status_code == 201
    r = send(login(other), payload(recipient))
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert feedback_count() == 2
    assert {f.author_id for f in db.session.scalars(select(Feedback))} == {author.id, other.id}


def test_a_key_is_remembered_for_24_hours_then_forgotten(pair, login) -> None:
    author, recipient = pair
    c = login(author)
    assert send(c, payload(recipient)).status_code == 201
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=23, minutes=50)))
    db.session.commit()
    assert send(c, payload(recipient)).headers.get("Idempotent-Replayed") == "true"
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    r = send(c, payload(recipient, text="A new one, a day later"))
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert feedback_count() == 2 and record_count() == 1


def test_purge_deletes_only_expired_keys(app, pair) -> None:
    author, _recipient = pair
    now = utcnow()
    for i, age in enumerate((timedelta(hours=25), timedelta(hours=30), timedelta(hours=23), timedelta(0))):
        db.session.add(IdempotencyRecord(user_id=author.id, key=f"key-{i:06d}", request_hash="h",
                                         state="done", created_at=now - age))
    db.session.commit()
    assert idempotency.purge_expired(now) == 2
    db.session.commit()
    assert sorted(db.session.scalars(select(IdempotencyRecord.key))) == ["key-000002", "key-000003"]
    result = app.test_cli_runner().invoke(args=["purge-idempotency-keys"])
    assert result.exit_code == 0 and "deleted 0" in result.output


def test_retention_is_never_under_a_day(app) -> None:
    app.config["IDEMPOTENCY_TTL_HOURS"] = 1
    try:
        assert idempotency.retention() == timedelta(hours=24)
        app.config["IDEMPOTENCY_TTL_HOURS"] = 72
        assert idempotency.retention() == timedelta(hours=72)
    finally:
        del app.config["IDEMPOTENCY_TTL_HOURS"]


# --- the fingerprint ----------------------------------------------------------------------

def test_fingerprint_covers_fields_and_file_bytes_not_noise(app) -> None:
    from flask import request

    def digest(data: dict, path: str = "/feedback/new") -> str:
        with app.test_request_context(path, method="POST", data=data, content_type="multipart/form-data"):
            return idempotency.request_fingerprint(request)

    base = {"text": "hi", "emoji": ["👍", "🙏"]}
    assert digest(base) == digest({"emoji": ["🙏", "👍"], "text": "hi", "csrf_token": "abc", "impact": ""})
    assert digest(base) == digest({**base, "voice": (BytesIO(b""), "")})  # an empty file input
    assert digest(base) != digest({**base, "text": "hi!"})
    assert digest(base) != digest(base, path="/feedback/ask")
    one = digest({**base, "voice": (BytesIO(b"OggS one"), "voice.ogg")})
    assert one == digest({**base, "voice": (BytesIO(b"OggS one"), "voice.ogg")})
    assert one != digest({**base, "voice": (BytesIO(b"OggS two"), "voice.ogg")})


# --- eight concurrent retries of one submission -----------------------------------------------

def _retry_in_thread(app, cookie: str, csrf: str, data: dict, barrier, results, index: int) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("session", cookie)
    barrier.wait()
    r = client.post("/feedback/new", data={**data, "csrf_token": csrf},
                    headers={"Idempotency-Key": KEY, "Accept": "application/json"})
    results[index] = (r.status_code, r.get_json())


def _check_one_row(outcomes: list[tuple[int, dict]]) -> None:
    codes = sorted(code for code, _ in outcomes)
    assert set(codes) <= {201, 409}, codes
    created = {body["id"] for code, body in outcomes if code == 201}
    assert len(created) == 1, outcomes  # every success names the same row
    db.session.commit()
    assert feedback_count() == 1
    assert db.session.scalar(select(IdempotencyRecord.state)) == "done"


def test_eight_concurrent_retries_create_one_row_threads(app, pair, login) -> None:
    author, recipient = pair
    c = login(author)
    cookie = c.get_cookie("session").value
    data = payload(recipient)
    db.session.commit()  # outside a request this session would hold SQLite's write lock
    barrier = threading.Barrier(RETRIES)
    results: list = [None] * RETRIES
    threads = [threading.Thread(target=_retry_in_thread, args=(app, cookie, c.csrf, data, barrier, results, i))
               for i in range(RETRIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(results), results
    _check_one_row(results)
    # And a late retry, once everything settled, gets the same answer.
    late = send(c, data)
    assert late.status_code == 201 and late.get_json()["id"] == results[[r[0] for r in results].index(201)][1]["id"]


def _retry_in_process(url: str, cookie: str, csrf: str, data: dict, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    from perfapp import create_app
    from perfapp.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    client = app.test_client()
    client.set_cookie("session", cookie)
    client.get("/healthz")
    barrier.wait()
    r = client.post("/feedback/new", data={**data, "csrf_token": csrf},
                    headers={"Idempotency-Key": KEY, "Accept": "application/json"})
    queue.put((r.status_code, r.get_json()))


@pytest.mark.slow
def test_eight_concurrent_retries_create_one_row_processes(app, pair, login) -> None:
    author, recipient = pair
    c = login(author)
    cookie = c.get_cookie("session").value
    data = payload(recipient)
    db.session.commit()
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(RETRIES), ctx.Queue()
    procs = [ctx.Process(target=_retry_in_process,
                         args=(app.config["SQLALCHEMY_DATABASE_URI"], cookie, c.csrf, data, barrier, queue))
             for _ in range(RETRIES)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    _check_one_row(outcomes)


def test_the_consumer_purges_expired_keys_daily(app, pair) -> None:
    from datetime import datetime

    from perfapp.core.tasks import purge_idempotency_keys
    from perfapp.tasks import huey

    author, _recipient = pair
    db.session.add(IdempotencyRecord(user_id=author.id, key="old-key-1", request_hash="h", state="done",
                                     created_at=utcnow() - timedelta(days=2)))
    db.session.add(IdempotencyRecord(user_id=author.id, key="new-key-1", request_hash="h", state="done"))
    db.session.commit()
    due = {t.name for t in huey.read_periodic(datetime(2026, 11, 27, 3, 41))}  # the consumer's daily check
    # due at 3:41 besides what runs every minute (pruning the channels of kept pages' changes)
    every_minute = {t.name for t in huey.read_periodic(datetime(2026, 11, 27, 3, 42))}
    assert due - every_minute == {"purge_idempotency_keys"} and every_minute == {"prune_channel_changes"}
    purge_idempotency_keys.call_local()
    db.session.rollback()
    assert list(db.session.scalars(select(IdempotencyRecord.key))) == ["new-key-1"]
