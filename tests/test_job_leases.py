"""Work whose worker died is not stuck (consult/leases.py): an export holds a
lease kept alive by a heartbeat, asking again (or the progress page) takes up an
export whose lease expired, and the failed-jobs page's "Try again" really runs
it again or says why it does not; a consolidated draft is run again the same
way. With the inline jobs of the other export tests, and with a real RQ worker
whose work horse is killed on a real Redis."""

import os
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from consult import leases
from consult.consolidation import job as consolidation_job
from consult.consolidation import services as consolidations
from consult.consolidation.models import Consolidation
from consult.database import utcnow
from consult.extensions import db
from consult.jobs import QUEUES
from consult.plan_pages import exports
from consult.plans import services as plans
from consult.plans.models import PlanExport
from tests import test_consolidation as consolidation_tests
from tests import test_plan_exports
from tests.factories import Factory, sign_in
from tests.test_plan_exports import PLAN_TEXT, export_url

plan, big_is_small = test_plan_exports.plan, test_plan_exports.big_is_small  # fixtures


def died_long_ago(session, export):
    """A worker claimed the export and died: "running", silent for 5 minutes."""
    assert exports.WORK.claim(export.id)
    export = session.get(PlanExport, export.id)
    export.heartbeat_at = utcnow() - timedelta(minutes=5)
    session.commit()
    return export


def test_a_running_export_whose_lease_expired_is_taken_up_again_when_asked(
    client, session, plan, big_is_small, monkeypatch
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no worker yet
    status_page = client.get(export_url(plan, "pdf")).headers["Location"]
    monkeypatch.undo()
    client.application.config["PLAN_EXPORT_JOB_MIN_NODES"] = 2
    (export,) = session.scalars(select(PlanExport)).all()
    died_long_ago(session, export)

    # Asking again runs it again (inline here) and serves the document.
    again = client.get(export_url(plan, "pdf"))
    assert again.status_code == 200 and again.data.startswith(b"%PDF")
    session.expire_all()
    done = session.get(PlanExport, export.id)
    assert (done.state, done.attempts) == ("finished", 2)
    assert client.get(status_page + "/status.json").get_json()["state"] == "finished"


def test_the_progress_page_takes_up_an_export_whose_worker_died(
    client, session, plan, big_is_small, monkeypatch
):
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)
    status_page = client.get(export_url(plan, "odt")).headers["Location"]
    monkeypatch.undo()
    (export,) = session.scalars(select(PlanExport)).all()
    died_long_ago(session, export)
    status = client.get(status_page + "/status.json").get_json()
    assert status["state"] == "finished" and status["active"] is False


def test_an_export_whose_worker_is_alive_is_left_to_it(
    client, session, plan, big_is_small, monkeypatch
):
    calls = []
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: calls.append(args) or True)
    status_page = client.get(export_url(plan, "pdf")).headers["Location"]
    (export,) = session.scalars(select(PlanExport)).all()
    assert exports.WORK.claim(export.id)
    # Its heartbeat is a minute old (a slow render): not taken from it.
    session.get(PlanExport, export.id).heartbeat_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert client.get(export_url(plan, "pdf")).headers["Location"] == status_page
    assert client.get(status_page + "/status.json").get_json()["state"] == "running"
    assert exports.run_export(export.id).state == "running"  # a duplicate job does nothing
    assert len(calls) == 1


# --- a real worker on Redis -------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def worker_app(request, tmp_path, redis_url, monkeypatch):
    from tests.conftest import fresh_database, make_app

    Redis.from_url(redis_url).flushdb()
    with fresh_database(request.param, tmp_path) as url:
        app = make_app(
            url,
            JOBS_MODE="rq",
            REDIS_URL=redis_url,
            PLAN_EXPORT_JOB_MIN_NODES=2,
            INSTANCE_DIR=str(tmp_path / "instance"),
        )
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    Redis.from_url(redis_url).flushdb()


def connection(app):
    return Redis.from_url(app.config["REDIS_URL"])


def run_worker(app):
    """A real RQ worker: each job in a work horse forked for it."""
    db.session.commit()  # the test's own transaction ends first (SQLite)
    queues = [Queue(name, connection=connection(app)) for name in QUEUES]
    Worker(queues, connection=connection(app)).work(burst=True)
    db.session.expire_all()


def kill_the_work_horse(monkeypatch):
    def die(*args, **kwargs):
        os._exit(9)

    monkeypatch.setattr("consult.plans.documents.render", die)


def failed_ids(app):
    return FailedJobRegistry("default", connection=connection(app)).get_job_ids()


class Client:
    """The test client, ending the test's own transaction before each request
    (on SQLite it would hold the write lock)."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kwargs):
        db.session.commit()
        return self.client.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        db.session.commit()
        return self.client.post(*args, **kwargs)


@pytest.fixture
def admin_client(worker_app):
    make = Factory(db.session)
    admin = make.user(admin=True, locale="en").email
    forum = make.forum(public=True)
    plan = plans.import_plan(None, forum, PLAN_TEXT)
    db.session.commit()
    client = worker_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, admin)
    return Client(client), plan


def retry(client, job_id):
    response = client.post(
        "/admin/failed-jobs/jobs/retry", data={"queue": "default", "job_id": job_id}
    )
    assert response.status_code == 302
    return client.get("/admin/failed-jobs").get_data(as_text=True)


def test_a_killed_work_horse_leaves_the_export_running_and_try_again_runs_it(
    worker_app, admin_client, monkeypatch
):
    client, plan = admin_client
    status_page = client.get(export_url(plan, "pdf")).headers["Location"]
    kill_the_work_horse(monkeypatch)
    run_worker(worker_app)
    monkeypatch.undo()
    (export,) = db.session.scalars(select(PlanExport)).all()
    assert (export.state, export.attempts) == ("running", 1)  # the horse died holding it
    (job_id,) = failed_ids(worker_app)
    page = client.get("/admin/failed-jobs").get_data(as_text=True)
    assert job_id in page and "workers.exports.render_export" in page

    page = retry(client, job_id)  # at once: RQ saw that very run die
    assert "The job is queued again." in page
    run_worker(worker_app)
    export = db.session.get(PlanExport, export.id)
    assert (export.state, export.attempts) == ("finished", 2) and failed_ids(worker_app) == []
    assert client.get(status_page + "/status.json").get_json()["state"] == "finished"
    served = client.get(export_url(plan, "pdf"))
    assert served.status_code == 200 and served.data.startswith(b"%PDF")


def test_asking_again_after_the_lease_completes_it_and_try_again_then_says_why_not(
    worker_app, admin_client, monkeypatch
):
    client, plan = admin_client
    client.get(export_url(plan, "pdf"))
    kill_the_work_horse(monkeypatch)
    run_worker(worker_app)
    monkeypatch.undo()
    (export,) = db.session.scalars(select(PlanExport)).all()
    (job_id,) = failed_ids(worker_app)
    # Within its lease, asking again starts nothing.
    status_page = client.get(export_url(plan, "pdf")).headers["Location"]
    assert Queue("default", connection=connection(worker_app)).count == 0
    # After it, the next request takes it up and a worker completes it.
    export.heartbeat_at = utcnow() - leases.LEASE - timedelta(seconds=1)
    db.session.commit()
    assert client.get(export_url(plan, "pdf")).headers["Location"] == status_page
    run_worker(worker_app)
    export = db.session.get(PlanExport, export.id)
    assert (export.state, export.attempts) == ("finished", 2)
    assert client.get(export_url(plan, "pdf")).data.startswith(b"%PDF")

    # The failed job of the first run: nothing to retry, and said so.
    page = retry(client, job_id)
    assert "Nothing to retry: another run of this job has finished its work since." in page
    assert failed_ids(worker_app) == [] and "No job has failed." in page
    run_worker(worker_app)
    assert db.session.get(PlanExport, export.id).attempts == 2  # not rendered again


def test_try_again_leaves_an_export_whose_new_worker_is_alive(
    worker_app, admin_client, monkeypatch
):
    client, plan = admin_client
    client.get(export_url(plan, "docx"))
    kill_the_work_horse(monkeypatch)
    run_worker(worker_app)
    monkeypatch.undo()
    (export,) = db.session.scalars(select(PlanExport)).all()
    (job_id,) = failed_ids(worker_app)
    # Another run took it up (after the lease) and is at work: its heartbeat is fresh.
    export.heartbeat_at = utcnow() - leases.LEASE - timedelta(seconds=1)
    db.session.commit()
    assert exports.WORK.claim(export.id)
    page = retry(client, job_id)
    assert "Not retried: another run of this job is under way" in page
    assert failed_ids(worker_app) == [job_id]  # still listed, to try later
    assert db.session.get(PlanExport, export.id).state == "running"


def test_a_failed_export_is_rendered_again_by_try_again(worker_app, admin_client, monkeypatch):
    client, plan = admin_client
    client.get(export_url(plan, "odt"))

    def broken(*args):
        raise MemoryError("too big")

    monkeypatch.setattr("consult.plans.documents.render", broken)
    run_worker(worker_app)
    monkeypatch.undo()
    (export,) = db.session.scalars(select(PlanExport)).all()
    assert export.state == "failed"
    (job_id,) = failed_ids(worker_app)
    assert "The job is queued again." in retry(client, job_id)
    run_worker(worker_app)
    assert db.session.get(PlanExport, export.id).state == "finished"


def test_the_heartbeat_keeps_a_slow_render_alive(worker_app, monkeypatch):
    make = Factory(db.session)
    plan = plans.import_plan(None, make.forum(), PLAN_TEXT)
    export = exports.request_export(plan, plan.current_version, "pdf", "en")
    db.session.commit()
    monkeypatch.setattr(leases, "HEARTBEAT_EVERY", timedelta(seconds=0.05))
    seen = []

    def slow(*args):
        started = db.session.get(PlanExport, export.id).started_at
        time.sleep(0.5)
        with db.engine.connect() as other:  # what another process sees
            beat = other.scalar(select(PlanExport.heartbeat_at).where(PlanExport.id == export.id))
        seen.append(beat > started)
        return b"%PDF-1.4 slow", "application/pdf", "plan.pdf"

    monkeypatch.setattr("consult.plans.documents.render", slow)
    assert exports.run_export(export.id).state == "finished"
    assert seen == [True]


def test_a_draft_whose_work_horse_was_killed_is_run_again_by_an_administrators_retry(
    worker_app, monkeypatch
):
    make = Factory(db.session)
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    author = make.member(forum).user
    plan = plans.import_plan(None, forum, consolidation_tests.PLAN_TEXT)
    plan.open_for_input = True
    consolidation_tests.accepted(
        plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras."
    )
    consolidation, _ = consolidations.request(facilitator, plan)
    db.session.commit()
    connection = Redis.from_url(worker_app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in QUEUES]

    def die(*args, **kwargs):
        os._exit(9)

    monkeypatch.setattr("consult.consolidation.merge.apply_changes", die)
    Worker(queues, connection=connection).work(burst=True)  # forks a work horse: it dies
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(Consolidation, consolidation.id).state == "running"
    (job_id,) = FailedJobRegistry("default", connection=connection).get_job_ids()
    db.session.commit()

    assert leases.retry_failed_job("default", job_id) is leases.Retry.QUEUED
    Worker(queues, connection=connection).work(burst=True)
    db.session.expire_all()
    done = db.session.get(Consolidation, consolidation.id)
    assert (done.state, done.version.number, done.attempts) == ("finished", 2, 2)
    assert leases.retry_failed_job("default", job_id) is False  # no longer failed


def test_a_failed_draft_is_retried_only_while_no_other_draft_holds_its_plan(
    session, make, monkeypatch
):
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    author = make.member(forum).user
    plan = plans.import_plan(None, forum, consolidation_tests.PLAN_TEXT)
    plan.open_for_input = True
    consolidation_tests.accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores.")

    def broken(*args, **kwargs):
        raise MemoryError("too big")

    monkeypatch.setattr("consult.consolidation.merge.apply_changes", broken)
    failed, _ = consolidations.request(facilitator, plan)
    session.commit()  # the inline job runs and fails
    monkeypatch.undo()
    assert session.get(Consolidation, failed.id).state == "failed"
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no worker
    other, new = consolidations.request(facilitator, plan)
    session.commit()
    assert new
    # Another draft of the plan is under way: not retried, and nothing changed.
    assert consolidations.WORK.retry(failed.id) is leases.Retry.BUSY
    assert session.get(Consolidation, failed.id).state == "failed"
    session.delete(session.get(Consolidation, other.id))
    session.commit()
    assert consolidations.WORK.retry(failed.id) is leases.Retry.QUEUED
    monkeypatch.undo()
    assert consolidation_job.run(failed.id).state == "finished"
    assert session.get(Consolidation, failed.id).version.number == 2


def test_a_run_thought_dead_leaves_its_export_to_the_run_that_took_it_over(
    session, plan, monkeypatch
):
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)
    export = exports.request_export(plan, plan.current_version, "pdf", "en")
    session.commit()

    def silent_too_long_then_broken(*args):
        # While it rendered, its heartbeat stopped, its lease expired and
        # another run took the export; then this one fails.
        session.get(PlanExport, export.id).heartbeat_at = utcnow() - timedelta(minutes=5)
        session.commit()
        assert exports.WORK.claim(export.id)
        raise MemoryError("too big")

    monkeypatch.setattr("consult.plans.documents.render", silent_too_long_then_broken)
    with pytest.raises(MemoryError):
        exports.run_export(export.id)
    session.expire_all()
    taken = session.get(PlanExport, export.id)
    assert (taken.state, taken.attempts, taken.error) == ("running", 2, None)
