"""password change required, a session's notice used to secure the account

"This wasn't me" on a recovery's notice cancels it and secures the account (so does the notice
of a new browser's sign-in): the password may be known to someone else, so the password alone
no longer signs in, and the next sign-in (by a code to the account's security info) asks for a
new password. A new browser's notice secures the account once (`sessions.secured_at`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:31:17.371357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import honnin.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_change_required", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("secured_at", honnin.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("secured_at")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("password_change_required")
