from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..inputs import BoundedIntegerField
from ..votes.models import PollMethod, PollRule, QuorumBase, QuorumKind
from .models import SpeakerSide

TIME_FORMAT = "%Y-%m-%dT%H:%M"
# Where an action's form sends the browser back to: the page it came from.
BACK_PAGES = ("session", "console", "phone")


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1


class ActionForm(FlaskForm):
    """One click of the chair or a delegate: the CSRF token and the page to go back to."""

    back = HiddenField(default="session")

    @property
    def back_page(self) -> str:
        return self.back.data if self.back.data in BACK_PAGES else "session"


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    starts_at = DateTimeLocalField(_l("Starts"), format=TIME_FORMAT, validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online_url = StringField(_l("Link to join online"), validators=[Optional(), Length(max=500)])
    chair_id = SelectField(_l("Chair"), coerce=_optional_int, validate_choice=False)
    default_speaking_seconds = BoundedIntegerField(
        _l("Speaking time (seconds)"), default=180, validators=[NumberRange(10, 3600)]
    )
    coalition_cap_seconds = BoundedIntegerField(
        _l("Speaking time per coalition on a point (seconds, empty: no cap)"),
        validators=[Optional(), NumberRange(10, 36000)],
    )
    amendment_rule = SelectField(_l("Majority needed for an amendment"), choices=PollRule.choices())
    approval_rule = SelectField(
        _l("Majority needed to approve the plan"), choices=PollRule.choices()
    )
    ranked_method = SelectField(
        _l("How a choice between competing amendments is counted"),
        choices=[(method.value, method.label) for method in (PollMethod.SCHULZE, PollMethod.IRV)],
    )
    quorum_kind = SelectField(_l("Quorum"), choices=QuorumKind.choices())
    quorum_value = DecimalField(
        _l("Quorum value (a number of delegates' weight, or a share such as 0.5)"),
        validators=[Optional()],
        places=None,
    )
    quorum_base = SelectField(
        _l("The quorum counts"), choices=QuorumBase.choices(), default="present"
    )
    secret = BooleanField(_l("Secret ballots"), default=True)
    max_proxies = BoundedIntegerField(
        _l("Proxies a delegate may carry"), default=1, validators=[NumberRange(0, 10)]
    )


class PointForm(FlaskForm):
    title = StringField(_l("Title of the point"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    after = SelectField(_l("Place on the agenda"), coerce=_optional_int, validate_choice=False)


class MoveForm(ActionForm):
    direction = HiddenField()


class MarkForm(ActionForm):
    user_id = HiddenField()
    present = HiddenField()


class SpeakForm(ActionForm):
    side = RadioField(
        _l("I ask to speak"),
        choices=[(side.value, side.label) for side in SpeakerSide],
        default=SpeakerSide.FOR.value,
        validators=[DataRequired()],
    )


class TimeLimitForm(ActionForm):
    seconds = BoundedIntegerField(
        _l("More time (seconds)"), default=60, validators=[NumberRange(1, 3600)]
    )


class SpeakingRulesForm(ActionForm):
    default_speaking_seconds = BoundedIntegerField(
        _l("Speaking time (seconds)"), validators=[NumberRange(10, 3600)]
    )
    coalition_cap_seconds = BoundedIntegerField(
        _l("Speaking time per coalition on a point (seconds, empty: no cap)"),
        validators=[Optional(), NumberRange(10, 36000)],
    )


class ProxyForm(ActionForm):
    holder = SelectField(_l("Give my vote to"), coerce=_optional_int, validate_choice=False)


class OutcomeForm(ActionForm):
    text = TextAreaField(_l("What the point concluded"), validators=[Optional(), Length(max=2000)])
