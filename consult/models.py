"""Every feature's tables, imported in one place for Alembic and the tests."""

from .accounts.models import AuthAttempt, User, UserSession
from .amendments.models import (
    Amendment,
    AmendmentEvent,
    AmendmentSponsor,
    AmendmentSupport,
    AmendmentTranslation,
)
from .api.models import ApiToken, RateWindow
from .assembly.models import AgendaPoint, AssemblySession, Attendance, SpeakerRequest
from .audit.models import AuditEvent
from .comments.models import Comment, CommentFlag, CommentRevision
from .consolidation.models import Consolidation
from .consultations.models import Consultation, Phase
from .forums.models import (
    Coalition,
    Forum,
    Invitation,
    Membership,
    WorkingGroup,
    WorkingGroupMember,
)
from .generation import DataGeneration
from .mail.models import OutboxEmail
from .notifications.models import Notification
from .pagecache import PageFragment
from .plan_pages.activity import ActivityStamp
from .plans.models import (
    NodeTranslation,
    Plan,
    PlanExport,
    PlanNode,
    PlanVersion,
    SectionGroup,
)
from .search.models import SearchDocument
from .votes.models import (
    Ballot,
    NamedVote,
    Participation,
    Poll,
    PollCandidate,
    PollProxy,
    PollVoter,
)

__all__ = [
    "ActivityStamp",
    "AgendaPoint",
    "Amendment",
    "AmendmentEvent",
    "AmendmentSponsor",
    "AmendmentSupport",
    "AmendmentTranslation",
    "ApiToken",
    "AssemblySession",
    "Attendance",
    "AuditEvent",
    "AuthAttempt",
    "Ballot",
    "Coalition",
    "Comment",
    "CommentFlag",
    "CommentRevision",
    "Consolidation",
    "Consultation",
    "DataGeneration",
    "Forum",
    "Invitation",
    "Membership",
    "NamedVote",
    "NodeTranslation",
    "Notification",
    "OutboxEmail",
    "PageFragment",
    "Participation",
    "Phase",
    "Plan",
    "PlanExport",
    "PlanNode",
    "PlanVersion",
    "Poll",
    "PollCandidate",
    "PollProxy",
    "PollVoter",
    "RateWindow",
    "SearchDocument",
    "SectionGroup",
    "SpeakerRequest",
    "User",
    "UserSession",
    "WorkingGroup",
    "WorkingGroupMember",
]
