"""indexes for pruning and for a browser's sign-in, so that neither slows down as tables grow

Each replaces a sequential scan seen on a seeded database (bench/seed.py, bench/explain.py):
- codes.message_id: a message can only be deleted once no code points at it (the foreign key's
  check, and housekeeping's `NOT EXISTS`);
- challenges (flow_id, expires_at): deleting a flow deletes its challenges (ON DELETE CASCADE),
  and housekeeping deletes the expired challenges of no flow;
- flows.device_digest: a browser that signs in moves its flows to its new device token;
- sessions.expires_at, sessions.revoked_at, failed_attempts.at: what housekeeping deletes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → (index name, columns)
INDEXES: dict[str, list[tuple[str, list[str]]]] = {
    "codes": [("ix_codes_message_id", ["message_id"])],
    "challenges": [("ix_challenges_flow_id", ["flow_id", "expires_at"])],
    "flows": [("ix_flows_device_digest", ["device_digest"])],
    "sessions": [
        ("ix_sessions_expires_at", ["expires_at"]),
        ("ix_sessions_revoked_at", ["revoked_at"]),
    ],
    "failed_attempts": [("ix_failed_attempts_at", ["at"])],
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes:
                batch_op.create_index(batch_op.f(name), columns, unique=False)


def downgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _columns in indexes:
                batch_op.drop_index(batch_op.f(name))
