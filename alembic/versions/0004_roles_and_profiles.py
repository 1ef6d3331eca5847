"""roles: permissions and the default; users: profile, last seen, avatar hash

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

The three roles are inserted or repaired, keeping the ids of the rows there,
and every user without a role gets the default one.
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in quarty.models.user at this revision: a migration does not import the
# models, which move on.
ROLES = {"User": (7, True), "Moderator": (15, False), "Administrator": (31, False)}

roles = sa.table(
    "roles",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("default", sa.Boolean),
    sa.column("permissions", sa.Integer),
)
users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("role_id", sa.Integer),
    sa.column("member_since", sa.DateTime(timezone=True)),
    sa.column("last_seen", sa.DateTime(timezone=True)),
    sa.column("avatar_hash", sa.String),
)


def _avatar_hash(email: str | None, username: str) -> str:
    source = email.strip().lower() if email else f"username:{username}"
    return hashlib.sha256(source.encode()).hexdigest()


def upgrade() -> None:
    # Not a batch: SQLite's batch mode copies and drops the table, which the
    # users' foreign key to roles forbids; both databases add these in place.
    op.add_column(
        "roles",
        sa.Column("default", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "roles",
        sa.Column("permissions", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_index(op.f("ix_roles_default"), "roles", ["default"], unique=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("location", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("about_me", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("member_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("avatar_hash", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    known = dict(connection.execute(sa.select(roles.c.name, roles.c.id)).all())
    for name, (permissions, default) in ROLES.items():
        values = {"permissions": permissions, "default": default}
        if name in known:
            connection.execute(
                roles.update().where(roles.c.id == known[name]).values(**values)
            )
        else:
            connection.execute(roles.insert().values(name=name, **values))
    default_id = connection.execute(
        sa.select(roles.c.id).where(roles.c.name == "User")
    ).scalar_one()
    # Nobody knows when today's users joined or were last seen: from now.
    now = datetime.now(UTC)
    connection.execute(
        users.update().values(member_since=now, last_seen=now)
    )
    connection.execute(
        users.update().where(users.c.role_id.is_(None)).values(role_id=default_id)
    )
    for user_id, username, email in connection.execute(
        sa.select(users.c.id, users.c.username, users.c.email)
    ).all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(avatar_hash=_avatar_hash(email, username))
        )

    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("member_since", nullable=False)
        batch_op.alter_column("last_seen", nullable=False)
        batch_op.alter_column("avatar_hash", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("avatar_hash")
        batch_op.drop_column("last_seen")
        batch_op.drop_column("member_since")
        batch_op.drop_column("about_me")
        batch_op.drop_column("location")
        batch_op.drop_column("name")
    # Not a batch, as in upgrade(); SQLite 3.35+ drops a column in place.
    op.drop_index(op.f("ix_roles_default"), table_name="roles")
    op.execute("ALTER TABLE roles DROP COLUMN permissions")
    op.execute('ALTER TABLE roles DROP COLUMN "default"')
