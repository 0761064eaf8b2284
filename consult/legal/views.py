"""The privacy notice and the terms, for everyone in their language; the page
where a platform administrator writes them in the three languages."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..config import LOCALES
from ..errors import ServiceError
from ..extensions import db
from ..i18n import LANGUAGE_NAMES
from ..richtext import render_markdown
from . import documents
from .forms import LegalTextForm

bp = Blueprint("legal", __name__)


@bp.get("/privacy", defaults={"document": "privacy"})
@bp.get("/terms", defaults={"document": "terms"})
def show(document):
    text = documents.text_for(document, str(get_locale()))
    return render_template(
        "legal/show.html",
        document=document,
        title=documents.DOCUMENTS[document],
        body=render_markdown(text.source),
        text=text,
        may_edit=documents.edit_refusal(current_user) is None,
    )


def _admin_only() -> None:
    if documents.edit_refusal(current_user):
        abort(403)


@bp.get("/admin/legal")
@login_required
def admin_index():
    _admin_only()
    texts = {document: documents.texts_for(document) for document in documents.DOCUMENTS}
    return render_template(
        "legal/admin_index.html",
        documents=documents.DOCUMENTS,
        texts=texts,
        language_names=LANGUAGE_NAMES,
    )


@bp.route("/admin/legal/privacy", methods=["GET", "POST"], defaults={"document": "privacy"})
@bp.route("/admin/legal/terms", methods=["GET", "POST"], defaults={"document": "terms"})
@login_required
def edit(document):
    _admin_only()
    texts = documents.texts_for(document)
    form = LegalTextForm()
    if not form.is_submitted():
        for lang in LOCALES:
            form[lang].data = texts[lang].source
    elif form.validate():
        try:
            changed = documents.save(
                current_user._get_current_object(),
                document,
                {lang: form[lang].data for lang in LOCALES},
            )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            if changed:
                flash(_("Saved. Readers see the new text now."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("legal.edit", document=document))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "legal/edit.html",
        form=form,
        document=document,
        title=documents.DOCUMENTS[document],
        texts=texts,
    ), status
