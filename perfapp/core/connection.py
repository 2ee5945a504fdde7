"""Keep-alive connections stay usable after an answer that did not read the request body.

A 413 (too large), a 401 or a 429 is decided before the body is read. On a keep-alive
connection the unread bytes are still on the socket: the server must either read them (drain)
or say `Connection: close` and close. gunicorn (27) drains at most 64 KB after the response
and otherwise closes silently after announcing `keep-alive`, so the client's next request on
that connection fails ("remote end closed connection").

`BodyGuard` (WSGI middleware) counts what the app reads from `wsgi.input`. When the app starts
its response with part of the body unread, it drains a bounded amount (a phone's oversized
voice note is a few MB: reading it keeps the connection and lets the client see the answer
instead of a reset mid-upload); past the bound or a short deadline it gives up and closes:
`Connection: close` in the response, and for gunicorn the request is marked to close (the
hook in gunicorn.conf.py hands the worker's request object over through `server_request`),
so gunicorn announces the close itself and closes gracefully.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

DRAIN_MAX_BYTES = 8 * 1024 * 1024
DRAIN_SECONDS = 3.0
_CHUNK = 64 * 1024

# gunicorn's request object for the request this thread serves (set by gunicorn.conf.py's
# pre_request hook, cleared by post_request); absent under other servers.
server_request = threading.local()


class _CountingInput:
    """wsgi.input, counting what is read and noticing the end of the body."""

    def __init__(self, stream: Any, length: int | None) -> None:
        self._stream, self.length = stream, length
        self.read_bytes = 0
        self.ended = length == 0

    def _note(self, data: bytes, asked: int | None) -> bytes:
        self.read_bytes += len(data)
        if (not data and asked != 0) or (self.length is not None and self.read_bytes >= self.length):
            self.ended = True
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._note(self._stream.read(), None)
        return self._note(self._stream.read(size), size)

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline() if size is None or size < 0 else self._stream.readline(size)
        return self._note(data, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = self._stream.readlines(hint)
        for line in lines:
            self._note(line, None)
        if hint is None or hint < 0:
            self.ended = True
        return lines

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def drain(self, environ: dict[str, Any]) -> bool:
        """Read and discard the rest of the body within DRAIN_MAX_BYTES and DRAIN_SECONDS.
        True when the body ended (the connection can serve another request)."""
        if self.ended:
            return True
        if self.length is not None and self.length - self.read_bytes > DRAIN_MAX_BYTES:
            return False  # don't spend the time: it can't be done within the bound
        sock = environ.get("gunicorn.socket")
        previous = sock.gettimeout() if isinstance(sock, socket.socket) else None
        deadline = time.monotonic() + DRAIN_SECONDS
        drained = 0
        try:
            while not self.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or drained >= DRAIN_MAX_BYTES:
                    return False
                if isinstance(sock, socket.socket):
                    sock.settimeout(remaining)
                drained += len(self.read(_CHUNK))
        except (OSError, ValueError):  # a timeout, a reset, a malformed chunk
            return False
        finally:
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.settimeout(previous)
        return self.ended


def _has_body(environ: dict[str, Any]) -> bool:
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


def _length(environ: dict[str, Any]) -> int | None:
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return None


def close_after_response() -> None:
    """Ask the server to close this connection after the response (gunicorn only; others read
    the `Connection: close` response header)."""
    request = getattr(server_request, "request", None)
    if request is not None and hasattr(request, "must_close"):
        request.must_close = True


class BodyGuard:
    """WSGI middleware: drain or close when the app answers without reading the whole body."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not _has_body(environ):
            return self.app(environ, start_response)
        counted = _CountingInput(environ["wsgi.input"], _length(environ))
        environ["wsgi.input"] = counted

        def guarded_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not counted.drain(environ):
                close_after_response()
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, guarded_start)
