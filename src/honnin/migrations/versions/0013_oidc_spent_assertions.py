"""oidc spent assertions

The `jti` of each signed assertion a client authenticated with (`private_key_jwt`), kept until
the assertion expires: one presented again is refused as a replay. The account an
authorization request's `id_token_hint` names. And an index on grants' creation time, by which
housekeeping prunes those with no refresh token left.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:05:52.885608
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import honnin.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_spent_assertions",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_spent_assertions_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_oidc_spent_assertions")),
    )
    with op.batch_alter_table("oidc_spent_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_spent_assertions_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_grants_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("oidc_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_hint", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oidc_requests", schema=None) as batch_op:
        batch_op.drop_column("account_hint")

    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_grants_created_at"))

    with op.batch_alter_table("oidc_spent_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_spent_assertions_expires_at"))

    op.drop_table("oidc_spent_assertions")
