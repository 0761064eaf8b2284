"""The two requests of the assembly (issue 20), each sent by 300 delegates at
once: the sign-in, whose cost is the password hash and little else, and the
ballot: few statements, the poll's forum still guarded, and a receipt only for
a vote that was committed."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from consult.accounts.models import AuthAttempt
from consult.database import utcnow
from consult.extensions import db
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from consult.votes import lifecycle, setup
from consult.votes.models import Ballot, Participation
from tests.factories import sign_in

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n"
# The session's user; the poll with its forum, plan and the reader's membership;
# the plan's consultation; the casting checks under the poll's shared lock; the
# participation; the ballot; the header's unread count; the data's generation
# moved on (consult.generation: in the transaction on SQLite, after it on PostgreSQL).
VOTE_STATEMENTS = 8


@pytest.fixture(autouse=True)
def english(client, session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


def assembly_vote(session, make, *, public=False):
    """An open, secret assembly vote on a plan, with two delegates."""
    forum = make.forum(public=public)
    chair = make.member(forum, role="facilitator", locale="en").user
    memberships = [make.member(forum, locale="en") for _ in range(2)]
    for membership in memberships:
        membership.is_delegate = True
    delegates = [membership.user for membership in memberships]
    plan = plans.import_plan(None, forum, PLAN_TEXT)
    poll = setup.create_poll(
        chair,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=1),
        settings=setup.PollSettings(title="Final approval"),
    )
    lifecycle.open_poll(chair, poll)
    session.commit()
    return forum, poll, delegates


def url(forum, poll, suffix=""):
    return f"/forums/{forum.slug}/polls/{poll.id}{suffix}"


@contextmanager
def statements(app):
    """The statements the app sends, less the savepoints with which the test's
    session wraps each request."""
    seen: list[str] = []

    def note(_connection, _cursor, statement, *_args, **_kwargs):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def counted(session, poll):
    return (
        session.scalar(
            select(func.count()).select_from(Participation).where(Participation.poll_id == poll.id)
        ),
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)),
    )


def test_a_ballot_costs_a_few_statements_and_its_receipt_shows_the_vote(app, client, session, make):
    forum, poll, (delegate, _other) = assembly_vote(session, make)
    sign_in(client, delegate)
    path = url(forum, poll, "/vote")
    with statements(app) as sent:
        response = client.post(path, data={"choice": "no"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your vote: No" in page
    assert delegate.display_name in page  # the layout, rendered before the commit
    code = re.search(r'receipt-code"><strong>([A-Z0-9-]+)<', page).group(1)
    assert len(sent) <= VOTE_STATEMENTS, sent
    assert counted(session, poll) == (1, 1)
    assert votes_casting.check_receipt(poll, code) == "no"
    # A second ballot from the same delegate is refused and changes nothing.
    again = client.post(path, data={"choice": "yes"})
    assert again.status_code == 409
    assert counted(session, poll) == (1, 1)


def test_a_vote_whose_commit_fails_shows_no_receipt_and_counts_nothing(
    client, session, make, monkeypatch
):
    forum, poll, (delegate, _other) = assembly_vote(session, make)
    sign_in(client, delegate)

    def database_gone():
        db.session.rollback()
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(db.session, "commit", database_gone)
    response = client.post(url(forum, poll, "/vote"), data={"choice": "yes"})
    monkeypatch.undo()
    assert response.status_code == 503
    assert "receipt-code" not in response.get_data(as_text=True)
    assert counted(session, poll) == (0, 0)


def test_the_poll_is_found_only_through_its_own_forum_and_by_those_who_may_see_it(
    client, session, make
):
    forum, poll, (delegate, _other) = assembly_vote(session, make)
    public, public_poll, _ = assembly_vote(session, make, public=True)
    outsider = make.user(locale="en")
    # Anyone may read a public forum's vote; a private forum's is a 404 to outsiders.
    assert client.get(url(public, public_poll)).status_code == 200
    assert client.get(url(forum, poll)).status_code == 404
    sign_in(client, outsider)
    assert client.get(url(public, public_poll)).status_code == 200
    assert client.get(url(forum, poll)).status_code == 404
    assert client.post(url(forum, poll, "/vote"), data={"choice": "yes"}).status_code == 404
    client.post("/sign-out")
    sign_in(client, delegate)
    assert client.get(url(forum, poll)).status_code == 200
    # A poll under another forum's name, or a forum that does not exist, is not there.
    assert client.get(url(public, poll)).status_code == 404
    assert client.get(f"/forums/no-such-forum/polls/{poll.id}").status_code == 404
    assert client.post(url(public, poll, "/vote"), data={"choice": "yes"}).status_code == 404
    assert counted(session, poll) == (0, 0)


def test_a_sign_in_without_earlier_failures_deletes_nothing_and_one_after_them_clears_them(
    app, client, session, make
):
    user = make.user(locale="en")
    with statements(app) as sent:
        sign_in(client, user)
    assert not [s for s in sent if s.lstrip().upper().startswith("DELETE")], sent
    client.post("/sign-out")
    for _ in range(2):
        wrong = client.post("/sign-in", data={"email": user.email, "password": "not it"})
        assert wrong.status_code == 401
    assert session.scalar(select(func.count()).select_from(AuthAttempt)) == 2
    sign_in(client, user)
    assert session.scalar(select(func.count()).select_from(AuthAttempt)) == 0
