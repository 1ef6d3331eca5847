"""The typed ORM models, a module per domain; importing this registers them all."""

from quarty.models.base import Base
from quarty.models.outbox import OutboxMessage
from quarty.models.user import USERNAME_MAX_LENGTH, Role, User

__all__ = ["USERNAME_MAX_LENGTH", "Base", "OutboxMessage", "Role", "User"]
