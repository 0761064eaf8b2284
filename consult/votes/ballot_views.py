"""Voting, receipts, proxies and running a vote (open, close, cancel, the roll
call): one POST each, the rules in ``permissions``."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.models import User
from ..errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..urls import safe_next
from . import (
    casting,
    lifecycle,
    permissions,
    proxies,
    queries,
)
from .ballot_input import ballot_input, delegate_id, present_ids
from .blueprint import POLL, bp, poll_page, to_poll
from .forms import ReasonForm, ReceiptForm


@bp.post(POLL + "/vote")
@login_required
def vote(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    try:
        ballot = ballot_input(poll, request.form)
        code = casting.cast(
            current_user,
            poll,
            ballot.choice,
            on_behalf_of=ballot.on_behalf_of,
            receipt=ballot.receipt,
        )
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return poll_page(poll, error.status, submitted=request.form.to_dict())
    voter = None
    if ballot.on_behalf_of is not None:
        voter = db.session.get(User, ballot.on_behalf_of)
    # The receipt code is shown here once and stored nowhere in the clear, so this
    # page is not a redirect: a redirect would have to carry it in the session.
    # It is rendered before the commit, from what this request has read (the
    # commit expires it all, and reading it again would cost four queries), and
    # sent only once the commit has succeeded.
    page = render_template(
        "votes/receipt.html",
        forum=poll.forum,
        poll=poll,
        code=code,
        choice=queries.choice_label(poll, casting.parse_choice(poll, ballot.choice)),
        voter=voter,
        back=safe_next(request.form.get("next")),
    )
    db.session.commit()
    return page


@bp.post(POLL + "/receipt")
def receipt(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        flash(_("Enter the receipt code you received when voting."), "error")
        return poll_page(poll, 400, receipt_form=form)
    try:
        choice = casting.check_receipt(poll, form.code.data, current_user)
    except ServiceError as error:
        flash(error.message, "error")
        return poll_page(poll, error.status)
    return poll_page(
        poll,
        200,
        receipt_form=form,
        receipt_checked=True,
        receipt_choice=queries.choice_label(poll, choice) if choice is not None else None,
    )


def _manage(slug, poll_id, action, message):
    poll = queries.get_poll(current_user, slug, poll_id)
    forums.require_manage(current_user, poll.forum)
    try:
        done = action(poll)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return poll_page(poll, error.status)
    db.session.commit()
    if done is not False:
        flash(message, "success")
    return to_poll(poll)


@bp.post(POLL + "/open")
@login_required
def open_now(slug, poll_id):
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.open_poll(current_user, poll),
        _("The vote is open."),
    )


@bp.post(POLL + "/close")
@login_required
def close_now(slug, poll_id):
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.close_poll(current_user, poll),
        _("The vote is closed and counted."),
    )


@bp.post(POLL + "/cancel")
@login_required
def cancel(slug, poll_id):
    form = ReasonForm()
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.cancel_poll(current_user, poll, form.reason.data or ""),
        _("The vote has been cancelled."),
    )


@bp.post(POLL + "/proxy")
@login_required
def grant_proxy(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    try:
        proxy = proxies.grant_proxy(current_user, poll, delegate_id(request.form, "holder"))
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return poll_page(poll, error.status)
    name = proxy.holder.display_name if proxy.holder else ""
    db.session.commit()
    flash(_("%(name)s now carries your vote in this poll.", name=name), "success")
    return to_poll(poll)


@bp.post(POLL + "/proxy/revoke")
@login_required
def revoke_proxy(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    try:
        proxies.revoke_proxy(current_user, poll)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return poll_page(poll, error.status)
    db.session.commit()
    flash(_("You have taken your vote back; you can cast it yourself."), "success")
    return to_poll(poll)


@bp.route(POLL + "/roll-call", methods=["GET", "POST"])
@login_required
def roll_call(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    forums.require_manage(current_user, poll.forum)
    status = 200
    if request.method == "POST":
        try:
            count = proxies.set_presence(current_user, poll, present_ids(request.form))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Roll call saved: %(count)d present.", count=count), "success")
            return redirect(url_for("votes.roll_call", slug=slug, poll_id=poll.id))
    return render_template(
        "votes/roll_call.html",
        forum=poll.forum,
        poll=poll,
        voters=queries.electorate(poll),
        allowed=permissions.allowed(current_user, poll),
    ), status
