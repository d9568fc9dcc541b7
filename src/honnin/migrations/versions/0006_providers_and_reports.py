"""messages: which provider of its channel has it, and what providers reported after taking it

- provider: the index, in its channel's ordered list of providers, of the one that has the
  message now (0 the first); the next takes it over when one refuses it for good or gives up;
- provider_ref: that provider's id of the message (a Twilio SID), for support;
- reported_status: the latest final delivery report (delivered, undelivered, failed), kept
  even when it arrives before the courier recorded the provider's acceptance;
- reason: why it did not arrive, as a key of `honnin.courier.reasons`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("provider_ref", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reported_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("reported_status")
        batch_op.drop_column("provider_ref")
        batch_op.drop_column("provider")
