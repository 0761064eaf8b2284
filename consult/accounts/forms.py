from datetime import time

from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..config import LOCALES
from ..i18n import LANGUAGE_NAMES, country_choices
from ..zone_choice import find_zone, zone_groups
from .models import Frequency
from .services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


def language_choices():
    return [(code, LANGUAGE_NAMES[code]) for code in LOCALES]


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()
    # Filled in by static/js/timezone.js with the browser's zone (offered to a
    # member who never chose one).
    browser_timezone = HiddenField(validators=[Optional(), Length(max=64)])


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=_l(
            "At least %(count)d characters. A few unrelated words make a good one.",
            count=MIN_PASSWORD_LENGTH,
        ),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=language_choices)
    country = SelectField(_l("Country"))
    # Optional: a form posted without these keeps what the member had.
    timezone = SelectField(
        _l("Time zone"),
        validators=[Optional()],
        description=_l("Dates and times in Consult, its emails and digests are shown in it."),
    )
    timezone_search = StringField(
        _l("Or type your city"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example Bogotá, São Paulo or Madrid. It replaces the choice above."),
    )
    notification_preference = SelectField(
        _l("Email notifications"),
        choices=lambda: [(choice.value, choice.description) for choice in Frequency],
    )
    digest_hour = SelectField(
        _l("Digests arrive at"),
        coerce=int,
        validators=[Optional()],
        description=_l("Your local time, for daily and weekly digests."),
    )

    def __init__(self, *args, first_countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("(not given)")), *country_choices()]
        self.timezone.choices = dict(zone_groups(first_countries))
        self.digest_hour.choices = [(hour, format_time(time(hour), "short")) for hour in range(24)]

    def validate_timezone_search(self, field):
        if field.data and field.data.strip():
            zone = find_zone(field.data)
            if zone is None:
                raise ValidationError(
                    _l("No time zone matches this name: choose one from the list.")
                )
            field.zone = zone

    def places(self) -> list[str]:
        """Each line of the list once, for the city field's suggestions."""
        seen = dict.fromkeys(
            label for group in self.timezone.choices.values() for _, label in group
        )
        return list(seen)

    def chosen_zone(self) -> str:
        """The zone typed (when it matched one) or else the one selected."""
        return getattr(self.timezone_search, "zone", None) or self.timezone.data


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        _l("New email address"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("We send a link to it: your address changes when you open it."),
    )
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField(
        _l("Your password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class TwoStepCodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("The six digits your app shows now, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"},
    )


class TwoStepSetupForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordCheckForm(FlaskForm):
    current_password = PasswordField(
        _l("Your password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class TwoStepPolicyForm(FlaskForm):
    required = BooleanField(
        _l("Require two-step sign-in for facilitators and administrators"),
        description=_l(
            "They are asked to set it up right after their next sign-in, "
            "and cannot turn it off while this is on."
        ),
    )
