"""API tokens: trade an email and password for a bearer token, revoke one."""

from __future__ import annotations

from datetime import timedelta

from quart import Response, current_app
from quart_schema import document_response, tag, validate_response

from quarty.api import bp
from quarty.api.auth import Scheme, current_account, current_token_id, require_account
from quarty.api.render import no_content
from quarty.api.schemas import (
    ErrorBody,
    NoContent,
    NoStoreHeader,
    RetryAfterHeader,
    TokenIssued,
)
from quarty.db import get_session
from quarty.security.limits import API_PASSWORD
from quarty.services import api_tokens


@bp.post("/tokens")
@tag(["tokens"])
@API_PASSWORD
@require_account(Scheme.BASIC)
@validate_response(TokenIssued, 200, NoStoreHeader)
@document_response(ErrorBody, 429, RetryAfterHeader)
async def issue_token() -> tuple[TokenIssued, int, NoStoreHeader]:
    """Get a bearer token for the account whose email and password are sent."""
    seconds = int(current_app.config["QUARTY_TOKEN_EXPIRATION"])
    token = await api_tokens.issue_token(
        get_session(), user_id=current_account().id, lifetime=timedelta(seconds=seconds)
    )
    # RFC 6749 asks the same of an OAuth token answer: no cache keeps it.
    return (
        TokenIssued(token=token, expiration=seconds),
        200,
        NoStoreHeader(cache_control="no-store"),
    )


@bp.delete("/tokens/current")
@tag(["tokens"])
@require_account(Scheme.BEARER)
@document_response(NoContent, 204)
async def revoke_current_token() -> Response:
    """Revoke the bearer token this request is sent with."""
    await api_tokens.revoke_token(get_session(), current_token_id())
    return no_content()
