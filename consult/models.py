"""Every feature's tables, imported in one place for Alembic and the tests."""

from .accounts.models import AuthAttempt, User, UserSession
from .audit.models import AuditEvent
from .forums.models import (
    Coalition,
    Forum,
    Invitation,
    Membership,
    WorkingGroup,
    WorkingGroupMember,
)
from .mail.models import OutboxEmail
from .plans.models import Plan, PlanNode, PlanVersion

__all__ = [
    "AuditEvent",
    "AuthAttempt",
    "Coalition",
    "Forum",
    "Invitation",
    "Membership",
    "OutboxEmail",
    "Plan",
    "PlanNode",
    "PlanVersion",
    "User",
    "UserSession",
    "WorkingGroup",
    "WorkingGroupMember",
]
