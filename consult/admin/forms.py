from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..inputs import BoundedIntegerField
from ..jobs import QUEUES
from .services import MAX_REASON_LENGTH


class RetryEmailForm(FlaskForm):
    email_id = BoundedIntegerField(validators=[DataRequired(), NumberRange(min=1)])


class RetryJobForm(FlaskForm):
    queue = HiddenField(validators=[DataRequired(), AnyOf(QUEUES)])
    job_id = HiddenField(validators=[DataRequired(), Length(max=200)])


class _SearchForm(FlaskForm):
    """Read from the query string (a GET form: nothing is changed)."""

    class Meta:
        csrf = False


def _optional_id(value):
    """The id chosen in a list, 0 for "any"; a value that is not a number is no choice."""
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class UserSearchForm(_SearchForm):
    q = StringField(_l("Name or email"), validators=[Optional(), Length(max=200)])
    status = SelectField(
        _l("Status"),
        choices=[
            ("", _l("Everyone")),
            ("active", _l("Active")),
            ("deactivated", _l("Deactivated")),
            ("invited", _l("Invited, not yet joined")),
        ],
        default="",
    )
    admins = BooleanField(_l("Platform administrators only"))
    forum = SelectField(_l("Forum"), coerce=_optional_id, default=0)


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=MAX_REASON_LENGTH)],
        description=_l("Kept in the audit log."),
    )


class ResendInvitationForm(FlaskForm):
    forum_id = BoundedIntegerField(validators=[DataRequired(), NumberRange(min=1)])


class AuditFilterForm(_SearchForm):
    person = SelectField(_l("Person"), coerce=_optional_id, default=0)
    action = SelectField(_l("Kind of action"), default="")
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must not be before the start date."))
