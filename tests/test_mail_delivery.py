"""Emails leave through the outbox, a real RQ worker on a real Redis, and a
real SMTP server started by the test: once each, and never lost."""

import email
import socket
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale, gettext
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from consult.extensions import db
from consult.forums import invitations as forum_invitations
from consult.forums import services as forums
from consult.jobs import QUEUES
from consult.mail.delivery import relay_pending
from consult.mail.models import OutboxEmail
from consult.redis_runtime import reachable, start_embedded
from tests.conftest import IN_CI, REDIS_URL, fresh_database, make_app, require_service


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if reachable(REDIS_URL):
        yield REDIS_URL
        return
    require_service(not IN_CI, f"Redis at {REDIS_URL}")
    started = start_embedded(tmp_path_factory.mktemp("redis"))
    require_service(started is not None, "Redis (no server reachable and none could be started)")
    url, process = started
    yield url
    process.terminate()


class Recorder:
    def __init__(self):
        self.messages = []
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def mail_app(request, tmp_path, redis_url, smtp):
    """An app whose transactions really commit (the worker reads what the web wrote)."""
    Redis.from_url(redis_url).flushdb()
    with fresh_database(request.param, tmp_path) as url:
        app = make_app(
            url,
            JOBS_MODE="rq",
            REDIS_URL=redis_url,
            MAIL_BACKEND="smtp",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            MAIL_TIMEOUT=5,
        )
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    Redis.from_url(redis_url).flushdb()


def run_worker(app):
    db.session.commit()  # end the test's own transaction, as a finished request would
    connection = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in QUEUES]
    SimpleWorker(queues, connection=connection).work(burst=True)
    db.session.expire_all()


def invite_someone(email_address="invitee@example.org", locale="pt"):
    forum, _created = forums.ensure_forum("red", "Red de coaliciones")
    forum_invitations.invite(
        None, forum, email=email_address, display_name="Invitee", locale=locale
    )
    db.session.commit()


def outbox_rows():
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_invitation_is_sent_once_in_the_invitees_language(mail_app, smtp):
    invite_someone(locale="pt")
    run_worker(mail_app)
    [(recipients, message)] = smtp.messages
    assert recipients == ["invitee@example.org"]
    with force_locale("pt"):
        expected = gettext("You are invited to %(forum)s on Consult", forum="Red de coaliciones")
    assert message["Subject"] == expected != "You are invited to Red de coaliciones on Consult"
    assert "/invitations/" in message.get_body(("plain",)).get_content()
    [row] = outbox_rows()
    assert row.status == "sent" and row.attempts == 1

    # The same job again (a retry, a relay after a restart) sends nothing more.
    relay_pending()
    Queue("mail", connection=Redis.from_url(mail_app.config["REDIS_URL"])).enqueue(
        "workers.mail.deliver_email", row.id, job_id=f"mail-{row.id}"
    )
    run_worker(mail_app)
    assert len(smtp.messages) == 1


def test_redis_down_at_commit_keeps_the_email_and_the_relay_sends_it(mail_app, smtp):
    real_url = mail_app.config["REDIS_URL"]
    mail_app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    mail_app.extensions.pop("consult_redis", None)
    invite_someone()  # the commit succeeds although nothing could be enqueued
    [row] = outbox_rows()
    assert row.status == "pending"

    mail_app.config["REDIS_URL"] = real_url
    mail_app.extensions.pop("consult_redis", None)
    assert relay_pending() == 1
    run_worker(mail_app)
    assert len(smtp.messages) == 1
    assert outbox_rows()[0].status == "sent"


def test_smtp_down_leaves_the_email_pending_for_a_retry(mail_app, smtp):
    mail_app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    invite_someone()
    run_worker(mail_app)
    [row] = outbox_rows()
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error
    assert smtp.messages == []


def test_refused_recipient_fails_alone_without_retry(mail_app, smtp):
    smtp.refused.add("gone@example.org")
    invite_someone("gone@example.org")
    invite_someone("here@example.org")
    run_worker(mail_app)
    statuses = {row.recipient: row.status for row in outbox_rows()}
    assert statuses == {"gone@example.org": "failed", "here@example.org": "sent"}
    assert [recipients for recipients, _message in smtp.messages] == [["here@example.org"]]
