"""Voice notes: real media made with ffmpeg, checked, remuxed, stored, served with Range — and refused.

Every bad file gets a translated 4xx and leaves nothing behind: no row, no file in the store,
no temporary file.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from perfapp.core import connection
from perfapp.core.validation import FormError
from perfapp.extensions import db
from perfapp.feedback import voice
from perfapp.feedback.models import Feedback
from perfapp.feedback.services import FeedbackInput, give_feedback
from perfapp.feedback.voice import VoiceTooLarge, VoiceUpload
from tests.conftest import htmx_headers
from tests.feedback import test_views
from tests.feedback.test_views import feedback_count

MB = 1024 * 1024
team = test_views.team  # the fixture: boss, author, recipient (reports to boss), other


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=60)


def probe(path: Path | str) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=format_name,duration:format_tags:stream=codec_name,codec_type:stream_tags",
                          "-of", "json", str(path)], check=True, capture_output=True, timeout=30).stdout
    return json.loads(out)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real recordings and real impostors, made once per session."""
    d = tmp_path_factory.mktemp("media")
    sine = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
    ffmpeg(*sine, "-c:a", "libopus", str(d / "note.webm"))
    ffmpeg(*sine, "-c:a", "aac", str(d / "note.m4a"))
    ffmpeg(*sine, "-c:a", "libopus", str(d / "note.ogg"))
    # What Chrome's MediaRecorder writes: a live WebM with no duration and no index.
    live = subprocess.run(["ffmpeg", "-v", "error", *sine, "-c:a", "libopus", "-f", "webm", "pipe:1"],
                          check=True, capture_output=True, timeout=60).stdout
    (d / "live.webm").write_bytes(live)
    # The author's name in the file's own metadata: it must not survive the remux.
    ffmpeg(*sine, "-c:a", "aac", "-metadata", "artist=Emma Wilson", "-metadata:s:a:0",
           "title=Emma Wilson's note", str(d / "named.m4a"))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=90", "-c:a", "libopus", "-b:a", "12k",
           str(d / "long.webm"))
    whole = (d / "note.webm").read_bytes()
    (d / "truncated.webm").write_bytes(whole[: len(whole) * 6 // 10])
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", str(d / "image.png"))
    (d / "page.webm").write_bytes(b"<!doctype html><html><body><script>alert(1)</script></body></html>\n" * 20)
    ffmpeg(*sine, "-f", "lavfi", "-i", "color=c=red:s=32x32:duration=2", "-c:a", "libopus", "-c:v", "libvpx",
           str(d / "video.webm"))
    ffmpeg(*sine, "-f", "lavfi", "-i", "sine=frequency=880:duration=2", "-map", "0", "-map", "1",
           "-c:a", "libopus", str(d / "two-tracks.webm"))
    ffmpeg(*sine, "-c:a", "libopus", str(d / "opus.mp4"))  # MP4 must carry AAC
    # 3 MB of random bytes behind a real WebM header.
    (d / "big.webm").write_bytes(whole[:400] + os.urandom(3 * MB))
    return {p.name: p for p in d.iterdir()}


@pytest.fixture()
def store_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "voice"
    monkeypatch.setitem(app.config, "VOICE_STORAGE_DIR", str(root))
    # This test's own temporary folder, so leftovers are ours (other test runs share /tmp).
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def temp_leftovers() -> list[str]:
    return os.listdir(tempfile.gettempdir())  # the test's own folder (see store_dir)


def upload(media: dict[str, Path], name: str, filename: str | None = None) -> VoiceUpload:
    return VoiceUpload(stream=io.BytesIO(media[name].read_bytes()), filename=filename or name)


def give_voice(team: dict, media: dict[str, Path], name: str = "note.webm", **kw: Any) -> Feedback:
    data = FeedbackInput(recipient_id=team["recipient"].id, voice=upload(media, name), **kw)
    feedback = give_feedback(team["author"], data)
    db.session.commit()
    return feedback


# --- service level -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "mime", "ext"), [
    ("note.webm", "audio/webm", "webm"),
    ("note.m4a", "audio/mp4", "m4a"),
    ("note.ogg", "audio/ogg", "ogg"),
    ("live.webm", "audio/webm", "webm"),
])
def test_a_voice_note_alone_is_feedback(team, media, store_dir, name, mime, ext) -> None:
    feedback = give_voice(team, media, name)
    assert feedback.text == "" and feedback.emoji == ""
    assert voice.KEY_PATTERN.fullmatch(feedback.voice_key) and feedback.voice_key.endswith("." + ext)
    assert feedback.voice_mime == mime
    assert 1.9 <= feedback.voice_seconds <= 2.1
    files = stored_files(store_dir)
    assert [f.relative_to(store_dir).as_posix() for f in files] == [feedback.voice_key]
    assert files[0].stat().st_size == feedback.voice_bytes
    info = probe(files[0])
    # The remux wrote the duration, even for Chrome's live WebM that had none.
    assert 1.9 <= float(info["format"]["duration"]) <= 2.1
    assert [s["codec_type"] for s in info["streams"]] == ["audio"]
    assert not temp_leftovers()


def test_the_stored_file_has_no_metadata_naming_the_author(team, media, store_dir) -> None:
    feedback = give_voice(team, media, "named.m4a", confidential=True, visibility="private")
    data = (store_dir / feedback.voice_key).read_bytes()
    assert b"Emma" not in data
    info = probe(store_dir / feedback.voice_key)
    assert "artist" not in info["format"].get("tags", {})
    assert "title" not in info["streams"][0].get("tags", {})


BAD_FILES = [
    ("page.webm", "page.webm"),            # an HTML file renamed .webm
    ("image.png", "image.png"),            # a picture
    ("image.png", "image.webm"),           # a picture renamed
    ("truncated.webm", "voice.webm"),      # cut short
    ("long.webm", "voice.webm"),           # 90 seconds
    ("video.webm", "voice.webm"),          # a video stream
    ("two-tracks.webm", "voice.webm"),     # more than one audio stream
    ("opus.mp4", "voice.m4a"),             # MP4 without AAC
    ("note.webm", "../../evil.webm"),      # a real note with a hostile name
    ("note.webm", "..\\..\\evil.webm"),
]


@pytest.mark.parametrize(("name", "filename"), BAD_FILES)
def test_bad_voice_files_are_refused_in_the_persons_language(team, media, store_dir, name, filename) -> None:
    before = sorted(p.name for p in store_dir.parent.rglob("*"))
    data = FeedbackInput(recipient_id=team["recipient"].id, text="Thanks",
                         voice=upload(media, name, filename))
    with force_locale("zh_Hans_CN"), pytest.raises(FormError) as e:
        give_feedback(team["author"], data)
    db.session.rollback()
    message = e.value.errors["voice"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert feedback_count() == 0
    assert stored_files(store_dir) == []
    assert sorted(p.name for p in store_dir.parent.rglob("*")) == before  # nothing escaped the folder
    assert not temp_leftovers()


def test_the_length_limit_names_the_limit(team, media, store_dir) -> None:
    with pytest.raises(FormError) as e:
        give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                    voice=upload(media, "long.webm")))
    assert "60" in e.value.errors["voice"]


def test_an_empty_voice_file_is_refused(team, store_dir) -> None:
    with pytest.raises(FormError) as e:
        give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                    voice=VoiceUpload(io.BytesIO(b""), "voice.webm")))
    assert "voice" in e.value.errors
    assert stored_files(store_dir) == []


def test_more_than_2_mb_is_413(team, media, store_dir) -> None:
    with pytest.raises(VoiceTooLarge) as e:
        give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id, text="hi",
                                                    voice=upload(media, "big.webm")))
    assert e.value.code == 413
    db.session.rollback()
    assert feedback_count() == 0 and stored_files(store_dir) == [] and not temp_leftovers()


def test_a_good_voice_note_is_not_stored_when_other_fields_fail(team, media, store_dir) -> None:
    with pytest.raises(FormError) as e:
        give_feedback(team["author"], FeedbackInput(recipient_id=team["author"].id,
                                                    voice=upload(media, "note.webm")))
    assert "recipient_id" in e.value.errors and "voice" not in e.value.errors
    assert stored_files(store_dir) == []


def test_the_file_goes_when_the_transaction_is_rolled_back(team, media, store_dir) -> None:
    feedback = give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id,
                                                           voice=upload(media, "note.webm")))
    assert stored_files(store_dir) == [store_dir / feedback.voice_key]  # stored before the commit
    db.session.rollback()
    assert stored_files(store_dir) == []


def test_the_file_goes_with_its_feedback(team, media, store_dir) -> None:
    keep = give_voice(team, media)
    gone = give_voice(team, media, "note.m4a")
    db.session.delete(gone)
    db.session.flush()
    assert len(stored_files(store_dir)) == 2  # not before the commit: it could still roll back
    db.session.commit()
    assert stored_files(store_dir) == [store_dir / keep.voice_key]


def test_local_store_refuses_keys_that_are_not_its_own(tmp_path) -> None:
    store = voice.LocalStore(tmp_path / "voice")
    for key in ("../x.webm", "ab/../../x.webm", "/etc/passwd", "ab/" + "0" * 32 + ".html"):
        with pytest.raises(ValueError):
            store.save(key, b"x", "audio/webm")
    assert list(tmp_path.rglob("*")) == []


# --- over HTTP -------------------------------------------------------------------------------

def post_form(client, fields: dict[str, Any], voice_bytes: bytes, filename: str, htmx: bool = False):  # type: ignore[no-untyped-def]
    """POST the compose form as the browser does: multipart, the recording as the `voice` file.

    The body is encoded in memory: the test client would spool a big one to a temporary file
    that nobody closes when the server (rightly) refuses to read it.
    """
    values = MultiDict({"csrf_token": client.csrf, **fields})
    values.add("voice", FileStorage(io.BytesIO(voice_bytes), filename=filename, content_type="audio/webm"))
    boundary, body = encode_multipart(values)
    headers = htmx_headers("compose") if htmx else {}
    return client.post("/feedback/new", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def post_voice(client, team, media, name="note.webm", filename=None, htmx=False, **fields):  # type: ignore[no-untyped-def]
    return post_form(client, {"recipient_id": team["recipient"].id, **fields},
                     media[name].read_bytes(), filename or name, htmx=htmx)


def test_compose_posts_multipart_and_shows_the_recorder(team, login) -> None:
    page = login(team["author"]).get("/feedback/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'hx-encoding="multipart/form-data"' in page
    assert 'type="file" name="voice"' in page and "data-voice-rec" in page
    assert "js/voice.js" in page


def test_plain_form_with_only_a_voice_note_redirects(team, login, media, store_dir) -> None:
    r = post_voice(login(team["author"]), team, media)
    fb = db.session.scalar(select(Feedback))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/feedback/{fb.id}")
    assert fb.voice_key and stored_files(store_dir) == [store_dir / fb.voice_key]


def test_htmx_with_a_voice_note_returns_the_sent_fragment(team, login, media, store_dir) -> None:
    r = post_voice(login(team["author"]), team, media, "note.m4a", htmx=True, text="听听这个")
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "feedback-sent"
    assert "<html" not in r.get_data(as_text=True)
    assert db.session.scalar(select(Feedback.voice_mime)) == "audio/mp4"


def test_an_empty_file_input_is_no_voice_note(team, login, store_dir) -> None:
    r = post_form(login(team["author"]), {"recipient_id": team["recipient"].id, "emoji": "👍"}, b"", "")
    assert r.status_code == 303
    assert db.session.scalar(select(Feedback.voice_key)) is None and stored_files(store_dir) == []


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(("name", "filename"), [BAD_FILES[0], BAD_FILES[1], BAD_FILES[3], BAD_FILES[4], BAD_FILES[8]])
def test_bad_voice_over_http_is_422_translated_and_keeps_the_text(team, login, media, store_dir,
                                                                   htmx, name, filename) -> None:
    c = login(team["author"])
    team["author"].locale = "zh_Hans_CN"
    db.session.commit()
    r = post_voice(c, team, media, name, filename, htmx=htmx, text="保留我写的字")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert ("<html" in body) is (not htmx)
    assert 'id="err-voice"' in body and "语音" in body
    assert "保留我写的字" in body
    assert feedback_count() == 0 and stored_files(store_dir) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_without_ffmpeg_voice_notes_are_unavailable_not_a_500(team, login, media, store_dir, htmx,
                                                              monkeypatch, tmp_path) -> None:
    """A machine without ffmpeg (a fresh install) says so instead of failing on the upload."""
    c = login(team["author"])
    team["author"].locale = "zh_Hans_CN"
    db.session.commit()
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no ffprobe, no ffmpeg
    page = c.get("/feedback/new").get_data(as_text=True)
    assert "data-voice-rec" not in page and "语音留言暂不可用" in page
    r = post_voice(c, team, media, htmx=htmx, text="保留我写的字")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="err-voice"' in body and "语音留言暂不可用" in body
    assert "保留我写的字" in body
    assert feedback_count() == 0 and stored_files(store_dir) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_a_3_mb_upload_is_413_translated(team, login, media, store_dir, htmx) -> None:
    c = login(team["author"])
    team["author"].locale = "zh_Hans_CN"
    db.session.commit()
    r = post_voice(c, team, media, "big.webm", htmx=htmx, text="hi")
    assert r.status_code == 413
    with force_locale("zh_Hans_CN"):
        from flask_babel import gettext
        assert gettext("That upload is too large.") in r.get_data(as_text=True)
    assert feedback_count() == 0 and stored_files(store_dir) == []


def test_a_voice_part_just_over_2_mb_is_413_too(team, login, media, store_dir) -> None:
    """Under the request cap (the form's other fields have room) but over the voice limit."""
    head = media["note.webm"].read_bytes()[:400]
    r = post_form(login(team["author"]), {"recipient_id": team["recipient"].id},
                  head + os.urandom(voice.MAX_BYTES), "voice.webm")
    assert r.status_code == 413
    assert feedback_count() == 0 and stored_files(store_dir) == []


class CountingStream(io.RawIOBase):
    """A request body of `size` zero bytes that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, b: Any) -> int:
        n = max(0, min(len(b), self.size - self.pos))
        b[:n] = b"\0" * n
        self.pos += n
        self.read_bytes += n
        return n


def test_an_oversized_body_is_refused_before_it_is_read(team, login, store_dir, monkeypatch) -> None:
    # The connection guard would drain what is left after the answer (perfapp.core.connection);
    # with draining off, this shows the app itself decides from Content-Length alone.
    monkeypatch.setattr(connection, "DRAIN_MAX_BYTES", 0)
    c = login(team["author"])
    body = CountingStream(3 * MB)
    r = c.post("/feedback/new", input_stream=body, content_type="multipart/form-data; boundary=x",
               headers={"X-CSRFToken": c.csrf})
    assert r.status_code == 413
    assert body.read_bytes == 0
    assert feedback_count() == 0


def test_a_body_without_length_is_cut_off_at_the_cap(team, login, store_dir, monkeypatch) -> None:
    monkeypatch.setattr(connection, "DRAIN_MAX_BYTES", 0)  # as above: what the app reads
    c = login(team["author"])
    body = CountingStream(3 * MB)
    r = c.post("/feedback/new", input_stream=body, content_type="multipart/form-data; boundary=x",
               headers={"X-CSRFToken": c.csrf},
               environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    assert r.status_code == 413
    assert body.read_bytes <= voice.MAX_REQUEST_BYTES + 64 * 1024
    assert feedback_count() == 0


def test_other_pages_keep_their_own_limits(team, login) -> None:
    """The 2 MB cap is the compose route's alone."""
    c = login(team["author"])
    r = c.submit("/feedback/ask", {"recipient_ids": team["recipient"].id, "about": "x" * 400,
                                   "pad": "y" * 100}, content_type="multipart/form-data")
    assert r.status_code == 303


# --- playback --------------------------------------------------------------------------------

@pytest.fixture()
def note(team, media, store_dir) -> Feedback:
    return give_voice(team, media, visibility="private")


def test_playback_headers(team, login, note, store_dir) -> None:
    r = login(team["recipient"]).get(f"/feedback/{note.id}/voice")
    data = (store_dir / note.voice_key).read_bytes()
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "audio/webm"
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Disposition"] == 'inline; filename="voice.webm"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["ETag"]


def test_range_requests(team, login, note, store_dir) -> None:
    c = login(team["recipient"])
    url = f"/feedback/{note.id}/voice"
    data = (store_dir / note.voice_key).read_bytes()
    size = len(data)

    r = c.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.data == data[:100]
    assert r.headers["Content-Range"] == f"bytes 0-99/{size}" and r.headers["Content-Length"] == "100"

    r = c.get(url, headers={"Range": "bytes=-100"})  # the last 100 bytes
    assert r.status_code == 206 and r.data == data[-100:]
    assert r.headers["Content-Range"] == f"bytes {size - 100}-{size - 1}/{size}"

    r = c.get(url, headers={"Range": "bytes=1000-"})
    assert r.status_code == 206 and r.data == data[1000:]

    r = c.get(url, headers={"Range": f"bytes={size - 10}-{size + 500}"})  # clamped to the end
    assert r.status_code == 206 and r.data == data[-10:]

    r = c.get(url, headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{size}"

    r = c.get(url, headers={"Range": "bytes=0-99", "If-Range": '"some-other-version"'})
    assert r.status_code == 200 and r.data == data

    etag = c.get(url).headers["ETag"]
    r = c.get(url, headers={"Range": "bytes=0-99", "If-Range": etag})
    assert r.status_code == 206
    assert c.get(url, headers={"If-None-Match": etag}).status_code == 304

    r = c.head(url)
    assert r.status_code == 200 and r.data == b"" and r.headers["Content-Length"] == str(size)


@pytest.mark.parametrize(("visibility", "who", "status"), [
    ("private", "author", 200), ("private", "recipient", 200), ("private", "boss", 404),
    ("private", "other", 404), ("manager", "boss", 200), ("manager", "other", 404),
    ("public", "other", 200),
])
def test_only_readers_can_play_it(team, login, media, store_dir, visibility, who, status) -> None:
    fb = give_voice(team, media, visibility=visibility)
    assert login(team[who]).get(f"/feedback/{fb.id}/voice").status_code == status


def test_hidden_feedback_and_feedback_without_voice_are_404(team, login, media, store_dir) -> None:
    fb = give_voice(team, media, visibility="public")
    plain = give_feedback(team["author"], FeedbackInput(recipient_id=team["recipient"].id, text="hi"))
    fb.hidden = True
    db.session.commit()
    c = login(team["other"])
    assert c.get(f"/feedback/{fb.id}/voice").status_code == 404
    assert c.get(f"/feedback/{plain.id}/voice").status_code == 404
    assert c.get("/feedback/999999/voice").status_code == 404


def test_logged_out_people_get_401_not_the_login_page(client, note) -> None:
    """An <audio> element must not receive the HTML login page (it asks with Sec-Fetch-Dest: audio)."""
    for headers in ({}, {"Sec-Fetch-Dest": "audio", "Accept": "*/*", "Range": "bytes=0-"},
                    {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}):
        r = client.get(f"/feedback/{note.id}/voice", headers=headers)
        assert r.status_code == 401 and "Location" not in r.headers
        assert r.headers["Cache-Control"] == "no-store" and not r.mimetype.startswith("audio/")


def test_confidential_voice_headers_name_nobody(team, login, media, store_dir) -> None:
    fb = give_voice(team, media, "named.m4a", confidential=True, visibility="manager")
    author = team["author"]
    for who in ("recipient", "boss"):
        r = login(team[who]).get(f"/feedback/{fb.id}/voice")
        assert r.status_code == 200
        headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items()).lower()
        for clue in ("emma", "wilson", author.email, f"author={author.id}"):
            assert clue not in headers
        assert r.headers["Content-Disposition"] == 'inline; filename="voice.m4a"'
        assert b"Emma" not in r.data


def test_the_feed_shows_a_player_and_json_names_the_voice(team, login, note) -> None:
    c = login(team["recipient"])
    page = c.get("/").get_data(as_text=True)
    assert f'src="/feedback/{note.id}/voice"' in page and 'preload="none"' in page
    assert "0:02" in page
    item = c.get(f"/feedback/{note.id}", headers={"Accept": "application/json"}).get_json()
    assert item["voice"]["url"] == f"/feedback/{note.id}/voice" and item["voice"]["type"] == "audio/webm"


# --- an S3-compatible bucket -------------------------------------------------------------------

class FakeBucket:
    """The few S3 calls the store makes, honouring Range like S3 does."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.ranges: list[str] = []

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:  # noqa: N803
        self.objects[Key] = (Body, ContentType)

    def delete_object(self, Bucket: str, Key: str) -> None:  # noqa: N803
        self.objects.pop(Key, None)

    def get_object(self, Bucket: str, Key: str, Range: str) -> dict:  # noqa: N803
        self.ranges.append(Range)
        start, stop = (int(x) for x in Range.removeprefix("bytes=").split("-"))
        body = io.BytesIO(self.objects[Key][0][start:stop + 1])
        body.iter_chunks = lambda size: iter(lambda: body.read(size), b"")  # type: ignore[attr-defined]
        return {"Body": body}


@pytest.fixture()
def bucket(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBucket]:
    fake = FakeBucket()
    monkeypatch.setitem(app.config, "VOICE_S3_BUCKET", "perfapp-test")
    monkeypatch.setitem(app.extensions, "voice_s3", voice.S3Store("perfapp-test", "voice/", client=fake))
    yield fake


def test_s3_store_saves_serves_ranges_and_deletes(team, login, media, bucket, store_dir) -> None:
    fb = give_voice(team, media, visibility="private")
    assert list(bucket.objects) == ["voice/" + fb.voice_key]
    assert bucket.objects["voice/" + fb.voice_key][1] == "audio/webm"
    assert stored_files(store_dir) == []
    data = bucket.objects["voice/" + fb.voice_key][0]
    c = login(team["recipient"])
    r = c.get(f"/feedback/{fb.id}/voice", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.data == data[100:200]
    assert bucket.ranges == ["bytes=100-199"]  # only the asked-for bytes left the bucket
    assert c.get(f"/feedback/{fb.id}/voice").data == data
    db.session.delete(db.session.get(Feedback, fb.id))
    db.session.commit()
    assert bucket.objects == {}
