"""The minutes in words: the record of :mod:`.minutes_record` told in the
current locale (call ``present`` inside ``force_locale``), with every moment in
the forum's time zone and that zone named.

``present`` gives headings, facts and tables of text; the page, the PDF and
the DOCX (:mod:`.minutes_documents`) lay out the same text, so they cannot tell
different stories. Many sentences are the vote pages' own (same msgids).
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from ..date_formats import format_moment, zone_label
from ..labels import label
from ..votes import explanation
from ..votes.models import STATUS_QUO, PollMethod, PollRule, YesNoChoice
from . import wording
from .models import PointKind, SpeakerSide

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text) -> str:
    """Text without the characters XML 1.0 refuses (a DOCX must never fail)."""
    return _NOT_XML.sub("", str(text or ""))


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _when(value: str | None, zone: str) -> str:
    return format_moment(_parse(value), zone=zone) if value else ""


def _clock(value: str | None, zone: str) -> str:
    moment = _parse(value)
    if moment is None:
        return ""
    return format_time(moment.astimezone(ZoneInfo(zone)).time(), "short", locale=get_locale())


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _table(columns: list[str], rows: list[list[str]]) -> dict:
    return {"columns": columns, "rows": rows}


# --- the record in words -----------------------------------------------------------------


def present(minutes: dict, *, signed_at=None, signed_by: str = "") -> dict:
    """The minutes as text in the current locale (see the module's docstring)."""
    session = minutes["session"]
    zone = session.get("timezone") or "UTC"
    if signed_at is not None:
        signature = _(
            "Signed off by %(name)s on %(date)s.",
            name=signed_by,
            date=format_moment(signed_at, zone=zone),
        )
    else:
        signature = _(
            "Draft drawn up on %(date)s: these minutes are not signed off yet.",
            date=format_moment(_parse(minutes["generated_at"]), zone=zone),
        )
    return {
        "lang": str(get_locale()),
        "draft": signed_at is None,
        "title": _("Minutes: %(title)s", title=session["title"]),
        "subtitle": f"{session['forum_name']} · {session['consultation_title']}",
        "facts": _session_facts(session, zone),
        "attendance_heading": _("Present"),
        "attendance": _attendance_table(minutes["attendance"], zone),
        "points_heading": _("Agenda"),
        "points": [_point(point, zone) for point in minutes["points"]],
        "plan_heading": _("The plan at the end of the session"),
        "plan": _plan_lines(minutes["plan"]),
        "signature": signature,
    }


def _session_facts(session: dict, zone: str) -> list[tuple[str, str]]:
    facts = [(_("Date"), _when(session["starts_at"], zone))]
    if session["place"]:
        facts.append((_("Place"), session["place"]))
    if session["online_url"]:
        facts.append((_("Online link"), session["online_url"]))
    facts.append((_("Chair"), session["chair"]["name"] or "—"))
    if session["opened_at"]:
        facts.append((_("Opened"), _when(session["opened_at"], zone)))
    if session["adjourned_at"]:
        facts.append((_("Adjourned"), _when(session["adjourned_at"], zone)))
    facts.append((_("Time zone"), zone_label(zone)))
    return facts


def _presence(intervals: list[dict], zone: str) -> str:
    spans = []
    for interval in intervals:
        start = _clock(interval["in"], zone)
        if interval["out"]:
            spans.append(_("%(start)s to %(end)s", start=start, end=_clock(interval["out"], zone)))
        else:
            spans.append(_("from %(start)s to the end", start=start))
    return "; ".join(spans)


def _attendance_table(people: list[dict], zone: str) -> dict:
    rows = [
        [
            person["name"],
            person["coalition"] or "—",
            format_decimal(person["weight"]) if person["weight"] is not None else "—",
            _presence(person["intervals"], zone),
        ]
        for person in people
    ]
    return _table([_("Name"), _("Coalition"), _("Vote weight"), _("Times")], rows)


def _point(point: dict, zone: str) -> dict:
    kind = label(point["kind"], PointKind)
    speakers = [
        [
            speaker["name"],
            speaker["coalition"] or "—",
            label(speaker["side"], SpeakerSide),
            _clock(speaker["started_at"], zone),
            _duration(speaker["seconds"]),
        ]
        for speaker in point["speakers"]
    ]
    # (minutes drawn up before titles had parts keep their title as written)
    shown_title = wording.title(point["title"], point.get("title_parts"))
    return {
        "heading": f"{point['number']}. {shown_title}",
        # What the point is about: its amendments, else its kind.
        "about": (
            _("Amendments: %(labels)s", labels=", ".join(point["amendments"]))
            if point["amendments"]
            else str(kind)
        ),
        "description": point["description"],
        "speakers_heading": _("Speakers"),
        "speakers": _table(
            [_("Name"), _("Coalition"), _("Side"), _("Started"), _("Duration")], speakers
        ),
        "no_speakers": _("Nobody asked to speak."),
        "vote": _vote(point["vote"], zone, shown_title) if point["vote"] else None,
    }


# --- a vote in words -----------------------------------------------------------------------


def _option_label(vote: dict, option: str) -> str:
    if vote["candidates"]:
        return _("Keep the current text") if option == STATUS_QUO else option
    return label(option, YesNoChoice)


def _vote(vote: dict, zone: str, point_title: str) -> dict:
    facts = [(_("Counting"), label(vote["method"], PollMethod))]
    if vote["rule"]:
        rule = label(vote["rule"], PollRule)
        if vote["abstentions_count"]:
            rule = f"{rule} · {_('abstentions count toward the base')}"
        facts.append((_("Majority needed"), rule))
    facts.append((_("Ballot"), _("Secret") if vote["secret"] else _("Named")))
    # The point's title in this language (the vote's own was written once).
    presented = {"heading": _("Vote: %(title)s", title=point_title), "facts": facts}
    if "checksum" not in vote:
        presented["outcome"] = [_("This vote was not closed: it has no result.")]
        return presented
    facts += [
        (_("Opened"), _when(vote["opened_at"], zone)),
        (_("Closed"), _when(vote["closed_at"], zone)),
        (_("Quorum"), _quorum(vote["quorum"])),
        (_("Turnout"), _turnout(vote)),
    ]
    if vote["ranking"]:
        order = " > ".join(_option_label(vote, name) for name in vote["ranking"])
        facts.append((_("Order"), order))
    presented["table"] = _options_table(vote)
    presented["outcome"] = _outcome(vote)
    presented["checksum_label"] = _("Checksum of the ballots (SHA-256)")
    presented["checksum"] = vote["checksum"] or ""
    return presented


def _options_table(vote: dict) -> dict:
    per_ballot = vote["ballots_public"] and vote["weighted"]
    columns = [_("Option"), _("Votes (weighted)") if vote["weighted"] else _("Votes")]
    if per_ballot:
        columns.append(_("Ballots"))
    rows = []
    for option in vote["options"]:
        row = [_option_label(vote, option["option"]), format_decimal(option["weight"])]
        if per_ballot:
            row.append(format_decimal(option["ballots"]))
        rows.append(row)
    return _table(columns, rows)


def _quorum(quorum: dict) -> str:
    if quorum["kind"] == "none":
        return _("No quorum was required.")
    values = {
        "required": format_decimal(quorum["required"]),
        "measured": format_decimal(quorum["measured"]),
        "outcome": _("reached") if quorum["met"] else _("missed"),
    }
    present = quorum["counted_on"] == "present"
    if quorum["kind"] == "share":
        values["share"] = explanation.percent(quorum["value"])
        if present:
            return _(
                "Quorum: %(share)s of the electorate present at the roll call (%(required)s "
                "votes); %(measured)s present: %(outcome)s.",
                **values,
            )
        return _(
            "Quorum: %(share)s of the electorate (%(required)s votes); %(measured)s cast: "
            "%(outcome)s.",
            **values,
        )
    if present:
        return _(
            "Quorum: %(required)s votes present at the roll call; %(measured)s present: "
            "%(outcome)s.",
            **values,
        )
    return _("Quorum: %(required)s votes; %(measured)s cast: %(outcome)s.", **values)


def _turnout(vote: dict) -> str:
    voted, total = format_decimal(vote["voters"]), format_decimal(vote["electorate_size"])
    if vote["weighted"]:
        return _(
            "%(voted)s of %(total)s delegates voted, carrying %(weight)s of the electorate's "
            "%(total_weight)s votes (weighted).",
            voted=voted,
            total=total,
            weight=format_decimal(vote["turnout_weight"]),
            total_weight=format_decimal(vote["electorate_weight"]),
        )
    if vote["scope"] == "assembly":
        return _("%(voted)s of %(total)s delegates voted.", voted=voted, total=total)
    return _("%(voted)s of %(total)s members of the group voted.", voted=voted, total=total)


def _outcome(vote: dict) -> list[str]:
    sentences = []
    for consequence in vote["consequences"]:
        if consequence["subject"] == "amendment":
            sentence = {
                "accepted": _("Amendment %(label)s is accepted."),
                "rejected": _("Amendment %(label)s is rejected."),
                "admitted": _("Amendment %(label)s is back to admitted, to be taken up again."),
            }[consequence["outcome"]] % {"label": consequence["name"]}
        else:
            sentence = _plan_consequence(consequence)
        sentences.append(sentence)
    if not sentences and vote["winner"] is None:
        sentences.append(_("The vote decided nothing."))
    return sentences


def _plan_consequence(consequence: dict) -> str:
    return {
        "approved": _("The plan “%(title)s” is approved: version %(number)s is its final text."),
        "not_approved": _("The plan “%(title)s” is not approved."),
        "not_final": _(
            "The plan “%(title)s” is not approved: its text changed while the vote ran, so the "
            "version voted on (%(number)s) was not made final."
        ),
        "nothing": _("The plan “%(title)s” is not approved: the vote decided nothing."),
    }[consequence["outcome"]] % {"title": consequence["name"], "number": consequence["version"]}


def _plan_lines(plan: dict) -> list[str]:
    lines = [
        _(
            "%(title)s, version %(number)s (%(version)s).",
            title=plan["title"],
            number=plan["version_number"],
            version=plan["version_title"],
        )
    ]
    if plan["final"]:
        lines.append(
            _(
                "Approved: version %(number)s is the plan's final text.",
                number=plan["version_number"],
            )
        )
    else:
        lines.append(_("The plan was not approved in this session."))
    for amendment in plan["amendments"]:
        status = label(amendment["status"], "AmendmentStatus")
        lines.append(f"{amendment['label']}: {status}")
    return lines
