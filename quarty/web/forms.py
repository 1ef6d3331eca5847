"""WTForms bound to Quart: session CSRF and building a form from the request."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta
from hashlib import sha1
from typing import Any, Self

from quart import current_app, request, session
from werkzeug.exceptions import BadRequest
from wtforms import Field, Form, ValidationError
from wtforms.csrf.session import SessionCSRF
from wtforms.form import BaseForm

CSRF_FIELD = "csrf_token"


class CSRFError(BadRequest):
    """A form came without a valid CSRF token for this session."""

    description = (
        "The form's security token is missing, invalid or expired. "
        "Reload the page and submit the form again."
    )


class _SessionCSRF(SessionCSRF):
    def validate_csrf_token(self, form: BaseForm, field: Field) -> None:
        """WTForms' own check, but the signatures are compared in constant time.

        WTForms compares them with `!=`, whose time depends on where they
        first differ; the token format and messages stay WTForms'.
        """
        token = field.data
        if not token or "##" not in token:
            raise ValidationError(field.gettext("CSRF token missing."))
        context = self.form_meta.csrf_context  # the session (QuartForm sets it)
        secret = context.get("csrf") if isinstance(context, Mapping) else None
        expires, signature = token.split("##", 1)
        if not isinstance(secret, str) or not hmac.compare_digest(
            self._signature(secret + expires), signature
        ):
            raise ValidationError(field.gettext("CSRF failed."))
        if self.time_limit and self.now().strftime(self.TIME_FORMAT) > expires:
            raise ValidationError(field.gettext("CSRF token expired."))

    def _signature(self, value: str) -> str:
        secret = bytes(self.form_meta.csrf_secret or b"")
        return hmac.new(secret, value.encode("utf8"), digestmod=sha1).hexdigest()


class QuartForm(Form):
    """A WTForms form whose CSRF token is bound to the signed session cookie."""

    class Meta:
        csrf = True
        csrf_class = _SessionCSRF
        csrf_field_name = CSRF_FIELD

    def __init__(self, formdata: Any = None, **kwargs: Any) -> None:
        config = current_app.config
        csrf_meta = {
            "csrf_secret": str(config["SECRET_KEY"]).encode(),
            "csrf_time_limit": timedelta(seconds=config["WTF_CSRF_TIME_LIMIT"]),
            "csrf_context": session,
        }
        kwargs["meta"] = csrf_meta | (kwargs.get("meta") or {})
        super().__init__(formdata, **kwargs)

    @classmethod
    async def from_request(cls, **kwargs: Any) -> Self:
        """The form filled from a POSTed body, or empty (with a new token) on GET."""
        formdata = await request.form if request.method == "POST" else None
        return cls(formdata=formdata, **kwargs)

    def validate_on_submit(self) -> bool:
        """Validate a POSTed form; a bad CSRF token aborts with 400."""
        if request.method != "POST":
            return False
        valid = self.validate()
        if self.meta.csrf and self.errors.get(CSRF_FIELD):
            raise CSRFError()
        return valid


def csrf_token() -> str:
    """A CSRF token for this session, for a form drawn without a form class."""
    token: str = QuartForm()[CSRF_FIELD].current_token  # type: ignore[attr-defined]
    return token
