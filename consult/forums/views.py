from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.services import clean_text, offer_browser_zone
from ..accounts.views import flash_offered_zone, sign_in_user
from ..errors import ServiceError
from ..extensions import db
from ..pagination import page_arg
from ..uploads import flash_report
from . import groups as working_groups
from . import invitations, manage_views, member_import, memberships, services
from .forms import (
    AcceptInvitationForm,
    ForumForm,
    ForumSettingsForm,
    InviteForm,
    MemberImportForm,
    MembershipForm,
)
from .manage_views import managed_forum
from .models import Role
from .permissions import (
    allowed_in,
    appoint_refusal,
    archived_refusal,
    membership_of,
    removal_refusal,
    role_change_refusal,
)

bp = Blueprint("forums", __name__)


for _rule, _endpoint, _methods in manage_views.ROUTES:
    bp.add_url_rule(_rule, _endpoint, getattr(manage_views, _endpoint), methods=_methods)


def _coalition_choices(forum):
    return [(0, _("(none)"))] + [(c.id, c.name) for c in services.list_coalitions(forum)]


def _group_choices(forum):
    return [(group.id, group.name) for group, _count in working_groups.list_groups(forum)]


def _selected_groups(forum, ids):
    groups = {group.id: group for group, _count in working_groups.list_groups(forum)}
    return [groups[i] for i in ids if i in groups]


# --- forums ---------------------------------------------------------------


@bp.route("/forums/new", methods=["GET", "POST"])
@login_required
def create_forum():
    if not current_user.is_admin:
        abort(403)
    form = ForumForm()
    if form.validate_on_submit():
        try:
            forum = services.create_forum(
                current_user,
                form.slug.data,
                form.name.data,
                description=form.description.data,
                default_locale=form.default_locale.data,
                is_public=form.is_public.data,
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The forum has been created."), "success")
            return redirect(url_for("forums.manage", slug=forum.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("forums/create.html", form=form), status


@bp.get("/forums/<slug>/")
def forum(slug):
    forum = services.get_forum_for(current_user, slug)
    membership = membership_of(current_user, forum)
    return render_template(
        "forums/forum.html",
        forum=forum,
        membership=membership,
        coalitions=services.list_coalitions(forum),
        groups=working_groups.list_groups(forum),
        my_groups=working_groups.groups_of(current_user, forum) if membership else [],
        allowed=allowed_in(current_user, forum, membership),
        archived=archived_refusal(forum),
    )


@bp.get("/forums/<slug>/groups/<group_slug>")
def group(slug, group_slug):
    forum = services.get_forum_for(current_user, slug)
    group = working_groups.get_group(forum, group_slug)
    allowed = allowed_in(current_user, forum)
    return render_template(
        "forums/group.html",
        forum=forum,
        group=group,
        members=working_groups.group_members(group) if allowed.see_group_members else None,
    )


# --- management -----------------------------------------------------------


@bp.route("/forums/<slug>/manage/", methods=["GET", "POST"])
@login_required
def manage(slug):
    forum = managed_forum(slug)
    allowed = allowed_in(current_user, forum)
    form = ForumSettingsForm(obj=forum)
    if request.method == "POST":
        if not allowed.administer:
            abort(403)
        if form.validate_on_submit():
            try:
                services.update_forum(
                    current_user,
                    forum,
                    name=form.name.data,
                    description=form.description.data,
                    default_locale=form.default_locale.data,
                    is_public=form.is_public.data,
                    line_length=form.line_length.data,
                )
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.session.commit()
                flash(_("The forum's settings have been saved."), "success")
                return redirect(url_for("forums.manage", slug=slug))
    members = memberships.list_members(forum, per_page=1)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "forums/manage.html",
        forum=forum,
        form=form,
        allowed=allowed,
        member_count=members.total,
        coalitions=services.list_coalitions(forum),
        groups=working_groups.list_groups(forum),
        archived=archived_refusal(forum),
    ), status


@bp.get("/forums/<slug>/manage/members")
@login_required
def members(slug):
    forum = managed_forum(slug)
    query = clean_text(request.args.get("q", ""))[:100]
    page = memberships.list_members(forum, page=page_arg(), query=query)
    return render_template("forums/members.html", forum=forum, page=page, query=query)


@bp.route("/forums/<slug>/manage/members/invite", methods=["GET", "POST"])
@login_required
def invite(slug):
    forum = managed_forum(slug)
    form = InviteForm()
    if request.method == "GET":
        form.locale.data = forum.default_locale
    form.coalition_id.choices = _coalition_choices(forum)
    form.group_ids.choices = _group_choices(forum)
    if form.validate_on_submit():
        coalition = (
            services.get_coalition(forum, form.coalition_id.data)
            if form.coalition_id.data
            else None
        )
        try:
            invitations.invite(
                current_user,
                forum,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                coalition=coalition,
                country=form.country.data,
                locale=form.locale.data,
                groups=_selected_groups(forum, form.group_ids.data),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _invite_page(forum, form, error.status)
        db.session.commit()
        flash(_("%(email)s has been invited.", email=form.email.data), "success")
        return redirect(url_for("forums.members", slug=slug))
    return _invite_page(forum, form, 400 if request.method == "POST" else 200)


def _invite_page(forum, form, status):
    """The invitation form, offering only the roles this manager may give."""
    roles = [role for role in Role if appoint_refusal(current_user, forum, role) is None]
    form.role.choices = [(role.value, role.label) for role in roles]
    return render_template("forums/invite.html", forum=forum, form=form), status


@bp.route("/forums/<slug>/manage/members/<int:membership_id>", methods=["GET", "POST"])
@login_required
def edit_member(slug, membership_id):
    forum = managed_forum(slug)
    membership = memberships.get_membership(forum, membership_id)
    form = MembershipForm(obj=membership)
    form.coalition_id.choices = _coalition_choices(forum)
    form.group_ids.choices = _group_choices(forum)
    if request.method == "GET":
        form.coalition_id.data = membership.coalition_id or 0
        form.group_ids.data = [g.id for g in working_groups.groups_of(membership.user, forum)]
    if form.validate_on_submit():
        coalition = (
            services.get_coalition(forum, form.coalition_id.data)
            if form.coalition_id.data
            else None
        )
        try:
            memberships.update_membership(
                current_user,
                membership,
                role=form.role.data,
                coalition=coalition,
                is_delegate=form.is_delegate.data,
                vote_weight=form.vote_weight.data if form.vote_weight.data is not None else 1,
                is_translator=form.is_translator.data,
            )
            memberships.set_member_groups(
                current_user, membership, _selected_groups(forum, form.group_ids.data)
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _member_page(forum, membership, form, error.status)
        db.session.commit()
        flash(_("The membership has been saved."), "success")
        return redirect(url_for("forums.members", slug=slug))
    return _member_page(forum, membership, form, 400 if request.method == "POST" else 200)


def _member_page(forum, membership, form, status):
    """A member's page, offering only the roles (and the removal) the rules allow."""
    roles = [role for role in Role if role_change_refusal(current_user, membership, role) is None]
    form.role.choices = [(role.value, role.label) for role in roles]
    return render_template(
        "forums/member.html",
        forum=forum,
        membership=membership,
        form=form,
        may_remove=removal_refusal(current_user, membership) is None,
    ), status


@bp.post("/forums/<slug>/manage/members/<int:membership_id>/remove")
@login_required
def remove_member(slug, membership_id):
    forum = managed_forum(slug)
    membership = memberships.get_membership(forum, membership_id)
    name = membership.user.display_name
    memberships.remove_membership(current_user, membership)
    db.session.commit()
    flash(_("%(name)s is no longer a member of the forum.", name=name), "success")
    return redirect(url_for("forums.members", slug=slug))


@bp.post("/forums/<slug>/manage/members/<int:membership_id>/resend")
@login_required
def resend_invitation(slug, membership_id):
    forum = managed_forum(slug)
    membership = memberships.get_membership(forum, membership_id)
    invitations.send_invitation(current_user, forum, membership.user)
    db.session.commit()
    flash(_("The invitation has been sent again."), "success")
    return redirect(url_for("forums.members", slug=slug))


@bp.route("/forums/<slug>/manage/members/import", methods=["GET", "POST"])
@login_required
def import_members(slug):
    forum = managed_forum(slug)
    form = MemberImportForm()
    report = None
    if form.validate_on_submit():
        report = member_import.import_members(current_user, forum, form.file.data.read())
        db.session.commit()
        flash_report(report)
    status = 400 if request.method == "POST" and (report is None or report.error) else 200
    return render_template(
        "forums/import_members.html",
        forum=forum,
        form=form,
        report=report,
        columns=member_import.COLUMNS,
    ), status


# --- invitations ------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = invitations.invitation_for_token(token)
    if invitation is None:
        return render_template("forums/invitation_invalid.html"), 404
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.display_name.data = invitation.user.display_name
        form.locale.data = invitation.user.locale
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(
                token,
                display_name=form.display_name.data,
                password=form.password.data,
                locale=form.locale.data,
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            forum_slug = invitation.forum.slug
            offered = offer_browser_zone(user, form.browser_timezone.data)
            sign_in_user(user)
            flash(_("Welcome to Consult. Your account is ready."), "success")
            flash_offered_zone(offered)
            return redirect(url_for("forums.forum", slug=forum_slug))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "forums/accept_invitation.html", form=form, invitation=invitation
    ), status
