"""Audio sniffing and checking: any bytes are a clean refusal (a translated message on the
"voice" field, a 422 over HTTP, nothing stored) or a real voice note, never a 500.

Bytes without a known magic number never reach ffprobe; the examples that do (a real header
in front of junk, a real recording with bytes changed) get a small share of the budget."""
from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from perfapp.extensions import db
from perfapp.feedback import voice
from perfapp.feedback.models import Feedback
from tests.fuzz.conftest import ZH, assert_translated_errors, budget

MAGIC = [b"\x1a\x45\xdf\xa3", b"OggS", b"\x00\x00\x00\x18ftypM4A ", b"\x00\x00\x00\x20ftypisom"]
pytestmark = pytest.mark.skipif(not voice.tools_available(), reason="ffprobe/ffmpeg not installed")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real two-second WebM/Opus note, made once."""
    path = Path(tmp_path_factory.mktemp("fuzz-voice")) / "note.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-c:a", "libopus", str(path)], check=True, capture_output=True, timeout=60)
    return path.read_bytes()


def _prepare(app, data: bytes, name: str = "note.webm") -> tuple[object, dict[str, str]]:  # type: ignore[no-untyped-def]
    errors: dict[str, str] = {}
    with app.test_request_context(headers=ZH):
        clip = voice.prepare(voice.VoiceUpload(stream=io.BytesIO(data), filename=name), errors)
    return clip, errors


def _refused_or_audio(clip: object, errors: dict[str, str]) -> None:
    if clip is None:
        assert set(errors) == {"voice"} and errors["voice"]
    else:
        assert isinstance(clip, voice.VoiceClip) and clip.seconds <= voice.MAX_SECONDS + 1


@given(data=st.binary(max_size=4096), name=st.text(max_size=40))
def test_bytes_without_a_known_header_are_refused_without_ffprobe(app, data, name) -> None:
    if any(data.startswith(m[:4]) for m in MAGIC) or data[4:8] == b"ftyp":
        return  # the next tests cover these
    clip, errors = _prepare(app, data, name)
    assert clip is None and set(errors) == {"voice"}


@budget(0.2)
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=2048))
def test_a_real_header_before_junk_is_refused(app, magic, tail) -> None:
    _refused_or_audio(*_prepare(app, magic + tail))


@budget(0.2)
@given(seed=st.integers(min_value=0, max_value=2**32), flips=st.integers(min_value=1, max_value=40),
       cut=st.one_of(st.none(), st.floats(min_value=0.05, max_value=1.0)))
def test_a_damaged_recording_is_refused_or_still_audio(app, recording, seed, flips, cut) -> None:
    rng = random.Random(seed)
    data = bytearray(recording if cut is None else recording[: max(4, int(len(recording) * cut))])
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    _refused_or_audio(*_prepare(app, bytes(data)))


@pytest.fixture()
def pair(make_user, login):  # type: ignore[no-untyped-def]
    lina = make_user(name="李娜", email="lina@example.com")
    return {"client": login(make_user(name="王伟", email="boss@example.com")), "lina": lina}


@budget(0.2)
@given(data=st.one_of(st.binary(min_size=1, max_size=1024), st.sampled_from(MAGIC).map(lambda m: m + b"\0" * 64)),
       name=st.sampled_from(["voice.webm", "../../etc/passwd", "a\\b.m4a", "", "语音.ogg"]), htmx=st.booleans())
def test_compose_with_a_bad_voice_file_is_422_and_saves_nothing(app, pair, data, name, htmx) -> None:
    before = db.session.scalar(select(func.count()).select_from(Feedback))
    form = {"recipient_id": pair["lina"].id, "visibility": "private", "voice": (io.BytesIO(data), name)}
    r = pair["client"].submit("/feedback/new", form, headers=ZH, htmx=htmx, target="compose",
                              content_type="multipart/form-data")
    assert r.status_code == 422, r.status_code
    assert_translated_errors(r.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == before
