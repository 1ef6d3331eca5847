"""The typed ORM models, a module per domain; importing this registers them all."""

from quarty.models.base import Base
from quarty.models.outbox import OutboxMessage
from quarty.models.token import ApiToken
from quarty.models.user import (
    EMAIL_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    Role,
    User,
)

__all__ = [
    "EMAIL_MAX_LENGTH",
    "USERNAME_MAX_LENGTH",
    "USERNAME_PATTERN",
    "ApiToken",
    "Base",
    "OutboxMessage",
    "Role",
    "User",
]
