"""What the facilitators' dashboard of a consultation shows: the figures'
shapes (by status, by working group, by coalition and country, by phase), the
rows its charts and tables are drawn from, and the CSV download of them.
Counting them is ``counting``'s work.
"""

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..amendments.models import FINAL_STATUSES, OPEN_STATUSES, STATUSES, Amendment, AmendmentStatus
from ..comments.models import Comment
from ..consultations.models import Consultation, Phase
from ..i18n import country_name
from ..labels import label
from ..spreadsheets import safe_cell

# Statuses shown on the dashboard (drafts are private), in the order of their life.
DASHBOARD_STATUSES = tuple(status for status in STATUSES if status != "draft")

NO_GROUP = _l("No working group")
NO_COALITION = _l("No coalition")
UNKNOWN_COUNTRY = _l("Unknown country")


@dataclass
class GroupFigures:
    """One working group's share of the work (``group_id`` None: sections no group has)."""

    group_id: int | None
    name: str | None
    members: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DASHBOARD_STATUSES, 0))
    comments: int = 0

    @property
    def label(self) -> str:
        return self.name if self.group_id is not None else str(NO_GROUP)

    @property
    def amendments(self) -> int:
        return sum(self.statuses.values())

    @property
    def undecided(self) -> int:
        """Waiting for a facilitator, a vote or their author's revision."""
        return sum(n for status, n in self.statuses.items() if status not in FINAL_STATUSES)

    @property
    def accepted(self) -> int:
        return self.statuses.get("accepted", 0)


@dataclass
class Share:
    """Participants in one bucket: a coalition (by id) or a country (by ISO code);
    ``key`` None is the "no coalition" / "unknown country" bucket."""

    kind: str  # "coalition" or "country"
    key: int | str | None
    name: str | None
    count: int

    @property
    def label(self) -> str:
        if self.kind == "coalition":
            return self.name if self.key is not None else str(NO_COALITION)
        return country_name(self.key) if self.key else str(UNKNOWN_COUNTRY)


@dataclass
class PhaseFigures:
    phase: Phase
    amendments: int = 0  # submitted while the phase ran
    comments: int = 0  # posted while the phase ran

    @property
    def label(self) -> str:
        return self.phase.shown_title


@dataclass
class DashboardFigures:
    consultation: Consultation
    statuses: dict[str, int]
    groups: list[GroupFigures]
    comments: int
    supports: int
    participants: int
    by_coalition: list[Share]
    by_country: list[Share]
    triage: list[Amendment]
    flagged: list[Comment]
    flagged_total: int
    current_phase: Phase | None = None
    phases: list[PhaseFigures] = field(default_factory=list)

    @property
    def amendments(self) -> int:
        return sum(self.statuses.values())

    @property
    def triage_total(self) -> int:
        """Everything that waits for a facilitator or a vote: submitted,
        admitted and put to a vote."""
        return sum(self.statuses.get(status, 0) for status in OPEN_STATUSES)

    # Rows of (label, value) for the charts and their tables.
    @property
    def status_rows(self) -> list[tuple[str, int]]:
        return [(label(status, AmendmentStatus), n) for status, n in self.statuses.items()]

    @property
    def group_amendment_rows(self) -> list[tuple[str, int]]:
        return [(group.label, group.amendments) for group in self.groups]

    @property
    def group_comment_rows(self) -> list[tuple[str, int]]:
        return [(group.label, group.comments) for group in self.groups]

    @property
    def coalition_rows(self) -> list[tuple[str, int]]:
        return [(share.label, share.count) for share in self.by_coalition]

    @property
    def country_rows(self) -> list[tuple[str, int]]:
        return [(share.label, share.count) for share in self.by_country]


# --- export --------------------------------------------------------------------------


def figures_csv(figures: DashboardFigures) -> str:
    """The figures as ``metric,group,value`` rows: ``group`` is the bucket a
    figure is broken down by (empty for totals). Bucket names are translated."""
    rows: list[tuple[str, str, int]] = [
        ("participants", "", figures.participants),
        ("amendments", "", figures.amendments),
        *((f"amendments_{status}", "", n) for status, n in figures.statuses.items()),
        ("supports", "", figures.supports),
        ("comments", "", figures.comments),
        ("flagged_comments", "", figures.flagged_total),
    ]
    for group in figures.groups:
        rows.append(("amendments", group.label, group.amendments))
        rows.extend((f"amendments_{s}", group.label, n) for s, n in group.statuses.items())
        rows.append(("comments", group.label, group.comments))
    rows.extend(("participants_by_coalition", s.label, s.count) for s in figures.by_coalition)
    rows.extend(("participants_by_country", s.label, s.count) for s in figures.by_country)
    for phase in figures.phases:
        rows.append(("amendments_in_phase", phase.label, phase.amendments))
        rows.append(("comments_in_phase", phase.label, phase.comments))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "group", "value"])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
