"""A password hashed with older, weaker Argon2 parameters is hashed again with today's when its
owner signs in with it: the only moment the service holds the password itself."""

from __future__ import annotations

import uuid

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from honnin.accounts.models import Account
from honnin.accounts.passwords import verify_password
from honnin.runtime import Runtime

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"
TODAY = "$argon2id$v=19$m=65536,t=3,p=4$"
WEAK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def stored_hash(runtime: Runtime, account_id: uuid.UUID) -> str | None:
    async with runtime.db.transaction(write=False) as tx:
        query = select(Account.password_hash).where(Account.id == account_id)
        return (await tx.conn.execute(query)).scalar_one()


async def store_hash(runtime: Runtime, account_id: uuid.UUID, password_hash: str) -> None:
    async with runtime.db.transaction() as tx:
        await tx.conn.execute(
            update(Account).where(Account.id == account_id).values(password_hash=password_hash)
        )


async def sign_in(api: httpx.AsyncClient, password: str) -> httpx.Response:
    created = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{created['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": EMMA})
    return await api.post(url, json={"action": "submit_password", "password": password})


async def test_a_weak_hash_is_replaced_on_a_right_password_only(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await runtime.accounts.create(EMMA, PASSWORD)
    weak = WEAK.hash(PASSWORD)
    await store_hash(runtime, account.id, weak)

    wrong = await sign_in(api, "not the password")
    assert wrong.status_code == 400
    assert await stored_hash(runtime, account.id) == weak

    right = await sign_in(api, PASSWORD)
    assert right.status_code == 200, right.text
    assert right.json()["state"] == "done"
    renewed = await stored_hash(runtime, account.id)
    assert renewed is not None
    assert renewed.startswith(TODAY)
    assert await verify_password(renewed, PASSWORD)
    assert (await sign_in(api, PASSWORD)).json()["state"] == "done"


async def test_a_hash_with_todays_parameters_is_left_alone(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await runtime.accounts.create(EMMA, PASSWORD)
    before = await stored_hash(runtime, account.id)
    assert before is not None
    assert before.startswith(TODAY)
    assert (await sign_in(api, PASSWORD)).json()["state"] == "done"
    assert await stored_hash(runtime, account.id) == before
