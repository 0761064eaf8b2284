"""An agenda point's title and outcome in the reader's language.

The points proposed from the plan are named by what they are about — their
amendments by the forum-wide identifier, the approval by the plan's title — in
whichever language reads them (the chair's page in Spanish, a phone in
Portuguese, the minutes in English); a point the chair wrote (a report, any
other business) keeps the chair's words. What a title is made of (``parts``)
is language-neutral, so the minutes keep it and say it in each language. So is
what a vote on the point decided (``outcome_parts``), kept on the point when
the vote closes and said by ``outcome`` to each reader; an outcome the chair
noted for a point not voted on keeps the chair's words.
"""

from flask_babel import gettext as _

from ..votes.models import STATUS_QUO
from ..votes.tally import YES


def parts(amendments=(), plan_title: str = "") -> dict | None:
    """The language-neutral parts of the title of a point about ``amendments``
    or about approving the plan titled ``plan_title`` (None: neither)."""
    if amendments:
        first = amendments[0]
        return {
            "identifier": first.identifier,
            "short_name": first.plan.short_name or "",
            "labels": [amendment.label for amendment in amendments],
            "ref": first.target_ref or "",
        }
    if plan_title:
        return {"plan": plan_title}
    return None


def name(title_parts: dict) -> str:
    """What the point is about in words of no language (its amendments'
    identifiers, or the plan's title): the title of the vote held on it, which
    is written once and read in every language."""
    if "plan" in title_parts:
        return title_parts["plan"]
    labels = title_parts["labels"]
    if len(labels) == 1:
        return title_parts["identifier"]
    joined = f"{title_parts['short_name']} " + ", ".join(labels)
    return f"{joined} · {title_parts['ref']}" if title_parts["ref"] else joined


def title(given: str, title_parts: dict | None) -> str:
    """The title to show: from ``title_parts`` when the point was proposed from
    the plan, else the title the chair gave it."""
    if not title_parts:
        return given
    if "plan" in title_parts:
        return _("Approval of the plan “%(title)s”", title=title_parts["plan"])
    labels = title_parts["labels"]
    if len(labels) == 1:
        return _("Amendment %(labels)s", labels=title_parts["identifier"])
    joined = f"{title_parts['short_name']} " + ", ".join(labels)
    if title_parts["ref"]:
        return _(
            "Competing amendments %(labels)s to item %(ref)s", labels=joined, ref=title_parts["ref"]
        )
    return _("Competing amendments %(labels)s", labels=joined)


def outcome_parts(poll) -> dict:
    """What the closed ``poll`` decided, language-neutral (see ``outcome``)."""
    if not poll.quorum_met:
        return {"decided": "no_quorum"}
    winner = poll.winner
    if winner is None:
        return {"decided": "no_winner"}
    if poll.subject == "plan":
        return {"decided": "plan_approved" if winner == YES else "plan_rejected"}
    if poll.subject == "amendment":
        label = poll.amendment.identifier if poll.amendment else ""
        decided = "amendment_adopted" if winner == YES else "amendment_rejected"
        return {"decided": decided, "label": label}
    if winner == STATUS_QUO:
        return {"decided": "text_kept"}
    return {"decided": "one_of_competing_adopted", "label": winner}


def outcome(given: str, parts: dict | None) -> str:
    """The outcome to show: said from ``parts`` when a vote decided it, else
    the chair's words."""
    if not parts:
        return given
    label = parts.get("label", "")
    return {
        "no_quorum": lambda: _("Nothing was decided: the quorum was not reached."),
        "no_winner": lambda: _("Nothing was decided: no option won."),
        "plan_approved": lambda: _("The plan is approved."),
        "plan_rejected": lambda: _("The plan is not approved."),
        "amendment_adopted": lambda: _("Amendment %(label)s is adopted.", label=label),
        "amendment_rejected": lambda: _("Amendment %(label)s is rejected.", label=label),
        "text_kept": lambda: _("The current text is kept; the amendments are rejected."),
        "one_of_competing_adopted": lambda: _(
            "Amendment %(label)s is adopted; the others are rejected.", label=label
        ),
    }[parts["decided"]]()
