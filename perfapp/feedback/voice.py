"""Voice notes: accept only short, real audio; remux it, store it under a random name, serve it.

The bytes decide what a file is, never its name or the type the client claims: a magic-number
sniff picks one of three demuxers, ffprobe checks container and codec against an allow-list,
ffmpeg remuxes (`-c copy`: no re-encoding) so the duration is written and metadata stripped.
Files live outside the static folder (a local folder, or an S3-compatible bucket) and are
served by perfapp.feedback.views.voice to the people who may read the feedback.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from flask import Response, current_app, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from werkzeug.datastructures import ContentRange
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import unquote_etag

from perfapp.feedback.models import Feedback

MAX_BYTES = 2 * 1024 * 1024
MAX_SECONDS = 60
# The recorder stops itself at 60 s, and container timestamps can land a few hundredths past
# that; a little grace keeps those recordings while a 90-second file is still refused.
SECONDS_GRACE = 0.75
# What the compose form sends besides the file (text, template fields, tags) fits in this:
# the whole request is refused from its Content-Length above MAX_BYTES plus this.
FORM_OVERHEAD = 256 * 1024
MAX_REQUEST_BYTES = MAX_BYTES + FORM_OVERHEAD
TOOL_TIMEOUT = 20  # seconds for one ffprobe/ffmpeg run (a remux of 60 s takes well under one)
CHUNK = 64 * 1024

# (format_name, codec) -> (stored extension, Content-Type). WebM/Opus from Chrome and Android,
# MP4/AAC from Safari and iOS, Ogg/Opus from Firefox's older recorders.
ALLOWED = {
    ("matroska,webm", "opus"): ("webm", "audio/webm"),
    ("ogg", "opus"): ("ogg", "audio/ogg"),
    ("mov,mp4,m4a,3gp,3g2,mj2", "aac"): ("m4a", "audio/mp4"),
}
KEY_PATTERN = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.(?:webm|ogg|m4a)")


class VoiceTooLarge(RequestEntityTooLarge):
    """A voice note over MAX_BYTES: the whole submission is refused with 413."""


@dataclass
class VoiceUpload:
    """The file part of the compose form. Its client-side name is checked, never used."""

    stream: IO[bytes]
    filename: str = ""


@dataclass(frozen=True)
class VoiceClip:
    """A checked, remuxed voice note, ready to store."""

    data: bytes
    ext: str
    mime: str
    seconds: float


class _Unreadable(Exception):
    pass


def tools_available() -> bool:
    """True when ffprobe and ffmpeg are installed: without them no voice note can be checked.

    Looked up on every call (a PATH lookup is microseconds), so installing ffmpeg while the app
    runs takes effect without a restart.
    """
    return all(shutil.which(tool) for tool in ("ffprobe", "ffmpeg"))


# --- checking ------------------------------------------------------------------------

def _safe_client_name(name: str) -> bool:
    # Only to refuse the obviously hostile; storage names are random and never derived from it.
    return not (set(name) & {"/", "\\", "\0"} or ".." in name or len(name) > 255)


def _copy_capped(stream: IO[bytes], dest: Path) -> int:
    size = 0
    with dest.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                raise VoiceTooLarge()
            out.write(chunk)
    return size


def _sniff(path: Path) -> str | None:
    """The demuxer the magic number names, or None. Forcing it keeps ffmpeg away from
    playlist-like formats (HLS, concat) that would open other files or URLs."""
    with path.open("rb") as f:
        head = f.read(12)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mov"
    return None


def _run(args: list[str]) -> str:
    """Run a tool; any complaint at error level (a truncated file, a bad packet) rejects the file."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=TOOL_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed it already
        raise _Unreadable("timeout") from e
    if done.returncode != 0 or done.stderr.strip():
        raise _Unreadable(done.stderr.decode("utf-8", "replace")[:500])
    return done.stdout.decode("utf-8", "replace")


def _probe(path: Path, demuxer: str) -> dict[str, Any]:
    out = _run(["ffprobe", "-v", "error", "-protocol_whitelist", "file", "-f", demuxer,
                "-show_entries", "format=format_name,duration:stream=codec_name,codec_type",
                "-of", "json", str(path)])
    try:
        return json.loads(out)
    except ValueError as e:
        raise _Unreadable("ffprobe output") from e


def _kind(info: dict[str, Any]) -> tuple[str, str] | None:
    """(extension, mime) for exactly one audio stream in an allowed container, else None."""
    streams = info.get("streams") or []
    if len(streams) != 1 or streams[0].get("codec_type") != "audio":
        return None
    return ALLOWED.get((info.get("format", {}).get("format_name"), streams[0].get("codec_name")))


def _duration(info: dict[str, Any]) -> float | None:
    try:
        seconds = float(info["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def prepare(upload: VoiceUpload, errors: dict[str, str]) -> VoiceClip | None:
    """Check and remux an uploaded voice note; on bad input set errors["voice"] and return None.

    Raises VoiceTooLarge (413) past MAX_BYTES. Temporary files are gone when this returns.
    """
    if not tools_available():
        errors["voice"] = _("Voice notes are unavailable on this server right now. Send your words without one.")
        return None
    if not _safe_client_name(upload.filename):
        errors["voice"] = _("That file name isn't allowed. Record the voice note again.")
        return None
    not_audio = _("That isn't a voice note we can play. Record it again.")
    with tempfile.TemporaryDirectory(prefix="perfapp-voice-") as tmp:
        source = Path(tmp) / "upload"
        if _copy_capped(upload.stream, source) == 0:
            errors["voice"] = _("The voice note is empty. Record it again.")
            return None
        demuxer = _sniff(source)
        try:
            if demuxer is None or (kind := _kind(_probe(source, demuxer))) is None:
                errors["voice"] = not_audio
                return None
            ext, mime = kind
            out = Path(tmp) / f"voice.{ext}"
            args = ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-f", demuxer,
                    "-i", str(source), "-map", "0:a:0", "-c", "copy", "-map_metadata", "-1"]
            if ext == "m4a":
                args += ["-movflags", "+faststart"]  # the index first: iOS starts playing sooner
            _run([*args, str(out)])
            seconds = _duration(_probe(out, demuxer))  # the same container family as the upload
        except _Unreadable:
            errors["voice"] = not_audio
            return None
        if seconds is None:
            errors["voice"] = not_audio
            return None
        if seconds > MAX_SECONDS + SECONDS_GRACE:
            errors["voice"] = _("A voice note can be at most %(seconds)d seconds long.", seconds=MAX_SECONDS)
            return None
        data = out.read_bytes()
    if len(data) > MAX_BYTES:
        raise VoiceTooLarge()
    return VoiceClip(data=data, ext=ext, mime=mime, seconds=round(seconds, 2))


# --- storage -----------------------------------------------------------------------------

class VoiceStore(Protocol):
    """Where voice notes live: keys are random (see new_key), values are the remuxed bytes."""

    def save(self, key: str, data: bytes, mime: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def read(self, key: str, start: int, stop: int) -> Iterator[bytes]: ...


def _checked(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a voice key: {key!r}")
    return key


class LocalStore:
    """A folder on this machine (instance/voice by default), outside the static folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def save(self, key: str, data: bytes, mime: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def read(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as f:
            f.seek(start)
            left = stop - start
            while left > 0 and (chunk := f.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Cloudflare R2, Aliyun OSS…), through boto3."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None, **client_options: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            try:
                import boto3  # optional extra: pip install perfapp[s3]
                from botocore.config import Config as BotoConfig
            except ImportError as e:  # pragma: no cover - depends on the installation
                raise RuntimeError("VOICE_S3_BUCKET is set but boto3 is missing: pip install '.[s3]'") from e
            client = boto3.client("s3", config=BotoConfig(connect_timeout=5, read_timeout=30,
                                                          retries={"max_attempts": 3}),
                                  **{k: v for k, v in client_options.items() if v})
        self.client = client

    def _key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def save(self, key: str, data: bytes, mime: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=mime)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def read(self, key: str, start: int, stop: int) -> Iterator[bytes]:
        # Only the requested bytes leave the bucket: the range goes to S3 as it came to us.
        obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{stop - 1}")
        body = obj["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()


def get_store() -> VoiceStore:
    """The configured store: an S3 bucket when VOICE_S3_BUCKET is set, else the local folder."""
    config = current_app.config
    bucket = config.get("VOICE_S3_BUCKET")
    if not bucket:
        return LocalStore(config["VOICE_STORAGE_DIR"])
    store = current_app.extensions.get("voice_s3")
    if store is None or store.bucket != bucket:
        store = S3Store(bucket, config.get("VOICE_S3_PREFIX", ""),
                        endpoint_url=config.get("VOICE_S3_ENDPOINT_URL"),
                        region_name=config.get("VOICE_S3_REGION"),
                        aws_access_key_id=config.get("VOICE_S3_ACCESS_KEY_ID"),
                        aws_secret_access_key=config.get("VOICE_S3_SECRET_ACCESS_KEY"))
        current_app.extensions["voice_s3"] = store
    return store


def new_key(ext: str) -> str:
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}.{ext}"  # a two-character folder keeps directories small


# --- files follow the rows: stored only if the row is committed, deleted with the row -----------

_NEW = "perfapp_voice_new"
_GONE = "perfapp_voice_gone"


def attach(feedback: Feedback, clip: VoiceClip) -> None:
    """Store the clip and point the feedback at it; the file goes again if the transaction does."""
    store = get_store()
    key = new_key(clip.ext)
    store.save(key, clip.data, clip.mime)
    session = object_session(feedback)
    if session is None:
        from perfapp.extensions import db

        session = db.session()
    session.info.setdefault(_NEW, []).append((store, key))
    feedback.voice_key = key
    feedback.voice_mime = clip.mime
    feedback.voice_seconds = clip.seconds
    feedback.voice_bytes = len(clip.data)


def detach(feedback: Feedback) -> None:
    """Take the voice note off a feedback that stays (erasure): the file goes once this commits."""
    if not feedback.voice_key:
        return
    session = object_session(feedback)
    if session is None:
        from perfapp.extensions import db

        session = db.session()
    session.info.setdefault(_GONE, []).append((get_store(), feedback.voice_key))
    feedback.voice_key = feedback.voice_mime = None
    feedback.voice_seconds = None
    feedback.voice_bytes = None


def _delete_all(pending: list[tuple[VoiceStore, str]]) -> None:
    for store, key in pending:
        try:
            store.delete(key)
        except Exception:  # a file left over is harmless; failing the request for it is not
            current_app.logger.exception("could not delete voice note %s", key)


def _feedback_deleted(_mapper: Any, _connection: Any, target: Feedback) -> None:
    session = object_session(target)
    if target.voice_key and session is not None:
        session.info.setdefault(_GONE, []).append((get_store(), target.voice_key))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released (it fires this too): not yet
        return
    session.info.pop(_NEW, None)
    _delete_all(session.info.pop(_GONE, []))


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        _delete_all(session.info.pop(_NEW, []))
        session.info.pop(_GONE, None)


def install() -> None:
    """Delete stored voice files with their rows, and new files whose transaction failed
    (feedback.wiring, once per process)."""
    for target, name, listener in ((Feedback, "after_delete", _feedback_deleted),
                                   (Session, "after_commit", _after_commit),
                                   (Session, "after_transaction_end", _after_transaction_end)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


# --- serving ---------------------------------------------------------------------------------

def serve(feedback: Feedback) -> Response:
    """The voice note with HTTP Range support; nothing in it or its headers names the author."""
    key = feedback.voice_key
    assert key is not None and feedback.voice_bytes and feedback.voice_mime
    size = feedback.voice_bytes
    etag = hashlib.sha256(key.encode()).hexdigest()[:24]

    def headers(response: Response) -> Response:
        response.set_etag(etag)
        response.accept_ranges = "bytes"
        # Personal: never kept by a shared or browser cache (a shared computer, a proxy).
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Disposition"] = f'inline; filename="voice.{key.rsplit(".", 1)[1]}"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    if request.if_none_match.contains(etag):
        return headers(Response(status=304))
    span = None
    if_range = request.headers.get("If-Range")
    if "Range" in request.headers and (not if_range or unquote_etag(if_range)[0] == etag):
        span = request.range.range_for_length(size) if request.range else None
        if span is None:
            response = headers(Response(status=416))
            response.headers["Content-Range"] = f"bytes */{size}"
            return response
    start, stop = span or (0, size)
    response = Response(get_store().read(key, start, stop), status=206 if span else 200,
                        mimetype=feedback.voice_mime, direct_passthrough=True)
    response.content_length = stop - start
    if span:
        response.content_range = ContentRange("bytes", start, stop, size)
    return headers(response)
