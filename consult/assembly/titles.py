"""An agenda point's title in the reader's language.

The points proposed from the plan are named by what they are about — their
amendments by the forum-wide identifier, the approval by the plan's title — in
whichever language reads them (the chair's page in Spanish, a phone in
Portuguese, the minutes in English); a point the chair wrote (a report, any
other business) keeps the chair's words. What a title is made of (``parts``)
is language-neutral, so the minutes keep it and say it in each language.
"""

from flask_babel import gettext as _


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
