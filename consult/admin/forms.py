from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange

from ..jobs import QUEUES


class RetryEmailForm(FlaskForm):
    email_id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])


class RetryJobForm(FlaskForm):
    queue = HiddenField(validators=[DataRequired(), AnyOf(QUEUES)])
    job_id = HiddenField(validators=[DataRequired(), Length(max=200)])
