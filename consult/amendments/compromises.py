"""Compromises: a facilitator's text that replaces several amendments to the
same item, which become “merged into” it."""

from flask_babel import gettext as _

from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..notifications.services import notify
from ..plans import services as plans
from ..plans.models import Plan
from .lifecycle import record_event
from .models import Amendment, AmendmentOperation
from .models import AmendmentStatus as S
from .permissions import compromise_refusal, enforce, mergeable
from .proposing import clean_proposal, insert_numbered


def _checked_target(plan: Plan, sources: list[Amendment]):
    """The one item every source amends, as it is in the current version."""
    if len(sources) < 2:
        raise InvalidInput(_("Choose at least two amendments to merge."))
    targets = {source.target_key for source in sources}
    if len(targets) != 1 or any(source.plan_id != plan.id for source in sources):
        raise InvalidInput(_("A compromise merges amendments to the same item."))
    if not all(mergeable(source) for source in sources):
        raise Conflict(_("Only submitted or admitted amendments can be merged."))
    version = plans.get_version(plan)
    target = targets.pop()
    node = next((n for n in plans.version_nodes(version) if n.key == target), None)
    if node is None:
        raise Conflict(_("The amended item is no longer in the current version."))
    return version, node


def create_compromise(
    actor, plan: Plan, sources: list[Amendment], *, text: str, justification: str = ""
) -> Amendment:
    """A facilitator's text replacing several amendments to the same item;
    they become “merged into” it."""
    enforce(compromise_refusal(actor, plan))
    version, node = _checked_target(plan, sources)
    text = clean_proposal(text)
    if not text:
        raise InvalidInput(_("Write the text you propose."))
    compromise = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=version.id,
        target_key=node.key,
        target_ref=node.ref,
        operation=AmendmentOperation.REPLACE.value,
        original_text=node.text,
        proposed_text=text,
        justification=clean_proposal(justification),
        language=plan.language,
        status=S.ADMITTED,
        author_id=actor.id,
        is_compromise=True,
        submitted_at=utcnow(),
    )
    insert_numbered(compromise)
    record_event(compromise, actor, "", S.ADMITTED)
    for source in sources:
        _merge(actor, source, compromise)
    record(
        "amendment.compromise",
        compromise,
        actor=actor,
        forum=plan.forum,
        merged=[source.id for source in sources],
    )
    return compromise


def _merge(actor, source: Amendment, compromise: Amendment) -> None:
    before = source.status
    source.status, source.merged_into_id, source.decided_at = S.MERGED, compromise.id, utcnow()
    record_event(source, actor, before, S.MERGED, compromise.label)
    if source.author_id is not None:
        notify(
            source.author_id,
            "amendment_status",
            source,
            forum=compromise.plan.forum,
            actor=actor,
            label=source.label,
            identifier=source.identifier,
            status=S.MERGED.value,
            into=compromise.label,
        )
