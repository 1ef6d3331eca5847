"""comments: on posts, as written and as HTML, and whether a moderator hid them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

(post_id, timestamp) lists and counts a post's comments in order; timestamp
alone is the moderation page's order; author_id finds a user's comments when
the user is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "disabled", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_comments_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index(
        op.f("ix_comments_author_id"), "comments", ["author_id"], unique=False
    )
    op.create_index(
        op.f("ix_comments_timestamp"), "comments", ["timestamp"], unique=False
    )
    op.create_index(
        "ix_comments_post_id_timestamp",
        "comments",
        ["post_id", "timestamp"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_comments_post_id_timestamp", table_name="comments")
    op.drop_index(op.f("ix_comments_timestamp"), table_name="comments")
    op.drop_index(op.f("ix_comments_author_id"), table_name="comments")
    op.drop_table("comments")
