from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .models import MAX_BODY_LENGTH, MAX_REASON_LENGTH, Alignment
from .moderation import MAX_FLAG_REASON_LENGTH


def no_nul(form, field) -> None:
    """PostgreSQL cannot store NUL: refuse it, but keep the rest of the text in the form."""
    if isinstance(field.data, str) and "\x00" in field.data:
        field.data = field.data.replace("\x00", "")
        raise ValidationError(
            _l(
                "The text contained a NUL character, which cannot be saved. It has been "
                "removed: please check the text and send it again."
            )
        )


class CommentForm(FlaskForm):
    """A new comment or a reply. The target fields are read by the view itself
    (they decide which page to show again); extra fields are ignored."""

    target_type = HiddenField()
    plan_id = HiddenField()
    target_key = HiddenField()
    parent_id = HiddenField()
    form_token = HiddenField()
    body = TextAreaField(
        _l("Your comment"),
        validators=[
            no_nul,
            DataRequired(message=_l("Please write your comment.")),
            Length(
                max=MAX_BODY_LENGTH,
                message=_l(
                    "A comment can have at most %(max)d characters; this one has %(length)d."
                ),
            ),
        ],
        description=_l(
            "You can use Markdown: **bold**, *italics*, lists, > quotes and links. "
            "Mention a member with @[Their Name]."
        ),
    )
    alignment = RadioField(
        _l("Your position"),
        choices=lambda: [(alignment.value, alignment.label) for alignment in Alignment],
        default=Alignment.NEUTRAL.value,
        validators=[DataRequired(message=_l("Choose in favour, against or neutral."))],
    )
    next = HiddenField()


class EditCommentForm(FlaskForm):
    body = TextAreaField(
        _l("Text of the comment"),
        validators=[
            no_nul,
            DataRequired(message=_l("Please write your comment.")),
            Length(
                max=MAX_BODY_LENGTH,
                message=_l(
                    "A comment can have at most %(max)d characters; this one has %(length)d."
                ),
            ),
        ],
    )
    next = HiddenField()


class DeleteCommentForm(FlaskForm):
    next = HiddenField()


class FlagCommentForm(FlaskForm):
    reason = TextAreaField(
        _l("What is wrong with this comment? (optional)"),
        validators=[
            no_nul,
            Optional(),
            Length(
                max=MAX_FLAG_REASON_LENGTH,
                message=_l("The reason can have at most %(max)d characters."),
            ),
        ],
    )
    next = HiddenField()


class HideCommentForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for hiding"),
        validators=[
            no_nul,
            DataRequired(message=_l("Please give a reason.")),
            Length(
                max=MAX_REASON_LENGTH,
                message=_l("The reason can have at most %(max)d characters."),
            ),
        ],
        description=_l("Members see that the comment was hidden; moderators see this reason."),
    )
    next = HiddenField()


class RestoreCommentForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for restoring (optional)"),
        validators=[
            no_nul,
            Optional(),
            Length(
                max=MAX_REASON_LENGTH,
                message=_l("The reason can have at most %(max)d characters."),
            ),
        ],
    )
    next = HiddenField()
