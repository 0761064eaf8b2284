from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..accounts.forms import NewPasswordMixin, language_choices
from ..i18n import country_choices
from .models import LINE_LENGTHS, GroupRole, Role


def _countries():
    return [("", _l("(not given)")), *country_choices()]


class ForumForm(FlaskForm):
    slug = StringField(
        _l("Short name (in addresses)"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Lower-case letters, digits and hyphens, e.g. coalitions-americas."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    default_locale = SelectField(_l("Default language"), choices=language_choices)
    is_public = BooleanField(_l("Anyone may read this forum's public pages"))


def _line_lengths():
    return [(n, _l("%(count)d characters", count=n)) for n in LINE_LENGTHS]


class ForumSettingsForm(ForumForm):
    slug = None
    line_length = SelectField(
        _l("Length of the plans' numbered lines"),
        choices=_line_lengths,
        coerce=int,
        description=_l(
            "Lines are numbered at this length on the page, in every download and in "
            "amendments' line references. Changing it renumbers the lines of every plan."
        ),
    )


class CoalitionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country"), choices=_countries)


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])


class GroupMemberForm(FlaskForm):
    email = EmailField(
        _l("Email of the member"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("Members of the forum can join its working groups."),
    )
    role = SelectField(
        _l("Role in the group"), choices=lambda: [(role.value, role.label) for role in GroupRole]
    )


def _role_choices():
    return [(role.value, role.label) for role in Role]


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices, default="member")
    coalition_id = SelectField(_l("Coalition"), coerce=int)
    country = SelectField(_l("Country"), choices=_countries)
    locale = SelectField(_l("Language of the invitation"), choices=language_choices)
    group_ids = SelectMultipleField(_l("Working groups"), coerce=int)


class MembershipForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices)
    coalition_id = SelectField(_l("Coalition"), coerce=int)
    is_delegate = BooleanField(_l("Delegate to the assembly"))
    is_translator = BooleanField(_l("Translator of the plans' text"))
    vote_weight = DecimalField(
        _l("Vote weight"),
        places=3,
        validators=[Optional(), NumberRange(min=0, max=10000)],
        default=1,
    )
    group_ids = SelectMultipleField(_l("Working groups"), coerce=int)


class MemberImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=language_choices)
    # The browser's time zone (static/js/timezone.js), taken for the new account.
    browser_timezone = HiddenField(validators=[Optional(), Length(max=64)])
