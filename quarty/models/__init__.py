"""The typed ORM models, a module per domain; importing this registers them all."""

from quarty.models.base import Base
from quarty.models.comment import COMMENT_BODY_MAX_LENGTH, Comment
from quarty.models.follow import Follow
from quarty.models.outbox import OutboxMessage
from quarty.models.post import POST_BODY_MAX_LENGTH, Post
from quarty.models.token import ApiToken
from quarty.models.user import (
    ABOUT_ME_MAX_LENGTH,
    ADMINISTRATOR_ROLE,
    DEFAULT_ROLE,
    DEFAULT_ROLES,
    EMAIL_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    Permission,
    Role,
    User,
    avatar_hash_of,
)

__all__ = [
    "ABOUT_ME_MAX_LENGTH",
    "ADMINISTRATOR_ROLE",
    "COMMENT_BODY_MAX_LENGTH",
    "DEFAULT_ROLE",
    "DEFAULT_ROLES",
    "EMAIL_MAX_LENGTH",
    "LOCATION_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "POST_BODY_MAX_LENGTH",
    "USERNAME_MAX_LENGTH",
    "USERNAME_PATTERN",
    "ApiToken",
    "Base",
    "Comment",
    "Follow",
    "OutboxMessage",
    "Permission",
    "Post",
    "Role",
    "User",
    "avatar_hash_of",
]
