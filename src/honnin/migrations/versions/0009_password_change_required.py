"""password change required

"This wasn't me" on a recovery's notice cancels it and secures the account: the password may
be known to whoever asked, so the password alone no longer signs in, and the next sign-in (by
a code to the account's security info) asks for a new password.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:31:17.371357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("password_change_required")
