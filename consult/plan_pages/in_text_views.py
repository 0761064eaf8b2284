"""The plan page's other readings (``?show=amendments``, ``?show=accepted``):
the text rendered per request from ``consolidation.in_text``, in place of the
cached text. The plan page (``views.show``) asks here for the HTML."""

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from ..consolidation import in_text
from ..errors import InvalidInput
from ..forums import services as forums
from ..plans import layout


def shown_reading() -> str | None:
    """The reading ``?show=`` asks for (None: the plain, cached text)."""
    return in_text.asked_reading(request.args.get("show"))


def reading_text(shown: str, plan, version, is_current: bool) -> Markup:
    """The HTML of the text in reading ``shown`` (see ``consolidation.in_text``)."""
    if not is_current:
        raise InvalidInput(_("Amendments are shown in the current version of the plan only."))
    common = {
        "plan": plan,
        "forum": plan.forum,
        "version": version,
        "cited_ref": layout.cited_ref,
        "line_length": layout.line_length(plan.forum),
    }
    if shown == in_text.ACCEPTED:
        reading = in_text.accepted_reading(plan, version)
        return Markup(render_template("plans/_accepted_reading.html", preview=reading, **common))  # noqa: S704 (rendered, escaped)
    groups = [group for group, _count in forums.list_groups(plan.forum)]
    chosen = in_text.filters(
        request.args.get("status"), request.args.get("group"), {group.id for group in groups}
    )
    text = in_text.amendments_in_text(plan, version, chosen)
    return Markup(  # noqa: S704 (rendered by the template, which escapes)
        render_template(
            "plans/_with_amendments.html",
            text=text,
            chosen=chosen,
            expanded=request.args.get("open") == "1",  # every item's amendments opened
            groups=groups,
            statuses=in_text.FILTER_STATUSES,
            **common,
        )
    )
