"""The hot paths' statements find their rows through the right index on SQLite.

SQLite plans without statistics (no ANALYZE), so an index that most rows share can look as
good as one that finds a single row: a challenge looked up by `flow_id IS NULL` (every
verification API challenge) instead of by its destination read every challenge of the last
ten minutes, and grew slower with the load. Each statement sent while a verification and a
sign-in by emailed code run is recorded with its parameters and explained.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest

from honnin.db import inline_sqlite
from tests.support.journeys import EMMA
from tests.support.smtp import Sink

# the indexes a hot statement may search a table by; any other is a plan that grows with
# rows the statement does not want
SEARCHABLE = {
    # wrong guesses, by key: by time alone, a count reads every guess of the last day
    "failed_attempts": {"ix_failed_attempts_key_digest"},
    "challenges": {"sqlite_autoindex_challenges_1", "ix_challenges_destination_digest"},
    "codes": {
        "sqlite_autoindex_codes_1",
        "sqlite_autoindex_codes_2",  # (challenge_id, seq)
        "ix_codes_destination_digest",  # send quotas, per destination
        "ix_codes_account_id",  # send quotas, per account
        "ix_codes_message_id",
    },
}


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every statement run through `inline_sqlite` while the test runs, with its parameters."""
    seen: list[tuple[str, Any]] = []
    run = inline_sqlite.Cursor.execute

    async def recording(
        self: inline_sqlite.Cursor, sql: str, parameters: Any = ()
    ) -> inline_sqlite.Cursor:
        seen.append((sql, parameters))
        return await run(self, sql, parameters)

    monkeypatch.setattr(inline_sqlite.Cursor, "execute", recording)
    return seen


def plans(database_url: str, statements: list[tuple[str, Any]]) -> dict[str, list[str]]:
    """Each distinct statement's plan (EXPLAIN QUERY PLAN, with the parameters it ran with)."""
    connection = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
    try:
        return {
            sql: [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            for sql, parameters in statements
            if sql.lstrip().split()[0].upper() in ("SELECT", "UPDATE", "DELETE", "WITH")
        }
    finally:
        connection.close()


def wrong_searches(plan: list[str]) -> list[str]:
    """Steps that read a whole table, or search one through an index not meant for it."""
    wrong = []
    # a subquery's few rows, made first through an index (a one-row count): reading them is
    # no search of a table
    made = {found[1] for step in plan if (found := re.match(r"MATERIALIZE (\w+)", step))}
    for step in plan:
        scanned = re.match(r"SCAN (?!CONSTANT ROW)(\w+)", step)
        if scanned and scanned[1] not in made:
            wrong.append(step)
        found = re.match(r"SEARCH (\w+) USING (?:COVERING )?INDEX (\w+)", step)
        if found and found[2] not in SEARCHABLE.get(found[1], {found[2]}):
            wrong.append(step)
    return wrong


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_verification_and_a_sign_in_search_by_the_right_indexes(
    database_url: str,
    api: httpx.AsyncClient,
    sink: Sink,
    emma: Any,
    statements: list[tuple[str, Any]],
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": "ann@example.com"})).json()
    code = await sink.wait_for_code("ann@example.com")
    checked = await api.post(f"/api/v1/verifications/{created['id']}/check", json={"code": code})
    assert checked.json()["status"] == "approved"

    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    await api.post(url, json={"action": "email_code"})
    done = await api.post(
        url, json={"action": "submit_code", "code": await sink.wait_for_code(EMMA)}
    )
    assert done.json()["state"] == "done", done.text

    explained = plans(database_url, statements)
    for table in ("challenges", "failed_attempts"):  # the recording saw the paths
        assert any(f"FROM {table}" in sql for sql in explained)
    assert {sql: wrong for sql, plan in explained.items() if (wrong := wrong_searches(plan))} == {}
