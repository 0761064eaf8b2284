"""Amendments: who may propose what, the status machine, supports and
thresholds, compromises, sub-amendments, conflicts, and offline imports."""

from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consult.amendments import (
    compromises,
    conflicts,
    lifecycle,
    offline_import,
    plan_settings,
    proposing,
    queries,
    supports,
)
from consult.amendments.models import Amendment, AmendmentEvent, AmendmentSupport
from consult.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from consult.notifications.models import Notification
from consult.plans import services as plans
from tests.factories import sign_in

STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()


@pytest.fixture(autouse=True)
def english(client, session):
    """Pages and the services' messages in English (the source language)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def plan(session, forum):
    plan = plans.import_plan(None, forum, STRUCTURED)
    plan.open_for_input = True
    session.commit()
    return plan


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en").user


@pytest.fixture
def member(make, forum):
    return make.member(forum, locale="en").user


def node(plan, ref):
    return plans.find_node(plan.current_version, ref)


def propose(actor, plan, ref="1.1", text="Promover la cooperación hemisférica.", **options):
    return proposing.propose(
        actor,
        plan,
        target=node(plan, ref).key,
        operation="replace",
        text=text,
        justification="Porque sí.",
        **options,
    )


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


# --- proposing ------------------------------------------------------------------


def test_member_proposes_a_replacement_with_base_version_and_full_text(session, plan, member):
    amendment = propose(member, plan, submit=True)
    session.commit()
    assert (amendment.label, amendment.status, amendment.target_ref) == ("E1", "submitted", "1.1")
    assert amendment.base_version_id == plan.current_version_id
    assert amendment.target_key == node(plan, "1.1").key
    assert amendment.original_text.startswith("Promover la cooperación regional")
    assert amendment.proposed_text == "Promover la cooperación hemisférica."


def test_amendments_are_numbered_per_plan(session, plan, member):
    first = propose(member, plan)
    second = propose(member, plan, ref="1.2", text="Otro texto.")
    assert (first.number, second.number) == (1, 2)


def test_a_closed_plan_keeps_the_proposal_as_a_draft(session, plan, member, facilitator):
    plan.open_for_input = False
    session.commit()
    kept = propose(member, plan, submit=True)
    assert kept.status == "draft"
    assert "not open for amendments" in kept.submission_refused
    with pytest.raises(Conflict, match="not open for amendments"):
        lifecycle.submit_amendment(member, kept)
    # Facilitators are not bound by the calendar.
    assert propose(facilitator, plan, ref="1.2", text="Otro.", submit=True).status == "submitted"


def test_observers_and_outsiders_cannot_propose(session, make, forum, plan):
    observer = make.member(forum, role="observer").user
    outsider = make.member(make.forum()).user
    for person in (observer, outsider):
        with pytest.raises(PermissionDenied):
            propose(person, plan)
    assert count(session, Amendment) == 0


def test_only_the_group_in_charge_of_a_section_may_amend_it(session, make, forum, plan, member):
    group = make.group(forum, "Energía")
    in_group = make.member(forum, groups=[group]).user
    plan_settings.assign_section(None, plan, node(plan, "1").key, group.id)
    session.commit()
    with pytest.raises(PermissionDenied, match="working group you are not part of"):
        propose(member, plan, ref="1.1")
    assert propose(in_group, plan, ref="1.1").status == "draft"
    # Sections without a group stay open to every member.
    assert propose(member, plan, ref="2.A.1", text="Nuevo texto.").status == "draft"


def test_bad_proposals_are_refused_with_a_reason(plan, member):
    with pytest.raises(InvalidInput):
        propose(member, plan, text="   ")
    with pytest.raises(InvalidInput):
        propose(member, plan, text=node(plan, "1.1").text)
    with pytest.raises(NotFound):
        proposing.propose(member, plan, target="9.9", operation="replace", text="x")
    with pytest.raises(InvalidInput):
        proposing.propose(member, plan, target=node(plan, "1.1").key, operation="rewrite", text="x")


def test_drafts_are_private_to_their_author(client, session, make, forum, plan, member):
    draft = propose(member, plan)
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    assert client.get(f"/forums/{forum.slug}/amendments/{draft.id}").status_code == 404
    listing = client.get(f"/forums/{forum.slug}/plans/{plan.id}/amendments/")
    assert f"<strong>{draft.identifier}</strong>" not in listing.get_data(as_text=True)


def test_the_same_form_sent_twice_makes_one_amendment(client, session, forum, plan, member):
    sign_in(client, member)
    url = f"/forums/{forum.slug}/plans/{plan.id}/items/{node(plan, '1.1').key}/amend"
    form = {
        "form_token": "tok-123",
        "operation": "replace",
        "text": "Texto nuevo.",
        "justification": "",
        "action": "submit",
    }
    first = client.post(url, data=form)
    second = client.post(url, data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(session, Amendment) == 1


def test_a_proposal_after_the_deadline_is_kept_as_a_draft(client, session, forum, plan, member):
    plan.open_for_input = False
    session.commit()
    sign_in(client, member)
    url = f"/forums/{forum.slug}/plans/{plan.id}/items/{node(plan, '1.1').key}/amend"
    response = client.post(
        url,
        data={
            "operation": "replace",
            "text": "Mi texto largo y pensado.",
            "justification": "Mis razones.",
            "action": "submit",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "not open for amendments" in html and "kept as draft E1" in html
    draft = session.scalar(select(Amendment))
    assert (draft.status, draft.proposed_text, draft.justification) == (
        "draft",
        "Mi texto largo y pensado.",
        "Mis razones.",
    )


def test_ineligible_proposal_is_refused_with_the_typed_text_kept(
    client, session, make, forum, plan
):
    observer = make.member(forum, role="observer", locale="en").user
    sign_in(client, observer)
    url = f"/forums/{forum.slug}/plans/{plan.id}/items/{node(plan, '1.1').key}/amend"
    response = client.post(
        url,
        data={
            "operation": "replace",
            "text": "Mi texto largo.",
            "justification": "Mis razones.",
            "action": "submit",
        },
    )
    assert response.status_code == 403
    assert "Mi texto largo." in response.get_data(as_text=True)
    assert count(session, Amendment) == 0


# --- the status machine -------------------------------------------------------------


def test_facilitator_triage_is_recorded_and_the_author_notified(session, plan, member, facilitator):
    amendment = propose(member, plan, submit=True)
    lifecycle.decide(facilitator, amendment, "admitted", "Cumple los requisitos.")
    lifecycle.decide(facilitator, amendment, "accepted")
    session.commit()
    events = session.scalars(
        select(AmendmentEvent)
        .where(AmendmentEvent.amendment_id == amendment.id)
        .order_by(AmendmentEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "admitted"),
        ("admitted", "accepted"),
    ]
    assert events[2].reason == "Cumple los requisitos." and events[2].actor_id == facilitator.id
    kinds = session.scalars(
        select(Notification.data).where(Notification.user_id == member.id)
    ).all()
    assert [data["status"] for data in kinds] == ["admitted", "accepted"]


@pytest.mark.parametrize("who", ["author", "other member"])
def test_only_facilitators_decide(session, make, forum, plan, member, who):
    amendment = propose(member, plan, submit=True)
    session.commit()
    actor = member if who == "author" else make.member(forum).user
    with pytest.raises(PermissionDenied):
        lifecycle.decide(actor, amendment, "admitted")
    session.rollback()
    assert session.get(Amendment, amendment.id).status == "submitted"


def test_deciding_through_the_web_as_a_member_is_forbidden(client, session, forum, plan, member):
    amendment = propose(member, plan, submit=True)
    session.commit()
    sign_in(client, member)
    response = client.post(
        f"/forums/{forum.slug}/amendments/{amendment.id}/decide", data={"status": "accepted"}
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Amendment, amendment.id).status == "submitted"


def test_illegal_transitions_are_refused_with_a_clear_message(session, plan, member, facilitator):
    amendment = propose(member, plan, submit=True)
    lifecycle.decide(facilitator, amendment, "rejected")
    with pytest.raises(Conflict, match="cannot become"):
        lifecycle.decide(facilitator, amendment, "admitted")
    with pytest.raises(Conflict):
        lifecycle.withdraw(member, amendment)
    draft = propose(member, plan, ref="1.2", text="Otro.")
    with pytest.raises(Conflict):
        lifecycle.decide(facilitator, draft, "accepted")


def test_authors_withdraw_their_own_amendments_only(session, make, forum, plan, member):
    amendment = propose(member, plan, submit=True)
    with pytest.raises(PermissionDenied):
        lifecycle.withdraw(make.member(forum).user, amendment)
    lifecycle.withdraw(member, amendment, "Ya no hace falta.")
    assert amendment.status == "withdrawn"


# --- supports and thresholds ------------------------------------------------------


def supporter(make, forum, coalition, country):
    return make.member(forum, coalition=coalition, country=country).user


@pytest.mark.parametrize(
    ("kind", "needed", "expected_before"),
    [("members", 3, 2), ("coalitions", 2, 1), ("countries", 2, 1)],
)
def test_admission_threshold_counts_members_coalitions_or_countries(
    session, make, forum, plan, member, facilitator, kind, needed, expected_before
):
    andina, caribe = make.coalition(forum, "Red Andina"), make.coalition(forum, "Red Caribe")
    plan.support_threshold, plan.support_threshold_kind = needed, kind
    amendment = propose(member, plan, submit=True)
    supports.support(supporter(make, forum, andina, "CO"), amendment)
    supports.support(supporter(make, forum, andina, "CO"), amendment)
    assert queries.support_tally(amendment)[kind] == expected_before
    with pytest.raises(Conflict, match="needs the support"):
        lifecycle.decide(facilitator, amendment, "admitted")
    supports.support(supporter(make, forum, caribe, "TT"), amendment)
    lifecycle.decide(facilitator, amendment, "admitted")
    assert amendment.status == "admitted"


def test_a_member_supports_once_and_never_their_own(session, make, forum, plan, member):
    amendment = propose(member, plan, submit=True)
    other = make.member(forum).user
    supports.support(other, amendment)
    supports.support(other, amendment)
    assert count(session, AmendmentSupport) == 1
    with pytest.raises(Conflict):
        supports.support(member, amendment)
    supports.withdraw_support(other, amendment)
    assert count(session, AmendmentSupport) == 0


def test_co_sponsors_are_invited_and_accept(session, make, forum, plan, member):
    amendment = propose(member, plan, submit=True)
    partner = make.member(forum).user
    sponsor = supports.invite_cosponsor(member, amendment, partner.email.upper())
    assert sponsor.status == "invited"
    supports.accept_cosponsorship(partner, amendment)
    assert sponsor.status == "accepted"
    with pytest.raises(PermissionDenied):
        supports.invite_cosponsor(partner, amendment, member.email)


# --- compromises and sub-amendments -------------------------------------------------


def test_compromise_replaces_several_amendments(session, make, forum, plan, member, facilitator):
    first = propose(member, plan, submit=True)
    second = propose(
        make.member(forum).user, plan, text="Promover la integración regional.", submit=True
    )
    compromise = compromises.create_compromise(
        facilitator, plan, [first, second], text="Promover la integración hemisférica."
    )
    assert compromise.is_compromise and compromise.status == "admitted"
    assert [(a.status, a.merged_into_id) for a in (first, second)] == [
        ("merged", compromise.id),
        ("merged", compromise.id),
    ]


def test_compromise_needs_amendments_to_the_same_item(plan, member, facilitator):
    first = propose(member, plan, submit=True)
    other = propose(member, plan, ref="1.2", text="Otro texto.", submit=True)
    with pytest.raises(InvalidInput):
        compromises.create_compromise(facilitator, plan, [first, other], text="Texto.")
    with pytest.raises(PermissionDenied):
        compromises.create_compromise(member, plan, [first, other], text="Texto.")


def test_accepted_sub_amendment_changes_the_amendments_text(
    session, make, forum, plan, member, facilitator
):
    parent = propose(member, plan, submit=True)
    lifecycle.decide(facilitator, parent, "admitted")
    sub = proposing.propose_sub_amendment(
        make.member(forum).user, parent, text="Promover la cooperación hemisférica y regional."
    )
    assert (sub.parent_id, sub.status, sub.original_text) == (
        parent.id,
        "submitted",
        parent.proposed_text,
    )
    lifecycle.decide(facilitator, sub, "admitted")
    lifecycle.decide(facilitator, sub, "accepted")
    assert parent.proposed_text == "Promover la cooperación hemisférica y regional."
    with pytest.raises(Conflict):
        proposing.propose_sub_amendment(member, sub, text="Sub de sub.")


# --- conflicts ---------------------------------------------------------------------


def test_conflicts_tell_overlapping_from_separate_changes(session, make, forum, plan, member):
    base = node(plan, "1.2").text  # "Intercambiar experiencias sobre políticas públicas ..."
    first = propose(
        member, plan, ref="1.2", text=base.replace("Intercambiar", "Compartir"), submit=True
    )
    second = propose(
        make.member(forum).user,
        plan,
        ref="1.2",
        text=base.replace("comunidades locales", "comunidades indígenas"),
        submit=True,
    )
    [group] = conflicts.conflicts(plan)
    assert group.target_ref == "1.2" and not group.overlapping
    third = propose(
        make.member(forum).user,
        plan,
        ref="1.2",
        text=base.replace("Intercambiar", "Difundir"),
        submit=True,
    )
    [group] = conflicts.conflicts(plan)
    assert group.overlapping == {(first.id, third.id)}
    assert not group.overlaps(second)


# --- listing -------------------------------------------------------------------------


def test_amendment_list_filters_sorts_and_paginates(client, session, make, forum, plan, member):
    for index in range(30):
        propose(member, plan, ref="1.1", text=f"Texto número {index}.", submit=True)
    popular = propose(member, plan, ref="2.A.1", text="Texto muy apoyado.", submit=True)
    supports.support(make.member(forum).user, popular)
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    base = f"/forums/{forum.slug}/plans/{plan.id}/amendments/"
    html = client.get(base + "?sort=supported").get_data(as_text=True)

    def shown(number):  # the start of the amendment's identifier, as the list shows it
        return f"<strong>{plan.short_name} E{number} · "

    assert html.index(shown(31)) < html.index(shown(30))
    section = node(plan, "2").key
    only_section = client.get(base + f"?section={section}").get_data(as_text=True)
    assert shown(31) in only_section and shown(1) not in only_section
    assert shown(1) in client.get(base + "?page=2").get_data(as_text=True)
    assert client.get(base + "?status=bogus").status_code == 400
    assert client.get(base + "?page=abc").status_code == 400


# --- offline amendments -------------------------------------------------------------


CSV = (
    "target,operation,text,justification,author,coalition,status\n"
    "1.1,replace,Promover la cooperación hemisférica.,Acordado en Lima,"
    "{member},Red Andina,accepted\n"
    "2.A.1,delete,,Duplicado,María Pérez,,\n"
    "9.9,replace,Texto,,x@example.org,,\n"
    "1.2,rewrite,Texto,,x@example.org,,\n"
    "1.3,replace,,,x@example.org,,\n"
    '1.3,insert_after,"=HYPERLINK(""http://x"")",,x@example.org,,drafted\n'
    '1.3,insert_after,"=HYPERLINK(""http://x"")",,x@example.org,,\n'
)


def test_offline_amendments_import_good_rows_and_report_bad_ones(
    session, forum, plan, member, facilitator
):
    report = offline_import.import_amendments(
        facilitator, plan, CSV.format(member=member.email).encode()
    )
    assert (report.imported, report.rejected) == (3, 4)
    assert [row.line for row in report.rows if not row.ok] == [4, 5, 6, 7]
    rows = session.scalars(select(Amendment).order_by(Amendment.number)).all()
    first, second, third = rows
    assert (first.author_id, first.status, first.coalition.name) == (
        member.id,
        "accepted",
        "Red Andina",
    )
    assert (second.author_id, second.author_name, second.operation) == (
        None,
        "María Pérez",
        "delete",
    )
    assert third.proposed_text == '=HYPERLINK("http://x")'  # stored as text, never evaluated
    assert all(row.origin == "import" for row in rows)


def test_only_facilitators_import_amendments(plan, member):
    with pytest.raises(PermissionDenied):
        offline_import.import_amendments(member, plan, b"target,operation,text\n")


def test_cli_import_prints_imported_and_rejected_last(app, session, forum, plan, member, tmp_path):
    source = tmp_path / "amendments.csv"
    source.write_text(CSV.format(member=member.email), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["amendments", "import", str(plan.id), str(source)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "imported=3 rejected=4"


# --- pages ---------------------------------------------------------------------------


def test_member_proposes_from_the_item_page_and_sees_the_diff(client, session, forum, plan, member):
    sign_in(client, member)
    target = node(plan, "1.1")
    item = client.get(f"/forums/{forum.slug}/plans/{plan.id}/items/{target.key}/")
    assert item.status_code == 200 and "Propose a new text" in item.get_data(as_text=True)
    form_page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/items/{target.key}/amend")
    assert target.text in form_page.get_data(as_text=True)  # the current text, prefilled
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/items/{target.key}/amend",
        data={
            "operation": "replace",
            "justification": "Más amplio.",
            "action": "submit",
            "text": target.text.replace("regional", "hemisférica"),
        },
    )
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<del>regional</del>" in detail and "<ins>hemisférica</ins>" in detail
    assert "Más amplio." in detail


def test_live_diff_endpoint_escapes_and_marks_changes(client, forum, plan, member):
    sign_in(client, member)
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/diff",
        data={"original": "uno dos", "proposed": "uno <b>tres</b>"},
    )
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<del>dos</del>" in html and "&lt;b&gt;" in html and "<b>" not in html


def test_support_and_decide_through_the_pages(
    client, app, session, make, forum, plan, member, facilitator
):
    amendment = propose(member, plan, submit=True)
    session.commit()
    supporter_client = app.test_client()
    supporter_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(supporter_client, make.member(forum, locale="en").user)
    url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    assert supporter_client.post(url + "/support").status_code == 302
    assert "1 member" in supporter_client.get(url).get_data(as_text=True)
    sign_in(client, facilitator)
    assert (
        client.post(url + "/decide", data={"status": "admitted", "reason": "Bien."}).status_code
        == 302
    )
    refused = client.post(url + "/decide", data={"status": "admitted", "reason": "Otra vez."})
    assert refused.status_code == 409
    assert "Otra vez." in refused.get_data(as_text=True)  # the typed reason is kept
    session.expire_all()
    assert session.get(Amendment, amendment.id).status == "admitted"


def test_amendment_list_issues_the_same_number_of_queries_for_5_and_60(
    client, session, make, forum, plan, member, count_statements, pages_built_each_time
):
    for index in range(5):
        propose(member, plan, text=f"Texto {index}.", submit=True)
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    url = f"/forums/{forum.slug}/plans/{plan.id}/amendments/"
    with count_statements() as few:
        client.get(url)
    for index in range(55):
        propose(member, plan, text=f"Más texto {index}.", submit=True)
    session.commit()
    with count_statements() as many:
        client.get(url)
    assert len(few) == len(many)


def test_facilitator_settings_open_the_plan_and_assign_sections(
    client, session, make, forum, plan, facilitator
):
    group = make.group(forum, "Energía")
    section = node(plan, "1")
    sign_in(client, facilitator)
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/settings",
        data={
            "open_for_input": "",
            "support_threshold": "3",
            "support_threshold_kind": "countries",
            f"group-{section.key}": str(group.id),
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert (plan.open_for_input, plan.support_threshold, plan.support_threshold_kind) == (
        False,
        3,
        "countries",
    )
    assert plan_settings.section_assignments(plan) == {section.key: group.id}


def test_compromise_page_merges_the_chosen_amendments(
    client, session, make, forum, plan, member, facilitator
):
    first = propose(member, plan, submit=True)
    second = propose(make.member(forum).user, plan, text="Promover la integración.", submit=True)
    session.commit()
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/plans/{plan.id}/items/{node(plan, '1.1').key}/compromise"
    assert first.label in client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={
            "sources": [str(first.id), str(second.id)],
            "text": "Texto de consenso.",
            "justification": "",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert {
        a.status for a in (session.get(Amendment, first.id), session.get(Amendment, second.id))
    } == {"merged"}


def test_list_filters_by_working_group_and_author_and_sorts_by_discussion(
    client, session, make, forum, plan, member
):
    from consult.comments import services as comments

    group = make.group(forum, "Energía")
    plan_settings.assign_section(None, plan, node(plan, "1").key, group.id)
    other = make.member(forum, groups=[group]).user
    quiet = propose(member, plan, ref="2.A.1", text="Sin debate.", submit=True)
    talked = propose(other, plan, ref="1.1", text="Con debate.", submit=True)
    comments.post_comment(
        member,
        forum,
        plan=plan,
        target_type="amendment",
        target_key=str(talked.id),
        body="Estoy de acuerdo.",
    )
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    base = f"/forums/{forum.slug}/plans/{plan.id}/amendments/"
    in_group = client.get(base + f"?group={group.id}").get_data(as_text=True)
    assert f"<strong>{talked.identifier}</strong>" in in_group
    assert f"<strong>{quiet.identifier}</strong>" not in in_group
    by_author = client.get(base + f"?author={member.id}").get_data(as_text=True)
    assert f"<strong>{quiet.identifier}</strong>" in by_author
    assert f"<strong>{talked.identifier}</strong>" not in by_author
    discussed = client.get(base + "?sort=discussed&sort=discussed").get_data(as_text=True)
    assert discussed.index(f"<strong>{talked.identifier}</strong>") < discussed.index(
        f"<strong>{quiet.identifier}</strong>"
    )
    assert "1 comment" in discussed
    assert client.get(base + "?group=999999").status_code == 404


def test_a_kept_line_of_the_list_shows_a_new_support_status_and_name_at_once(
    client, session, make, forum, plan, member, facilitator
):
    amendment = propose(member, plan, text="Texto guardado.", submit=True)
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    url = f"/forums/{forum.slug}/plans/{plan.id}/amendments/"

    def line() -> str:
        html = client.get(url).get_data(as_text=True)
        start = html.index(f"<strong>{amendment.identifier}</strong>")
        return html[start : html.index("</li>", start)]

    assert "0 supports" in line() and "Submitted" in line()
    supports.support(make.member(forum).user, amendment)
    session.commit()
    assert "1 support" in line()
    lifecycle.decide(facilitator, amendment, "admitted")
    session.commit()
    assert "Admitted" in line() and "Submitted" not in line()
    member.display_name = "Nombre Nuevo"
    session.commit()
    assert "Nombre Nuevo" in line()
