"""Proposing amendments: a new amendment to the current version, a draft's
edits, the author's revision after a consolidated draft, a sub-amendment."""

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..forums import services as forums
from ..plans import services as plans
from ..plans.import_lines import normalise
from ..plans.models import Plan
from .lifecycle import record_event, set_status, submit_amendment
from .models import OPERATIONS, Amendment, AmendmentOperation
from .models import AmendmentStatus as S
from .permissions import (
    amend_refusal,
    edit_refusal,
    eligibility_refusal,
    enforce,
    phase_refusal,
    revise_refusal,
    sub_amend_refusal,
)
from .queries import current_target

MAX_TEXT = 20_000
MAX_TOKEN = 64


def clean_proposal(text: str | None) -> str:
    text = normalise(text or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("The text is too long (at most %(count)d characters).", count=MAX_TEXT)
        )
    return text


def _next_number(plan: Plan) -> int:
    return (
        db.session.scalar(select(func.max(Amendment.number)).where(Amendment.plan_id == plan.id))
        or 0
    ) + 1


def _same_form(author_id, form_token: str | None) -> Amendment | None:
    """The amendment this form (its one-time token) already made, if any."""
    if not form_token or author_id is None:
        return None
    return db.session.scalar(
        select(Amendment).where(
            Amendment.author_id == author_id, Amendment.form_token == form_token[:MAX_TOKEN]
        )
    )


def insert_numbered(amendment: Amendment) -> Amendment:
    """Add with the next number of the plan. A concurrent proposal that took the
    number makes us retry; the same form sent twice at once returns the first."""
    for _attempt in range(3):
        amendment.number = _next_number(amendment.plan)
        savepoint = db.session.begin_nested()
        db.session.add(amendment)
        try:
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            first = _same_form(amendment.author_id, amendment.form_token)
            if first is not None:
                return first
            continue
        savepoint.commit()
        return amendment
    raise Conflict()


def _target(plan: Plan, nodes, target: str | None, operation: str):
    """The amended node (None for a new section at the end)."""
    if operation not in OPERATIONS:
        raise InvalidInput(_("Unknown kind of amendment."))
    if target:
        node = next((n for n in nodes if n.key == target or n.ref == target), None)
        if node is None:
            raise NotFound(_("There is no item %(ref)s in this version.", ref=target))
        return node
    if operation != AmendmentOperation.NEW_SECTION:
        raise InvalidInput(_("Choose the item to amend."))
    return None


def _proposed_text(operation: str, text: str, current: str | None) -> str:
    text = clean_proposal(text)
    if operation == AmendmentOperation.DELETE:
        return ""
    if not text:
        raise InvalidInput(_("Write the text you propose."))
    if operation == AmendmentOperation.REPLACE and current is not None and text == current:
        raise InvalidInput(_("The proposed text is the same as the current text."))
    return text


def require_may_amend(actor, plan: Plan, version, target_key: str) -> None:
    """Before the proposal form is shown: refuse as ``propose`` would (who may
    amend this item, and whether the phase allows amending now)."""
    nodes = {n.key: n for n in plans.version_nodes(version)}
    enforce(amend_refusal(actor, plan, target_key, nodes))


def propose(
    actor,
    plan: Plan,
    *,
    target: str | None,
    operation: str,
    text: str = "",
    justification: str = "",
    language: str | None = None,
    submit: bool = False,
    form_token: str | None = None,
) -> Amendment:
    """A new amendment to the current version (a draft, or submitted at once).

    With ``form_token``, sending the same form again returns the amendment it
    already made instead of a second one.
    """
    if (existing := _same_form(getattr(actor, "id", None), form_token)) is not None:
        return existing
    plans.require_not_archived(plan)
    version = plans.get_version(plan)
    nodes = plans.version_nodes(version)
    node = _target(plan, nodes, target, operation)
    enforce(eligibility_refusal(actor, plan, node.key if node else None, {n.key: n for n in nodes}))
    closed = phase_refusal(actor, plan, "amend")
    text = _proposed_text(operation, text, node.text if node else None)
    membership = forums.membership_of(actor, plan.forum)
    amendment = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=version.id,
        target_key=node.key if node else None,
        target_ref=node.ref if node else "",
        operation=operation,
        original_text=node.text if node else "",
        proposed_text=text,
        justification=clean_proposal(justification),
        language=language or plan.language,
        status=S.DRAFT,
        author_id=getattr(actor, "id", None),
        coalition_id=membership.coalition_id if membership else None,
        form_token=(form_token or None) and form_token[:MAX_TOKEN],
    )
    inserted = insert_numbered(amendment)
    if inserted is not amendment:
        return inserted
    record_event(amendment, actor, "", S.DRAFT)
    if submit and closed is None:
        submit_amendment(actor, amendment)
    # Past the deadline the text is not lost: it stays as the member's draft.
    amendment.submission_refused = closed if submit else None
    return amendment


def update_draft(actor, amendment: Amendment, *, text: str, justification: str) -> None:
    enforce(edit_refusal(actor, amendment))
    text = clean_proposal(text)
    if amendment.operation != AmendmentOperation.DELETE and not text:
        raise InvalidInput(_("Write the text you propose."))
    amendment.proposed_text = "" if amendment.operation == AmendmentOperation.DELETE else text
    amendment.justification = clean_proposal(justification)
    amendment.updated_at = utcnow()


def revise(actor, amendment: Amendment, *, text: str, justification: str) -> None:
    """The author's new text for an amendment to be revised, against the current
    version; it is submitted again."""
    enforce(revise_refusal(actor, amendment))
    node = current_target(amendment)
    if amendment.target_key and node is None:
        raise Conflict(
            _("The amended item is no longer in the plan; withdraw this amendment instead.")
        )
    text = _proposed_text(amendment.operation, text, node.text if node else None)
    amendment.base_version_id = amendment.plan.current_version_id
    if node is not None:
        amendment.original_text, amendment.target_ref = node.text, node.ref
    amendment.proposed_text = text
    amendment.justification = clean_proposal(justification)
    set_status(actor, amendment, S.SUBMITTED, _("Revised by the author."))


def propose_sub_amendment(
    actor, parent: Amendment, *, text: str, justification: str = "", submit: bool = True
) -> Amendment:
    """An amendment to an admitted amendment: it proposes a new text for it."""
    enforce(sub_amend_refusal(actor, parent))
    plan = parent.plan
    text = _proposed_text(AmendmentOperation.REPLACE, text, parent.proposed_text)
    membership = forums.membership_of(actor, plan.forum)
    sub = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=parent.base_version_id,
        target_key=parent.target_key,
        target_ref=parent.target_ref,
        operation=AmendmentOperation.REPLACE.value,
        original_text=parent.proposed_text,
        proposed_text=text,
        justification=clean_proposal(justification),
        language=parent.language,
        status=S.DRAFT,
        author_id=actor.id,
        coalition_id=membership.coalition_id if membership else None,
        parent_id=parent.id,
    )
    insert_numbered(sub)
    record_event(sub, actor, "", S.DRAFT)
    if submit:
        submit_amendment(actor, sub)
    return sub


def forget_author(user) -> None:
    """A deleted account's drafts, and the name written by hand on the
    amendments it brought in from paper (an ``accounts.hooks.on_deletion``
    step). Its other amendments stay, by a former member."""
    # Drafts were seen by no one but their author: they go with the account.
    db.session.execute(
        delete(Amendment).where(Amendment.author_id == user.id, Amendment.status == S.DRAFT)
    )
    db.session.execute(
        update(Amendment)
        .where(Amendment.author_id == user.id, Amendment.author_name != "")
        .values(author_name="")
    )
