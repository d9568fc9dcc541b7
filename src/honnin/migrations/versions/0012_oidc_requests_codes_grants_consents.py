"""oidc requests, codes, grants, consents

The OpenID Connect provider's records: authorization requests waiting for their person (bound
to a browser), authorization codes and refresh tokens (as digests), the grants a code's
exchange makes (revoked as a family), what each person allowed each application, and pairwise
subjects (random per account and sector).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:12:50.234598
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import honnin.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_codes",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=True),
        sa.Column("auth_time", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amr", sa.String(length=100), nullable=False),
        sa.Column("acr", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.Uuid(), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_codes_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_oidc_codes")),
    )
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_codes_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "oidc_consents",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("granted_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_consents_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_consents_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "client_id", name=op.f("pk_oidc_consents")),
    )
    op.create_table(
        "oidc_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("auth_time", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amr", sa.String(length=100), nullable=False),
        sa.Column("acr", sa.String(length=64), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_grants_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_grants")),
    )
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_grants_account_id"), ["account_id", "client_id"], unique=False
        )

    op.create_table(
        "oidc_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("device_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_requests_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_requests")),
    )
    with op.batch_alter_table("oidc_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_requests_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oidc_requests_device_digest"), ["device_digest"], unique=False
        )

    op.create_table(
        "oidc_subjects",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("sector", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_subjects_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "sector", name=op.f("pk_oidc_subjects")),
        sa.UniqueConstraint("subject", name=op.f("uq_oidc_subjects_subject")),
    )
    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["oidc_grants.id"],
            name=op.f("fk_oidc_refresh_tokens_grant_id_oidc_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_oidc_refresh_tokens")),
    )
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_refresh_tokens_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oidc_refresh_tokens_grant_id"), ["grant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_refresh_tokens_grant_id"))
        batch_op.drop_index(batch_op.f("ix_oidc_refresh_tokens_expires_at"))

    op.drop_table("oidc_refresh_tokens")
    op.drop_table("oidc_subjects")
    with op.batch_alter_table("oidc_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_requests_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oidc_requests_device_digest"))

    op.drop_table("oidc_requests")
    with op.batch_alter_table("oidc_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_grants_account_id"))

    op.drop_table("oidc_grants")
    op.drop_table("oidc_consents")
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_codes_expires_at"))

    op.drop_table("oidc_codes")
