from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..i18n import LANGUAGE_NAMES
from .documents import MAX_LENGTH, too_long_message


class _TooLong(Length):
    """A Length check whose message is said when the form is checked (in the
    reader's language), with the limit written as readers write numbers."""

    def __init__(self):
        super().__init__(max=MAX_LENGTH)

    def __call__(self, form, field):
        self.message = too_long_message()
        super().__call__(form, field)


def _text_field(lang: str) -> TextAreaField:
    return TextAreaField(
        LANGUAGE_NAMES[lang],
        validators=[_TooLong()],
        render_kw={"rows": 18, "lang": lang, "spellcheck": "true"},
        description=_l("Markdown. Leave it empty to show the default text again."),
    )


class LegalTextForm(FlaskForm):
    """One document in the three interface languages."""

    es = _text_field("es")
    en = _text_field("en")
    pt = _text_field("pt")
