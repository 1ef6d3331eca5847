"""follows: who follows whom, since when; nobody follows themself

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

The primary key (follower_id, followed_id) finds whom a user follows; the
index on (followed_id, follower_id) finds who follows a user.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followed_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "follower_id <> followed_id", name=op.f("ck_follows_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["users.id"],
            name=op.f("fk_follows_followed_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name=op.f("pk_follows")),
    )
    op.create_index(
        "ix_follows_followed_id_follower_id",
        "follows",
        ["followed_id", "follower_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_follows_followed_id_follower_id", table_name="follows")
    op.drop_table("follows")
