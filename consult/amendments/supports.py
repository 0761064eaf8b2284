"""Members' supports and the author's co-sponsors."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidInput
from ..extensions import db
from ..forums import services as forums
from ..notifications.services import notify
from .models import Amendment, AmendmentSponsor, AmendmentSupport, SponsorStatus
from .permissions import (
    cosponsor_refusal,
    enforce,
    invite_cosponsor_refusal,
    support_refusal,
    withdraw_support_refusal,
)
from .queries import invitation_of


def _support_of(actor, amendment: Amendment) -> AmendmentSupport | None:
    return db.session.scalar(
        select(AmendmentSupport).where(
            AmendmentSupport.amendment_id == amendment.id, AmendmentSupport.user_id == actor.id
        )
    )


def support(actor, amendment: Amendment) -> AmendmentSupport:
    """The member's support (once: a second support is the first one). Their
    coalition and country are kept as they are now."""
    enforce(support_refusal(actor, amendment))
    existing = _support_of(actor, amendment)
    if existing is not None:
        return existing
    membership = forums.membership_of(actor, amendment.plan.forum)
    coalition_country = membership.coalition.country if membership.coalition else None
    row = AmendmentSupport(
        amendment_id=amendment.id,
        user_id=actor.id,
        coalition_id=membership.coalition_id,
        country=actor.country or coalition_country,
    )
    savepoint = db.session.begin_nested()
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same member, twice at once: one support
        savepoint.rollback()
        return _support_of(actor, amendment)
    savepoint.commit()
    if amendment.author_id is not None:
        notify(
            amendment.author_id,
            "amendment_supported",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
            identifier=amendment.identifier,
        )
    return row


def withdraw_support(actor, amendment: Amendment) -> None:
    enforce(withdraw_support_refusal(actor, amendment))
    db.session.execute(
        AmendmentSupport.__table__.delete().where(
            AmendmentSupport.amendment_id == amendment.id, AmendmentSupport.user_id == actor.id
        )
    )


def invite_cosponsor(actor, amendment: Amendment, email: str) -> AmendmentSponsor:
    enforce(invite_cosponsor_refusal(actor, amendment))
    membership = forums.membership_by_email(amendment.plan.forum, email)
    if membership is None:
        raise InvalidInput(_("No member of this forum uses this email address."))
    if membership.user_id == actor.id:
        raise InvalidInput(_("You are the author already."))
    existing = db.session.scalar(
        select(AmendmentSponsor).where(
            AmendmentSponsor.amendment_id == amendment.id,
            AmendmentSponsor.user_id == membership.user_id,
        )
    )
    if existing is not None:
        return existing
    sponsor = AmendmentSponsor(
        amendment_id=amendment.id, user_id=membership.user_id, status=SponsorStatus.INVITED.value
    )
    db.session.add(sponsor)
    notify(
        membership.user_id,
        "cosponsor_invited",
        amendment,
        forum=amendment.plan.forum,
        actor=actor,
        label=amendment.label,
        identifier=amendment.identifier,
    )
    return sponsor


def accept_cosponsorship(actor, amendment: Amendment) -> None:
    invitation = invitation_of(actor, amendment)
    enforce(cosponsor_refusal(actor, amendment, invitation))
    invitation.status = SponsorStatus.ACCEPTED.value
