from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from .models import PhaseKind
from .services import common_timezones

MAX_PHASES = 6


class PhaseForm(FlaskForm):
    class Meta:
        csrf = False  # part of ConsultationForm, which carries the token

    kind = SelectField(
        _l("Kind"),
        choices=lambda: [("", _l("(no phase)")), *PhaseKind.choices()],
        validators=[Optional()],
    )
    title = StringField(_l("Name of the phase"), validators=[Optional(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    allow_amend = BooleanField(_l("Amend"))
    allow_support = BooleanField(_l("Support"))
    allow_comment = BooleanField(_l("Comment"))
    allow_vote = BooleanField(_l("Vote"))


class ConsultationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    timezone = SelectField(
        _l("Time zone of the calendar"), choices=lambda: [(z, z) for z in common_timezones()]
    )
    phases = FieldList(FormField(PhaseForm), min_entries=MAX_PHASES, max_entries=MAX_PHASES)


class ExtendForm(FlaskForm):
    ends_at = DateTimeLocalField(
        _l("New end"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
