"""Reading a customer's email with the standard library, safely: bytes in, plain text out.

Nothing from a message is ever kept as HTML: HTML parts become text here (scripts and
styles dropped, images and links never fetched), and templates autoescape what is left.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import MessageDefect, NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from flask_babel import gettext as _

MAX_BODY_CHARS = 20_000

# Mail clients label text with the older, smaller charsets; decode with their supersets so
# characters outside GB2312/Big5 (names!) survive.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cn-big5": "big5hkscs", "cp950": "big5hkscs",
    "us-ascii": "utf-8", "ascii": "utf-8",
}
_BROKEN_STRUCTURE = (NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class MalformedEmail(ValueError):
    """The bytes are not a readable email; str(error) is a translated reason."""


@dataclass
class ParsedEmail:
    sender_name: str
    sender_email: str
    subject: str
    sent_at: datetime | None  # naive UTC
    body: str
    message_id: str = ""
    addresses: list[str] = field(default_factory=list)  # To and Cc: often the people praised


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset (or its superset), then UTF-8, then GB18030; never fail."""
    names = []
    if charset:
        names.append(CHARSET_SUPERSETS.get(charset.strip().lower(), charset.strip()))
    names += ["utf-8", "gb18030"]
    for name in names:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def header_text(raw: str | None) -> str:
    """A header as readable text: RFC 2047 words and raw 8-bit bytes decoded, whitespace folded."""
    if not raw:
        return ""
    parts = []
    for chunk, charset in decode_header(raw):
        if isinstance(chunk, str):  # no encoded words: raw 8-bit bytes arrive surrogate-escaped
            chunk, charset = chunk.encode("utf-8", "surrogateescape"), None
        parts.append(decode_bytes(chunk, charset))
    return clean_text(" ".join("".join(parts).split()))


def plain_header(value: str) -> str:
    """A raw header value as text: the parser keeps undecodable 8-bit bytes as lone surrogates,
    which no database can store (a pasted "From: @\x80" failed the import with a 500, found by
    tests/fuzz); they are decoded as UTF-8 here, or replaced."""
    return clean_text(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def clean_text(text: str) -> str:
    """Plain text without control or bidi-override characters, with tidy line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _HtmlText(HTMLParser):
    """Keeps the text of an HTML part; everything that could load or run is dropped."""

    SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "iframe",
                      "object", "embed", "math"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "table", "blockquote", "section", "article",
                       "header", "footer", "ul", "ol", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "body":
            self.skipping.clear()  # an unclosed <head> must not swallow the message
        elif tag in self.SKIP:
            self.skipping.append(tag)
        elif not self.skipping and tag in self.BLOCK:
            self.parts.append("\n• " if tag == "li" else "\n")
        elif not self.skipping and tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif not self.skipping and tag in self.BLOCK and tag != "li":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if not self.skipping and tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """The readable text of an HTML document (no tags, scripts, styles, images or link targets)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return clean_text("\n".join(line.strip() for line in "".join(parser.parts).split("\n")))


def _body(message: EmailMessage, pasted: bool) -> str:
    plain = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset()
        if pasted and str(part.get("content-transfer-encoding", "7bit")).strip().lower() in ("7bit", "8bit", "binary"):
            # Pasted source is already Unicode text: its 8-bit parts are UTF-8 now, whatever they declare.
            charset = None
        text = decode_bytes(payload, charset)
        if kind == "text/plain" and plain is None and text.strip():
            plain = clean_text(text)
        elif kind == "text/html" and html is None:
            html = html_to_text(text)
    body = plain or html or ""
    return body[:MAX_BODY_CHARS]


def _sent_at(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        stamp = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def parse_email(raw: bytes, pasted: bool = False) -> ParsedEmail:
    """Parse an RFC 822 message; MalformedEmail (translated) when it can't be read as one.

    `pasted`: the message was pasted as text, so its unencoded parts are UTF-8 already."""
    if not raw.strip():
        raise MalformedEmail(_("The message is empty."))
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        headers = {name.lower(): value for name, value in reversed(list(message.raw_items()))}
        defects: list[MessageDefect] = [d for part in message.walk() for d in part.defects]
    except Exception as e:  # the parser is lenient, but odd input can still trip it
        raise MalformedEmail(_("This isn't an email message we can read.")) from e
    if any(isinstance(d, _BROKEN_STRUCTURE) for d in defects):
        raise MalformedEmail(_("The message's parts are broken (its MIME boundaries are missing)."))
    senders = [(header_text(n), plain_header(a)) for n, a in getaddresses([headers.get("from", "")]) if "@" in a]
    if not senders:
        raise MalformedEmail(_("We couldn't find the sender (From). Use the whole message, headers included."))
    try:
        body = _body(message, pasted)
    except Exception as e:
        raise MalformedEmail(_("This isn't an email message we can read.")) from e
    if not body:
        raise MalformedEmail(_("The message has no text we can show."))
    name, address = senders[0]
    recipients = getaddresses([headers.get("to", ""), headers.get("cc", "")])
    return ParsedEmail(
        sender_name=name[:200], sender_email=address[:254],
        subject=header_text(headers.get("subject"))[:500],
        sent_at=_sent_at(headers.get("date")), body=body,
        message_id=" ".join(plain_header(headers.get("message-id") or "").split())[:500],
        addresses=[plain_header(a).lower() for _n, a in recipients if "@" in a][:50],
    )
