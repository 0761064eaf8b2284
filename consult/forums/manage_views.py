"""Managing a forum's coalitions and working groups (facilitators and
administrators). Plain view functions: ``forums.views`` adds them to its
blueprint, so their endpoints stay ``forums.<name>``."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..extensions import db
from . import groups as working_groups
from . import memberships, services
from .forms import CoalitionForm, GroupForm, GroupMemberForm
from .permissions import require_manage


def managed_forum(slug: str):
    """Load → check access: 404 for those who may not see the forum, 403 for non-managers."""
    forum = services.get_forum_for(current_user, slug)
    require_manage(current_user, forum)
    return forum


ROUTES = [
    ("/forums/<slug>/manage/coalitions", "coalitions", ["GET", "POST"]),
    ("/forums/<slug>/manage/coalitions/<int:coalition_id>", "coalitions", ["GET", "POST"]),
    ("/forums/<slug>/manage/groups", "groups", ["GET", "POST"]),
    ("/forums/<slug>/manage/groups/<group_slug>", "edit_group", ["GET", "POST"]),
    ("/forums/<slug>/manage/groups/<group_slug>/members", "add_group_member", ["POST"]),
    (
        "/forums/<slug>/manage/groups/<group_slug>/members/<int:user_id>/remove",
        "remove_group_member",
        ["POST"],
    ),
]


@login_required
def coalitions(slug, coalition_id=None):
    forum = managed_forum(slug)
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


@login_required
def groups(slug):
    forum = managed_forum(slug)
    form = GroupForm()
    status = 200
    if form.validate_on_submit():
        try:
            group = working_groups.save_group(
                current_user, forum, form.name.data, form.description.data
            )
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
        "forums/groups.html", forum=forum, form=form, groups=working_groups.list_groups(forum)
    ), status


def _group_page(forum, group, form, member_form, status):
    return render_template(
        "forums/edit_group.html",
        forum=forum,
        group=group,
        form=form,
        member_form=member_form,
        members=working_groups.group_members(group),
    ), status


@login_required
def edit_group(slug, group_slug):
    forum = managed_forum(slug)
    group = working_groups.get_group(forum, group_slug)
    form = GroupForm(obj=group)
    status = 200
    if form.validate_on_submit():
        try:
            working_groups.save_group(
                current_user, forum, form.name.data, form.description.data, group
            )
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


@login_required
def add_group_member(slug, group_slug):
    forum = managed_forum(slug)
    group = working_groups.get_group(forum, group_slug)
    member_form = GroupMemberForm(prefix="m")
    if member_form.validate_on_submit():
        membership = memberships.membership_by_email(forum, member_form.email.data)
        if membership is None:
            member_form.email.errors.append(_("No member of this forum uses this email address."))
        else:
            working_groups.add_group_member(
                current_user, group, membership.user, member_form.role.data
            )
            db.session.commit()
            flash(_("%(name)s has joined the group.", name=membership.user.display_name), "success")
            return redirect(url_for("forums.edit_group", slug=slug, group_slug=group_slug))
    return _group_page(forum, group, GroupForm(obj=group), member_form, 400)


@login_required
def remove_group_member(slug, group_slug, user_id):
    forum = managed_forum(slug)
    group = working_groups.get_group(forum, group_slug)
    working_groups.remove_group_member(current_user, group, user_id)
    db.session.commit()
    flash(_("The member has left the group."), "success")
    return redirect(url_for("forums.edit_group", slug=slug, group_slug=group_slug))
