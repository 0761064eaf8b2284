"""The bytes written for SMTP by consult.mail.wire read, in a mail client, as
the message the email package would have written: same headers, same text and
HTML. (The delivery through a real server is in test_mail_delivery.py.)"""

import email
from email.policy import SMTP
from email.policy import default as default_policy
from types import SimpleNamespace

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.mail import transport, wire

SENDER = "Consult <consult@example.org>"
MESSAGE_ID = "<outbox7@consult.local>"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://consult.example/notifications/unsubscribe/eyJ1c2VyIjo3fQ.aZ.x-y_z>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}

# Text as templates produce it: any language, blank lines, long lines, lines
# that begin with a dot or "From ", stray carriage returns.
body_text = st.lists(
    st.one_of(
        st.text(max_size=120),
        st.sampled_from([".", "..", ". punto", "From here", "", "--", "=?utf-8?q?x?="]),
        st.text(alphabet="aáé “”—ñ山", min_size=70, max_size=200),
        st.text(alphabet="ab <>=/.\t-", min_size=70, max_size=200),
    ),
    max_size=12,
).map("\n".join)
subjects = st.text(min_size=1, max_size=300).map(lambda s: " ".join(s.split())[:300])


@pytest.fixture(scope="module")
def app_context():
    app = Flask(__name__)
    app.config["MAIL_DEFAULT_SENDER"] = SENDER
    with app.app_context():
        yield


def _both(monkeypatch, subject, text, html, recipient="ana@example.org", headers=UNSUBSCRIBE):
    row = SimpleNamespace(
        id=7, recipient=recipient, subject=subject, body_text=text, body_html=html, headers=headers
    )
    monkeypatch.setattr(transport, "_message_id", lambda _id: MESSAGE_ID)
    package = transport._build(row).as_bytes(policy=SMTP)
    ours = wire.encode(
        sender=SENDER,
        recipient=recipient,
        subject=subject,
        message_id=MESSAGE_ID,
        headers=headers,
        body_text=text,
        body_html=html,
    )
    return [email.message_from_bytes(raw, policy=default_policy) for raw in (package, ours)]


def _as_read(message) -> dict:
    parts = [message] if not message.is_multipart() else list(message.iter_parts())
    return {
        # (Leading and trailing blanks of a value are folding, not content.)
        "headers": {
            name: str(message[name]).strip()
            for name in ("From", "To", "Subject", "Message-ID", "Auto-Submitted", *UNSUBSCRIBE)
        },
        "parts": [(part.get_content_type(), part.get_content()) for part in parts],
        "defects": [type(defect).__name__ for part in message.walk() for defect in part.defects],
    }


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=subjects, text=body_text, html=st.one_of(st.none(), body_text))
def test_our_bytes_read_as_the_email_packages_message(
    app_context, monkeypatch, subject, text, html
):
    package, ours = _both(monkeypatch, subject, text, html)
    ours, package = _as_read(ours), _as_read(package)
    # The subject reads as written (the email package itself loses the blank
    # between two encoded words in some cases: "ࠀ \x80" comes back "ࠀ\x80").
    assert ours["headers"].pop("Subject") == subject
    package["headers"].pop("Subject")
    assert ours == package


def test_a_typical_notification_reads_the_same(app_context, monkeypatch):
    text = "Hola Ana,\n\nLa asamblea aprobó el plan “Plan 2026”.\n\n--\n" + "x" * 120 + "\n"
    html = "<!doctype html>\n<p>Hola Ana,</p>\n" + "<p>" + "ñ" * 100 + "</p>\n"
    package, ours = _both(monkeypatch, "La asamblea aprobó el plan “Plan 2026”", text, html)
    assert _as_read(ours) == _as_read(package)
    # (Line ends as the transfer encoding has them: CRLF where it is quoted-printable.)
    parts = [(kind, content.replace("\r\n", "\n")) for kind, content in _as_read(ours)["parts"]]
    assert parts == [("text/plain", text), ("text/html", html)]


def test_a_line_break_in_a_header_is_refused_as_the_email_package_refuses_it():
    with pytest.raises(ValueError):
        wire.encode(
            sender=SENDER,
            recipient="a@b.c\r\nBcc: x@y.z",
            subject="Hola",
            message_id=MESSAGE_ID,
            headers=None,
            body_text="Hola",
            body_html=None,
        )


def test_what_is_not_plain_ascii_in_an_address_is_left_to_the_email_package():
    assert (
        wire.encode(
            sender=SENDER,
            recipient="josé@ejemplo.org",
            subject="Hola",
            message_id=MESSAGE_ID,
            headers=None,
            body_text="Hola",
            body_html=None,
        )
        is None
    )
