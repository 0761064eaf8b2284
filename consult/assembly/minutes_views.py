"""The minutes' pages: read them (draft or signed) in es, en or pt, download
them as PDF, DOCX or JSON, regenerate the draft, and sign them off."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ..config import LOCALES
from ..errors import ServiceError
from ..extensions import db
from ..i18n import LANGUAGE_NAMES
from . import minutes as services
from . import minutes_documents as documents
from . import minutes_text

bp = Blueprint("assembly_minutes", __name__)

MINUTES = "/forums/<slug>/assembly/<int:session_id>/minutes"


class RegenerateForm(FlaskForm):
    pass


class SignForm(FlaskForm):
    digest = HiddenField()


def _language() -> str:
    """The language the minutes are read in: ``?lang=`` if it is one of ours,
    else the interface's."""
    asked = request.args.get("lang", "")
    return asked if asked in LOCALES else str(get_locale())


def _load(slug, session_id):
    session = services.get_session(current_user, slug, session_id)
    minutes = services.minutes_for(current_user, session)
    return session, minutes


def _text(session, minutes: dict, lang: str) -> dict:
    with force_locale(lang):
        signer = session.minutes_signed_by
        return minutes_text.present(
            minutes,
            signed_at=session.minutes_signed_at,
            signed_by=signer.display_name if signer is not None else "",
        )


def _page(session, minutes: dict, status: int = 200):
    lang = _language()
    sign_form = SignForm(formdata=None, digest=services.digest(minutes))
    return (
        render_template(
            "assembly/minutes.html",
            session=session,
            forum=session.forum,
            m=_text(session, minutes, lang),
            lang=lang,
            languages=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
            allowed=services.allowed(current_user, session),
            regenerate_form=RegenerateForm(formdata=None),
            sign_form=sign_form,
        ),
        status,
    )


@bp.get(MINUTES)
def show(slug, session_id):
    session, minutes = _load(slug, session_id)
    return _page(session, minutes)


def _download(body, mimetype: str, name: str, signed: bool) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # A draft changes; signed minutes are still private to a private forum.
            "Cache-Control": "private, max-age=300" if signed else "no-store",
        },
    )


@bp.get(MINUTES + ".pdf", defaults={"fmt": "pdf"})
@bp.get(MINUTES + ".docx", defaults={"fmt": "docx"})
def download(slug, session_id, fmt):
    session, minutes = _load(slug, session_id)
    lang = _language()
    with force_locale(lang):
        body = documents.document(session, fmt, lang, lambda: _text(session, minutes, lang))
    name = documents.filename(minutes, fmt, lang)
    return _download(body, documents.FORMATS[fmt], name, session.minutes_signed)


@bp.get(MINUTES + ".json")
def as_json(slug, session_id):
    session, minutes = _load(slug, session_id)
    body = services.published_json(session, minutes)
    name = documents.filename(minutes, "json", "data")
    return _download(body, "application/json", name, session.minutes_signed)


def _act(slug, session_id, action, message):
    session = services.get_session(current_user, slug, session_id)
    try:
        action(session)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        session = services.get_session(current_user, slug, session_id)
        return _page(session, services.minutes_for(current_user, session), error.status)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".show", slug=slug, session_id=session_id, lang=_language()))


@bp.post(MINUTES + "/regenerate")
@login_required
def regenerate(slug, session_id):
    RegenerateForm().validate_on_submit()  # a missing CSRF token is refused before this
    return _act(
        slug,
        session_id,
        lambda session: services.regenerate_minutes(current_user, session),
        _("The draft minutes have been drawn up again."),
    )


@bp.post(MINUTES + "/sign")
@login_required
def sign(slug, session_id):
    form = SignForm()
    form.validate_on_submit()
    read = form.digest.data or None
    return _act(
        slug,
        session_id,
        lambda session: services.sign_minutes(current_user, session, read),
        _("The minutes are signed off: they can no longer change, and are published."),
    )
