"""The facilitators' dashboard of a consultation: exact figures on a known data
set, who may see it, the CSV export (safe in spreadsheets), and a number of
queries that does not grow with the consultation."""

import csv
import io

import pytest

from consult.amendments import lifecycle, plan_settings, proposing, supports
from consult.comments import moderation
from consult.comments import services as comments
from consult.dashboard.counting import figures
from consult.dashboard.figures import figures_csv
from consult.plans import services as plans
from consult.spreadsheets import safe_cell
from tests.factories import sign_in

EVIL = '=HYPERLINK("http://evil.example/","Click")'


pytestmark = pytest.mark.usefixtures("english")


def start_consultation(make, plan):
    """A consultation whose amendment phase runs now (opened by the scheduler)."""
    return make.consultation(plan, title="Consulta 2026", advance=True)


def key(plan, ref):
    return plans.find_node(plan.current_version, ref).key


def propose(actor, plan, ref, text="Un texto nuevo para este punto."):
    return proposing.propose(
        actor, plan, target=key(plan, ref), operation="replace", text=text, submit=True
    )


def comment(actor, plan, target_type, target_key, body="Un comentario."):
    return comments.post_comment(
        actor, plan.forum, plan=plan, target_type=target_type, target_key=target_key, body=body
    )


def dashboard_url(consultation, suffix=""):
    return f"/forums/{consultation.forum.slug}/consultations/{consultation.id}/dashboard{suffix}"


# --- the known data set ----------------------------------------------------------


@pytest.fixture
def known(session, make, forum, facilitator):
    """Two working groups (Cultura holds the nested section 2.A, Energía section 1,
    section 2.B has none), three coalitions in two countries, amendments in five
    statuses plus a draft, comments shown, deleted and hidden, supports, one
    reported comment still shown."""
    plan = make.plan(forum)
    energia, cultura = make.group(forum, "Energía"), make.group(forum, "Cultura")
    plan_settings.assign_section(None, plan, key(plan, "1"), energia.id)
    plan_settings.assign_section(None, plan, key(plan, "2.A"), cultura.id)
    andina = make.coalition(forum, "Coalición Andina", "CO")
    sur = make.coalition(forum, "Red Sur", "AR")
    evil = make.coalition(forum, EVIL, "CO")

    m1 = make.member(forum, coalition=andina, groups=[energia]).user  # CO by coalition
    m2 = make.member(forum, coalition=andina, groups=[cultura], country="PE").user
    m3 = make.member(forum, coalition=sur).user  # AR
    m4 = make.member(forum, coalition=evil).user  # CO
    m5 = make.member(forum).user  # no coalition, no country
    m7 = make.member(forum, coalition=sur).user  # supports only
    m8 = make.member(forum, country="UY").user  # only a comment the moderators hid
    drafter = make.member(forum, coalition=andina).user  # only a draft
    deleter = make.member(forum, coalition=sur).user  # only a comment deleted by its author
    make.member(forum, coalition=sur)  # takes no part

    e1 = propose(m1, plan, "1.1")
    e2 = propose(m1, plan, "1.2")
    e3 = propose(m2, plan, "2.A.2.2.1")  # deep under 2.A: Cultura
    e4 = propose(m3, plan, "2.B.1")
    e5 = propose(m4, plan, "2.B.3")
    proposing.propose(drafter, plan, target=key(plan, "2.B.1"), operation="delete")
    session.commit()

    comment(m5, plan, "node", key(plan, "1.p1"))  # Energía
    comment(m2, plan, "node", key(plan, "2.A.1"))  # Cultura
    comment(m5, plan, "amendment", str(e4.id))  # where E4 is: no group
    reported = comment(m1, plan, "amendment", str(e1.id), body="Esto es un insulto.")  # Energía
    deleted = comment(m3, plan, "node", key(plan, "2.B.3"))
    hidden = comment(m4, plan, "node", key(plan, "1.1"))
    hidden_only = comment(m8, plan, "node", key(plan, "1.2"))
    deleted_only = comment(deleter, plan, "node", key(plan, "1.3"))
    moderation.flag_comment(m3, reported, "Insulting.")
    moderation.flag_comment(m1, hidden, "Spam.")
    comments.delete_comment(m3, deleted)
    comments.delete_comment(deleter, deleted_only)
    moderation.hide_comment(facilitator, hidden, "Off topic.")
    moderation.hide_comment(facilitator, hidden_only, "Off topic.")

    supports.support(m3, e1)
    supports.support(m7, e1)
    lifecycle.decide(facilitator, e2, "admitted")
    supports.support(m4, e2)
    lifecycle.decide(facilitator, e3, "admitted")
    lifecycle.decide(facilitator, e3, "accepted")
    lifecycle.decide(facilitator, e4, "rejected")
    lifecycle.withdraw(m4, e5)
    session.commit()

    consultation = start_consultation(make, plan)
    return {"consultation": consultation, "e1": e1, "e2": e2, "reported": reported}


def test_figures_of_a_known_consultation(known):
    result = figures(known["consultation"])

    assert result.statuses == {
        "submitted": 1,
        "admitted": 1,
        "accepted": 1,
        "rejected": 1,
        "withdrawn": 1,
        "merged": 0,
        "voting": 0,
        "revise": 0,
    }
    assert result.amendments == 5
    assert [
        (group.label, group.amendments, group.comments, group.members) for group in result.groups
    ] == [("Cultura", 1, 1, 1), ("Energía", 2, 2, 1), ("No working group", 2, 1, 0)]
    energia = result.groups[1]
    assert (energia.statuses["submitted"], energia.statuses["admitted"]) == (1, 1)
    assert result.groups[0].statuses["accepted"] == 1
    no_group = result.groups[2]
    assert (no_group.statuses["rejected"], no_group.statuses["withdrawn"]) == (1, 1)

    assert (result.comments, result.supports, result.flagged_total) == (4, 3, 1)
    assert result.participants == 7
    assert result.coalition_rows == [
        ("Coalición Andina", 2),
        ("Red Sur", 2),
        (EVIL, 1),
        ("No coalition", 2),
    ]
    assert result.country_rows == [
        ("Argentina", 2),
        ("Colombia", 2),
        ("Peru", 1),
        ("Uruguay", 1),
        ("Unknown country", 1),
    ]
    # Waiting for a decision: the submitted one and the admitted one, which
    # still waits for acceptance or a vote.
    assert [a.id for a in result.triage] == [known["e1"].id, known["e2"].id]
    assert result.triage_total == 2
    assert result.triage[0].author is not None
    assert [c.id for c in result.flagged] == [known["reported"].id]

    assert result.current_phase is not None and result.current_phase.kind == "amendments"
    assert [(p.amendments, p.comments) for p in result.phases] == [(5, 4)]


def test_the_page_shows_the_figures_to_facilitators(client, known, facilitator):
    consultation = known["consultation"]
    sign_in(client, facilitator)
    response = client.get(dashboard_url(consultation))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'/forums/{consultation.forum.slug}/amendments/{known["e1"].id}"' in html
    assert f'/forums/{consultation.forum.slug}/comments/{known["reported"].id}"' in html
    assert "Esto es un insulto." in html
    assert 'role="img"' in html and '<title id="by-coalition-title">' in html
    assert '<th scope="row">Coalición Andina</th><td class="number">2</td>' in html
    assert '<th scope="row">Unknown country</th><td class="number">1</td>' in html
    assert "=HYPERLINK(&#34;http://evil.example/&#34;" in html  # escaped, never markup
    assert " style=" not in html and "<script>" not in html
    assert dashboard_url(consultation, ".csv") in html


def test_working_groups_fit_the_page_and_the_details_are_one_click_away(client, known, facilitator):
    """The groups' table has five columns whatever the number of statuses (it
    was cut off at 1280 px with one column per status); each status per group
    is in a disclosure beneath it, as is each chart's table."""
    result = figures(known["consultation"])
    energia = result.groups[1]
    assert (energia.amendments, energia.undecided, energia.accepted) == (2, 2, 0)
    cultura = result.groups[0]
    assert (cultura.amendments, cultura.undecided, cultura.accepted) == (1, 0, 1)

    sign_in(client, facilitator)
    html = client.get(dashboard_url(known["consultation"])).get_data(as_text=True)
    groups = html[html.index('id="groups-heading"') : html.index('id="triage-heading"')]
    summary_table = groups[: groups.index("<details")]
    assert summary_table.count('<th scope="col"') == 5
    assert (
        '<th scope="row">Energía</th>\n              <td class="number">2</td>\n'
        '              <td class="number">2</td>\n              <td class="number">0</td>'
    ) in summary_table
    breakdown = groups[groups.index("<details") :]
    assert "Amendments per working group and status" in breakdown
    assert '<th scope="row">Withdrawn</th>' in breakdown
    # Every chart keeps its figures, folded beneath it.
    assert html.count("<summary>The figures as a table</summary>") == 3


def test_members_are_refused_and_outsiders_see_nothing(client, make, forum, known):
    consultation = known["consultation"]
    member = make.member(forum, locale="en").user
    elsewhere = make.forum()
    outsider = make.member(elsewhere, role="facilitator", locale="en").user
    assert client.get(dashboard_url(consultation)).status_code == 302  # sign in first
    sign_in(client, member)
    for suffix in ("", ".csv"):
        assert client.get(dashboard_url(consultation, suffix)).status_code == 403
    sign_in(client, outsider)
    for suffix in ("", ".csv"):
        assert client.get(dashboard_url(consultation, suffix)).status_code == 404
    # Not through a forum one manages either: the consultation is not there.
    other_forum = f"/forums/{elsewhere.slug}/consultations/{consultation.id}/dashboard"
    assert client.get(other_forum).status_code == 404


def test_the_csv_download_has_the_figures_and_no_formulas(client, known, facilitator):
    consultation = known["consultation"]
    sign_in(client, facilitator)
    response = client.get(dashboard_url(consultation, ".csv"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["metric", "group", "value"]
    assert ["participants", "", "7"] in rows
    assert ["amendments_submitted", "", "1"] in rows
    assert ["comments", "Energía", "2"] in rows
    assert ["amendments_rejected", "No working group", "1"] in rows
    assert ["participants_by_coalition", "Coalición Andina", "2"] in rows
    assert ["participants_by_coalition", "'" + EVIL, "1"] in rows
    assert ["participants_by_country", "Unknown country", "1"] in rows
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_cells_that_look_like_formulas_are_defused():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "Red", 3)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\t=x",
        "Red",
        "3",
    ]


def test_figures_csv_of_an_empty_consultation(session, make, forum):
    consultation = start_consultation(make, make.plan(forum))
    result = figures(consultation)
    assert (result.amendments, result.comments, result.participants) == (0, 0, 0)
    assert result.by_coalition == [] and result.by_country == [] and result.groups == []
    rows = list(csv.reader(io.StringIO(figures_csv(result))))
    assert ["participants", "", "0"] in rows


# --- the queries do not grow with the data ---------------------------------------------


def populate(session, make, forum, facilitator, people: int):
    """``people`` members in a few coalitions, each proposing, supporting and commenting."""
    plan = make.plan(forum)
    group = make.group(forum, "Energía")
    plan_settings.assign_section(None, plan, key(plan, "1"), group.id)
    coalitions = [make.coalition(forum, f"Coalición {n}", ("CO", "AR")[n % 2]) for n in range(3)]
    refs = ["1.1", "1.2", "2.A.1", "2.B.1", "2.B.3"]
    proposed, members = [], []
    for n in range(people):
        member = make.member(forum, coalition=coalitions[n % 3], groups=[group]).user
        members.append(member)
        proposed.append(propose(member, plan, refs[n % len(refs)], text=f"Texto {n}."))
    session.commit()
    for n, member in enumerate(members):
        written = comment(member, plan, "amendment", str(proposed[n].id), body=f"Nota {n}.")
        comment(member, plan, "node", key(plan, refs[n % len(refs)]))
        supports.support(member, proposed[(n + 1) % people])
        moderation.flag_comment(members[(n + 1) % people], written, "Revisar.")
    for n, amendment in enumerate(proposed):
        if n % 3 == 1:
            lifecycle.decide(facilitator, amendment, "admitted")
        elif n % 3 == 2:
            lifecycle.decide(facilitator, amendment, "rejected")
    session.commit()
    return start_consultation(make, plan)


def test_dashboard_queries_do_not_grow_with_the_consultation(
    client, make, session, count_statements, pages_built_each_time
):
    small_forum, large_forum = make.forum(), make.forum()
    facilitator = make.member(small_forum, role="facilitator", locale="en").user
    make.member(large_forum, facilitator, role="facilitator")
    small = populate(session, make, small_forum, facilitator, 3)
    large = populate(session, make, large_forum, facilitator, 30)
    assert figures(large).participants == 30 and figures(small).participants == 3
    sign_in(client, facilitator)
    counts = []
    for consultation in (small, large):
        assert client.get(dashboard_url(consultation)).status_code == 200  # warm up
        with count_statements() as seen:
            response = client.get(dashboard_url(consultation))
            assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]
