"""oidc signing keys and clients

The OpenID Connect provider's signing keys (RS256, ES256): the private half sealed, the public
JWK as it is published, when each starts signing (published ahead of it) and retires (it stays
published until every token it signed has expired). And its clients: the applications that
sign their users in with honnin, their redirect URIs, subjects (pairwise per sector, or
public), ID token algorithm, and a confidential client's secret as a digest.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:04:50.156837
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import honnin.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("secret_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("sector", sa.String(length=255), nullable=False),
        sa.Column("sector_identifier_uri", sa.String(length=2000), nullable=True),
        sa.Column("id_token_alg", sa.String(length=8), nullable=False),
        sa.Column("jwks_uri", sa.String(length=2000), nullable=True),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_clients")),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=8), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(length=4096), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active_from", honnin.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_keys_retired_at"), ["retired_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_keys_retired_at"))

    op.drop_table("signing_keys")
    op.drop_table("oidc_clients")
