"""Documents of big versions are made by a job: the link shows progress, then the
file, rendered once per version, format and language; a failure says so and can
be retried."""

import pytest
from sqlalchemy import func, select

from consult.plan_pages import exports
from consult.plans import documents
from consult.plans import services as plans
from consult.plans.models import PlanExport
from tests.factories import sign_in

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n\n3. Third item.\n"


@pytest.fixture
def big_is_small(app, monkeypatch):
    """Treat this three-item plan as a big one."""
    monkeypatch.setitem(app.config, "PLAN_EXPORT_JOB_MIN_NODES", 2)


@pytest.fixture
def plan(make):
    """A three-item plan of a public forum (tests/test_job_leases.py reads it too)."""
    return make.plan(make.forum(public=True), PLAN_TEXT, open_for_input=False)


def export_url(plan, fmt):
    return f"/forums/{plan.forum.slug}/plans/{plan.id}/export/{fmt}"


def test_a_big_version_is_made_in_the_background_with_a_progress_page(
    client, session, plan, big_is_small, monkeypatch
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no worker yet
    first = client.get(export_url(plan, "pdf"))
    assert first.status_code == 302 and "/exports/" in first.headers["Location"]
    status_page = first.headers["Location"]
    page = client.get(status_page).get_data(as_text=True)
    assert "data-job-status" in page and "Waiting for a worker" in page
    assert client.get(status_page + "/status.json").get_json()["active"] is True
    # Asking again does not start a second job.
    assert client.get(export_url(plan, "pdf")).headers["Location"] == status_page
    session.expire_all()
    (export,) = session.scalars(select(PlanExport)).all()
    exports.run_export(export.id)  # the worker
    session.commit()
    assert client.get(status_page + "/status.json").get_json()["state"] == "finished"
    served = client.get(export_url(plan, "pdf"))
    assert served.status_code == 200 and served.data.startswith(b"%PDF")


def test_a_document_is_rendered_once_per_version_format_and_language(
    client, session, plan, big_is_small, monkeypatch
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt"
    first = client.get(export_url(plan, "docx"))  # without a queue the job ran at once
    assert first.status_code == 200 and first.data[:2] == b"PK"  # a DOCX is a zip file
    calls = []
    monkeypatch.setattr(documents, "render", lambda *args: calls.append(args) or (b"", "", ""))
    again = client.get(export_url(plan, "docx"))
    assert again.status_code == 200 and again.data == first.data and not calls
    assert "attachment" in again.headers["Content-Disposition"]
    session.expire_all()
    (export,) = session.scalars(select(PlanExport)).all()
    assert (export.fmt, export.locale, export.state) == ("docx", "pt", "finished")
    monkeypatch.undo()
    client.application.config["PLAN_EXPORT_JOB_MIN_NODES"] = 2
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert client.get(export_url(plan, "docx")).status_code == 200
    assert session.scalar(select(func.count()).select_from(PlanExport)) == 2


def test_a_failed_document_says_so_and_can_be_tried_again(
    client, session, plan, big_is_small, monkeypatch
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def broken(*args):
        raise MemoryError("too big")

    monkeypatch.setattr("consult.plans.documents.render", broken)
    status_page = client.get(export_url(plan, "pdf")).headers["Location"]
    page = client.get(status_page).get_data(as_text=True)
    assert "could not be made (MemoryError)" in page and "Try again" in page
    monkeypatch.undo()
    client.application.config["PLAN_EXPORT_JOB_MIN_NODES"] = 2
    retry = client.get(export_url(plan, "pdf"))
    assert retry.status_code == 200 and retry.data.startswith(b"%PDF")


def test_small_versions_and_text_formats_are_served_at_once(client, plan):
    assert client.get(export_url(plan, "docx")).status_code == 200
    assert client.get(export_url(plan, "md")).status_code == 200


def test_an_export_of_another_plan_is_not_found(client, session, make, plan):
    other = plans.import_plan(None, plan.forum, PLAN_TEXT)
    export = exports.request_export(other, other.current_version, "odt", "es")
    session.commit()
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/exports/{export.id}"
    assert client.get(url).status_code == 404
    sign_in(client, make.member(plan.forum).user)
    assert client.get(url + "/status.json").status_code == 404


def test_a_pdf_of_many_lines_is_made_by_a_job_even_with_few_nodes(
    client, session, plan, monkeypatch
):
    """A PDF's cost follows its printed lines: from PLAN_EXPORT_PDF_JOB_MIN_LINES
    the request answers at once with the progress page; other formats of the
    same version are still served at once."""
    lines = documents.printed_lines(plans.version_nodes(plan.current_version))
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no worker yet
    monkeypatch.setitem(client.application.config, "PLAN_EXPORT_JOB_MIN_NODES", 400)
    monkeypatch.setitem(client.application.config, "PLAN_EXPORT_PDF_JOB_MIN_LINES", lines + 1)
    inline = client.get(export_url(plan, "pdf"))
    assert inline.status_code == 200 and inline.data.startswith(b"%PDF")
    monkeypatch.setitem(client.application.config, "PLAN_EXPORT_PDF_JOB_MIN_LINES", lines)
    queued = client.get(export_url(plan, "pdf"))
    assert queued.status_code == 302 and "/exports/" in queued.headers["Location"]
    assert client.get(export_url(plan, "docx")).status_code == 200
    session.expire_all()
    (export,) = session.scalars(select(PlanExport)).all()
    assert (export.fmt, export.state) == ("pdf", "queued")


def test_the_line_estimate_is_close_to_the_numbered_lines(app, session, make):
    from pathlib import Path

    from consult.plans.layout import number_lines

    text = (Path(__file__).parent / "data" / "plan-113-items.es.txt").read_text(encoding="utf-8")
    sample = plans.import_plan(None, make.forum(), text)
    nodes = plans.version_nodes(sample.current_version)
    exact = sum(len(entry.lines) for entry in number_lines(nodes))
    assert abs(documents.printed_lines(nodes) - exact) <= exact * 0.15
