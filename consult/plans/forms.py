from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import language_choices
from ..inputs import BoundedIntegerField
from .import_lines import MAX_TEXT_LENGTH


class ImportForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[Optional(), Length(max=300)],
        description=_l("Used when the document has no title line of its own."),
    )
    language = SelectField(_l("Language of the document"), choices=language_choices)
    file = FileField(
        _l("File"),
        description=_l(
            "Plain text (.txt), Markdown (.md) or Word (.docx). Its text appears below."
        ),
    )
    text = TextAreaField(
        _l("Text of the plan"),
        validators=[Optional(), Length(max=MAX_TEXT_LENGTH)],
        description=_l(
            "Paste the plan here, or choose a file. Check the preview, correct the text if "
            "needed and preview again before saving."
        ),
    )
    filename = HiddenField()


class NodeEditForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20000)])
    note = StringField(_l("What changed and why"), validators=[Optional(), Length(max=500)])
    base_version = BoundedIntegerField(validators=[DataRequired()], minimum=1)


class DocumentEditForm(FlaskForm):
    text = TextAreaField(
        _l("Text of the plan (Markdown)"), validators=[DataRequired(), Length(max=MAX_TEXT_LENGTH)]
    )
    note = StringField(_l("What changed and why"), validators=[Optional(), Length(max=500)])
    base_version = BoundedIntegerField(validators=[DataRequired()], minimum=1)
