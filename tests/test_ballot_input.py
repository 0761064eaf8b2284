"""What a ballot form sends (``votes/ballot_input.py``): every value bounded and
checked before casting, a clear reason for the first that is not one the form
offers, and nothing cast or recorded on such a ballot."""

import html

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from consult.errors import InvalidInput
from consult.votes.ballot_input import MAX_RECEIPT, ballot_input, delegate_id, present_ids
from consult.votes.models import Participation
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

DELEGATE = "Choose a delegate of this vote's electorate."


@pytest.fixture
def delegate(make, forum):
    return make.delegate(forum, locale="en")


@pytest.fixture
def poll(make, plan, facilitator, delegate):
    """The assembly's yes / no / abstain vote on the plan, open for an hour."""
    return make.poll(plan, facilitator)


def _vote_url(poll) -> str:
    return f"/forums/{poll.forum.slug}/polls/{poll.id}/vote"


def _participations(session) -> int:
    return session.scalar(select(func.count()).select_from(Participation))


def test_a_ballot_reads_the_choice_the_proxy_and_the_receipt(poll):
    ballot = ballot_input(
        poll, MultiDict({"choice": "no", "on_behalf_of": "42", "receipt": " ABCD-EFGH "})
    )
    assert (ballot.choice, ballot.on_behalf_of, ballot.receipt) == ("no", 42, "ABCD-EFGH")
    mine = ballot_input(poll, MultiDict({"choice": "abstain", "on_behalf_of": ""}))
    assert (mine.on_behalf_of, mine.receipt) == (None, None)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"choice": "yes" * 1000}, "Choose yes, no or abstain."),
        ({"choice": "yes", "on_behalf_of": "someone"}, DELEGATE),
        ({"choice": "yes", "on_behalf_of": "9" * 40}, DELEGATE),
        ({"choice": "yes", "on_behalf_of": "-3"}, DELEGATE),
        (
            {"choice": "yes", "receipt": "A" * (MAX_RECEIPT + 1)},
            "Enter the receipt code you received when voting.",
        ),
    ],
)
def test_a_value_the_form_does_not_offer_is_refused_with_its_reason(poll, data, reason):
    with pytest.raises(InvalidInput, match=reason.replace(".", r"\.")):
        ballot_input(poll, MultiDict(data))


def test_a_roll_call_and_a_proxy_name_delegates_by_their_number():
    assert present_ids(MultiDict([("present", "3"), ("present", "5")])) == {3, 5}
    assert delegate_id(MultiDict({"holder": ""}), "holder") is None
    for bad in ("x", "0", "1e3", "99999999999999"):
        with pytest.raises(InvalidInput, match="electorate"):
            present_ids(MultiDict([("present", "3"), ("present", bad)]))
        with pytest.raises(InvalidInput, match="electorate"):
            delegate_id(MultiDict({"holder": bad}), "holder")


def test_a_ballot_for_no_one_in_particular_is_refused_and_nothing_is_cast(
    client, session, poll, delegate
):
    sign_in(client, delegate)
    refused = client.post(_vote_url(poll), data={"choice": "yes", "on_behalf_of": "someone"})
    assert refused.status_code == 400
    assert DELEGATE in html.unescape(refused.get_data(as_text=True))
    too_long = client.post(_vote_url(poll), data={"choice": "yes", "receipt": "A" * 500})
    assert too_long.status_code == 400
    maybe = client.post(_vote_url(poll), data={"choice": "maybe"})
    assert maybe.status_code == 400 and "Choose yes, no or abstain." in maybe.get_data(as_text=True)
    assert _participations(session) == 0
    cast = client.post(_vote_url(poll), data={"choice": "yes"})
    assert cast.status_code == 200 and _participations(session) == 1


def test_a_roll_call_with_a_bad_number_is_refused_and_says_why(client, poll, facilitator):
    sign_in(client, facilitator)
    url = f"/forums/{poll.forum.slug}/polls/{poll.id}/roll-call"
    refused = client.post(url, data={"present": ["1", "not a number"]})
    assert refused.status_code == 400
    assert DELEGATE in html.unescape(refused.get_data(as_text=True))
