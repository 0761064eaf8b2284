"""Polls, through the services: a frozen electorate, one vote per person, secret
ballots with receipts, proxies, majority rules and quorums, a checksummed result
that decides the amendments or approves the plan, and the scheduler."""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from flask_babel import force_locale
from sqlalchemy import Integer, String, func, select, update

from consult.amendments import lifecycle, proposing, queries
from consult.audit.models import AuditEvent
from consult.consultations import permissions as consultation_rules
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from consult.forums import groups as forum_groups
from consult.forums import memberships as forum_members
from consult.forums import permissions as forum_permissions
from consult.notifications.models import Notification
from consult.plans import services as plans
from consult.votes import casting, integrity, scheduling, setup
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import permissions as votes_permissions
from consult.votes import proxies as votes_proxies
from consult.votes import queries as votes_queries
from consult.votes.models import (
    Ballot,
    NamedVote,
    Participation,
    Poll,
    PollProxy,
    PollVoter,
)
from consult.votes.setup import PollSettings
from tests.factories import PASSWORD

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RECEIPT = re.compile(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}")
# One hash for everyone who "accepted their invitation": hashing a password per
# person would make the bigger electorates slow to build.
ACCEPTED = PasswordHasher().hash(PASSWORD)


@pytest.fixture(autouse=True)
def english(session):
    """The services' messages in English (the source language)."""
    with force_locale("en"):
        yield


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def facilitator(make, forum):
    return person(make, forum, name="Fabiola Facilitator", role="facilitator")


@pytest.fixture
def author(make, forum):
    return person(make, forum, name="Ana Author")


@pytest.fixture
def plan(session, forum):
    plan = plans.import_plan(None, forum, PLAN_TEXT)
    plan.open_for_input = True
    session.commit()
    return plan


@pytest.fixture
def group(make, forum):
    return make.group(forum)


# --- helpers ------------------------------------------------------------------------


def person(make, forum, *, name=None, role="member", groups=(), coalition=None, delegate=None):
    """A member who accepted their invitation; with ``delegate``, a delegate of the
    assembly with that vote weight."""
    membership = make.member(
        forum,
        role=role,
        groups=groups,
        coalition=coalition,
        name=name,
        password=None,
        locale="en",
    )
    membership.user.password_hash = ACCEPTED
    if delegate is not None:
        membership.is_delegate = True
        membership.vote_weight = Decimal(delegate)
    make.session.commit()
    return membership.user


def people(make, forum, count, **options):
    return [person(make, forum, **options) for _ in range(count)]


def key(plan, ref):
    return plans.find_node(plan.current_version, ref).key


def admitted(plan, author, facilitator, ref="1", text=None):
    amendment = proposing.propose(
        author,
        plan,
        target=key(plan, ref),
        operation="replace",
        text=text or f"A better item {ref}, take {utcnow().timestamp()}.",
        submit=True,
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    return amendment


def new_poll(
    facilitator,
    plan,
    *,
    subject="amendment",
    scope="group",
    amendment=None,
    group=None,
    target_key=None,
    phase=None,
    opens_at=None,
    closes_at=None,
    **settings,
):
    now = utcnow()
    return setup.create_poll(
        facilitator,
        plan,
        subject=subject,
        scope=scope,
        opens_at=opens_at or now,
        closes_at=closes_at or now + HOUR,
        settings=PollSettings(**settings),
        amendment=amendment,
        target_key=target_key,
        group=group,
        phase=phase,
    )


def opened(facilitator, plan, **options):
    poll = new_poll(facilitator, plan, **options)
    assert votes_lifecycle.open_poll(facilitator, poll) is True
    return poll


def vote_all(poll, voters, choices):
    return [
        casting.cast(voter, poll, choice) for voter, choice in zip(voters, choices, strict=True)
    ]


def close(session, facilitator, poll):
    """Close the poll, then read everything back from the database."""
    assert votes_lifecycle.close_poll(facilitator, poll) is True
    session.commit()
    session.expire_all()


def count(session, model, *conditions):
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def notifications(session, user, kind):
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def transitions(amendment):
    return [(event.from_status, event.to_status) for event in queries.history(amendment)]


# --- a yes/no vote on an amendment, from opening to the decision -------------------------


@pytest.mark.parametrize(
    ("choices", "winner", "decision"),
    [(("yes", "yes", "no"), "yes", "accepted"), (("no", "no", "yes"), "no", "rejected")],
)
def test_a_group_vote_decides_an_amendment(
    session, make, forum, plan, group, facilitator, author, choices, winner, decision
):
    voters = people(make, forum, 3, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = new_poll(facilitator, plan, amendment=amendment, group=group)
    assert (poll.state, amendment.status) == ("draft", "admitted")
    with pytest.raises(Conflict, match="not opened yet"):
        casting.cast(voters[0], poll, "yes")

    assert votes_lifecycle.open_poll(facilitator, poll) is True
    assert (poll.state, poll.electorate_size, poll.electorate_weight) == ("open", 3, Decimal(3))
    assert {voter.user_id for voter in votes_queries.electorate(poll)} == {v.id for v in voters}
    assert amendment.status == "voting"
    assert votes_lifecycle.open_poll(facilitator, poll) is False  # it opens once
    assert all(notifications(session, voter, "poll_opened") for voter in voters)

    codes = vote_all(poll, voters, choices)
    assert all(RECEIPT.fullmatch(code) for code in codes) and len(set(codes)) == 3
    assert [casting.check_receipt(poll, code) for code in codes] == list(choices)
    # The code works however the voter types it.
    assert casting.check_receipt(poll, codes[0].lower().replace("-", " ")) == choices[0]
    assert votes_queries.turnout(poll)["voters"] == 3
    session.commit()

    close(session, facilitator, poll)
    assert poll.state == "closed" and poll.closed_at is not None
    assert (poll.winner, poll.quorum_met, poll.ballot_count) == (winner, True, 3)
    assert poll.turnout_weight == 3
    assert poll.checksum == integrity.checksum(integrity.canonical_ballots(poll))
    result = votes_queries.stored_result(poll)
    assert result["winner"] == winner and result["ballots"] == 3
    assert (result["tally"]["yes"], result["tally"]["no"]) == (
        str(choices.count("yes")),
        str(choices.count("no")),
    )
    assert amendment.status == decision and amendment.decided_at is not None
    assert transitions(amendment)[-2:] == [("admitted", "voting"), ("voting", decision)]
    told = [n.data["status"] for n in notifications(session, author, "amendment_status")]
    assert told[-2:] == ["voting", decision]
    assert all(notifications(session, voter, "poll_result") for voter in voters)
    assert integrity.verify(poll)["ok"] is True
    # Closed once: neither the scheduler nor a facilitator can count it again.
    assert votes_lifecycle.close_poll(None, poll) is False
    with pytest.raises(Conflict):
        votes_lifecycle.close_poll(facilitator, poll)
    with pytest.raises(Conflict, match="closed"):
        casting.cast(voters[0], poll, "yes", receipt=codes[0])


# --- majority rules ------------------------------------------------------------------------

Y, N, A = "yes", "no", "abstain"


@pytest.mark.parametrize(
    ("rule", "abstentions_count", "choices", "winner"),
    [
        # simple: more yes than no; counting abstentions, more yes than no + abstain
        ("simple", False, [Y, Y, Y, N, A, A], Y),
        ("simple", True, [Y, Y, Y, N, A, A], N),
        ("simple", False, [Y, A, A, A, A], Y),
        ("simple", True, [Y, A, A, A, A], N),
        # a tie does not pass
        ("simple", False, [Y, Y, N, N, A], N),
        ("simple", False, [Y, N], N),
        # absolute: more than half of the whole electorate (6), whoever voted
        ("absolute", False, [Y, Y, Y, N, A, A], N),
        ("absolute", False, [Y, Y, Y], N),
        ("absolute", False, [Y, Y, Y, Y, N], Y),
        ("absolute", True, [Y, Y, Y, Y, N, A], Y),
        # two thirds of yes + no (+ abstain when they count); exactly two thirds passes
        ("two_thirds", False, [Y, Y, Y, N, A, A], Y),
        ("two_thirds", True, [Y, Y, Y, N, A, A], N),
        ("two_thirds", False, [Y, Y, N], Y),
        ("two_thirds", False, [Y, Y, Y, N, N], N),
        ("two_thirds", False, [A, A], N),
    ],
)
def test_majority_rules(
    session, make, forum, plan, group, facilitator, author, rule, abstentions_count, choices, winner
):
    voters = people(make, forum, 6, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(
        facilitator,
        plan,
        amendment=amendment,
        group=group,
        rule=rule,
        abstentions_count=abstentions_count,
    )
    vote_all(poll, voters[: len(choices)], choices)
    close(session, facilitator, poll)
    assert poll.winner == winner
    assert amendment.status == ("accepted" if winner == Y else "rejected")
    assert integrity.verify(poll)["ok"] is True


# --- quorums -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "choices", "required", "met"),
    [
        ("count", Decimal(3), [Y, Y], "3", False),
        ("count", Decimal(3), [Y, Y, A], "3", True),  # abstentions take part
        ("share", Decimal("0.5"), [Y, Y], "2.5", False),
        ("share", Decimal("0.5"), [Y, Y, A], "2.5", True),
    ],
)
def test_a_vote_without_quorum_decides_nothing(
    session, make, forum, plan, group, facilitator, author, kind, value, choices, required, met
):
    voters = people(make, forum, 5, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(
        facilitator, plan, amendment=amendment, group=group, quorum_kind=kind, quorum_value=value
    )
    vote_all(poll, voters[: len(choices)], choices)
    close(session, facilitator, poll)
    quorum = votes_queries.stored_result(poll)["quorum"]
    assert (quorum["required"], quorum["measured"], quorum["met"]) == (
        required,
        str(len(choices)),
        met,
    )
    assert poll.quorum_met is met
    assert integrity.verify(poll)["ok"] is True
    if met:
        assert (poll.winner, amendment.status) == (Y, "accepted")
        return
    assert poll.winner is None
    assert amendment.status == "admitted" and amendment.decided_at is None
    assert transitions(amendment)[-2:] == [("admitted", "voting"), ("voting", "admitted")]
    # Back in the facilitators' hands: it can be put to a new vote.
    again = new_poll(facilitator, plan, amendment=amendment, group=group)
    assert again.state == "draft"


@pytest.mark.parametrize(("present", "met"), [(1, False), (2, True)])
def test_a_quorum_of_delegates_present_counts_the_roll_call(
    session, make, forum, plan, facilitator, author, present, met
):
    delegates = people(make, forum, 4, delegate=1)
    amendment = admitted(plan, author, facilitator)
    draft = new_poll(
        facilitator,
        plan,
        amendment=admitted(plan, author, facilitator, ref="2"),
        scope="assembly",
        quorum_base="present",
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    with pytest.raises(Conflict, match="roll call"):
        votes_proxies.set_presence(facilitator, draft, {delegates[0].id})
    poll = opened(
        facilitator,
        plan,
        amendment=amendment,
        scope="assembly",
        quorum_base="present",
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    with pytest.raises(PermissionDenied):
        votes_proxies.set_presence(delegates[0], poll, {d.id for d in delegates})
    vote_all(poll, delegates, [Y, Y, Y, Y])  # everyone votes, few are in the room
    # A second roll call replaces the first.
    assert votes_proxies.set_presence(facilitator, poll, {d.id for d in delegates}) == 4
    assert (
        votes_proxies.set_presence(facilitator, poll, {d.id for d in delegates[:present]})
        == present
    )
    assert votes_queries.turnout(poll)["present_weight"] == present
    close(session, facilitator, poll)
    assert poll.quorum_met is met
    assert votes_queries.stored_result(poll)["quorum"]["measured"] == str(present)
    assert poll.winner == (Y if met else None)
    assert amendment.status == ("accepted" if met else "admitted")


# --- the frozen electorate -----------------------------------------------------------------


def test_the_electorate_is_frozen_when_the_poll_opens(
    session, make, forum, plan, group, facilitator, author
):
    stays, leaves = people(make, forum, 2, groups=[group])
    observer = person(make, forum, role="observer", groups=[group])
    invited = make.member(forum, groups=[group], password=None).user  # never accepted
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, group=group)
    assert (poll.electorate_size, poll.electorate_weight) == (2, Decimal(2))
    assert {voter.user_id for voter in votes_queries.electorate(poll)} == {stays.id, leaves.id}
    for outsider in (observer, invited):
        assert not votes_permissions.allowed(outsider, poll).may_cast
        with pytest.raises(PermissionDenied):
            casting.cast(outsider, poll, Y)

    latecomer = person(make, forum, groups=[group])
    forum_groups.remove_group_member(facilitator, group, leaves.id)
    session.commit()
    with pytest.raises(PermissionDenied):
        casting.cast(latecomer, poll, Y)
    assert votes_permissions.allowed(leaves, poll).may_cast
    casting.cast(leaves, poll, N)
    casting.cast(stays, poll, N)
    close(session, facilitator, poll)
    assert (poll.electorate_size, poll.ballot_count, poll.winner) == (2, 2, N)


def test_a_delegates_weight_is_the_one_frozen_at_opening(
    session, make, forum, plan, facilitator, author
):
    heavy = person(make, forum, delegate=2)
    light = person(make, forum, delegate=1)
    person(make, forum)  # a member, not a delegate: no vote in the assembly
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, scope="assembly")
    assert (poll.electorate_size, poll.electorate_weight) == (2, Decimal(2 + 1))

    forum_members.update_membership(
        facilitator,
        forum_permissions.membership_of(heavy, forum),
        role="member",
        coalition=None,
        is_delegate=True,
        vote_weight="10",
    )
    forum_members.update_membership(
        facilitator,
        forum_permissions.membership_of(light, forum),
        role="member",
        coalition=None,
        is_delegate=False,
        vote_weight="0",
    )
    newcomer = person(make, forum, delegate=5)
    session.commit()
    with pytest.raises(PermissionDenied):
        casting.cast(newcomer, poll, Y)
    casting.cast(heavy, poll, N)
    casting.cast(light, poll, Y)
    close(session, facilitator, poll)
    assert integrity.canonical_ballots(poll) == [(N, "2"), (Y, "1")]
    assert (poll.turnout_weight, poll.electorate_weight, poll.winner) == (3, 3, N)


def test_a_heavy_delegate_outweighs_two_light_ones(session, make, forum, plan, facilitator, author):
    heavy, light, lighter = (person(make, forum, delegate=w) for w in (3, 1, 1))
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, scope="assembly")
    assert poll.electorate_weight == 5
    vote_all(poll, [heavy, light, lighter], [Y, N, N])
    close(session, facilitator, poll)
    tally = votes_queries.stored_result(poll)["tally"]
    assert (tally["yes"], tally["no"]) == ("3", "2")
    assert (poll.winner, amendment.status) == (Y, "accepted")
    assert integrity.canonical_ballots(poll) == [(N, "1"), (N, "1"), (Y, "3")]


# --- proxies -------------------------------------------------------------------------------


@pytest.fixture
def delegates(make, forum):
    """Four delegates; the first weighs 3, the others 1."""
    return [
        person(make, forum, name=f"Delegate {n}", delegate=weight)
        for n, weight in enumerate((3, 1, 1, 1), start=1)
    ]


def assembly_poll(facilitator, plan, author, **settings):
    amendment = admitted(plan, author, facilitator)
    return opened(facilitator, plan, amendment=amendment, scope="assembly", **settings)


def test_a_proxy_holder_votes_for_the_grantor_with_the_grantors_weight(
    session, plan, facilitator, author, delegates
):
    grantor, holder, _, _ = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=1)
    proxy = votes_proxies.grant_proxy(grantor, poll, holder.id)
    assert (proxy.grantor_id, proxy.holder_id) == (grantor.id, holder.id)
    assert notifications(session, holder, "proxy_received")
    assert not votes_permissions.allowed(grantor, poll).may_cast
    with pytest.raises(Conflict, match="revoke the proxy"):
        casting.cast(grantor, poll, N)

    code = casting.cast(holder, poll, Y, on_behalf_of=grantor.id)
    assert casting.check_receipt(poll, code) == Y
    casting.cast(holder, poll, N)  # the holder's own vote is still theirs
    participation = session.scalar(
        select(Participation).where(
            Participation.poll_id == poll.id, Participation.voter_id == grantor.id
        )
    )
    assert participation.cast_by_id == holder.id
    held = votes_permissions.voter_status(holder, poll).proxies_held
    assert [(user.id, voted) for user, voted in held] == [(grantor.id, True)]
    with pytest.raises(Conflict, match="already voted for you"):
        votes_proxies.revoke_proxy(grantor, poll)
    with pytest.raises(Conflict):
        casting.cast(grantor, poll, N)
    with pytest.raises(Conflict):  # one vote per voter, whoever casts it
        casting.cast(holder, poll, N, on_behalf_of=grantor.id)

    close(session, facilitator, poll)
    assert integrity.canonical_ballots(poll) == [(N, "1"), (Y, "3")]
    assert (poll.winner, poll.turnout_weight) == (Y, 4)


def test_revoking_a_proxy_before_it_is_used_gives_the_vote_back(
    session, plan, facilitator, author, delegates
):
    grantor, holder, _, _ = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=1)
    votes_proxies.grant_proxy(grantor, poll, holder.id)
    votes_proxies.revoke_proxy(grantor, poll)
    assert count(session, PollProxy, PollProxy.poll_id == poll.id) == 0
    assert votes_permissions.voter_status(holder, poll).proxies_held == []
    with pytest.raises(PermissionDenied):
        casting.cast(holder, poll, Y, on_behalf_of=grantor.id)
    with pytest.raises(Conflict, match="not given your vote"):
        votes_proxies.revoke_proxy(grantor, poll)
    assert votes_permissions.allowed(grantor, poll).may_cast
    casting.cast(grantor, poll, N)
    with pytest.raises(Conflict, match="cast already"):  # and now it cannot be handed on
        votes_proxies.grant_proxy(grantor, poll, holder.id)
    actions = session.scalars(select(AuditEvent.action)).all()
    assert {"poll.proxy_granted", "poll.proxy_revoked"} <= set(actions)


def test_a_proxy_cannot_be_passed_on(session, make, forum, plan, facilitator, author, delegates):
    first, second, third, _ = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=2)
    votes_proxies.grant_proxy(first, poll, second.id)
    with pytest.raises(Conflict, match="cannot give yours away"):
        votes_proxies.grant_proxy(second, poll, third.id)  # a holder cannot grant
    with pytest.raises(Conflict, match="cannot carry yours"):
        votes_proxies.grant_proxy(third, poll, first.id)  # a grantor cannot hold
    with pytest.raises(Conflict, match="revoke that proxy first"):
        votes_proxies.grant_proxy(first, poll, third.id)  # one proxy per grantor
    with pytest.raises(InvalidInput):
        votes_proxies.grant_proxy(third, poll, third.id)
    with pytest.raises(InvalidInput):
        votes_proxies.grant_proxy(third, poll, facilitator.id)  # not in the electorate
    with pytest.raises(PermissionDenied):
        votes_proxies.grant_proxy(person(make, forum), poll, third.id)
    candidates = votes_permissions.voter_status(third, poll).proxy_candidates
    assert [user.id for user in candidates] == [second.id, delegates[3].id]
    assert count(session, PollProxy, PollProxy.poll_id == poll.id) == 1


@pytest.mark.parametrize("limit", [1, 2])
def test_a_delegate_carries_at_most_max_proxies(
    session, plan, facilitator, author, delegates, limit
):
    holder, *grantors = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=limit)
    for grantor in grantors[:limit]:
        votes_proxies.grant_proxy(grantor, poll, holder.id)
    with pytest.raises(Conflict, match="as many votes as this poll allows"):
        votes_proxies.grant_proxy(grantors[limit], poll, holder.id)
    candidates = votes_permissions.voter_status(grantors[limit], poll).proxy_candidates
    # Neither the full holder nor those who gave their vote away are offered.
    assert [user.id for user in candidates] == [user.id for user in grantors[limit + 1 :]]
    for grantor in grantors[:limit]:
        casting.cast(holder, poll, N, on_behalf_of=grantor.id)
    casting.cast(holder, poll, Y)
    close(session, facilitator, poll)
    assert poll.ballot_count == limit + 1
    assert poll.winner == Y  # 3 against 1 or 2


def test_a_poll_without_proxies_refuses_them(session, plan, facilitator, author, delegates):
    first, second, _, _ = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=0)
    with pytest.raises(Conflict, match="does not allow proxies"):
        votes_proxies.grant_proxy(first, poll, second.id)
    assert votes_permissions.voter_status(first, poll).proxy_candidates == []


def test_only_the_proxy_holder_votes_on_someones_behalf(
    session, plan, facilitator, author, delegates
):
    grantor, holder, stranger, other = delegates
    poll = assembly_poll(facilitator, plan, author, max_proxies=1)
    votes_proxies.grant_proxy(grantor, poll, holder.id)
    with pytest.raises(PermissionDenied):
        casting.cast(stranger, poll, Y, on_behalf_of=grantor.id)
    with pytest.raises(PermissionDenied):
        casting.cast(stranger, poll, Y, on_behalf_of=other.id)  # no proxy at all
    with pytest.raises(PermissionDenied):
        casting.cast(grantor, poll, Y, on_behalf_of=holder.id)  # the proxy is one-way
    assert count(session, Participation, Participation.poll_id == poll.id) == 0
    assert count(session, Ballot, Ballot.poll_id == poll.id) == 0


# --- one person, one vote ------------------------------------------------------------------


def test_a_second_vote_is_refused_when_changes_are_not_allowed(
    session, make, forum, plan, group, facilitator, author
):
    voter, other = people(make, forum, 2, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, group=group, allow_change=False)
    code = casting.cast(voter, poll, Y)
    with pytest.raises(Conflict, match="does not allow changes"):
        casting.cast(voter, poll, N)
    with pytest.raises(Conflict, match="does not allow changes"):
        casting.cast(voter, poll, N, receipt=code)
    casting.cast(other, poll, N)
    assert casting.check_receipt(poll, code) == Y
    close(session, facilitator, poll)
    assert poll.ballot_count == 2
    assert integrity.canonical_ballots(poll) == [(N, "1"), (Y, "1")]


def test_in_a_secret_poll_only_the_receipt_code_changes_a_vote(
    session, make, forum, plan, group, facilitator, author
):
    voter, other = people(make, forum, 2, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, group=group, allow_change=True)
    first = casting.cast(voter, poll, Y)
    others = casting.cast(other, poll, Y)

    with pytest.raises(Conflict, match="receipt code"):
        casting.cast(voter, poll, N)
    with pytest.raises(InvalidInput, match="does not match"):
        casting.cast(voter, poll, N, receipt="AAAA-BBBB-CCCC-DDDD")
    with pytest.raises(InvalidInput, match="does not match"):
        casting.cast(voter, poll, N, receipt=others)  # another voter's valid code
    assert casting.check_receipt(poll, others) == Y

    second = casting.cast(voter, poll, N, receipt=first.lower())
    assert second != first
    assert casting.check_receipt(poll, first) is None
    assert casting.check_receipt(poll, second) == N
    assert casting.check_receipt(poll, others) == Y
    with pytest.raises(InvalidInput, match="does not match"):
        casting.cast(voter, poll, A, receipt=first)  # the old code is spent
    assert count(session, Participation, Participation.poll_id == poll.id) == 2
    assert count(session, Ballot, Ballot.poll_id == poll.id) == 2
    assert count(session, NamedVote) == 0
    close(session, facilitator, poll)
    assert integrity.canonical_ballots(poll) == [(N, "1"), (Y, "1")]
    assert poll.winner == N  # a tie


def test_in_a_named_poll_the_last_choice_counts_and_the_history_is_kept(
    session, make, forum, plan, group, facilitator, author
):
    voter = person(make, forum, name="Alba Named", groups=[group])
    other = person(make, forum, name="Bruno Named", groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(
        facilitator, plan, amendment=amendment, group=group, secret=False, allow_change=True
    )
    now = utcnow()
    first = casting.cast(voter, poll, Y, now=now)
    casting.cast(other, poll, Y, now=now)
    second = casting.cast(voter, poll, N, now=now + MINUTE)  # no receipt needed
    history = votes_queries.vote_history(poll, voter.id)
    assert [json.loads(vote.choice) for vote in history] == [Y, N]
    assert history[0].superseded_at == now + MINUTE and history[1].superseded_at is None
    assert [
        (vote.voter_id, json.loads(vote.choice)) for vote in votes_queries.named_votes(poll)
    ] == [
        (voter.id, N),
        (other.id, Y),
    ]
    assert casting.check_receipt(poll, first) is None
    assert casting.check_receipt(poll, second) == N
    close(session, facilitator, poll)
    assert poll.ballot_count == 2 and poll.winner == N
    assert integrity.verify(poll)["ok"] is True


# --- secrecy -------------------------------------------------------------------------------


def test_the_schema_keeps_ballots_apart_from_voters():
    ballots = Ballot.__table__
    assert {fk.column.table.name for fk in ballots.foreign_keys} == {"polls"}
    assert [c.name for c in ballots.columns if c.type.python_type is datetime] == []
    assert not any(name in c.name for c in ballots.columns for name in ("user", "voter"))
    (key_column,) = ballots.primary_key.columns
    assert isinstance(key_column.type, String) and not isinstance(key_column.type, Integer)
    assert key_column.autoincrement is not True

    participations = Participation.__table__
    assert "ballots" not in {fk.column.table.name for fk in participations.foreign_keys}
    assert not any("ballot" in c.name for c in participations.columns)


RESULT_KEYS = {
    "poll",
    "method",
    "rule",
    "abstentions_count",
    "winner",
    "electorate_size",
    "electorate_weight",
    "ballots",
    "turnout_weight",
    "quorum",
    "tally",
    "checksum",
}
YES_NO_TALLY_KEYS = {
    "method",
    "winner",
    "rule",
    "rule_met",
    "abstentions_count",
    "yes",
    "no",
    "abstain",
    "participation",
    "base",
    "electorate_weight",
    "quorum",
    "quorum_required",
    "quorum_met",
    "ballots",
}


def test_a_secret_poll_keeps_no_record_of_who_chose_what(
    session, make, forum, plan, group, facilitator, author
):
    zelda = person(make, forum, name="Zelda Quixote", groups=[group])
    yorick = person(make, forum, name="Yorick Wainwright", groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, group=group)
    audit, notes = count(session, AuditEvent), count(session, Notification)
    codes = vote_all(poll, [zelda, yorick], [Y, N])
    # Casting writes the participation and the ballot, and nothing else.
    assert (count(session, AuditEvent), count(session, Notification)) == (audit, notes)
    assert count(session, NamedVote, NamedVote.poll_id == poll.id) == 0
    assert votes_queries.named_votes(poll) == []
    assert votes_queries.vote_history(poll, zelda.id) == []
    ballots = session.scalars(select(Ballot).where(Ballot.poll_id == poll.id)).all()
    assert all(re.fullmatch(r"[0-9a-f]{32}", ballot.id) for ballot in ballots)
    checks = set(session.scalars(select(Participation.receipt_check)))
    assert not checks & {ballot.receipt_hash for ballot in ballots}
    # Only the receipt codes, which the voters alone hold, lead to the ballots.
    assert [casting.check_receipt(poll, code) for code in codes] == [Y, N]

    close(session, facilitator, poll)
    assert integrity.canonical_ballots(poll) == [(N, "1"), (Y, "1")]
    result = votes_queries.stored_result(poll)
    assert set(result) == RESULT_KEYS and set(result["tally"]) == YES_NO_TALLY_KEYS
    for voter in (zelda, yorick):
        assert voter.display_name not in poll.result and voter.email not in poll.result
    assert votes_queries.named_votes(poll) == []


# --- the checksum --------------------------------------------------------------------------


def published_checksum(poll):
    """The checksum as anyone would recompute it from the published ballots."""
    lines = sorted(
        json.dumps([choice, weight], ensure_ascii=False, separators=(",", ":"))
        for choice, weight in integrity.canonical_ballots(poll)
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_the_checksum_covers_the_ballots_and_not_their_order(
    session, make, forum, plan, group, facilitator, author
):
    voters = people(make, forum, 4, groups=[group])
    choices = [Y, N, A, Y]
    polls = [
        opened(facilitator, plan, amendment=admitted(plan, author, facilitator), group=group)
        for _ in range(3)
    ]
    vote_all(polls[0], voters, choices)
    vote_all(polls[1], voters[::-1], choices[::-1])  # same ballots, the other way round
    vote_all(polls[2], voters, [Y, N, A, N])  # one ballot differs
    for poll in polls:
        close(session, facilitator, poll)
    first, second, third = polls
    assert first.checksum == integrity.checksum(integrity.canonical_ballots(first))
    assert first.checksum == published_checksum(first)
    assert first.checksum == second.checksum
    assert third.checksum != first.checksum
    assert votes_queries.stored_result(first)["checksum"] == first.checksum


@pytest.mark.parametrize("tamper", ["choice", "weight", "delete", "nonsense"])
def test_verify_finds_ballots_changed_after_closing(
    session, make, forum, plan, group, facilitator, author, tamper
):
    voters = people(make, forum, 3, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = opened(facilitator, plan, amendment=amendment, group=group)
    vote_all(poll, voters, [Y, Y, N])
    close(session, facilitator, poll)
    assert integrity.verify(poll)["ok"] is True
    target = session.scalar(select(Ballot.id).where(Ballot.poll_id == poll.id).limit(1))
    statement = {
        "choice": update(Ballot).values(choice=json.dumps(A)),
        "weight": update(Ballot).values(weight=Decimal(2)),
        "delete": Ballot.__table__.delete(),
        "nonsense": update(Ballot).values(choice=json.dumps("maybe")),
    }[tamper]
    session.execute(statement.where(Ballot.id == target))
    session.commit()
    report = integrity.verify(poll)
    assert report["ok"] is False and report["checksum_matches"] is False
    assert report["stored_checksum"] == poll.checksum != report["computed_checksum"]


def test_only_a_closed_poll_can_be_verified(session, make, forum, plan, group, facilitator, author):
    person(make, forum, groups=[group])
    poll = opened(facilitator, plan, amendment=admitted(plan, author, facilitator), group=group)
    with pytest.raises(Conflict):
        integrity.verify(poll)


# --- ranked polls between competing amendments ------------------------------------------


@pytest.fixture
def competing(plan, author, facilitator):
    """Three admitted amendments to item 1 (E1, E2, E3)."""
    return [
        admitted(plan, author, facilitator, text=text)
        for text in ("First, option one.", "First, option two.", "First, option three.")
    ]


# E2 beats each of the others one to one, but has the fewest first preferences:
# instant-runoff eliminates it at once (E1 wins), Schulze elects it.
CENTRE_SQUEEZE = 4 * [["E1", "E2", "E3"]] + 3 * [["E3", "E2", "E1"]] + 2 * [["E2", "E1", "E3"]]


@pytest.mark.parametrize(
    ("method", "status_quo", "winner"),
    [("irv", False, "E1"), ("irv", True, "E1"), ("schulze", False, "E2"), ("schulze", True, "E2")],
)
def test_a_ranked_poll_accepts_the_winner_and_rejects_the_others(
    session, make, forum, plan, group, facilitator, competing, method, status_quo, winner
):
    voters = people(make, forum, 9, groups=[group])
    poll = opened(
        facilitator,
        plan,
        subject="competing",
        target_key=key(plan, "1"),
        group=group,
        method=method,
        include_status_quo=status_quo,
    )
    names = ["E1", "E2", "E3"] + (["current"] if status_quo else [])
    assert [candidate.name for candidate in poll.candidates] == names
    assert [amendment.status for amendment in competing] == ["voting"] * 3
    vote_all(poll, voters, CENTRE_SQUEEZE)
    close(session, facilitator, poll)
    assert poll.winner == winner
    for amendment in competing:
        decision = "accepted" if amendment.label == winner else "rejected"
        assert amendment.status == decision
        assert transitions(amendment)[-1] == ("voting", decision)
    assert integrity.verify(poll)["ok"] is True


@pytest.mark.parametrize("method", ["irv", "schulze"])
def test_when_the_current_text_wins_every_amendment_is_rejected(
    session, make, forum, plan, group, facilitator, competing, method
):
    voters = people(make, forum, 5, groups=[group])
    poll = opened(
        facilitator,
        plan,
        subject="competing",
        target_key=key(plan, "1"),
        group=group,
        method=method,
    )
    ballots = 3 * [["current"]] + [["E1", "current"], ["E2", "E3"]]
    vote_all(poll, voters, ballots)
    close(session, facilitator, poll)
    assert poll.winner == "current"
    assert [amendment.status for amendment in competing] == ["rejected"] * 3


def test_a_ranked_ballot_must_rank_the_polls_options(
    session, make, forum, plan, group, facilitator, competing
):
    voter = person(make, forum, groups=[group])
    poll = opened(
        facilitator,
        plan,
        subject="competing",
        target_key=key(plan, "1"),
        group=group,
        method="schulze",
    )
    for choice in ([], ["E1", "E1"], ["E1", "E9"], Y, [1, 2]):
        with pytest.raises(InvalidInput):
            casting.cast(voter, poll, choice)
    code = casting.cast(voter, poll, ["E3", "current"])
    assert casting.check_receipt(poll, code) == ["E3", "current"]


def test_a_ranked_poll_needs_two_free_admitted_amendments_on_the_item(
    session, make, forum, plan, group, facilitator, author
):
    person(make, forum, groups=[group])
    first = admitted(plan, author, facilitator)
    admitted(plan, author, facilitator, ref="2")  # another item
    proposing.propose(author, plan, target=key(plan, "1"), operation="delete", submit=True)
    ranked = {"subject": "competing", "target_key": key(plan, "1"), "group": group}
    with pytest.raises(Conflict, match="at least two admitted"):
        new_poll(facilitator, plan, method="schulze", **ranked)

    admitted(plan, author, facilitator, text="First, another way.")
    with pytest.raises(InvalidInput, match="ranked"):
        new_poll(facilitator, plan, method="yesno", **ranked)
    new_poll(facilitator, plan, amendment=first, group=group)  # E1 is now in a vote
    with pytest.raises(Conflict, match="already in a vote"):
        new_poll(facilitator, plan, method="irv", **ranked)
    with pytest.raises(Conflict, match="already in a vote"):
        new_poll(facilitator, plan, amendment=first, group=group)


# --- approving the plan --------------------------------------------------------------------


def test_the_assembly_approves_the_plan(session, make, forum, plan, facilitator):
    delegates = people(make, forum, 3, delegate=1)
    observer = person(make, forum, role="observer")
    version = plan.current_version
    poll = opened(facilitator, plan, subject="plan", scope="assembly")
    assert poll.version_id == version.id
    with pytest.raises(Conflict, match="already being voted"):
        new_poll(facilitator, plan, subject="plan", scope="assembly")
    vote_all(poll, delegates, [Y, Y, N])
    close(session, facilitator, poll)
    assert (poll.winner, plan.status, version.is_final) == (Y, "approved", True)
    assert plan.open_for_input is False
    with pytest.raises(Conflict, match="approved"):
        plans.edit_node(facilitator, plan, version, key(plan, "1"), "A new text.")
    assert consultation_rules.calendar_refusal(plan, "amend") is not None
    assert notifications(session, observer, "plan_approved")
    with pytest.raises(Conflict):
        new_poll(facilitator, plan, subject="plan", scope="assembly")


def test_a_no_leaves_the_plan_as_it_was(session, make, forum, plan, facilitator):
    delegates = people(make, forum, 3, delegate=1)
    version = plan.current_version
    poll = opened(facilitator, plan, subject="plan", scope="assembly")
    vote_all(poll, delegates, [N, N, Y])
    close(session, facilitator, poll)
    assert (poll.winner, plan.status, version.is_final) == (N, "draft", False)
    assert consultation_rules.calendar_refusal(plan, "amend") is None
    edited = plans.edit_node(facilitator, plan, version, key(plan, "1"), "A new text.")
    assert plan.current_version_id == edited.id


def test_an_approval_vote_does_not_approve_a_text_changed_while_it_ran(
    session, make, forum, plan, facilitator
):
    delegates = people(make, forum, 2, delegate=1)
    voted_on = plan.current_version
    poll = opened(facilitator, plan, subject="plan", scope="assembly")
    plans.edit_node(facilitator, plan, voted_on, key(plan, "1"), "Changed during the vote.")
    vote_all(poll, delegates, [Y, Y])
    close(session, facilitator, poll)
    assert poll.winner == Y
    assert plan.status != "approved" and voted_on.is_final is False


def test_the_plan_is_approved_by_the_assembly_only(session, make, forum, plan, group, facilitator):
    person(make, forum, groups=[group], delegate=1)
    with pytest.raises(InvalidInput, match="assembly"):
        new_poll(facilitator, plan, subject="plan", scope="group", group=group)
    with pytest.raises(InvalidInput, match="yes/no"):
        new_poll(facilitator, plan, subject="plan", scope="assembly", method="schulze")


# --- the scheduler -------------------------------------------------------------------------


def test_the_scheduler_opens_and_closes_polls_once(
    session, make, forum, plan, group, facilitator, author
):
    voters = people(make, forum, 2, groups=[group])
    amendment = admitted(plan, author, facilitator)
    now = utcnow()
    poll = new_poll(
        facilitator,
        plan,
        amendment=amendment,
        group=group,
        opens_at=now + MINUTE,
        closes_at=now + HOUR,
    )
    assert scheduling.advance_polls(now) == {"opened": 0, "closed": 0}
    assert poll.state == "draft"
    assert scheduling.advance_polls(now + 2 * MINUTE) == {"opened": 1, "closed": 0}
    assert (poll.state, poll.opened_at, amendment.status) == ("open", now + 2 * MINUTE, "voting")
    assert scheduling.advance_polls(now + 3 * MINUTE) == {"opened": 0, "closed": 0}
    assert [len(notifications(session, v, "poll_opened")) for v in voters] == [1, 1]

    casting.cast(voters[0], poll, Y, now=now + 5 * MINUTE)
    # Past the closing time no vote counts, even before the scheduler has run.
    with pytest.raises(Conflict, match="closed"):
        casting.cast(voters[1], poll, N, now=now + HOUR)
    session.commit()
    assert scheduling.advance_polls(now + 2 * HOUR) == {"opened": 0, "closed": 1}
    assert (poll.state, poll.closed_at, poll.winner) == ("closed", now + 2 * HOUR, Y)
    assert amendment.status == "accepted"
    assert scheduling.advance_polls(now + 3 * HOUR) == {"opened": 0, "closed": 0}
    assert [len(notifications(session, v, "poll_result")) for v in voters] == [1, 1]


def test_a_draft_whose_closing_time_passed_is_cancelled(
    session, make, forum, plan, group, facilitator, author
):
    person(make, forum, groups=[group])
    amendment = admitted(plan, author, facilitator)
    now = utcnow()
    poll = new_poll(
        facilitator,
        plan,
        amendment=amendment,
        group=group,
        opens_at=now + MINUTE,
        closes_at=now + HOUR,
    )
    assert scheduling.advance_polls(now + 2 * HOUR) == {"opened": 0, "closed": 0}
    assert poll.state == "cancelled" and amendment.status == "admitted"
    with pytest.raises(Conflict, match="over"):
        votes_lifecycle.open_poll(facilitator, poll)
    assert new_poll(facilitator, plan, amendment=amendment, group=group).state == "draft"


def test_extending_a_phase_moves_the_closing_of_its_polls(
    session, make, forum, plan, group, facilitator, author
):
    person(make, forum, groups=[group])
    tied, separate = admitted(plan, author, facilitator), admitted(plan, author, facilitator, "2")
    now = utcnow()
    consultation = consultations.create_consultation(
        facilitator,
        plan,
        title="Consultation",
        phases=[PhaseInput("voting", now - HOUR, now + DAY)],
    )
    phase_scheduler.advance_due(now)  # the voting phase is open: polls may open
    phase = consultation.phases[0]
    poll = new_poll(
        facilitator, plan, amendment=tied, group=group, phase=phase, closes_at=phase.ends_at
    )
    votes_lifecycle.open_poll(facilitator, poll)
    other = new_poll(
        facilitator, plan, amendment=separate, group=group, phase=phase, closes_at=now + HOUR
    )
    session.commit()
    phase_scheduler.extend_phase(facilitator, phase, now + 2 * DAY)
    session.commit()
    session.expire_all()
    assert poll.closes_at == now + 2 * DAY
    assert other.closes_at == now + HOUR  # it never closed with the phase
    # Past the phase's old end the poll stays open; the other one never opened.
    assert scheduling.advance_polls(now + DAY + MINUTE) == {"opened": 0, "closed": 0}
    assert (poll.state, other.state) == ("open", "cancelled")


# --- who may set polls up, and with which settings -------------------------------------------


def test_only_facilitators_run_polls(session, make, forum, plan, group, facilitator, author):
    member = person(make, forum, groups=[group])
    amendment = admitted(plan, author, facilitator)
    with pytest.raises(PermissionDenied):
        new_poll(member, plan, amendment=amendment, group=group)
    poll = new_poll(facilitator, plan, amendment=amendment, group=group)
    for action in (votes_lifecycle.open_poll, votes_lifecycle.cancel_poll):
        with pytest.raises(PermissionDenied):
            action(member, poll)
    votes_lifecycle.open_poll(facilitator, poll)
    with pytest.raises(PermissionDenied):
        votes_lifecycle.close_poll(member, poll)
    assert poll.state == "open"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"quorum_kind": "share", "quorum_value": Decimal("1.5")}, InvalidInput, "share"),
        ({"quorum_kind": "count", "quorum_value": Decimal(-1)}, InvalidInput, "zero or more"),
        ({"quorum_base": "present"}, InvalidInput, "present"),
        ({"max_proxies": 1}, InvalidInput, "proxies"),
        ({"method": "schulze"}, InvalidInput, "yes/no"),
        ({"rule": "unanimity"}, InvalidInput, "majority"),
        (
            {
                "opens_at": datetime(2000, 1, 1, tzinfo=UTC),
                "closes_at": datetime(2001, 1, 1, tzinfo=UTC),
            },
            InvalidInput,
            "future",
        ),
        ({"opens_at": utcnow() + DAY, "closes_at": utcnow() + HOUR}, InvalidInput, "close"),
    ],
)
def test_bad_poll_settings_are_refused(
    session, make, forum, plan, group, facilitator, author, options, error, message
):
    person(make, forum, groups=[group])
    amendment = admitted(plan, author, facilitator)
    with pytest.raises(error, match=message):
        new_poll(facilitator, plan, amendment=amendment, group=group, **options)
    assert count(session, Poll) == 0


def test_only_admitted_amendments_of_the_plan_are_put_to_a_vote(
    session, make, forum, plan, group, facilitator, author
):
    person(make, forum, groups=[group])
    submitted = proposing.propose(
        author, plan, target=key(plan, "1"), operation="delete", submit=True
    )
    with pytest.raises(Conflict, match="admitted"):
        new_poll(facilitator, plan, amendment=submitted, group=group)
    other_plan = plans.import_plan(None, forum, PLAN_TEXT)
    with pytest.raises(NotFound):
        new_poll(facilitator, other_plan, amendment=submitted, group=group)
    empty = make.group(forum)
    amendment = admitted(plan, author, facilitator)
    with pytest.raises(Conflict, match="Nobody could vote"):
        new_poll(facilitator, plan, amendment=amendment, group=empty)
    with pytest.raises(InvalidInput, match="working group"):
        new_poll(facilitator, plan, amendment=amendment, group=None)


@pytest.mark.parametrize("state", ["draft", "open"])
def test_cancelling_a_poll_gives_its_amendments_back(
    session, make, forum, plan, group, facilitator, author, state
):
    voter = person(make, forum, groups=[group])
    amendment = admitted(plan, author, facilitator)
    poll = new_poll(facilitator, plan, amendment=amendment, group=group)
    if state == "open":
        votes_lifecycle.open_poll(facilitator, poll)
        casting.cast(voter, poll, Y)
    votes_lifecycle.cancel_poll(facilitator, poll, "Wrong item.")
    session.commit()
    session.expire_all()
    assert (poll.state, amendment.status) == ("cancelled", "admitted")
    if state == "open":
        assert transitions(amendment)[-1] == ("voting", "admitted")
    with pytest.raises(Conflict):
        casting.cast(voter, poll, Y)
    with pytest.raises(Conflict):
        votes_lifecycle.cancel_poll(facilitator, poll)
    with pytest.raises(Conflict):
        votes_lifecycle.open_poll(facilitator, poll)
    assert poll.result is None and poll.winner is None
    assert new_poll(facilitator, plan, amendment=amendment, group=group).state == "draft"


def test_a_yes_no_ballot_is_yes_no_or_abstain(
    session, make, forum, plan, group, facilitator, author
):
    voter = person(make, forum, groups=[group])
    poll = opened(facilitator, plan, amendment=admitted(plan, author, facilitator), group=group)
    for choice in ("maybe", "", None, ["yes"], "YES"):
        with pytest.raises(InvalidInput):
            casting.cast(voter, poll, choice)
    assert count(session, Participation, Participation.poll_id == poll.id) == 0
    assert votes_permissions.voter_status(voter, poll).voted is False
    casting.cast(voter, poll, A)
    assert votes_permissions.voter_status(voter, poll).voted is True
    assert session.scalar(select(PollVoter.weight).where(PollVoter.user_id == voter.id)) == 1


def test_results_stay_hidden_while_the_vote_runs_unless_the_poll_shows_them(
    session, make, forum, plan, group, facilitator, author
):
    voter = person(make, forum, groups=[group])
    hidden = opened(facilitator, plan, amendment=admitted(plan, author, facilitator), group=group)
    shown = opened(
        facilitator,
        plan,
        amendment=admitted(plan, author, facilitator, ref="2"),
        group=group,
        hide_results=False,
    )
    for poll in (hidden, shown):
        casting.cast(voter, poll, Y)
    assert integrity.live_result(hidden) is None
    assert not votes_queries.results_visible(voter, hidden)
    assert votes_queries.results_visible(voter, shown)
    assert integrity.live_result(shown)["tally"]["yes"] == "1"
    close(session, facilitator, hidden)
    assert votes_queries.results_visible(voter, hidden)
    assert integrity.live_result(hidden) is None  # closed: the frozen result is the one shown


def test_facilitators_cannot_decide_by_hand_an_amendment_whose_vote_runs(
    session, make, forum, plan, facilitator, author, group
):
    amendment = admitted(plan, author, facilitator)
    person(make, forum, groups=[group])
    poll = opened(facilitator, plan, amendment=amendment, group=group)
    with pytest.raises(Conflict, match="vote that has not closed"):
        lifecycle.decide(facilitator, amendment, "accepted")
    votes_lifecycle.cancel_poll(facilitator, poll)
    assert amendment.status == "admitted"
    lifecycle.decide(facilitator, amendment, "accepted")
    assert amendment.status == "accepted"


def test_a_poll_tied_to_a_phase_takes_the_times_it_is_not_given(
    session, make, forum, plan, group, facilitator, author
):
    person(make, forum, groups=[group])
    amendment = admitted(plan, author, facilitator)
    second = admitted(plan, author, facilitator, "2")
    now = utcnow()
    consultation = consultations.create_consultation(
        facilitator,
        plan,
        title="Consultation",
        phases=[PhaseInput("voting", now + HOUR, now + DAY)],
    )
    phase = consultation.phases[0]
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="amendment",
        scope="group",
        group=group,
        amendment=amendment,
        phase=phase,
        opens_at=None,
        closes_at=None,
    )
    assert (poll.opens_at, poll.closes_at) == (phase.starts_at, phase.ends_at)
    with pytest.raises(InvalidInput, match="closing time"):
        setup.create_poll(
            facilitator,
            plan,
            subject="amendment",
            scope="group",
            group=group,
            amendment=second,
            opens_at=None,
            closes_at=None,
        )
