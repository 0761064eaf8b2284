"""The `consult` command: idempotent set-up commands and the demo loader."""

from sqlalchemy import func, select

from consult.accounts.models import User
from consult.forums.models import Coalition, Forum, Membership, WorkingGroup
from consult.mail.models import OutboxEmail
from consult.votes.models import Poll


def run(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_forums_create_is_idempotent(app, session):
    first = run(app, "forums", "create", "red-mercociudades", "Red de Mercociudades")
    second = run(app, "forums", "create", "red-mercociudades", "Another name")
    assert first.exit_code == second.exit_code == 0
    assert "created" in first.output and "exists" in second.output
    forum = session.scalar(select(Forum).where(Forum.slug == "red-mercociudades"))
    assert forum.name == "Red de Mercociudades"


def test_forums_create_refuses_a_bad_slug(app, session):
    result = run(app, "forums", "create", "Not A Slug!", "Name")
    assert result.exit_code != 0
    assert count(session, Forum) == 0


def test_users_create_and_invite(app, session):
    run(app, "forums", "create", "red", "Red")
    created = run(
        app,
        "users",
        "create",
        "Chair@Example.org",
        "--name",
        "Chair",
        "--admin",
        "--password",
        "a good long password",
    )
    assert created.exit_code == 0, created.output
    chair = session.scalar(select(User).where(User.email == "chair@example.org"))
    assert chair.is_admin and chair.has_password
    invited = run(
        app, "users", "invite", "new@example.org", "--forum", "red", "--role", "facilitator"
    )
    assert invited.exit_code == 0, invited.output
    membership = session.scalar(
        select(Membership).join(User).where(User.email == "new@example.org")
    )
    assert membership.role == "facilitator"
    assert session.scalar(select(OutboxEmail).where(OutboxEmail.recipient == "new@example.org"))
    again = run(app, "users", "invite", "new@example.org", "--forum", "red")
    assert again.exit_code != 0


def test_demo_loads_once(app, session):
    assert run(app, "demo").exit_code == 0
    counts = [count(session, model) for model in (Forum, Coalition, WorkingGroup, User, Membership)]
    assert counts == [1, 3, 2, 5, 5]
    poll = session.scalar(select(Poll))
    assert (poll.state, poll.electorate_size) == ("open", 3)  # the first group votes on E1
    assert poll.amendment.status == "voting"
    second = run(app, "demo")
    assert "already present" in second.output
    assert [
        count(session, model) for model in (Forum, Coalition, WorkingGroup, User, Membership)
    ] == counts


def test_polls_tally_prints_the_result_as_json(app, tmp_path):
    import json

    ballots = tmp_path / "ballots.json"
    ballots.write_text(
        json.dumps(
            [
                ["A", "B", "C"],
                ["B", "C", "A"],
                ["B", "A", "C"],
                {"ranking": ["C", "A", "B"], "weight": 2},
            ]
        )
    )
    result = run(app, "polls", "tally", "--method", "irv", str(ballots))
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["winner"] == "B" and output["rounds"]
    schulze = json.loads(run(app, "polls", "tally", "--method", "schulze", str(ballots)).output)
    assert schulze["winner"] == "A"  # a 3-2 cycle A>B>C>A: the documented tie-break (name)
    ballots.write_text(json.dumps(["yes", "yes", "no", "abstain"]))
    yesno = json.loads(
        run(app, "polls", "tally", "--method", "yesno", "--rule", "two_thirds", str(ballots)).output
    )
    assert yesno["winner"] == "yes"
    ballots.write_text(json.dumps([["A", "A"]]))
    refused = run(app, "polls", "tally", "--method", "irv", str(ballots))
    assert refused.exit_code != 0 and "more than once" in refused.output
