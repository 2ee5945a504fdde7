"""Web Push, the protocol part: endpoint guard, VAPID keys, encryption, the guarded HTTP POST.

The `webpush` package encrypts (RFC 8291, aes128gcm) and signs the VAPID token (RFC 8292);
the POST is ours, because the endpoint is a URL a browser handed us: it must be https on a
push service we know (PUSH_HOST_ALLOWLIST), checked again at send time, and the addresses it
resolves to must be public. We connect to the address we checked (sending the name for TLS
SNI and Host), so DNS cannot answer differently between the check and the connection.
"""
from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import AnyHttpUrl
from webpush import WebPush, WebPushSubscription

#: Ciphertext may be up to 4096 bytes; aes128gcm adds 103 (header, tag, padding delimiter).
MAX_PAYLOAD_BYTES = 3072
MAX_BODY_CHARS = 240
MAX_ENDPOINT_LENGTH = 1024
MAX_RESPONSE_BYTES = 64 * 1024
VAPID_TOKEN_SECONDS = 12 * 3600

Resolver = Callable[[str, int], list[str]]
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class EndpointRefused(ValueError):
    """A subscription endpoint we will not talk to (the reason is for logs, not people)."""


# --- the endpoint guard ----------------------------------------------------------------------

def host_allowed(host: str, allowlist: Iterable[str]) -> bool:
    """Exact names, or "*.example.com" for any subdomain (not the bare domain)."""
    host = host.lower().rstrip(".")
    for entry in allowlist:
        entry = entry.lower().strip().rstrip(".")
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hiding in a mapped, 6to4 or Teredo IPv6 address, if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def address_allowed(address: str, *, allow_loopback: bool = False) -> bool:
    """Only public unicast addresses (loopback too, for the local test service when allowed)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_allowed(str(inner), allow_loopback=allow_loopback)
        if ip.is_site_local:
            return False
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not (ip.is_private or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class Target:
    """A checked endpoint: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def origin(self) -> str:
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def check_endpoint(url: str, allowlist: Iterable[str], *, allow_local_test: bool = False) -> Target:
    """Refuse anything but https on an allow-listed push host, port 443 (test mode: http, any port)."""
    if not isinstance(url, str) or not url or len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused("missing or too long")
    if _SPACE_OR_CONTROL.search(url):
        raise EndpointRefused("whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise EndpointRefused(f"unparsable: {e}") from e
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_local_test and scheme == "http"):
        raise EndpointRefused(f"scheme {scheme!r}")
    if parts.username or parts.password or parts.fragment:
        raise EndpointRefused("credentials or fragment")
    host = (parts.hostname or "").lower()
    if not host or not host_allowed(host, allowlist):
        raise EndpointRefused(f"host {host!r} is not an allowed push service")
    if port is None:
        port = 443 if scheme == "https" else 80
    if port != 443 and not allow_local_test:
        raise EndpointRefused(f"port {port}")
    try:  # an address literal is checked right away, a name when it is resolved
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if not address_allowed(host, allow_loopback=allow_local_test):
            raise EndpointRefused(f"address {host}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_checked(target: Target, resolve: Resolver, *, allow_loopback: bool = False) -> str:
    """The address to connect to; refuses the host if any address it resolves to is internal."""
    try:
        addresses = resolve(target.host, target.port)
    except OSError as e:
        raise ConnectionError(f"cannot resolve {target.host}: {e}") from e
    if not addresses:
        raise ConnectionError(f"{target.host} resolves to nothing")
    bad = [a for a in addresses if not address_allowed(a, allow_loopback=allow_loopback)]
    if bad:
        raise EndpointRefused(f"{target.host} resolves to {', '.join(bad)}")
    return addresses[0]


# --- subscription keys -----------------------------------------------------------------------

def b64url_decode(value: str) -> bytes:
    if not isinstance(value, str) or not value.isascii():
        raise ValueError("not base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as e:
        raise ValueError("not base64url") from e


def b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's public key must be a P-256 point and its auth secret 16 bytes."""
    point = b64url_decode(p256dh)
    if len(point) != 65 or point[0] != 4:
        raise ValueError("p256dh is not an uncompressed P-256 point")
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # raises ValueError off the curve
    if len(b64url_decode(auth)) != 16:
        raise ValueError("auth is not 16 bytes")


# --- VAPID keys ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VapidKeys:
    private_pem: bytes
    public_key: str  # base64url uncompressed point: the page's applicationServerKey


def generate_vapid_keys() -> VapidKeys:
    key = ec.generate_private_key(ec.SECP256R1())
    return _keys_from_private(key)


def _keys_from_private(key: ec.EllipticCurvePrivateKey) -> VapidKeys:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(private_pem=pem, public_key=b64url_encode(point))


def keys_from_config(private: str) -> VapidKeys:
    """VAPID_PRIVATE_KEY as PEM, or as the base64url raw private number most tools print."""
    text = private.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        key = ec.derive_private_key(int.from_bytes(b64url_decode(text), "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("VAPID_PRIVATE_KEY must be a P-256 key")
    return _keys_from_private(key)


# --- messages --------------------------------------------------------------------------------

def build_payload(title: str, body: str, url: str, **extra: Any) -> bytes:
    """The JSON the service worker shows; the body is shortened until it fits the size limit."""
    body = body if len(body) <= MAX_BODY_CHARS else body[:MAX_BODY_CHARS - 1].rstrip() + "…"
    title = title if len(title) <= 120 else title[:119] + "…"
    while True:
        data = json.dumps({"title": title, "body": body, "url": url, **extra},
                          ensure_ascii=False, separators=(",", ":")).encode()
        if len(data) <= MAX_PAYLOAD_BYTES:
            return data
        if not body:
            raise ValueError("push payload too large even without a body")
        body = body[: max(0, len(body) - max(16, (len(data) - MAX_PAYLOAD_BYTES)))].rstrip() + "…"
        if body == "…":
            body = ""


@dataclass
class Prepared:
    """An encrypted message for one subscription, ready to POST."""

    endpoint: str
    body: bytes
    headers: dict[str, str]


class Encrypter:
    """Encrypts with the `webpush` package. Its WebPush.get() signs a new VAPID token per
    message (about as slow as the encryption); a token is valid for hours and only names the
    push service's origin, so one is signed per origin and reused until near its expiry."""

    def __init__(self, private_pem: bytes, subject: str) -> None:
        public_pem = serialization.load_pem_private_key(private_pem, password=None) \
            .public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        # webpush writes "mailto:" itself.
        self.subject = subject.removeprefix("mailto:")
        self.webpush = WebPush(private_key=private_pem, public_key=public_pem,
                               subscriber=self.subject, expiration=VAPID_TOKEN_SECONDS)
        self._tokens: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self.seconds = 0.0  # time spent encrypting and signing (bench figures)

    def authorization(self, endpoint: str, now: float | None = None) -> str:
        url = AnyHttpUrl(endpoint)
        audience = f"{url.scheme}://{url.host}"
        now = time.time() if now is None else now
        with self._lock:
            cached = self._tokens.get(audience)
            if cached and cached[0] > now + 3600:
                return cached[1]
        header = self.webpush.vapid.get_authorization_header(
            endpoint=url, subscriber=self.subject, expiration=VAPID_TOKEN_SECONDS)
        with self._lock:
            self._tokens[audience] = (now + VAPID_TOKEN_SECONDS, header)
        return header

    def prepare(self, endpoint: str, p256dh: str, auth: str, payload: bytes, *,
                ttl: int, urgency: str = "normal") -> Prepared:
        started = time.perf_counter()
        subscription = WebPushSubscription.model_validate(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
        body = self.webpush._encrypt(payload, subscription)
        headers = {
            "TTL": str(ttl), "Urgency": urgency, "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream", "Authorization": self.authorization(endpoint),
        }
        elapsed = time.perf_counter() - started
        with self._lock:
            self.seconds += elapsed
        return Prepared(endpoint=endpoint, body=body, headers=headers)


# --- sending ---------------------------------------------------------------------------------

@dataclass
class SendResult:
    status: int  # HTTP status; 0 when no answer came (network error, refused endpoint)
    retry_after: float | None = None
    error: str = ""
    refused: bool = False  # the guard said no: never retry, drop the subscription

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status in (404, 410) or self.refused

    @property
    def retryable(self) -> bool:
        return not self.refused and (self.status == 0 or self.status == 429 or self.status >= 500)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _pinned_connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    def connect_to_checked_address(_address: Any, conn_timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection((address, target.port), timeout, source)

    conn: http.client.HTTPConnection
    if target.scheme == "https":
        # Host header and TLS SNI/certificate check use the name; the socket goes to `address`.
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    # A private hook of http.client (not in its type stubs): the one place to choose the socket.
    conn._create_connection = connect_to_checked_address  # type: ignore[attr-defined]
    return conn


@dataclass
class Sender:
    """POSTs prepared messages, reusing one connection per push service per thread."""

    allowlist: tuple[str, ...]
    allow_local_test: bool = False
    timeout: float = 10.0
    resolve: Resolver = system_resolve
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def _connections(self) -> dict[tuple[str, str, int], http.client.HTTPConnection]:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def send(self, message: Prepared) -> SendResult:
        try:
            target = check_endpoint(message.endpoint, self.allowlist, allow_local_test=self.allow_local_test)
        except EndpointRefused as e:
            return SendResult(0, error=str(e), refused=True)
        key = (target.scheme, target.host, target.port)
        conns = self._connections()
        for attempt in (1, 2):  # a kept-alive connection the server has closed: one fresh try
            conn = conns.get(key)
            fresh = conn is None
            try:
                if conn is None:
                    address = resolve_checked(target, self.resolve, allow_loopback=self.allow_local_test)
                    conn = conns[key] = _pinned_connection(target, address, self.timeout)
                conn.request("POST", target.path, body=message.body,
                             headers={**message.headers, "Content-Length": str(len(message.body))})
                response = conn.getresponse()
                response.read(MAX_RESPONSE_BYTES)
                if not response.isclosed():  # an oversized answer: do not reuse the connection
                    conns.pop(key, None)
                    conn.close()
                elif response.will_close:
                    conns.pop(key, None)
                return SendResult(response.status,
                                  retry_after=parse_retry_after(response.getheader("Retry-After")))
            except EndpointRefused as e:
                return SendResult(0, error=str(e), refused=True)
            except (OSError, http.client.HTTPException) as e:
                conns.pop(key, None)
                if conn is not None:
                    conn.close()
                if fresh or attempt == 2:
                    return SendResult(0, error=f"{type(e).__name__}: {e}")
        return SendResult(0, error="unreachable")  # pragma: no cover

    def close(self) -> None:
        for conn in self._connections().values():
            conn.close()
        self._connections().clear()


@lru_cache(maxsize=4)
def cached_encrypter(private_pem: bytes, subject: str) -> Encrypter:
    """One Encrypter (and its reusable VAPID tokens) per key and subject, per process."""
    return Encrypter(private_pem, subject)
