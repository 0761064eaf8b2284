from ..extensions import db
from .models import AuditEvent


def record(action: str, obj, actor=None, forum=None, **details) -> AuditEvent:
    """Add an audit event for ``obj`` to the current transaction."""
    if getattr(obj, "id", 0) is None:
        db.session.flush()
    event = AuditEvent(
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        actor_id=getattr(actor, "id", None),
        forum_id=getattr(forum, "id", None),
        details=details,
    )
    db.session.add(event)
    return event
