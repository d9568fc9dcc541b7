"""authenticator apps and passkeys

An account's authenticator apps (TOTP): each named by its person, its secret sealed (AES-GCM,
bound to the row), counted once its first code came back, and the step of its last accepted
code kept so that no code is accepted twice. Its passkeys (WebAuthn credentials): the public
key, the sign count and backup flags its authenticator reports, its AAGUID and a name. And
when the account declined the offer of a passkey after a sign-in by a sent code.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:00:33.256622
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

    op.create_table(
        "passkeys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(length=1023), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=2048), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("aaguid", sa.String(length=36), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_passkeys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passkeys_account_id"), ["account_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "passkey_offer_declined_at",
                honnin.db.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("passkey_offer_declined_at")

    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkeys_account_id"))

    op.drop_table("passkeys")
    with op.batch_alter_table("authenticator_apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authenticator_apps_account_id"))

    op.drop_table("authenticator_apps")
