"""Consolidated drafts: accepted amendments merged word by word into the next
version, conflicts left to people, open amendments carried over or handed back,
one job per plan, reruns that change nothing, failures that leave the plan as it
was, and the job run by a real RQ worker on Redis."""

import itertools
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from consult.amendments import compromises, lifecycle, proposing
from consult.amendments.models import Amendment, AmendmentEvent
from consult.consolidation import carrying_over, job, merge, services, word_merge
from consult.consolidation.models import Consolidation
from consult.database import utcnow
from consult.errors import Conflict, PermissionDenied
from consult.extensions import db
from consult.jobs import QUEUES
from consult.notifications.models import Notification
from consult.plans import services as plans
from consult.plans.models import Plan, PlanVersion
from tests.factories import Factory, sign_in

PLAN_TEXT = """Plan de acción

1. POLÍTICAS CULTURALES

1. Promover la ratificación de la Convención en todos los países de la región.

2. Crear observatorios nacionales de la diversidad cultural.

3. Apoyar a los creadores independientes.

2. COMUNICACIÓN

1. Publicar un boletín trimestral.
"""


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def author(make, forum):
    return make.member(forum, locale="en").user


@pytest.fixture
def plan_text():
    return PLAN_TEXT


def node(plan, ref):
    return plans.find_node(plans.get_version(plan), ref)


def accepted(plan, author, facilitator, ref, text=None, operation="replace"):
    amendment = proposing.propose(
        author,
        plan,
        target=node(plan, ref).key if ref else None,
        operation=operation,
        text=text or "",
        submit=True,
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    lifecycle.decide(facilitator, amendment, "accepted")
    return amendment


def consolidate(session, facilitator, plan):
    """Ask for a draft and let the (inline) job run, as a commit in a request does."""
    consolidation, _new = services.request(facilitator, plan)
    session.commit()
    session.expire_all()
    return session.get(Consolidation, consolidation.id)


# --- merging texts (pure) ---------------------------------------------------------------

BASE = "Promover la ratificación de la Convención en todos los países de la región."


def test_changes_to_different_words_merge():
    urgent = BASE.replace("ratificación", "ratificación urgente")
    america = BASE.replace("de la región", "de América")
    drive = BASE.replace("Promover", "Impulsar")
    assert word_merge.merge(BASE, [urgent, america, drive]) == (
        "Impulsar la ratificación urgente de la Convención en todos los países de América."
    )


def test_changes_to_the_same_words_are_a_conflict_not_a_guess():
    assert (
        word_merge.merge(BASE, [BASE.replace("todos", "muchos"), BASE.replace("todos", "ciertos")])
        is None
    )
    same_place = [
        BASE.replace("la Convención", "la Convención 2005"),
        BASE.replace("la Convención", "la Convención de la UNESCO"),
    ]
    assert word_merge.merge(BASE, same_place) is None


def test_the_same_change_twice_is_applied_once():
    change = BASE.replace("todos", "muchos")
    assert word_merge.merge(BASE, [change, change]) == change


def test_an_amendment_is_carried_over_to_a_text_that_changed_elsewhere():
    proposed = BASE.replace("todos los países", "cada país")
    current = BASE.replace("Promover", "Impulsar")
    assert word_merge.carry_over(BASE, proposed, current) == (
        "Impulsar la ratificación de la Convención en cada país de la región."
    )
    assert word_merge.carry_over(BASE, proposed, BASE.replace("todos", "varios")) is None
    assert word_merge.carry_over(BASE, proposed, BASE) == proposed


words = st.lists(
    st.sampled_from(
        ["la", "acción", "cultural", "de", "coaliciones", "ação", "red", "y", ",", "."]
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(base=words, variant=words)
def test_one_variant_always_merges_to_itself(base, variant):
    base_text, variant_text = " ".join(base), " ".join(variant)
    assert word_merge.merge(base_text, [variant_text]) == variant_text


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(
        st.sampled_from(["uno", "dos", "tres", "cuatro", "cinco"]), min_size=4, max_size=20
    ),
    data=st.data(),
)
def test_edits_to_disjoint_words_always_merge_with_both_changes(base, data):
    """Two amendments replacing different words (far enough apart) both apply."""
    first = data.draw(st.integers(0, len(base) // 2 - 1))
    second = data.draw(st.integers(len(base) // 2 + 1, len(base) - 1))
    one, two = list(base), list(base)
    one[first], two[second] = "NUEVO", "OTRO"
    merged = word_merge.merge(" ".join(base), [" ".join(one), " ".join(two)])
    expected = list(base)
    expected[first], expected[second] = "NUEVO", "OTRO"
    assert merged == " ".join(expected)


def rows_of(*specs):
    """Rows from (key, parent, depth, kind, number, text)."""
    return [
        {"key": k, "parent_key": p, "depth": d, "kind": kind, "number": n, "ref": "", "text": t}
        for k, p, d, kind, n, t in specs
    ]


def change(number, operation, target, text="", original=""):
    return merge.Change(number, f"E{number}", number, operation, target, original, text)


def test_insertions_deletions_and_new_sections_renumber_the_lists():
    rows = rows_of(
        ("s1", None, 0, "section", "1", "Políticas"),
        ("i1", "s1", 1, "item", "1", "Uno."),
        ("i2", "s1", 1, "item", "2", "Dos."),
        ("i3", "s1", 1, "item", "3", "Tres."),
        ("s2", None, 0, "section", "2", "Comunicación"),
        ("i4", "s2", 1, "item", "1", "Cuatro."),
    )
    keys = (f"new{n}" for n in itertools.count())
    result = merge.apply_changes(
        rows,
        [
            change(1, "insert_after", "i1", "Uno bis."),
            change(2, "delete", "i2", original="Dos."),
            change(3, "new_section", "i3", "Cultura digital\n1. Plataformas\n2. Archivos"),
        ],
        lambda: next(keys),
    )
    assert not result.conflicts
    outline = [(row["ref"], row["text"]) for row in result.rows]
    assert outline == [
        ("1", "Políticas"),
        ("1.1", "Uno."),
        ("1.2", "Uno bis."),
        ("1.3", "Tres."),
        ("2", "Cultura digital"),
        ("2.1", "Plataformas"),
        ("2.2", "Archivos"),
        ("3", "Comunicación"),
        ("3.1", "Cuatro."),
    ]
    assert [row["position"] for row in result.rows] == list(range(9))
    assert {row["key"] for row in result.rows} >= {"i1", "i3", "s2", "i4"}


def test_deleting_a_section_takes_its_items_and_a_delete_against_an_edit_is_a_conflict():
    rows = rows_of(
        ("s1", None, 0, "section", "1", "Uno"),
        ("i1", "s1", 1, "item", "1", "A."),
        ("s2", None, 0, "section", "2", "Dos"),
        ("i2", "s2", 1, "item", "1", "B."),
    )
    result = merge.apply_changes(
        rows,
        [
            change(1, "delete", "s1", original="Uno"),
            change(2, "delete", "i2", original="B."),
            change(3, "replace", "i2", "B bis.", original="B."),
        ],
        lambda: "x",
    )
    assert [row["key"] for row in result.rows] == ["s2", "i2"]
    assert result.rows[0]["ref"] == "1"  # renumbered
    (conflict,) = result.conflicts
    assert (conflict.key, conflict.reason) == ("i2", "delete_and_edit")


# --- the job ---------------------------------------------------------------------------------


def test_a_consolidated_draft_applies_the_accepted_amendments(session, plan, facilitator, author):
    first = accepted(
        plan, author, facilitator, "1.1", node(plan, "1.1").text.replace("Promover", "Impulsar")
    )
    second = accepted(
        plan,
        author,
        facilitator,
        "1.1",
        node(plan, "1.1").text.replace("de la región", "de las Américas"),
    )
    third = accepted(plan, author, facilitator, "1.2", operation="delete")
    inserted = accepted(
        plan, author, facilitator, "2.1", "Abrir una radio comunitaria.", operation="insert_after"
    )
    base_number = plans.get_version(plan).number
    done = consolidate(session, facilitator, plan)
    assert done.state == "finished" and done.active_plan_id is None
    version = done.version
    assert version.number == base_number + 1 and version.origin == "consolidation"
    assert session.get(Plan, plan.id).current_version_id == version.id
    outline = {n.ref: n.text for n in plans.version_nodes(version)}
    assert outline["1.1"] == (
        "Impulsar la ratificación de la Convención en todos los países de las Américas."
    )
    assert outline["1.2"] == "Apoyar a los creadores independientes."
    assert outline["2.2"] == "Abrir una radio comunitaria."
    applied = {
        a.id
        for a in session.scalars(
            select(Amendment).where(Amendment.applied_version_id == version.id)
        )
    }
    assert applied == {first.id, second.id, third.id, inserted.id}
    assert (done.applied_count, done.conflict_count) == (4, 0)
    assert {entry["label"] for entry in done.report["applied"]} == {"E1", "E2", "E3", "E4"}
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "draft_ready")
        )
        >= 2
    )


def test_overlapping_amendments_stop_their_item_until_a_compromise_settles_it(
    session, plan, facilitator, author
):
    text = node(plan, "1.1").text
    one = accepted(plan, author, facilitator, "1.1", text.replace("todos los", "muchos"))
    two = accepted(plan, author, facilitator, "1.1", text.replace("todos los", "algunos"))
    elsewhere = accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores.")
    done = consolidate(session, facilitator, plan)
    assert (done.applied_count, done.conflict_count) == (1, 1)
    (conflict,) = done.report["conflicts"]
    assert (conflict["reason"], set(conflict["amendments"])) == ("overlap", {one.id, two.id})
    assert node(plan, "1.1").text == text  # the base text is kept there
    assert session.get(Amendment, elsewhere.id).applied_version_id == done.version_id

    compromise = compromises.create_compromise(
        facilitator,
        plan,
        [session.get(Amendment, one.id), session.get(Amendment, two.id)],
        text=text.replace("todos los", "los"),
    )
    lifecycle.decide(facilitator, compromise, "accepted")
    again = consolidate(session, facilitator, plan)
    assert (again.applied_count, again.conflict_count) == (1, 0)
    assert node(plan, "1.1").text == text.replace("todos los", "los")


def test_running_twice_makes_one_version(session, plan, facilitator, author):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    done = consolidate(session, facilitator, plan)
    versions = session.scalar(select(func.count()).select_from(PlanVersion))
    assert job.run(done.id).version_id == done.version_id  # a retried job
    again = consolidate(session, facilitator, plan)  # nothing new accepted
    assert again.state == "finished" and again.version_id is None
    assert session.scalar(select(func.count()).select_from(PlanVersion)) == versions


def test_two_facilitators_asking_at_once_start_one_job(session, make, forum, plan, facilitator):
    other = make.member(forum, role="facilitator").user
    first, new_first = services.request(facilitator, plan)
    second, new_second = services.request(other, plan)
    assert (new_first, new_second) == (True, False) and first.id == second.id
    assert session.scalar(select(func.count()).select_from(Consolidation)) == 1


def test_members_cannot_ask_for_a_draft(plan, author):
    with pytest.raises(PermissionDenied):
        services.request(author, plan)


def test_an_approved_plan_gets_no_more_drafts(session, plan, facilitator):
    plans.approve(plan, plans.get_version(plan), reason="test")
    with pytest.raises(Conflict):
        services.request(facilitator, plan)


def test_a_failure_leaves_the_plan_unchanged_and_says_why(
    session, plan, facilitator, author, monkeypatch
):
    amendment = accepted(plan, author, facilitator, "1.3", "Apoyar a quienes crean.")
    consolidation, _ = services.request(facilitator, plan)
    before = plan.current_version_id
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no inline run
    session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge, "apply_changes", broken)
    with pytest.raises(RuntimeError):
        job.run(consolidation.id)
    session.expire_all()
    failed = session.get(Consolidation, consolidation.id)
    assert failed.state == "failed" and failed.active_plan_id is None
    assert "RuntimeError" in failed.error and "unchanged" in failed.error
    assert session.get(Plan, plan.id).current_version_id == before
    assert session.get(Amendment, amendment.id).applied_version_id is None
    # Another request can start now.
    assert services.request(facilitator, plan)[1] is True


# --- open amendments after a consolidation --------------------------------------------------


def test_open_amendments_are_carried_over_or_handed_back(session, make, forum, plan, facilitator):
    author = make.member(forum, locale="en").user
    other = make.member(forum, locale="en").user
    text = node(plan, "1.1").text
    accepted(plan, author, facilitator, "1.1", text.replace("Promover", "Impulsar"))
    apart = proposing.propose(
        other,
        plan,
        target=node(plan, "1.1").key,
        operation="replace",
        text=text.replace("de la región", "del continente"),
        submit=True,
    )
    clash = proposing.propose(
        other,
        plan,
        target=node(plan, "1.1").key,
        operation="replace",
        text=text.replace("Promover", "Fomentar"),
        submit=True,
    )
    done = consolidate(session, facilitator, plan)
    new_text = "Impulsar la ratificación de la Convención en todos los países de la región."
    apart, clash = session.get(Amendment, apart.id), session.get(Amendment, clash.id)
    assert apart.status == "submitted" and apart.base_version_id == done.version_id
    assert (apart.original_text, apart.proposed_text) == (
        new_text,
        new_text.replace("de la región", "del continente"),
    )
    assert clash.status == "revise" and clash.original_text == text  # not rewritten by the machine
    assert (done.rebased_count, done.revise_count) == (1, 1)
    kinds = set(session.scalars(select(Notification.kind).where(Notification.user_id == other.id)))
    assert {"amendment_rebased", "amendment_status"} <= kinds
    events = session.scalars(
        select(AmendmentEvent.reason).where(AmendmentEvent.amendment_id == apart.id)
    ).all()
    # The log keeps the text before the carry-over (in the forum's language).
    assert any(text.replace("de la región", "del continente") in reason for reason in events)

    proposing.revise(other, clash, text=new_text.replace("Impulsar", "Fomentar"), justification="")
    assert clash.status == "submitted" and clash.original_text == new_text
    assert clash.base_version_id == done.version_id


# --- the page, the command and a real worker -------------------------------------------------


def test_a_facilitator_asks_on_the_page_and_reads_the_change_log(
    client, session, plan, facilitator, author
):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y a las creadoras.")
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, facilitator)
    base = f"/forums/{plan.forum.slug}/plans/{plan.id}/consolidations"
    response = client.post(base + "/new")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Change log" in page and "<ins>" in page
    status = client.get(response.headers["Location"] + "/status.json").get_json()
    assert status["state"] == "finished" and status["active"] is False and status["version"] == 2


def test_members_get_403_asking_on_the_page(client, plan, author):
    sign_in(client, author)
    assert (
        client.post(f"/forums/{plan.forum.slug}/plans/{plan.id}/consolidations/new").status_code
        == 403
    )


def test_the_command_prints_the_summary_last(app, session, plan, facilitator, author):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    session.commit()
    result = app.test_cli_runner().invoke(args=["plans", "consolidate", str(plan.id), "--wait"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "version=2 applied=1 conflicts=0 rebased=0"


@pytest.fixture(params=["sqlite", "postgresql"])
def worker_app(request, tmp_path, redis_url):
    from tests.conftest import fresh_database, make_app

    Redis.from_url(redis_url).flushdb()
    with fresh_database(request.param, tmp_path) as url:
        app = make_app(url, JOBS_MODE="rq", REDIS_URL=redis_url)
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.engine.dispose()
    Redis.from_url(redis_url).flushdb()


def test_a_real_worker_builds_the_draft_once_even_when_the_job_runs_twice(worker_app):
    make = Factory(db.session)
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    author = make.member(forum).user
    plan = plans.import_plan(None, forum, PLAN_TEXT)
    plan.open_for_input = True
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    consolidation, _ = services.request(facilitator, plan)
    db.session.commit()
    connection = Redis.from_url(worker_app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in QUEUES]
    assert queues[0].count == 1  # enqueued after the commit
    # The same job enqueued again (a retry after a lost acknowledgement).
    queues[0].enqueue("workers.consolidation.consolidate", consolidation.id)
    SimpleWorker(queues, connection=connection).work(burst=True)
    db.session.expire_all()
    done = db.session.get(Consolidation, consolidation.id)
    assert done.state == "finished" and done.version.number == 2
    assert db.session.scalar(select(func.count()).select_from(PlanVersion)) == 2


def test_a_draft_whose_worker_died_is_taken_up_again_when_asked(
    session, plan, facilitator, author, monkeypatch
):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # the job is lost
    consolidation, _ = services.request(facilitator, plan)
    session.commit()
    monkeypatch.undo()
    # A worker took it and died: "running" and silent since long ago, nothing written.
    consolidation.state, consolidation.started_at = "running", utcnow() - timedelta(minutes=30)
    consolidation.heartbeat_at = consolidation.started_at
    session.commit()
    again, new = services.request(facilitator, plan)
    assert (again.id, new) == (consolidation.id, False)
    session.commit()  # runs the job again (inline)
    session.expire_all()
    done = session.get(Consolidation, consolidation.id)
    assert done.state == "finished" and done.version.number == 2 and done.attempts == 1


def test_a_draft_that_is_merely_slow_is_left_alone(session, plan, facilitator, author, monkeypatch):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    calls = []
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: calls.append(args) or True)
    consolidation, _ = services.request(facilitator, plan)
    session.commit()
    consolidation.state, consolidation.started_at = "running", utcnow() - timedelta(minutes=2)
    session.commit()
    assert services.request(facilitator, plan) == (consolidation, False)
    session.commit()
    assert len(calls) == 1  # only the first request's job


def test_a_long_draft_whose_worker_is_alive_is_left_alone(
    session, plan, facilitator, author, monkeypatch
):
    accepted(plan, author, facilitator, "1.3", "Apoyar a los creadores y creadoras.")
    calls = []
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: calls.append(args) or True)
    consolidation, _ = services.request(facilitator, plan)
    session.commit()
    # Started half an hour ago, but its heartbeat is a minute old: still at work.
    consolidation.state, consolidation.started_at = "running", utcnow() - timedelta(minutes=30)
    consolidation.heartbeat_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert services.request(facilitator, plan) == (consolidation, False)
    session.commit()
    assert job.run(consolidation.id).attempts == 0  # a duplicate job does nothing
    assert len(calls) == 1


def test_open_amendments_on_untouched_words_point_at_the_new_version_and_its_references(
    session, make, forum, plan, facilitator
):
    author = make.member(forum, locale="en").user
    other = make.member(forum, locale="en").user
    second = node(plan, "1.2")
    accepted(plan, author, facilitator, "1.1", operation="delete")  # 1.2 becomes 1.1
    waiting = proposing.propose(
        other,
        plan,
        target=second.key,
        operation="replace",
        text=second.text.replace("Promover", "Impulsar").replace("Defender", "Proteger")
        + " Ahora.",
        submit=True,
    )
    lock = waiting.lock_version
    done = consolidate(session, facilitator, plan)
    waiting = session.get(Amendment, waiting.id)
    moved_to = plans.find_node(plans.get_version(session.get(Plan, plan.id)), second.key)
    assert waiting.base_version_id == done.version_id
    assert (waiting.target_ref, moved_to.ref) == ("1.1", "1.1")
    assert waiting.status == "submitted" and waiting.original_text == second.text
    assert waiting.lock_version == lock + 1  # an edit begun before the draft is refused
    assert done.rebased_count == done.revise_count == 0


def test_an_amendment_edited_while_the_draft_is_built_fails_the_job_instead_of_being_overwritten(
    session, make, forum, plan, facilitator, author, monkeypatch
):
    other = make.member(forum, locale="en").user
    accepted(plan, author, facilitator, "1.1", node(plan, "1.1").text + " Ya.")
    waiting = proposing.propose(
        other,
        plan,
        target=node(plan, "1.2").key,
        operation="replace",
        text="Otro texto.",
        submit=True,
    )
    consolidation, _ = services.request(facilitator, plan)
    before = plan.current_version_id
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # no inline run
    session.commit()
    move = carrying_over._move_unchanged

    def edited_meanwhile(version, moved):
        # The author saves an edit between the job's reading and its writing.
        session.execute(
            Amendment.__table__.update()
            .where(Amendment.__table__.c.id == waiting.id)
            .values(proposed_text="Editado.", lock_version=Amendment.__table__.c.lock_version + 1)
        )
        move(version, moved)

    monkeypatch.setattr(carrying_over, "_move_unchanged", edited_meanwhile)
    with pytest.raises(StaleDataError):
        job.run(consolidation.id)
    session.expire_all()
    assert session.get(Consolidation, consolidation.id).state == "failed"
    assert session.get(Plan, plan.id).current_version_id == before


def test_carrying_over_costs_the_same_statements_for_2_or_12_open_amendments(
    session, make, forum, facilitator, author, monkeypatch, count_statements, pages_built_each_time
):
    from consult.notification_delivery import emails

    other = make.member(forum, locale="en").user
    monkeypatch.setattr("consult.jobs.enqueue", lambda *args, **kwargs: True)  # run below
    monkeypatch.setattr(emails, "enqueue_batches", lambda ids, **_: 1)  # emails apart

    def statements(open_count: int) -> int:
        plan = plans.import_plan(None, forum, PLAN_TEXT)
        plan.open_for_input = True
        text = node(plan, "1.1").text
        accepted(plan, author, facilitator, "1.1", text.replace("Promover", "Impulsar"))
        for i in range(open_count):
            proposing.propose(
                other,
                plan,
                target=node(plan, "1.1").key,
                operation="replace",
                text=text.replace("de la región", f"del continente {i}"),
                submit=True,
            )
        consolidation, _ = services.request(facilitator, plan)
        session.commit()
        with count_statements() as seen:
            done = job.run(consolidation.id)
        assert done.rebased_count == open_count and done.revise_count == 0
        return len(seen)

    assert statements(2) == statements(12)
