"""How a message leaves: over one SMTP connection kept for a batch, or, in
development (MAIL_BACKEND=log), written to ``instance/mail/`` and summarised
in one line of the log."""

import logging
import smtplib
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from flask import current_app

from . import wire

log = logging.getLogger(__name__)


def _message_id(outbox_id: int) -> str:
    return make_msgid(idstring=f"outbox{outbox_id}", domain="consult.local")


def _build(message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = _message_id(message.id)
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _write_to_log(email: EmailMessage) -> None:
    folder = Path(current_app.config["INSTANCE_DIR"]) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    name = email["Message-ID"].strip("<>").split("@")[0] + ".eml"
    path = folder / name
    path.write_bytes(bytes(email))
    # One line: the message itself (its links too) is in the file.
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    log.info("Email to %s: %s → %s", email["To"], email["Subject"], shown)


class ConnectionLost(Exception):
    """The SMTP server could not be reached, or went away: nothing more can be
    sent over this connection."""


class Transport:
    """One SMTP connection for many messages, opened at the first one."""

    def __init__(self, config):
        self.config = config
        self.smtp = None
        self.sender = config["MAIL_DEFAULT_SENDER"]
        self.envelope_sender = parseaddr(self.sender)[1]

    def _connect(self):
        config = self.config
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        smtp = smtp_class(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        )
        try:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message) -> None:
        """Send an outbox row (or anything with its columns): over the SMTP
        connection, opened at the first message and kept for the next ones."""
        if self.config["MAIL_BACKEND"] == "log":
            _write_to_log(_build(message))
            return
        raw = wire.encode(
            sender=self.sender,
            recipient=message.recipient,
            subject=message.subject,
            message_id=_message_id(message.id),
            headers=message.headers,
            body_text=message.body_text,
            body_html=message.body_html,
        )
        email = _build(message) if raw is None else None
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            if raw is None:
                self.smtp.send_message(email)
            else:
                self.smtp.sendmail(self.envelope_sender, [message.recipient], raw)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # about this message; the connection is still good
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ConnectionLost(str(error) or type(error).__name__) from error

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None


@contextmanager
def open_transport():
    transport = Transport(current_app.config)
    try:
        yield transport
    finally:
        transport.close()


def refusal_is_permanent(error: Exception) -> bool | None:
    """Whether an SMTP refusal is permanent (5xx: do not retry), temporary (4xx),
    or None when the error is not a refusal of this message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return None
