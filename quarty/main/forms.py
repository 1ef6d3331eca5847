"""Forms of the main pages."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from quarty.forms import QuartForm
from quarty.models import USERNAME_MAX_LENGTH


class NameForm(QuartForm):
    name = StringField(
        "What is your name?",
        validators=[DataRequired(), Length(max=USERNAME_MAX_LENGTH)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    submit = SubmitField("Submit")
