from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..inputs import BoundedIntegerField, database_int
from .models import PollMethod, PollRule, PollScope, QuorumBase, QuorumKind
from .setup import MAX_PROXIES, PollSettings

TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _optional_int(value):
    """An id chosen in a list, or None for "none"; a value no row can have is
    refused as a choice (a ValueError), never sent to the database."""
    if value in (None, "", "0"):
        return None
    number = database_int(value)
    if number is None:
        raise ValueError(value)
    return number


class PollForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(
        _l("What the vote is about"), validators=[Optional(), Length(max=5000)]
    )
    scope = SelectField(_l("Who votes"), choices=PollScope.choices())
    working_group = SelectField(_l("Working group"), coerce=_optional_int, validate_choice=False)
    # The page shows either the method (competing amendments) or the majority
    # rule (yes/no votes), never both: the one left out keeps its default.
    method = SelectField(
        _l("How the votes are counted"), choices=PollMethod.choices(), default="yesno"
    )
    rule = SelectField(_l("Majority needed"), choices=PollRule.choices(), default="simple")
    abstentions_count = BooleanField(
        _l("Abstentions count toward the base of the majority (they work like a no)")
    )
    quorum_kind = SelectField(_l("Quorum"), choices=QuorumKind.choices())
    quorum_value = DecimalField(
        _l("Quorum value"),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=1_000_000)],
    )
    quorum_base = SelectField(_l("The quorum counts"), choices=QuorumBase.choices())
    secret = BooleanField(_l("Secret ballot"), default=True)
    hide_results = BooleanField(_l("Hide the results until the vote closes"), default=True)
    allow_change = BooleanField(_l("Voters may change their vote until closing"), default=True)
    max_proxies = BoundedIntegerField(
        _l("Proxies one delegate may carry (0: no proxies)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=MAX_PROXIES)],
    )
    include_status_quo = BooleanField(
        _l("Include “keep the current text” as an option"), default=True
    )
    phase = SelectField(
        _l("Phase of the consultation"), coerce=_optional_int, validate_choice=False
    )
    opens_at = DateTimeLocalField(_l("Opens"), format=TIME_FORMAT, validators=[Optional()])
    closes_at = DateTimeLocalField(
        _l("Closes"),
        format=TIME_FORMAT,
        validators=[Optional()],
        description=_l("Not needed when the vote follows a phase: it then closes with the phase."),
    )


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class ReceiptForm(FlaskForm):
    code = StringField(_l("Receipt code"), validators=[DataRequired(), Length(max=40)])


def settings_from(form: PollForm, subject: str) -> PollSettings:
    """How the vote counts, as the set-up form says: its fields named as
    ``PollSettings``' (a vote on one amendment or on the plan is yes/no)."""
    settings = PollSettings()
    for name in PollSettings.__dataclass_fields__:
        field = getattr(form, name, None)
        if field is not None and field.data is not None:
            setattr(settings, name, field.data)
    if subject != "competing":
        settings.method = "yesno"
    return settings
