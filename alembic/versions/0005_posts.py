"""posts: the body as written, its HTML, the time, the author

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

The two indexes are the feeds' orders: every post newest first, and one
author's posts newest first (which also finds an author's posts at all).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_posts_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index(op.f("ix_posts_timestamp"), "posts", ["timestamp"], unique=False)
    op.create_index(
        "ix_posts_author_id_timestamp",
        "posts",
        ["author_id", "timestamp"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_posts_author_id_timestamp", table_name="posts")
    op.drop_index(op.f("ix_posts_timestamp"), table_name="posts")
    op.drop_table("posts")
