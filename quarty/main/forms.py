"""Forms of the main pages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# WTForms 3.3 deprecates tuples for SelectChoice, which types-WTForms 3.2 lacks.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from quarty.api.converters import MAX_ID
from quarty.models import (
    ABOUT_ME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    Role,
)
from quarty.services.accounts import clean_username
from quarty.services.comments import InvalidCommentError, clean_comment_body
from quarty.services.posts import InvalidPostError, clean_body
from quarty.web.forms import QuartForm


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


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


def _name_field() -> StringField:
    return StringField(
        "Real name", validators=[Length(max=NAME_MAX_LENGTH)], filters=[_strip]
    )


def _location_field() -> StringField:
    return StringField(
        "Location", validators=[Length(max=LOCATION_MAX_LENGTH)], filters=[_strip]
    )


def _about_me_field() -> TextAreaField:
    return TextAreaField(
        "About me", validators=[Length(max=ABOUT_ME_MAX_LENGTH)], filters=[_strip]
    )


class EditProfileForm(QuartForm):
    """What a user says about themselves."""

    name = _name_field()
    location = _location_field()
    about_me = _about_me_field()
    submit = SubmitField("Submit")


class EditProfileAdminForm(QuartForm):
    """An administrator's edit of any user; a name-only user has no email to edit."""

    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(1, EMAIL_MAX_LENGTH), Email()],
        filters=[_strip],
    )
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(1, USERNAME_MAX_LENGTH)],
        filters=[_strip],
    )
    confirmed = BooleanField("Confirmed")
    role = SelectField("Role", coerce=int)
    name = _name_field()
    location = _location_field()
    about_me = _about_me_field()
    submit = SubmitField("Submit")

    def __init__(
        self, *args: Any, roles: Sequence[Role], is_account: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(role.id, role.name) for role in roles]
        self.is_account = is_account
        if not is_account:
            # Only an account logs in: an email or a confirmation means nothing here.
            del self.email
            del self.confirmed

    def validate_username(self, field: StringField) -> None:
        """Accounts keep the registration form's rule; names the name form's."""
        if field.errors:
            return
        username = str(field.data)
        if self.is_account and not re.match(USERNAME_PATTERN, username):
            raise ValidationError(
                "Usernames must have only letters, numbers, dots or underscores"
            )
        try:
            clean_username(username)
        except ValueError as exc:
            raise ValidationError(f"The name {exc}.") from None


class PostForm(QuartForm):
    """A new post, or an edit of one: Markdown, at most POST_BODY_MAX_LENGTH long."""

    body = TextAreaField(
        "What's on your mind?", validators=[DataRequired()], render_kw={"rows": 5}
    )
    submit = SubmitField("Submit")

    def validate_body(self, field: TextAreaField) -> None:
        """The service's rules (length, NUL, valid text), with its messages."""
        try:
            clean_body(str(field.data))
        except InvalidPostError as invalid:
            raise ValidationError(str(invalid)) from None


class FollowForm(QuartForm):
    """The profile's Follow button: nothing but the CSRF token."""

    submit = SubmitField("Follow")


class UnfollowForm(QuartForm):
    """The profile's Unfollow button: nothing but the CSRF token."""

    submit = SubmitField("Unfollow")


class CommentForm(QuartForm):
    """A comment on a post: Markdown, at most COMMENT_BODY_MAX_LENGTH long."""

    body = TextAreaField(
        "Enter your comment", validators=[DataRequired()], render_kw={"rows": 3}
    )
    submit = SubmitField("Submit")

    def validate_body(self, field: TextAreaField) -> None:
        """The service's rules (length, NUL, valid text), with its messages."""
        try:
            clean_comment_body(str(field.data))
        except InvalidCommentError as invalid:
            raise ValidationError(str(invalid)) from None


class ModerationForm(QuartForm):
    """An Enable or Disable button of the moderation page, with the page it
    returns to (drawn by hand there, one token for every button)."""

    page = IntegerField(
        widget=HiddenInput(), validators=[Optional(), NumberRange(1, MAX_ID)]
    )


class FeedTabForm(QuartForm):
    """The All or Followed tab of the home page: nothing but the CSRF token
    (drawn by hand there, as tabs)."""
