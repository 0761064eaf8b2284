"""What a vote's page offers each person is exactly what the services let them
do (``votes.permissions``), role by role; and what the assembly session needs
of votes: amendments put to the assembly voted on as they stand, a ranked vote
between the amendments its point lists, and a receipt that leads back to the
page the ballot was cast from."""

import re
from datetime import timedelta

import pytest

from consult.amendments import lifecycle as amendment_lifecycle
from consult.amendments import queries as amendment_queries
from consult.amendments.models import AmendmentStatus
from consult.database import utcnow
from consult.errors import Conflict, ServiceError
from consult.extensions import db
from consult.votes import casting, lifecycle, permissions, proxies, setup
from consult.votes.blueprint import ballot_return_path
from consult.votes.models import PollState
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

ROLES = ("observer", "outsider", "delegate", "holder", "grantor", "voter", "facilitator")

# What the page shows for each action: a form's action, or a ballot's first field.
OFFERED = {
    "cast": r'id="own-yes"',
    "change": r'id="change-yes"',
    "vote_for_others": r'id="proxy-\d+-yes"',
    "give_proxy": r'action="[^"]*/proxy"',
    "revoke_proxy": r'action="[^"]*/proxy/revoke"',
    "check_receipt": r'action="[^"]*/receipt"',
    "open": r'action="[^"]*/open"',
    "close": r'action="[^"]*/close"',
    "cancel": r'action="[^"]*/cancel"',
    "roll_call": r'href="[^"]*/roll-call"',
}


@pytest.fixture
def world(make, session, forum, plan, facilitator):
    """An assembly vote on an admitted amendment, open, secret, two proxies a
    delegate: a delegate who has given their vote to another, one who has
    voted, and people around who do not vote."""
    people = {
        "observer": make.member(forum, role="observer", locale="en").user,
        "outsider": make.member(forum, locale="en").user,
        "facilitator": facilitator,
    }
    for role in ("delegate", "holder", "grantor", "voter", "spare"):
        people[role] = make.delegate(forum, locale="en")
    amendment = make.amendment(plan, people["outsider"], admitted_by=facilitator)
    poll = make.poll(plan, facilitator, amendment=amendment, max_proxies=2)
    proxies.grant_proxy(people["grantor"], poll, people["holder"].id)
    codes = {people["voter"].id: casting.cast(people["voter"], poll, "yes")}
    session.commit()
    return poll, people, codes


def attempt(action: str, user, poll, people, codes) -> bool:
    """Whether the service does ``action`` for ``user`` (undone afterwards)."""
    voted = user.id in codes
    calls = {
        "cast": lambda: not voted and casting.cast(user, poll, "no"),
        "change": lambda: voted and casting.cast(user, poll, "no", receipt=codes[user.id]),
        "vote_for_others": lambda: casting.cast(
            user, poll, "no", on_behalf_of=people["grantor"].id
        ),
        "give_proxy": lambda: proxies.grant_proxy(user, poll, people["spare"].id),
        "revoke_proxy": lambda: proxies.revoke_proxy(user, poll),
        "check_receipt": lambda: casting.check_receipt(poll, "ABCD-EFGH", user) or True,
        "open": lambda: lifecycle.open_poll(user, poll),
        "close": lambda: lifecycle.close_poll(user, poll),
        "cancel": lambda: lifecycle.cancel_poll(user, poll),
        "roll_call": lambda: proxies.set_presence(user, poll, set()) is not None,
    }
    savepoint = db.session.begin_nested()
    try:
        done = calls[action]() is not False
    except ServiceError:
        done = False
    savepoint.rollback()
    db.session.expire_all()
    return done


@pytest.mark.parametrize("role", ROLES)
def test_the_page_offers_each_person_what_the_services_allow(client, world, role):
    poll, people, codes = world
    user = people[role]
    sign_in(client, user)
    page = client.get(f"/forums/{poll.forum.slug}/polls/{poll.id}").get_data(as_text=True)
    actions = permissions.allowed(user, poll)
    offered = {action for action, mark in OFFERED.items() if re.search(mark, page)}
    allowed = {action for action in OFFERED if getattr(actions, f"may_{action}")}
    done = {action for action in OFFERED if attempt(action, user, poll, people, codes)}
    assert offered == allowed == done


def test_who_may_do_what_in_the_assembly_vote(world):
    poll, people, _codes = world
    allowed = {
        role: {
            action
            for action in OFFERED
            if getattr(permissions.allowed(user, poll), f"may_{action}")
        }
        for role, user in people.items()
        if role != "spare"
    }
    assert allowed == {
        "observer": {"check_receipt"},
        "outsider": {"check_receipt"},
        "delegate": {"cast", "give_proxy", "check_receipt"},
        "holder": {"cast", "vote_for_others", "check_receipt"},
        "grantor": {"revoke_proxy", "check_receipt"},
        "voter": {"change", "check_receipt"},
        "facilitator": {"check_receipt", "close", "cancel", "roll_call"},
    }


def test_a_vote_in_preparation_is_opened_by_its_facilitators_only(
    client, make, session, forum, plan, facilitator
):
    delegate = make.delegate(forum, locale="en")
    amendment = make.amendment(plan, delegate, admitted_by=facilitator)
    poll = make.poll(
        plan,
        facilitator,
        amendment=amendment,
        opens_at=utcnow() + timedelta(hours=1),
        closes_at=utcnow() + timedelta(hours=2),
        opened=False,
    )
    url = f"/forums/{forum.slug}/polls/{poll.id}"
    for user, may in ((delegate, False), (facilitator, True)):
        sign_in(client, user)
        page = client.get(url).get_data(as_text=True)
        assert bool(re.search(OFFERED["open"], page)) is may
        assert permissions.allowed(user, poll).may_open is may
        assert (permissions.open_refusal(user, poll) is None) is may
    assert lifecycle.open_poll(facilitator, poll) is True
    assert poll.state is PollState.OPEN and poll.state.label == "open"


def test_poll_states_are_labelled_and_stored_as_before(session, make, plan, facilitator):
    delegate = make.delegate(plan.forum, locale="en")
    poll = make.poll(
        plan, facilitator, amendment=make.amendment(plan, delegate, admitted_by=facilitator)
    )
    assert poll.state == "open" and isinstance(poll.state, PollState)
    stored = db.session.execute(db.text("SELECT state FROM polls WHERE id = :id"), {"id": poll.id})
    assert stored.scalar() == "open"
    assert [state.value for state in PollState] == ["draft", "open", "closed", "cancelled"]


# --- what the assembly session needs ----------------------------------------------------


def put_to_assembly(make, plan, facilitator, author, ref="1"):
    amendment = make.amendment(plan, author, ref=ref, admitted_by=facilitator)
    amendment_lifecycle.decide(facilitator, amendment, "voting")
    db.session.commit()
    assert amendment.status is AmendmentStatus.VOTING
    return amendment


def assembly_poll(facilitator, plan, **options):
    return setup.create_poll(
        facilitator,
        plan,
        scope="assembly",
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(hours=1),
        **options,
    )


def test_an_assembly_vote_takes_an_amendment_put_to_the_assembly_as_it_stands(
    session, make, forum, plan, facilitator
):
    author = make.delegate(forum, locale="en")
    group = make.group(forum)
    amendment = put_to_assembly(make, plan, facilitator, author)
    with pytest.raises(Conflict, match="Only admitted amendments"):
        setup.create_poll(
            facilitator,
            plan,
            subject="amendment",
            scope="group",
            group=group,
            amendment=amendment,
            opens_at=utcnow(),
            closes_at=utcnow() + timedelta(hours=1),
        )
    poll = assembly_poll(facilitator, plan, subject="amendment", amendment=amendment)
    lifecycle.open_poll(facilitator, poll)
    session.commit()
    moves = [(e.from_status, e.to_status) for e in amendment_queries.history(amendment)]
    assert moves[-1] == ("admitted", "voting")  # put to the assembly, and no round trip
    assert ("voting", "admitted") not in moves
    with pytest.raises(Conflict, match="already in a vote"):
        assembly_poll(facilitator, plan, subject="amendment", amendment=amendment)


def test_a_ranked_vote_chooses_between_the_amendments_it_is_given(
    session, make, forum, plan, facilitator
):
    author = make.delegate(forum, locale="en")
    first, second, third = (make.amendment(plan, author, admitted_by=facilitator) for _ in range(3))
    fourth = put_to_assembly(make, plan, facilitator, author)
    poll = assembly_poll(
        facilitator,
        plan,
        subject="competing",
        amendments=[third, fourth, first],
        settings=setup.PollSettings(method="schulze"),
    )
    assert [c.amendment_id for c in poll.candidates] == [third.id, fourth.id, first.id, None]
    assert poll.target_key == first.target_key
    assert second.id not in {c.amendment_id for c in poll.candidates}
    elsewhere = make.amendment(plan, author, ref="2", admitted_by=facilitator)
    with pytest.raises(Conflict, match="same item"):
        assembly_poll(
            facilitator,
            plan,
            subject="competing",
            amendments=[second, elsewhere],
            settings=setup.PollSettings(method="irv"),
        )


def test_the_receipt_leads_back_to_a_local_page_the_ballot_came_from(
    app, client, session, make, forum, plan, facilitator
):
    delegate = make.delegate(forum, locale="en")
    others = [make.delegate(forum, locale="en") for _ in range(2)]  # in the electorate
    poll = make.poll(
        plan, facilitator, amendment=make.amendment(plan, delegate, admitted_by=facilitator)
    )
    sign_in(client, delegate)
    url = f"/forums/{forum.slug}/polls/{poll.id}/vote"
    phone = f"/forums/{forum.slug}/assembly/1/phone"
    page = client.post(url, data={"choice": "yes", "next": phone}).get_data(as_text=True)
    assert f'href="{phone}">Back</a>' in page
    assert "Back to the vote" in page
    for other, hostile in zip(
        others, ("https://evil.example/phone", "//evil.example/x"), strict=True
    ):
        browser = app.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        sign_in(browser, other)
        page = browser.post(url, data={"choice": "no", "next": hostile}).get_data(as_text=True)
        assert "Your receipt code" in page and "evil.example" not in page
        assert ">Back</a>" not in page


def test_a_ballot_on_the_phone_page_returns_to_the_phone_page(app):
    phone = "/forums/a-forum/assembly/7/phone"
    for path in (phone, phone + "/live"):  # the page, and its live fragment
        with app.test_request_context(path):
            assert ballot_return_path() == phone
    with app.test_request_context("/forums/a-forum/polls/3"):
        assert ballot_return_path() is None  # the vote's own page: "Back to the vote"
