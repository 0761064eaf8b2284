"""Ballots as the count reads them (``tally``): their choices, exact weights
and the translated refusals of a malformed one. Pure Python, no database."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _flask_gettext

from ..errors import InvalidInput

YES, NO, ABSTAIN = "yes", "no", "abstain"
YES_NO_CHOICES = (YES, NO, ABSTAIN)
RULES = ("simple", "absolute", "two_thirds")
METHODS = ("yesno", "irv", "schulze")

ZERO = Decimal(0)
ONE = Decimal(1)

# Weights far outside this range are refused: they only arise from mistakes, and
# would overflow or lose precision in Decimal arithmetic.
WEIGHT_EXPONENT_LIMIT = 30
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _(message: str, **variables: Any) -> str:
    """Translate ``message`` inside the app; outside it (CLI, plain tests), return
    it interpolated but untranslated, so counting never needs an app context.

    Named ``_`` so that ``pybabel extract`` (default keywords) finds the messages.
    """
    if has_app_context() and "babel" in current_app.extensions:
        return _flask_gettext(message, **variables)
    return message % variables if variables else message


# --- ballots ------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string, or None.

    Floats go through their shortest repr (0.1 stays 0.1); bools are refused, since
    ``true`` is not a number even though Python treats it as 1. Callers raise their
    own, complete message (translations cannot assemble sentences from parts).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        return None
    return number if number.is_finite() else None


def _weight(value: Any) -> Decimal:
    """A ballot weight: finite, strictly positive and of sensible size."""
    weight = to_decimal(value)
    if weight is None:
        raise InvalidInput(_("The weight must be a finite number."))
    if weight <= 0:
        raise InvalidInput(_("The weight must be greater than zero."))
    if abs(weight.adjusted()) > WEIGHT_EXPONENT_LIMIT:
        raise InvalidInput(_("The weight is out of range."))
    return weight


def parse_ranking(value: Any) -> list[str]:
    """A ranking: candidate names, best first, each non-empty and named once.

    Names are stripped of surrounding spaces so that "A" and " A" cannot count as
    two candidates. An empty ranking is a valid blank ballot.
    """
    names = []
    for name in value:
        if not isinstance(name, str):
            raise InvalidInput(_("A ranking may only contain candidate names."))
        name = name.strip()
        if not name:
            raise InvalidInput(_("A ranking contains an empty candidate name."))
        names.append(name)
    if len(set(names)) != len(names):
        raise InvalidInput(_("A ranking names the same candidate more than once."))
    return names


@dataclass
class Ballot:
    """One ballot: "yes", "no" or "abstain", or a ranking (best first), with a weight.

    Validated on construction, so a tally can trust every Ballot it is given,
    however it was built.
    """

    choice: str | list[str]
    weight: Decimal = field(default=ONE)

    def __post_init__(self) -> None:
        if isinstance(self.choice, str):
            if self.choice not in YES_NO_CHOICES:
                raise InvalidInput(_('A yes/no ballot must be "yes", "no" or "abstain".'))
        elif isinstance(self.choice, list | tuple):
            self.choice = parse_ranking(self.choice)
        else:
            raise InvalidInput(_("A ballot must be a yes/no choice or a ranking."))
        self.weight = _weight(self.weight)

    @property
    def is_ranking(self) -> bool:
        return isinstance(self.choice, list)


def parse_ballots(data: Any) -> list[Ballot]:
    """Ballots from decoded JSON, refusing anything ambiguous with InvalidInput.

    Each item is "yes"/"no"/"abstain", a list of names (best first), or an object
    ``{"choice": ...}`` or ``{"ranking": [...]}`` with an optional ``"weight"``
    (a number or numeric string, finite and > 0). Unknown keys are refused so that
    a misspelt "weight" is not silently counted as 1. Errors name the ballot by its
    position (from 1).
    """
    if not isinstance(data, list):
        raise InvalidInput(_("The ballots must be a list."))
    ballots = []
    for number, item in enumerate(data, start=1):
        try:
            ballots.append(_parse_ballot(item))
        except InvalidInput as error:
            raise InvalidInput(
                _("Ballot %(number)s: %(reason)s", number=number, reason=error.message)
            ) from None
    return ballots


def _parse_ballot(item: Any) -> Ballot:
    if isinstance(item, str | list):
        return Ballot(item)
    if not isinstance(item, dict):
        raise InvalidInput(_("A ballot must be a choice, a list of names or an object."))
    unknown = set(item) - {"choice", "ranking", "weight"}
    if unknown:
        raise InvalidInput(
            _("Unknown field: %(fields)s.", fields=", ".join(sorted(map(str, unknown))))
        )
    if ("choice" in item) == ("ranking" in item):
        raise InvalidInput(_('A ballot needs exactly one of "choice" and "ranking".'))
    if "ranking" in item and not isinstance(item["ranking"], list):
        raise InvalidInput(_('"ranking" must be a list of names.'))
    choice = item["ranking"] if "ranking" in item else item["choice"]
    if not isinstance(choice, str | list):
        raise InvalidInput(_("A ballot must be a yes/no choice or a ranking."))
    if "weight" in item:
        return Ballot(choice, item["weight"])
    return Ballot(choice)


def ballots_of(ballots: Iterable[Any]) -> list[Ballot]:
    """Ballot objects as they are, or raw decoded JSON parsed first."""
    ballots = list(ballots)
    if all(isinstance(ballot, Ballot) for ballot in ballots):
        return ballots
    return parse_ballots(ballots)


def of_kind(ballots: Iterable[Any], ranked: bool) -> list[Ballot]:
    """Refuse a ranking in a yes/no count and the reverse, naming the first offender."""
    ballots = ballots_of(ballots)
    for number, ballot in enumerate(ballots, start=1):
        if ballot.is_ranking != ranked:
            if ranked:
                message = _("Ballot %(number)s is not a ranking.", number=number)
            else:
                message = _("Ballot %(number)s is not a yes/no ballot.", number=number)
            raise InvalidInput(message)
    return ballots
