from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange

from ..inputs import BoundedIntegerField
from ..jobs import QUEUES


class RetryEmailForm(FlaskForm):
    email_id = BoundedIntegerField(validators=[DataRequired(), NumberRange(min=1)])


class RetryJobForm(FlaskForm):
    queue = HiddenField(validators=[DataRequired(), AnyOf(QUEUES)])
    job_id = HiddenField(validators=[DataRequired(), Length(max=200)])
