"""Forms of the account pages; the checks that need the database are the views'."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from quarty.models import EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH, USERNAME_PATTERN
from quarty.services.auth import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from quarty.web.forms import QuartForm


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        validators=[DataRequired(), Length(1, EMAIL_MAX_LENGTH), Email()],
        filters=[_strip],
    )


def _password_field(label: str) -> PasswordField:
    # Only new passwords are held to the minimum; a login just has to fit.
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH),
            EqualTo("password2", message="Passwords must match."),
        ],
    )


def _current_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)]
    )


class LoginForm(QuartForm):
    email = _email_field()
    password = _current_password_field()
    remember_me = BooleanField("Keep me logged in")
    submit = SubmitField("Log In")


class RegistrationForm(QuartForm):
    email = _email_field()
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(1, USERNAME_MAX_LENGTH),
            Regexp(
                USERNAME_PATTERN,
                message="Usernames must have only letters, numbers, dots or "
                "underscores",
            ),
        ],
        filters=[_strip],
    )
    password = _password_field("Password")
    password2 = PasswordField("Confirm password", validators=[DataRequired()])
    submit = SubmitField("Register")


class ChangePasswordForm(QuartForm):
    old_password = _current_password_field("Old password")
    password = _password_field("New password")
    password2 = PasswordField("Confirm new password", validators=[DataRequired()])
    submit = SubmitField("Update Password")


class PasswordResetRequestForm(QuartForm):
    email = _email_field()
    submit = SubmitField("Reset Password")


class PasswordResetForm(QuartForm):
    password = _password_field("New Password")
    password2 = PasswordField("Confirm password", validators=[DataRequired()])
    submit = SubmitField("Reset Password")


class ChangeEmailForm(QuartForm):
    email = _email_field("New Email")
    password = _current_password_field()
    submit = SubmitField("Update Email Address")


# One-button forms: each action is a POST with its CSRF token.


class LogoutForm(QuartForm):
    submit = SubmitField("Log Out")


class ResendConfirmationForm(QuartForm):
    submit = SubmitField("Send me a new confirmation email")


class ConfirmAccountForm(QuartForm):
    submit = SubmitField("Confirm my account")


class ConfirmEmailForm(QuartForm):
    submit = SubmitField("Use my new email address")
