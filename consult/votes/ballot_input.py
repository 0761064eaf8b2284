"""What the ballot and the running of a vote post, read and bounded before a
service sees it: each value checked, a translated error (``InvalidInput``,
a 400) for the first that is not one the form offers.

Plain functions over the form data rather than WTForms classes: the ballot
is the request 300 delegates send at once, and its reading costs no statement
and next to no time (the poll and its candidates are already loaded)."""

from dataclasses import dataclass

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..errors import InvalidInput
from ..inputs import database_int
from .models import Poll
from .tally import YES_NO_CHOICES

# A receipt code is 16 characters in groups of four (``casting.new_receipt``);
# typed with spaces or dashes it stays well under this.
MAX_RECEIPT = 40
MAX_RANK_DIGITS = 4
MAX_CHOICE = max(len(choice) for choice in YES_NO_CHOICES)


@dataclass(frozen=True)
class BallotInput:
    """A ballot as the form sent it: a choice ("yes", "no", "abstain") or a
    ranking (candidates' names, best first); for whom (a delegate whose proxy
    the voter holds, or None: themselves); the receipt of the vote it changes."""

    choice: str | list[str]
    on_behalf_of: int | None = None
    receipt: str | None = None


def ballot_input(poll: Poll, form: MultiDict) -> BallotInput:
    """The ballot the form sent for ``poll``, every value bounded and checked."""
    receipt = form.get("receipt", "").strip()
    if len(receipt) > MAX_RECEIPT:
        raise InvalidInput(_("Enter the receipt code you received when voting."))
    return BallotInput(
        choice=_ranking(poll, form) if poll.is_ranked else _choice(form),
        on_behalf_of=delegate_id(form, "on_behalf_of"),
        receipt=receipt or None,
    )


def _choice(form: MultiDict) -> str:
    """The choice, bounded: whether this poll takes it is ``casting.parse_choice``'s
    to say, once the poll's state is checked (a closed vote answers 409 to any
    ballot, a well-formed one included)."""
    choice = form.get("choice", "")
    if len(choice) > MAX_CHOICE:
        raise InvalidInput(_("Choose yes, no or abstain."))
    return choice


def _ranking(poll: Poll, form: MultiDict) -> list[str]:
    """The candidates ranked in the rank menus (``rank-<name>``), best first;
    a candidate left unranked is left out."""
    ranks = []
    for candidate in poll.candidates:
        value = form.get(f"rank-{candidate.name}", "")
        if not value:
            continue
        if not (value.isascii() and value.isdigit()) or len(value) > MAX_RANK_DIGITS:
            raise InvalidInput(_("Choose a rank from the list."))
        if not 1 <= int(value) <= len(poll.candidates):
            raise InvalidInput(_("Choose a rank from the list."))
        ranks.append((int(value), candidate.name))
    if len({rank for rank, _name in ranks}) != len(ranks):
        raise InvalidInput(_("Give each option a different rank."))
    return [name for _rank, name in sorted(ranks)]


def delegate_id(form: MultiDict, name: str) -> int | None:
    """A delegate chosen in a list (``name``: the field), or None when none is."""
    value = form.get(name, "")
    if not value:
        return None
    number = database_int(value)
    if number is None:
        raise InvalidInput(_("Choose a delegate of this vote's electorate."))
    return number


def present_ids(form: MultiDict) -> set[int]:
    """The delegates ticked present at a roll call."""
    present = set()
    for value in form.getlist("present"):
        number = database_int(value)
        if number is None:
            raise InvalidInput(_("Choose a delegate of this vote's electorate."))
        present.add(number)
    return present
