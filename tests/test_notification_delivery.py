"""Notification emails through the real pieces: the outbox, a real RQ worker
(SimpleWorker, burst) on a real Redis, and an SMTP server started by the test.
Fan-out is batched (a bounded number of jobs, one SMTP connection per batch),
and nobody gets a message twice: not after a retry, a refusal, an SMTP outage,
Redis being down, or a worker killed in the middle of a batch."""

import email
import os
import smtplib
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import insert, select

from consult.accounts.models import User
from consult.database import utcnow
from consult.extensions import db
from consult.forums import services as forums
from consult.jobs import QUEUES, enqueue
from consult.mail.delivery import relay_stalled
from consult.mail.failures import failed_emails
from consult.mail.models import OutboxEmail
from consult.notification_delivery import digests as notification_digests
from consult.notification_delivery import emails
from consult.notifications.models import Notification
from consult.notifications.services import notify_many
from consult.plans import services as plans
from tests.conftest import fresh_database, make_app
from tests.factories import Factory, sign_in
from tests.test_mail_delivery import _free_port

BATCH = 50


class Server:
    """What the SMTP server received, over which connections; some addresses
    are refused for good (550), some for now (450)."""

    def __init__(self):
        self.messages = []  # (connection, recipients, message)
        self.refused = set()
        self.busy = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        if address in self.busy:
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((session.peer, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    @property
    def recipients(self) -> list[str]:
        return sorted(r for _peer, rcpts, _message in self.messages for r in rcpts)

    @property
    def connections(self) -> int:
        return len({peer for peer, _rcpts, _message in self.messages})


@pytest.fixture
def smtp():
    server = Server()
    controller = Controller(server, hostname="127.0.0.1", port=_free_port())
    controller.start()
    server.port = controller.port
    yield server
    controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def mail_app(request, tmp_path, redis_url, smtp):
    """An app whose transactions really commit (the worker reads what it wrote)."""
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
            MAIL_BATCH_SIZE=BATCH,
        )
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    Redis.from_url(redis_url).flushdb()


def redis(app) -> Redis:
    return Redis.from_url(app.config["REDIS_URL"])


def run_worker(app):
    db.session.commit()  # end the test's own transaction, as a finished request would
    connection = redis(app)
    SimpleWorker([Queue(n, connection=connection) for n in QUEUES], connection=connection).work(
        burst=True
    )
    db.session.expire_all()


def retry_now(app) -> int:
    """Run now the jobs waiting for their retry (RQ's scheduler would, later)."""
    connection = redis(app)
    moved = 0
    for name in QUEUES:
        registry = ScheduledJobRegistry(name, connection=connection)
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=connection)
            registry.remove(job)
            Queue(name, connection=connection).enqueue_job(job)
            moved += 1
    return moved


def members(count, *, locale="en", prefix="member") -> list[User]:
    """Many members at once (no password to hash: they only receive email)."""
    rows = [
        {"email": f"{prefix}{n}@example.org", "display_name": f"Member {n}", "locale": locale}
        for n in range(count)
    ]
    db.session.execute(insert(User.__table__), rows)
    return list(
        db.session.scalars(
            select(User).where(User.email.like(f"{prefix}%@example.org")).order_by(User.id)
        )
    )


@pytest.fixture
def subject(mail_app):
    """A forum and a plan for the notifications to be about."""
    forum = forums.create_forum(None, "red", "Red de coaliciones")
    plan = plans.import_plan(None, forum, "Plan de acción\n\n1. Primer punto.\n")
    db.session.commit()
    return forum, plan


def announce(subject, users):
    forum, plan = subject
    notify_many([u.id for u in users], "plan_approved", plan, forum=forum, title=plan.title)
    db.session.commit()


def rows() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def queued(app, name="mail") -> list[Job]:
    return Queue(name, connection=redis(app)).jobs


def test_fan_out_is_batched_with_one_smtp_connection_per_batch(mail_app, smtp, subject):
    english = members(70, locale="en", prefix="en")
    portuguese = members(50, locale="pt", prefix="pt")
    announce(subject, english + portuguese)

    jobs = queued(mail_app)
    assert len(jobs) == 3  # 120 notifications, batches of 50
    assert sorted(len(job.args[0]) for job in jobs) == [20, 50, 50]
    run_worker(mail_app)

    assert smtp.recipients == sorted(u.email for u in english + portuguese)
    assert smtp.connections == 3
    assert {row.status for row in rows()} == {"sent"}
    by_recipient = {rcpts[0]: message for _peer, rcpts, message in smtp.messages}
    english_message = by_recipient[english[0].email]
    assert english_message["Subject"] == "The assembly approved the plan “Plan de acción”."
    assert by_recipient[portuguese[0].email]["Subject"] != english_message["Subject"]
    unsubscribe = english_message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://consult.test/notifications/unsubscribe/")
    assert english_message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = english_message.get_body(("plain",)).get_content()
    assert unsubscribe.strip("<>") in body

    # The same jobs again (a retry, a relay) send nothing more.
    for job in jobs:
        Queue("mail", connection=redis(mail_app)).enqueue_job(Job.fetch(job.id, redis(mail_app)))
    run_worker(mail_app)
    assert len(smtp.messages) == 120


def test_ten_thousand_members_make_a_bounded_number_of_jobs(mail_app, smtp, subject):
    mail_app.config["MAIL_BATCH_SIZE"] = 500
    everyone = members(10_000)
    started = utcnow()
    announce(subject, everyone)
    elapsed = utcnow() - started
    jobs = queued(mail_app)
    assert len(jobs) == 20
    assert sorted({len(job.args[0]) for job in jobs}) == [500]
    assert elapsed < timedelta(seconds=30)
    assert (
        db.session.scalar(select(Notification.id).where(Notification.email_state.is_not(None)))
        is None
    )


def test_smtp_down_leaves_the_emails_pending_and_the_retry_sends_each_once(mail_app, smtp, subject):
    everyone = members(60)
    mail_app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    announce(subject, everyone)
    run_worker(mail_app)
    assert {row.status for row in rows()} == {"pending"}
    assert [row.attempts for row in rows()].count(1) == 2  # the first of each batch was tried
    assert rows()[0].last_error
    assert smtp.messages == []

    mail_app.config["MAIL_PORT"] = smtp.port
    assert retry_now(mail_app) == 2
    run_worker(mail_app)
    assert smtp.recipients == sorted(u.email for u in everyone)
    assert {row.status for row in rows()} == {"sent"}


def test_a_refused_recipient_fails_alone_and_the_batch_goes_on(mail_app, smtp, subject):
    everyone = members(5)
    smtp.refused.add(everyone[2].email)
    announce(subject, everyone)
    run_worker(mail_app)
    statuses = {row.recipient: row.status for row in rows()}
    assert statuses.pop(everyone[2].email) == "failed"
    assert set(statuses.values()) == {"sent"}
    assert smtp.connections == 1
    assert retry_now(mail_app) == 0  # a permanent refusal is not retried


def test_a_temporary_refusal_is_retried_for_that_email_only(mail_app, smtp, subject):
    everyone = members(5)
    smtp.busy.add(everyone[1].email)
    announce(subject, everyone)
    run_worker(mail_app)
    assert len(smtp.messages) == 4
    assert {row.recipient: row.status for row in rows()}[everyone[1].email] == "pending"

    smtp.busy.clear()
    assert retry_now(mail_app) == 1
    run_worker(mail_app)
    assert smtp.recipients == sorted(u.email for u in everyone)


def test_a_worker_killed_mid_batch_and_retried_sends_nobody_twice(mail_app, smtp, subject):
    from workers import _own_pool

    everyone = members(6)
    announce(subject, everyone)
    [job] = queued(mail_app)
    db.session.commit()
    _own_pool(mail_app)  # the test process owns this pool; the child opens its own
    pid = os.fork()
    if pid == 0:  # the worker, killed right after the server took the third message
        try:
            real, taken = smtplib.SMTP.sendmail, []

            def send_then_die(self, *args, **kwargs):
                result = real(self, *args, **kwargs)
                taken.append(1)
                if len(taken) == 3:
                    os._exit(9)
                return result

            smtplib.SMTP.sendmail = send_then_die
            connection = redis(mail_app)
            SimpleWorker([Queue("mail", connection=connection)], connection=connection).work(
                burst=True
            )
        finally:
            os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 9
    db.session.expire_all()
    assert len(smtp.messages) == 3
    assert [row.status for row in rows()] == ["sent", "sent", "sending"] + ["pending"] * 3

    # The job runs again (RQ's retry, or an administrator): it sends the rest only.
    Queue("mail", connection=redis(mail_app)).enqueue_job(Job.fetch(job.id, redis(mail_app)))
    run_worker(mail_app)
    assert smtp.recipients == sorted(u.email for u in everyone)  # each exactly once
    # The one in doubt is not resent by itself; it is shown to administrators.
    assert [row.status for row in rows()].count("sending") == 1
    later = failed_emails(now=utcnow() + timedelta(minutes=20))
    assert [row.recipient for row in later.items] == [everyone[2].email]


def test_redis_down_at_commit_loses_no_notification_email(mail_app, smtp, subject):
    everyone = members(3)
    real_url = mail_app.config["REDIS_URL"]
    mail_app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    mail_app.extensions.pop("consult_redis", None)
    announce(subject, everyone)  # the commit succeeds although nothing was enqueued
    mail_app.config["REDIS_URL"] = real_url
    mail_app.extensions.pop("consult_redis", None)
    assert queued(mail_app) == []

    assert emails.relay_unemailed(utcnow() + emails.RELAY_AFTER) == 3
    assert emails.relay_unemailed(utcnow() + emails.RELAY_AFTER) == 3  # seen again, ...
    assert len(queued(mail_app)) == 1  # ... but its job is not queued twice
    run_worker(mail_app)
    assert smtp.recipients == sorted(u.email for u in everyone)
    assert emails.relay_unemailed(utcnow() + emails.RELAY_AFTER) == 0


def test_emails_whose_job_was_lost_are_sent_by_the_scheduler_once(mail_app, smtp, subject):
    everyone = members(3)
    notification_digests.change_preference(everyone[0], "daily")
    db.session.commit()
    announce(subject, everyone)
    run_worker(mail_app)  # two emails sent; the third member waits for a digest
    real_url = mail_app.config["REDIS_URL"]
    mail_app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"
    mail_app.extensions.pop("consult_redis", None)
    slot = db.session.get(User, everyone[0].id).next_digest_at
    assert (
        notification_digests.send_due_digests(slot) == 1
    )  # in the outbox; its job could not be queued
    mail_app.config["REDIS_URL"] = real_url
    mail_app.extensions.pop("consult_redis", None)
    assert queued(mail_app) == []
    [digest] = [row for row in rows() if row.idempotency_key.startswith("digest:")]
    assert digest.status == "pending"

    assert relay_stalled(utcnow()) == 0  # too recent: its job may still come
    assert relay_stalled(utcnow() + timedelta(minutes=11)) == 1
    assert relay_stalled(utcnow() + timedelta(minutes=11)) == 1
    assert len(queued(mail_app)) == 1  # not queued twice
    run_worker(mail_app)
    assert smtp.recipients == sorted(u.email for u in everyone)
    assert relay_stalled(utcnow() + timedelta(days=1)) == 0


def test_an_email_waiting_for_its_retry_is_left_to_it(mail_app, smtp, subject):
    everyone = members(2)
    smtp.busy.add(everyone[0].email)
    announce(subject, everyone)
    run_worker(mail_app)  # one sent, one refused for now: its job waits for the retry
    assert relay_stalled(utcnow() + timedelta(minutes=11)) == 0
    assert relay_stalled(utcnow() + timedelta(hours=2)) == 1  # its retry is long overdue


def test_a_digest_goes_out_through_the_worker_and_its_one_click_link_works(mail_app, smtp, subject):
    [member] = members(1)
    notification_digests.change_preference(member, "daily")
    db.session.commit()
    announce(subject, [member])
    announce(subject, [member])
    run_worker(mail_app)
    assert smtp.messages == []
    assert notification_digests.send_due_digests(member.next_digest_at) == 1
    run_worker(mail_app)
    [(_peer, recipients, message)] = smtp.messages
    assert recipients == [member.email]
    assert message["Subject"] == "Your daily digest: 2 notifications"
    link = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    db.session.commit()  # the test's own reads end, as a request's would
    response = mail_app.test_client().post(
        link.removeprefix("http://consult.test"), data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, member.id).notification_preference == "never"


# --- the failed-jobs page ------------------------------------------------------------


def test_administrators_see_what_failed_and_try_again(mail_app, smtp, subject):
    make = Factory(db.session)
    admin, someone = make.user(admin=True, locale="en").email, make.user(locale="en").email
    [member] = members(1)
    address = member.email
    smtp.refused.add(address)
    announce(subject, [member])
    run_worker(mail_app)
    [failed_row] = rows()
    row_id = failed_row.id
    assert failed_row.status == "failed"
    # A job that fails for good (no retries left): the SMTP server is away.
    mail_app.config["MAIL_PORT"] = _free_port()
    set_status = OutboxEmail.__table__.update().where(OutboxEmail.id == row_id)
    db.session.execute(set_status.values(status="pending"))
    db.session.commit()
    enqueue("workers.mail.deliver_batch", [row_id], job_id="broken-batch", queue="mail")
    run_worker(mail_app)
    assert FailedJobRegistry("mail", connection=redis(mail_app)).get_job_ids() == ["broken-batch"]
    mail_app.config["MAIL_PORT"] = smtp.port
    db.session.execute(set_status.values(status="failed"))
    db.session.commit()  # the test's own transaction ends before each request (SQLite)

    client = mail_app.test_client()
    sign_in(client, someone)
    assert client.get("/admin/failed-jobs").status_code == 403
    client.post("/sign-out")
    sign_in(client, admin)
    assert 'href="/admin/failed-jobs"' in client.get("/").get_data(as_text=True)
    page = client.get("/admin/failed-jobs").get_data(as_text=True)
    assert address in page
    assert "The assembly approved the plan" in page
    assert "Connection refused" in page  # its last error
    assert "broken-batch" in page and "workers.mail.deliver_batch" in page

    smtp.refused.clear()
    response = client.post("/admin/failed-jobs/emails/retry", data={"email_id": row_id})
    assert response.status_code == 302
    run_worker(mail_app)
    assert smtp.recipients == [address]
    assert rows()[0].status == "sent"
    db.session.commit()

    response = client.post(
        "/admin/failed-jobs/jobs/retry", data={"queue": "mail", "job_id": "broken-batch"}
    )
    assert response.status_code == 302
    assert FailedJobRegistry("mail", connection=redis(mail_app)).get_job_ids() == []
    run_worker(mail_app)
    assert len(smtp.messages) == 1  # the row was sent already: the job sends it no more
    assert "No job has failed." in client.get("/admin/failed-jobs").get_data(as_text=True)
    again = client.post(
        "/admin/failed-jobs/jobs/retry", data={"queue": "mail", "job_id": "broken-batch"}
    )
    assert again.status_code == 302  # no longer failed: said so, nothing done
