"""Jobs (and notification emails) start after the transaction commits, not
when a savepoint inside it is released: SQLAlchemy fires after_commit for
both. Found by the browser journeys: on SQLite, an inline job started at a
savepoint waited 15 s for the request's own write lock, then failed."""

from consult import jobs
from consult.notification_delivery import emails
from consult.notifications import services as notifications


def test_a_job_waits_for_the_transaction_not_for_a_savepoint(app, session, monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "_import", lambda path: lambda *args: ran.append((path, args)))
    jobs.enqueue_after_commit(session, "workers.example.job", 7, job_id="example-7")
    with session.begin_nested():
        pass
    assert ran == []
    session.commit()
    assert ran == [("workers.example.job", (7,))]


def test_a_rolled_back_savepoint_keeps_the_jobs_of_the_transaction(app, session, monkeypatch):
    ran = []
    monkeypatch.setattr(jobs, "_import", lambda path: lambda *args: ran.append(path))
    jobs.enqueue_after_commit(session, "workers.example.job", job_id="example")
    savepoint = session.begin_nested()
    savepoint.rollback()
    session.commit()
    assert ran == ["workers.example.job"]


def test_notification_emails_wait_for_the_transaction_too(app, session, monkeypatch):
    batches = []
    monkeypatch.setattr(emails, "enqueue_batches", lambda ids, **_: batches.append(ids))
    notifications.email_after_commit(session, [41, 42])
    with session.begin_nested():
        pass
    assert batches == []
    session.commit()
    assert batches == [[41, 42]]
