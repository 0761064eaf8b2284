from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.services import clean_text, offer_browser_zone
from ..accounts.views import flash_offered_zone, sign_in_user
from ..errors import ServiceError
from ..extensions import db
from ..uploads import flash_report
from . import member_import, services
from .forms import (
    AcceptInvitationForm,
    CoalitionForm,
    ForumForm,
    ForumSettingsForm,
    GroupForm,
    GroupMemberForm,
    InviteForm,
    MemberImportForm,
    MembershipForm,
)

bp = Blueprint("forums", __name__)


def _page_arg(name: str = "page") -> int:
    value = request.args.get(name, "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return max(int(value), 1)


def _managed_forum(slug: str):
    """Load → check access: 404 for those who may not see the forum, 403 for non-managers."""
    forum = services.get_forum_for(current_user, slug)
    services.require_manage(current_user, forum)
    return forum


def _coalition_choices(forum):
    return [(0, _("(none)"))] + [(c.id, c.name) for c in services.list_coalitions(forum)]


def _group_choices(forum):
    return [(group.id, group.name) for group, _count in services.list_groups(forum)]


def _selected_groups(forum, ids):
    groups = {group.id: group for group, _count in services.list_groups(forum)}
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
    membership = services.membership_of(current_user, forum)
    return render_template(
        "forums/forum.html",
        forum=forum,
        membership=membership,
        coalitions=services.list_coalitions(forum),
        groups=services.list_groups(forum),
        my_groups=services.groups_of(current_user, forum) if membership else [],
        can_manage=services.can_manage(current_user, forum, membership),
    )


@bp.get("/forums/<slug>/groups/<group_slug>")
def group(slug, group_slug):
    forum = services.get_forum_for(current_user, slug)
    group = services.get_group(forum, group_slug)
    membership = services.membership_of(current_user, forum)
    # Who takes part is shown to the forum's members, not to the public.
    show_members = membership is not None or services.can_manage(current_user, forum)
    return render_template(
        "forums/group.html",
        forum=forum,
        group=group,
        members=services.group_members(group) if show_members else None,
    )


# --- management -----------------------------------------------------------


@bp.route("/forums/<slug>/manage/", methods=["GET", "POST"])
@login_required
def manage(slug):
    forum = _managed_forum(slug)
    can_administer = services.can_administer(current_user, forum)
    form = ForumSettingsForm(obj=forum)
    if request.method == "POST":
        if not can_administer:
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
                )
            except ServiceError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.session.commit()
                flash(_("The forum's settings have been saved."), "success")
                return redirect(url_for("forums.manage", slug=slug))
    members = services.list_members(forum, per_page=1)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "forums/manage.html",
        forum=forum,
        form=form,
        can_administer=can_administer,
        member_count=members.total,
        coalitions=services.list_coalitions(forum),
        groups=services.list_groups(forum),
    ), status


@bp.get("/forums/<slug>/manage/members")
@login_required
def members(slug):
    forum = _managed_forum(slug)
    query = clean_text(request.args.get("q", ""))[:100]
    page = services.list_members(forum, page=_page_arg(), query=query)
    return render_template("forums/members.html", forum=forum, page=page, query=query)


@bp.route("/forums/<slug>/manage/members/invite", methods=["GET", "POST"])
@login_required
def invite(slug):
    forum = _managed_forum(slug)
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
            services.invite(
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
            return render_template("forums/invite.html", forum=forum, form=form), error.status
        db.session.commit()
        flash(_("%(email)s has been invited.", email=form.email.data), "success")
        return redirect(url_for("forums.members", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template("forums/invite.html", forum=forum, form=form), status


@bp.route("/forums/<slug>/manage/members/<int:membership_id>", methods=["GET", "POST"])
@login_required
def edit_member(slug, membership_id):
    forum = _managed_forum(slug)
    membership = services.get_membership(forum, membership_id)
    form = MembershipForm(obj=membership)
    form.coalition_id.choices = _coalition_choices(forum)
    form.group_ids.choices = _group_choices(forum)
    if request.method == "GET":
        form.coalition_id.data = membership.coalition_id or 0
        form.group_ids.data = [g.id for g in services.groups_of(membership.user, forum)]
    if form.validate_on_submit():
        coalition = (
            services.get_coalition(forum, form.coalition_id.data)
            if form.coalition_id.data
            else None
        )
        try:
            services.update_membership(
                current_user,
                membership,
                role=form.role.data,
                coalition=coalition,
                is_delegate=form.is_delegate.data,
                vote_weight=form.vote_weight.data if form.vote_weight.data is not None else 1,
                is_translator=form.is_translator.data,
            )
            services.set_member_groups(
                current_user, membership, _selected_groups(forum, form.group_ids.data)
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            return render_template(
                "forums/member.html", forum=forum, membership=membership, form=form
            ), error.status
        db.session.commit()
        flash(_("The membership has been saved."), "success")
        return redirect(url_for("forums.members", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "forums/member.html", forum=forum, membership=membership, form=form
    ), status


@bp.post("/forums/<slug>/manage/members/<int:membership_id>/remove")
@login_required
def remove_member(slug, membership_id):
    forum = _managed_forum(slug)
    membership = services.get_membership(forum, membership_id)
    name = membership.user.display_name
    services.remove_membership(current_user, membership)
    db.session.commit()
    flash(_("%(name)s is no longer a member of the forum.", name=name), "success")
    return redirect(url_for("forums.members", slug=slug))


@bp.post("/forums/<slug>/manage/members/<int:membership_id>/resend")
@login_required
def resend_invitation(slug, membership_id):
    forum = _managed_forum(slug)
    membership = services.get_membership(forum, membership_id)
    services.send_invitation(current_user, forum, membership.user)
    db.session.commit()
    flash(_("The invitation has been sent again."), "success")
    return redirect(url_for("forums.members", slug=slug))


@bp.route("/forums/<slug>/manage/members/import", methods=["GET", "POST"])
@login_required
def import_members(slug):
    forum = _managed_forum(slug)
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


@bp.route("/forums/<slug>/manage/coalitions", methods=["GET", "POST"])
@bp.route("/forums/<slug>/manage/coalitions/<int:coalition_id>", methods=["GET", "POST"])
@login_required
def coalitions(slug, coalition_id=None):
    forum = _managed_forum(slug)
    coalition = services.get_coalition(forum, coalition_id) if coalition_id else None
    form = CoalitionForm(obj=coalition)
    if request.method == "GET" and coalition is not None:
        form.country.data = coalition.country or ""
    status = 200
    if form.validate_on_submit():
        try:
            services.save_coalition(
                current_user, forum, form.name.data, form.country.data, coalition
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The coalition has been saved."), "success")
            return redirect(url_for("forums.coalitions", slug=slug))
    elif request.method == "POST":
        status = 400
    return render_template(
        "forums/coalitions.html",
        forum=forum,
        form=form,
        coalition=coalition,
        coalitions=services.list_coalitions(forum),
    ), status


@bp.route("/forums/<slug>/manage/groups", methods=["GET", "POST"])
@login_required
def groups(slug):
    forum = _managed_forum(slug)
    form = GroupForm()
    status = 200
    if form.validate_on_submit():
        try:
            group = services.save_group(current_user, forum, form.name.data, form.description.data)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The working group has been created."), "success")
            return redirect(url_for("forums.edit_group", slug=slug, group_slug=group.slug))
    elif request.method == "POST":
        status = 400
    return render_template(
        "forums/groups.html", forum=forum, form=form, groups=services.list_groups(forum)
    ), status


def _group_page(forum, group, form, member_form, status):
    return render_template(
        "forums/edit_group.html",
        forum=forum,
        group=group,
        form=form,
        member_form=member_form,
        members=services.group_members(group),
    ), status


@bp.route("/forums/<slug>/manage/groups/<group_slug>", methods=["GET", "POST"])
@login_required
def edit_group(slug, group_slug):
    forum = _managed_forum(slug)
    group = services.get_group(forum, group_slug)
    form = GroupForm(obj=group)
    status = 200
    if form.validate_on_submit():
        try:
            services.save_group(current_user, forum, form.name.data, form.description.data, group)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The working group has been saved."), "success")
            return redirect(url_for("forums.edit_group", slug=slug, group_slug=group.slug))
    elif request.method == "POST":
        status = 400
    return _group_page(forum, group, form, GroupMemberForm(prefix="m"), status)


@bp.post("/forums/<slug>/manage/groups/<group_slug>/members")
@login_required
def add_group_member(slug, group_slug):
    forum = _managed_forum(slug)
    group = services.get_group(forum, group_slug)
    member_form = GroupMemberForm(prefix="m")
    if member_form.validate_on_submit():
        membership = services.membership_by_email(forum, member_form.email.data)
        if membership is None:
            member_form.email.errors.append(_("No member of this forum uses this email address."))
        else:
            services.add_group_member(current_user, group, membership.user, member_form.role.data)
            db.session.commit()
            flash(_("%(name)s has joined the group.", name=membership.user.display_name), "success")
            return redirect(url_for("forums.edit_group", slug=slug, group_slug=group_slug))
    return _group_page(forum, group, GroupForm(obj=group), member_form, 400)


@bp.post("/forums/<slug>/manage/groups/<group_slug>/members/<int:user_id>/remove")
@login_required
def remove_group_member(slug, group_slug, user_id):
    forum = _managed_forum(slug)
    group = services.get_group(forum, group_slug)
    services.remove_group_member(current_user, group, user_id)
    db.session.commit()
    flash(_("The member has left the group."), "success")
    return redirect(url_for("forums.edit_group", slug=slug, group_slug=group_slug))


# --- invitations ------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render_template("forums/invitation_invalid.html"), 404
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.display_name.data = invitation.user.display_name
        form.locale.data = invitation.user.locale
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
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


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(services.ROLE_LABELS.get(role, role))


@bp.app_template_global()
def group_role_label(role: str) -> str:
    return str(services.GROUP_ROLE_LABELS.get(role, role))
