"""Comment threads on the web: load → check → call a service → commit → back.

A refused or invalid submission shows the thread again with what was typed
still in its form (and the 4xx status); nothing a member wrote is lost.
"""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ..database import read_only
from ..errors import NotFound, PermissionDenied, ServiceError
from ..extensions import db
from ..forums.permissions import manage_refusal, require
from ..forums.services import get_forum_for
from ..pagination import page_arg
from ..plans import services as plans
from ..urls import safe_next
from ..whole_pages import kept_per_reader
from . import cards, moderation, services, threads
from .forms import (
    CommentForm,
    DeleteCommentForm,
    EditCommentForm,
    FlagCommentForm,
    HideCommentForm,
    RestoreCommentForm,
)
from .models import TARGET_TYPES
from .permissions import delete_refusal, edit_refusal, flag_refusal, write_refusal
from .targets import TARGET_KEY_RE, comment_for, get_comment, is_author, resolve_target

bp = Blueprint("comments", __name__, url_prefix="/forums/<slug>/comments")


# --- request arguments -----------------------------------------------------------


def _id_value(value) -> int | None:
    """An optional id from a form or query string; 400 when it is not one."""
    if value is None or value == "":
        return None
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or len(value) > 9:
        abort(400)
    return int(value)


def _target_args(values, strict: bool = True) -> tuple[str, int | None, str] | None:
    """The target named by a form or query string; 400 (or None when not
    ``strict``) when it is not well formed."""
    target_type = values.get("target_type", "")
    plan_id = values.get("plan_id", "")
    target_key = values.get("target_key", "")
    well_formed = (
        target_type in TARGET_TYPES
        and (plan_id == "" or (plan_id.isascii() and plan_id.isdigit() and len(plan_id) <= 9))
        and TARGET_KEY_RE.match(target_key) is not None
    )
    if not well_formed:
        if strict:
            abort(400)
        return None
    return target_type, int(plan_id) if plan_id else None, target_key


def _plan(forum, plan_id):
    return plans.get_plan(forum, plan_id) if plan_id is not None else None


# --- where to go back to -------------------------------------------------------------


def thread_url(target, page: int | None = None, anchor: str | None = None) -> str:
    return url_for(
        "comments.thread",
        slug=target.forum.slug,
        target_type=target.type,
        plan_id=target.plan_id,
        target_key=target.key,
        page=page if page and page > 1 else None,
        _anchor=anchor,
    )


def target_url(target, anchor: str | None = None) -> str:
    """The page where the target and its thread are shown."""
    try:
        if target.type == "node" and target.plan is not None:
            return url_for(
                "amendments.item",
                slug=target.forum.slug,
                plan_id=target.plan_id,
                key=target.key,
                _anchor=anchor,
            )
        if target.type == "amendment":
            return url_for(
                "amendments.detail",
                slug=target.forum.slug,
                amendment_id=int(target.key),
                _anchor=anchor,
            )
        if target.type == "consultation":
            return url_for(
                "consultations.show",
                slug=target.forum.slug,
                consultation_id=int(target.key),
                _anchor=anchor or "discussion",
            )
    except BuildError:
        pass  # that page is not part of this installation: the thread's own page
    return thread_url(target, anchor=anchor)


def _back(next_value, target, comment=None):
    anchor = f"comment-{comment.id}" if comment is not None else None
    destination = safe_next(next_value)
    if destination is None:
        return redirect(target_url(target, anchor))
    if anchor and "#" not in destination:
        destination += f"#{anchor}"
    return redirect(destination)


def _render_thread(
    target, *, page: int = 1, status: int = 200, next_url=None, active=None, thread=None
):
    """The thread page. ``active`` is the form to show open again with its data
    and errors: ``{"action": "comment" | "reply" | "edit" | …, "id": comment id,
    "form": form}``."""
    if thread is None:
        thread = threads.thread(
            current_user, target.forum, target.plan, target.type, target.key, page=page
        )
    return render_template(
        "comments/thread_page.html",
        forum=target.forum,
        plan=target.plan,
        thread=thread,
        comment_next=safe_next(next_url) or thread_url(target, thread.page),
        comment_active=active,
        target_url=target_url(target),
    ), status


def _comment_in_forum(slug, comment_id):
    forum = get_forum_for(current_user, slug)
    comment, target = comment_for(current_user, forum, comment_id)
    return forum, comment, target


# --- reading ----------------------------------------------------------------------


@bp.get("/thread")
@read_only
@kept_per_reader
def thread(slug):
    forum = get_forum_for(current_user, slug)
    target_type, plan_id, target_key = _target_args(request.args)
    page = page_arg()
    data = threads.thread(
        current_user, forum, _plan(forum, plan_id), target_type, target_key, page=page
    )
    if request.args.get("fragment") == "1":
        return render_template(
            "comments/_thread.html", thread=data, comment_next=thread_url(data.target, data.page)
        )
    return _render_thread(data.target, next_url=request.full_path, thread=data)


@bp.get("/<int:comment_id>")
def permalink(slug, comment_id):
    """Where a notification points: the thread page that shows this comment."""
    _forum, comment, target = _comment_in_forum(slug, comment_id)
    page = threads.page_of(comment)
    return redirect(thread_url(target, page, anchor=f"comment-{comment.id}"))


# --- writing ----------------------------------------------------------------------


bp.add_app_template_global(cards.comment_card)
bp.add_app_template_global(cards.new_form_token)


@bp.post("/")
@login_required
def create(slug):
    forum = get_forum_for(current_user, slug)
    form = CommentForm()
    if write_refusal(current_user, forum) is not None and _target_args(request.form, False) is None:
        require(write_refusal(current_user, forum))
    # Otherwise a member who may no longer write here (e.g. just made an
    # observer) gets the thread again, with the refusal and their text to copy.
    target_type, plan_id, target_key = _target_args(request.form)
    plan = _plan(forum, plan_id)
    target = resolve_target(current_user, forum, plan, target_type, target_key)
    parent_id = _id_value(request.form.get("parent_id"))
    parent = get_comment(forum, parent_id) if parent_id is not None else None
    active = {
        "action": "reply" if parent is not None else "comment",
        "id": parent.id if parent is not None else None,
        "form": form,
    }
    page = threads.page_of(parent) if parent is not None else 1
    if not form.validate_on_submit():
        return _render_thread(target, page=page, status=400, next_url=form.next.data, active=active)
    try:
        comment = services.post_comment(
            current_user,
            forum,
            plan=plan,
            target_type=target_type,
            target_key=target_key,
            body=form.body.data,
            alignment=form.alignment.data,
            parent=parent,
            language=current_user.locale,
            form_token=form.form_token.data,
        )
    except ServiceError as error:
        db.session.rollback()
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
        return _render_thread(
            target, page=page, status=error.status, next_url=form.next.data, active=active
        )
    db.session.commit()
    flash(
        _("Your reply has been published.")
        if parent is not None
        else _("Your comment has been published."),
        "success",
    )
    return _back(form.next.data, target, comment)


def _act(slug, comment_id, form_class, action_name, check, perform, success_message):
    """Shared path of the per-comment actions: load (404) → may this member do
    it at all (403) → form (400) → change (the service checks again) → commit
    → back. A refused or invalid form shows the thread again with it open."""
    forum, comment, target = _comment_in_forum(slug, comment_id)
    check(forum, comment)
    form = form_class()
    active = {"action": action_name, "id": comment.id, "form": form}
    if not form.validate_on_submit():
        return _render_thread(
            target,
            page=threads.page_of(comment),
            status=400,
            next_url=form.next.data,
            active=active,
        )
    try:
        perform(comment, form)
    except ServiceError as error:
        db.session.rollback()
        if isinstance(error, NotFound):
            raise
        flash(error.message, "error")
        return _render_thread(
            target,
            page=threads.page_of(comment),
            status=error.status,
            next_url=form.next.data,
            active=active,
        )
    db.session.commit()
    flash(success_message, "success")
    return _back(form.next.data, target, comment)


# Who may try each action at all (403 before the form is read); the state
# of the comment is checked by the service, which asks the same predicate.
def _author_only(refusal):
    def check(forum, comment):
        if not is_author(current_user, comment):
            require(refusal(current_user, comment))

    return check


def _members_only(forum, comment):
    refusal = flag_refusal(current_user, comment, forum)
    if refusal is not None and type(refusal).error is PermissionDenied:
        require(refusal)


def _moderators_only(forum, comment):
    require(manage_refusal(current_user, forum))


@bp.post("/<int:comment_id>/edit")
@login_required
def edit(slug, comment_id):
    return _act(
        slug,
        comment_id,
        EditCommentForm,
        "edit",
        _author_only(lambda actor, comment: edit_refusal(actor, comment, None)),
        lambda comment, form: services.edit_comment(current_user, comment, form.body.data),
        _("Your comment has been changed."),
    )


@bp.post("/<int:comment_id>/delete")
@login_required
def delete(slug, comment_id):
    return _act(
        slug,
        comment_id,
        DeleteCommentForm,
        "delete",
        _author_only(delete_refusal),
        lambda comment, form: services.delete_comment(current_user, comment),
        _("Your comment has been deleted."),
    )


@bp.post("/<int:comment_id>/flag")
@login_required
def flag(slug, comment_id):
    return _act(
        slug,
        comment_id,
        FlagCommentForm,
        "flag",
        _members_only,
        lambda comment, form: moderation.flag_comment(
            current_user, comment, form.reason.data or ""
        ),
        _("Thank you. The moderators have been told about this comment."),
    )


@bp.post("/<int:comment_id>/hide")
@login_required
def hide(slug, comment_id):
    return _act(
        slug,
        comment_id,
        HideCommentForm,
        "hide",
        _moderators_only,
        lambda comment, form: moderation.hide_comment(current_user, comment, form.reason.data),
        _("The comment has been hidden."),
    )


@bp.post("/<int:comment_id>/restore")
@login_required
def restore(slug, comment_id):
    return _act(
        slug,
        comment_id,
        RestoreCommentForm,
        "restore",
        _moderators_only,
        lambda comment, form: moderation.restore_comment(
            current_user, comment, form.reason.data or ""
        ),
        _("The comment is shown again."),
    )
