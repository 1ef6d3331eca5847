"""Forms of the main pages."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from quarty.models import USERNAME_MAX_LENGTH
from quarty.services.accounts import clean_username
from quarty.web.forms import QuartForm


class NameForm(QuartForm):
    name = StringField(
        "What is your name?",
        validators=[DataRequired(), Length(max=USERNAME_MAX_LENGTH)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    submit = SubmitField("Submit")

    def validate_name(self, field: StringField) -> None:
        """The rules the API applies too (no NUL, valid text) once the basics pass."""
        if field.errors:
            return
        try:
            clean_username(str(field.data))
        except ValueError as exc:
            raise ValidationError(f"The name {exc}.") from None
