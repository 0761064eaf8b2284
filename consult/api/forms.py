from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

SCOPE_LABELS = {
    "read": _l("Read only"),
    "write": _l("Read and write (propose, support, comment)"),
}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Where you will use it, e.g. “Coalition website”."),
    )
    scope = SelectField(_l("It may"), choices=list(SCOPE_LABELS.items()), default="read")
