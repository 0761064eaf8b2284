import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..i18n import LANGUAGE_NAMES
from ..inputs import BoundedIntegerField
from .models import AmendmentOperation, SupportThresholdKind
from .proposing import MAX_TEXT


class AmendmentForm(FlaskForm):
    form_token = HiddenField(default=lambda: secrets.token_urlsafe(24))
    operation = SelectField(_l("What do you propose?"), choices=AmendmentOperation.choices)
    text = TextAreaField(
        _l("Proposed text"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("The whole text as it should read (not only the changed words)."),
    )
    justification = TextAreaField(
        _l("Justification"), validators=[Optional(), Length(max=MAX_TEXT)]
    )
    # Not sent (an older form, a script): the plan's language.
    language = SelectField(
        _l("Language you write in"),
        choices=list(LANGUAGE_NAMES.items()),
        validate_choice=False,
    )


class DraftForm(FlaskForm):
    text = TextAreaField(_l("Proposed text"), validators=[Optional(), Length(max=MAX_TEXT)])
    justification = TextAreaField(
        _l("Justification"), validators=[Optional(), Length(max=MAX_TEXT)]
    )


class SubAmendmentForm(FlaskForm):
    text = TextAreaField(
        _l("New text for this amendment"), validators=[DataRequired(), Length(max=MAX_TEXT)]
    )
    justification = TextAreaField(
        _l("Justification"), validators=[Optional(), Length(max=MAX_TEXT)]
    )


class DecisionForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason (shown to the author)"), validators=[Optional(), Length(max=2000)]
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class CosponsorForm(FlaskForm):
    email = EmailField(
        _l("Email of the co-sponsor"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class CompromiseForm(FlaskForm):
    text = TextAreaField(_l("Compromise text"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    justification = TextAreaField(
        _l("Justification"), validators=[Optional(), Length(max=MAX_TEXT)]
    )


class AmendmentImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


class PlanSettingsForm(FlaskForm):
    # Checked by plans/short_names.py (its messages, next to the field).
    short_name = StringField(
        _l("Short name"),
        description=_l(
            "Names the plan in its amendments across the forum, as in “PA-2026 E2 · 4.1”: "
            "capital letters, digits and hyphens, up to 16 characters."
        ),
        render_kw={"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"},
    )
    open_for_input = BooleanField(_l("Members may propose amendments and comment"))
    support_threshold = BoundedIntegerField(
        _l("Supports needed before an amendment can be admitted"),
        validators=[Optional(), NumberRange(min=0, max=10000)],
        default=0,
    )
    support_threshold_kind = SelectField(_l("Counted in"), choices=SupportThresholdKind.choices)


class TranslationForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=list(LANGUAGE_NAMES.items()),
    )
    text = TextAreaField(
        _l("The proposed text in that language"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
