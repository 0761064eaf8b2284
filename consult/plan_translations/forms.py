"""The translators' forms: the workspace's page of items and the PO import."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Length, Optional

from ..plans.models import PlanNode
from .services import MAX_TEXT

# The source a translator saw comes back with their text (to tell a source that
# changed meanwhile): a bound no item's text reaches.
MAX_SOURCE = 4 * MAX_TEXT


class ImportForm(FlaskForm):
    file = FileField(_l("PO file"))
    replace = BooleanField(_l("Replace existing translations that differ from the file"))


class ItemsForm(FlaskForm):
    """One page of items: ``t-<key>`` the translation, ``s-<key>`` the source
    the translator saw. The fields are added for the items the form is built
    for (``items_form``), so a field for anything else is never read."""

    def entries(self, keys) -> dict[str, tuple[str, str]]:
        """What was typed, by item key: (translation, the source seen)."""
        return {
            key: (self[f"t-{key}"].data or "", self[f"s-{key}"].data or "")
            for key in keys
            if f"t-{key}" in self
        }

    def typed(self) -> dict[str, str]:
        return {
            name[2:]: field.data or ""
            for name, field in self._fields.items()
            if name.startswith("t-")
        }


def items_form(keys, formdata=None) -> ItemsForm:
    """The workspace's form for the items ``keys`` (those of the page posted:
    the keys the request names among the version's items)."""
    too_long = _("The text is too long (at most %(count)d characters).", count=MAX_TEXT)
    length = PlanNode.key.type.length

    class Form(ItemsForm):
        pass

    for key in keys:
        if len(key) > length:
            continue
        setattr(
            Form,
            f"t-{key}",
            TextAreaField(
                name=f"t-{key}", validators=[Optional(), Length(max=MAX_TEXT, message=too_long)]
            ),
        )
        setattr(
            Form,
            f"s-{key}",
            HiddenField(
                name=f"s-{key}", validators=[Optional(), Length(max=MAX_SOURCE, message=too_long)]
            ),
        )
    if formdata is None:
        return Form()
    return Form(formdata=formdata)
