"""authenticator apps

An account's authenticator apps (TOTP): each named by its person, its secret sealed (AES-GCM,
bound to the row), counted once its first code came back, and the step of its last accepted
code kept so that no code is accepted twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:40:15.419655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import honnin.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authenticator_apps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(length=128), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authenticator_apps_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authenticator_apps")),
    )
    with op.batch_alter_table("authenticator_apps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authenticator_apps_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("authenticator_apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authenticator_apps_account_id"))
    op.drop_table("authenticator_apps")
