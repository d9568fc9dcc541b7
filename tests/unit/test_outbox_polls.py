"""The courier's outbox polls bind nothing but times and limits.

From a prepared statement's sixth run on a connection, PostgreSQL may plan it once for any
values (its generic plan); with the statuses bound, that plan guessed a third of the outbox
matched and read all of it: 5.8 s per idle poll at 10 million messages (bench/size.py).
"""

from __future__ import annotations

import pytest
from sqlalchemy.dialects.postgresql.asyncpg import dialect as postgresql

from honnin.courier import worker


@pytest.mark.parametrize("poll", ["_ANYTHING_DUE", "_WAITING_DUE", "_ABANDONED_DUE"])
def test_a_poll_binds_no_status(poll: str) -> None:
    statement = getattr(worker, poll)
    compiled = getattr(statement, "statement", statement).compile(dialect=postgresql())  # type: ignore[no-untyped-call]
    bound = {name for name in compiled.positiontup or [] if not name.startswith("b_")}
    assert bound == set()
    assert "messages.status IN ('" in compiled.string or "messages.status = '" in compiled.string
