from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..config import LOCALES
from ..i18n import LANGUAGE_NAMES, country_choices
from .models import NOTIFICATION_PREFERENCES
from .services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

NOTIFICATION_LABELS = {
    "immediately": _l("Immediately, one email per event"),
    "daily": _l("Once a day, as a digest"),
    "weekly": _l("Once a week, as a digest"),
    "never": _l("Never (only in Consult)"),
}


def language_choices():
    return [(code, LANGUAGE_NAMES[code]) for code in LOCALES]


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()


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
    notification_preference = SelectField(
        _l("Email notifications"),
        choices=lambda: [(key, NOTIFICATION_LABELS[key]) for key in NOTIFICATION_PREFERENCES],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("(not given)")), *country_choices()]


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
