"""An outbox row as the bytes sent over SMTP, written directly.

``email.message.EmailMessage`` parses every header into objects and folds it
again when the message is written: about 2 ms a message, more than the whole
SMTP exchange. The messages we send have one fixed shape (a few headers we
write ourselves, a text part and usually an HTML one), so they are written
here in the same form the ``email`` package gives them: the same
Content-Transfer-Encoding choice (7bit, 8bit, quoted-printable or base64), the
subject as RFC 2047 encoded words when it is not ASCII. Anything outside that
shape (an address or header that is not printable ASCII) returns None and is
left to the ``email`` package.
"""

import binascii
import re
import secrets
from email import quoprimime
from email.header import Header
from functools import lru_cache

# The email package's SMTP policy: lines longer than this are not sent as 8bit.
MAX_LINE = 78
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")
_CRLF = b"\r\n"


def _body(text: str, subtype: str) -> tuple[list[bytes], bytes]:
    """The part's headers and its encoded content, as ``set_content`` writes
    them (the same choice of 7bit, 8bit, quoted-printable or base64)."""
    lines = text.encode("utf-8").splitlines()
    body = b"\n".join(lines) + b"\n"
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        cte = "7bit" if body.isascii() else "8bit"
        content = _CRLF.join(lines) + _CRLF
    else:
        sniff = b"\n".join(lines[:10]) + b"\n"
        sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
        if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
            cte = "base64"
            step = MAX_LINE // 4 * 3
            data = b"".join(
                binascii.b2a_base64(body[i : i + step]) for i in range(0, len(body), step)
            )
        else:
            cte = "quoted-printable"
            encoded = sniff_qp if len(lines) <= 10 else None
            encoded = encoded or quoprimime.body_encode(body.decode("latin-1"), MAX_LINE)
            data = encoded.encode("ascii")
            data = data if data.endswith(b"\n") else data + b"\n"
        content = data.replace(b"\n", _CRLF)
    headers = [
        f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
        f"Content-Transfer-Encoding: {cte}".encode(),
    ]
    return headers, content


def _header(name: str, value: str) -> bytes | None:
    if "\r" in value or "\n" in value:
        # As the email package does: such a header would let text become headers.
        raise ValueError(f"Header values may not contain linefeed or carriage return: {name}")
    if not _PRINTABLE_ASCII.match(value):
        return None
    return f"{name}: {value}".encode("ascii")


@lru_cache(maxsize=256)
def _subject(subject: str) -> bytes:
    """The Subject line (cached: the emails of one event share their subject)."""
    if _PRINTABLE_ASCII.match(subject):
        return f"Subject: {subject}".encode("ascii")
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    return b"Subject: " + encoded.encode("ascii")


def encode(
    *,
    sender: str,
    recipient: str,
    subject: str,
    message_id: str,
    headers: dict | None,
    body_text: str,
    body_html: str | None,
) -> bytes | None:
    """The message's bytes with CRLF line ends (SMTP's dot-stuffing is left to
    smtplib), or None when it is not of the shape written here."""
    lines = []
    fields = [
        ("From", sender),
        ("To", recipient),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        *(headers or {}).items(),
    ]
    for name, value in fields:
        line = _header(name, value)
        if line is None:
            return None
        lines.append(line)
    if "\r" in subject or "\n" in subject:
        raise ValueError("Header values may not contain linefeed or carriage return: Subject")
    lines.insert(2, _subject(subject))
    lines.append(b"MIME-Version: 1.0")
    text_headers, text = _body(body_text, "plain")
    if not body_html:
        return _CRLF.join([*lines, *text_headers, b"", b""]) + text
    html_headers, html = _body(body_html, "html")
    boundary = f"==============={secrets.token_hex(12)}==".encode("ascii")
    lines.append(b'Content-Type: multipart/alternative; boundary="' + boundary + b'"')
    return _CRLF.join(
        [
            *lines,
            b"",
            b"--" + boundary,
            *text_headers,
            b"",
            text,  # the line end before a boundary belongs to the boundary
            b"--" + boundary,
            *html_headers,
            b"",
            html,
            b"--" + boundary + b"--",
            b"",
        ]
    )
