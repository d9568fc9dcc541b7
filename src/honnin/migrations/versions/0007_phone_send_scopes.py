"""codes: the phone prefix and country a code was sent to, for the SMS-pumping send limits

Attackers make sign-up and "send a code" forms text the numbers they profit from, walking
through a range of numbers: the limits per prefix (the country code and the next four digits)
and per country count the codes sent to each, as the destination's limits count its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_prefix", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phone_country", sa.String(length=3), nullable=True))
    op.create_index("ix_codes_phone_prefix", "codes", ["phone_prefix", "created_at"])
    op.create_index("ix_codes_phone_country", "codes", ["phone_country", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_codes_phone_country", table_name="codes")
    op.drop_index("ix_codes_phone_prefix", table_name="codes")
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_column("phone_country")
        batch_op.drop_column("phone_prefix")
