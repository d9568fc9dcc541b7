"""The standalone verification API, end to end: HTTP in, real email out, code read from it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from honnin.models import metadata
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink

TO = "Emma.Watson+shop@Example.com"
ADDRESS = "emma.watson+shop@example.com"


async def create(api: httpx.AsyncClient, to: str = TO, **extra: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/verifications", json={"to": to, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def check(api: httpx.AsyncClient, verification_id: str, code: str) -> httpx.Response:
    return await api.post(f"/api/v1/verifications/{verification_id}/check", json={"code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


async def test_a_code_is_emailed_and_approves_the_verification(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = await create(api)
    assert created["status"] == "pending"
    assert created["to_hint"] == "em*****@example.com"
    assert created["channel"] == "email"
    assert created["expires_at"] > created["created_at"]
    assert created["delivery"]["status"] == "sending"  # handed to this process's courier

    code = await sink.wait_for_code(ADDRESS)
    response = await check(api, created["id"], code)

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    again = await api.get(f"/api/v1/verifications/{created['id']}")
    assert again.json()["status"] == "approved"


async def test_a_pasted_code_with_spaces_and_dashes_works(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    response = await check(api, created["id"], f" {code[:3]} - {code[3:]} ")
    assert response.json()["status"] == "approved"


async def test_the_code_is_stored_nowhere_in_clear(
    api: httpx.AsyncClient, sink: Sink, runtime: Any
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    dump = []
    async with runtime.db.transaction(write=False) as tx:
        for table in metadata.sorted_tables:
            for row in (await tx.session.execute(table.select())).all():
                dump.append(repr(tuple(row)))
    assert dump
    assert not [row for row in dump if code in row]
    assert (await check(api, created["id"], code)).status_code == 200


async def test_a_used_code_cannot_be_used_again(api: httpx.AsyncClient, sink: Sink) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    assert (await check(api, created["id"], code)).status_code == 200

    response = await check(api, created["id"], code)

    assert response.status_code == 409
    assert response.json()["error"] == "not_pending"


async def test_a_wrong_code_says_how_many_tries_are_left(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)

    response = await check(api, created["id"], wrong(code))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_code"
    assert body["attempts_remaining"] == 4
    assert "4" in body["message"]


async def test_five_wrong_tries_burn_the_code(api: httpx.AsyncClient, sink: Sink) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    errors = [(await check(api, created["id"], wrong(code))).json()["error"] for _ in range(5)]

    assert errors == ["invalid_code"] * 4 + ["too_many_attempts"]
    response = await check(api, created["id"], code)
    assert response.status_code == 400
    assert response.json()["error"] == "too_many_attempts"


async def test_resend_supersedes_earlier_codes(
    api: httpx.AsyncClient, sink: Sink, clock: ShiftableClock
) -> None:
    first = await create(api)
    old_code = await sink.wait_for_code(ADDRESS)
    clock.advance(seconds=31)  # past the resend cooldown

    second = await create(api)
    new_code = await sink.wait_for_code(ADDRESS, count=2)

    assert second["id"] == first["id"]
    assert second["send_count"] == 2
    refused = await check(api, first["id"], old_code)
    assert refused.status_code == 400
    assert refused.json()["error"] == "code_superseded"
    assert "newer code" in refused.json()["message"]
    assert (await check(api, first["id"], new_code)).json()["status"] == "approved"


async def test_an_expired_code_says_it_expired(
    api: httpx.AsyncClient, sink: Sink, clock: ShiftableClock
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    clock.advance(minutes=10, seconds=1)

    response = await check(api, created["id"], code)

    assert response.status_code == 400
    assert response.json()["error"] == "code_expired"
    status = await api.get(f"/api/v1/verifications/{created['id']}")
    assert status.json()["status"] == "expired"


async def test_a_new_verification_starts_after_the_old_one_expired(
    api: httpx.AsyncClient, sink: Sink, clock: ShiftableClock
) -> None:
    first = await create(api)
    clock.advance(minutes=11)
    second = await create(api)
    assert second["id"] != first["id"]
    assert second["send_count"] == 1


async def test_get_shows_the_delivery_status(api: httpx.AsyncClient, sink: Sink) -> None:
    created = await create(api)
    await sink.wait_for(ADDRESS)

    for _ in range(200):
        delivery = (await api.get(f"/api/v1/verifications/{created['id']}")).json()["delivery"]
        if delivery["status"] == "accepted":
            break
        await asyncio.sleep(0.02)
    assert delivery["status"] == "accepted"
    assert delivery["attempts"] == 1
    assert delivery["last_reply"].startswith("250 ")


async def test_verifications_of_another_application_are_not_found(
    api: httpx.AsyncClient, http: httpx.AsyncClient, runtime: Any, sink: Sink
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    other_key = (await runtime.clients.create("Other app")).api_key
    other = {"Authorization": f"Bearer {other_key}"}

    got = await http.get(f"/api/v1/verifications/{created['id']}", headers=other)
    checked = await http.post(
        f"/api/v1/verifications/{created['id']}/check", json={"code": code}, headers=other
    )

    assert got.status_code == checked.status_code == 404
    assert got.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer hnn_000000000000_nope"},
        {"Authorization": "Bearer something-else"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["missing", "unknown", "malformed", "basic"],
)
async def test_without_a_valid_key_it_is_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.post("/api/v1/verifications", json={"to": TO}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", ""),
        (b'{"to": 5}', "to"),
        (b'{"channel": "email"}', "to"),
        (b'{"to": "a@example.com", "channel": "pigeon"}', "channel"),
        (b'{"to": "a@example.com", "surprise": 1}', "surprise"),
        (b'{"to": "a@example.com", "locale": "fr"}', "locale"),
    ],
)
async def test_a_malformed_request_is_422_and_names_the_problem(
    api: httpx.AsyncClient, body: bytes, field: str
) -> None:
    response = await api.post(
        "/api/v1/verifications", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["error"] == "invalid_request"
    assert field in problem["message"]


@pytest.mark.parametrize("to", ["not-an-address", "a@b", "two@@example.com", ""])
async def test_an_invalid_address_is_refused_and_nothing_is_sent(
    api: httpx.AsyncClient, sink: Sink, to: str
) -> None:
    response = await api.post("/api/v1/verifications", json={"to": to})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_email"
    await asyncio.sleep(0.1)
    assert sink.received == []


async def test_a_code_that_cannot_be_a_code_is_422_and_costs_no_try(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    response = await check(api, created["id"], "12ab")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert (await check(api, created["id"], wrong(code))).json()["attempts_remaining"] == 4
    assert (await check(api, created["id"], code)).status_code == 200


async def test_an_unknown_verification_id_is_404(api: httpx.AsyncClient) -> None:
    for path in ("/api/v1/verifications/nope", f"/api/v1/verifications/{'0' * 32}"):
        response = await api.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


async def test_errors_speak_the_requested_language(api: httpx.AsyncClient, sink: Sink) -> None:
    created = await create(api)
    code = await sink.wait_for_code(ADDRESS)
    response = await api.post(
        f"/api/v1/verifications/{created['id']}/check",
        json={"code": wrong(code)},
        headers={"Accept-Language": "ja,en;q=0.5"},
    )
    assert response.json()["error"] == "invalid_code"
    assert "コードが正しくありません" in response.json()["message"]


ERRORS = ["400", "401", "404", "409", "413", "422", "429"]
FLOW_ERRORS = ["400", "401", "403", "404", "409", "410", "413", "422", "429"]


async def test_the_openapi_document_describes_the_api(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    operations = {
        (method.upper(), path): (sorted(operation["responses"]), operation["security"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    bearer: list[dict[str, list[str]]] = [{"HTTPBearer": []}]
    assert operations == {
        ("POST", "/api/v1/verifications"): (["201", *ERRORS], bearer),
        ("POST", "/api/v1/verifications/{verification_id}/check"): (["200", *ERRORS], bearer),
        ("GET", "/api/v1/verifications/{verification_id}"): (["200", *ERRORS], bearer),
        ("POST", "/api/v1/flows"): (["201", *FLOW_ERRORS], bearer),
        ("GET", "/api/v1/flows/{flow_id}"): (["200", *FLOW_ERRORS], bearer),
        ("POST", "/api/v1/flows/{flow_id}"): (["200", *FLOW_ERRORS], bearer),
        ("GET", "/api/v1/sessions/current"): (["200", "401", "413", "422"], bearer),
        ("DELETE", "/api/v1/sessions/current"): (["204", "401", "413", "422"], bearer),
    }
    schemas = spec["components"]["schemas"]
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    assert response["content"]["application/json"]["schema"] == problem, (
                        method,
                        path,
                        status,
                    )
    assert schemas["EmailVerificationCreate"]["required"] == ["to"]
    assert schemas["EmailVerificationCreate"]["additionalProperties"] is False
    to = schemas["EmailVerificationCreate"]["properties"]["to"]
    assert (to["format"], to["maxLength"]) == ("idn-email", 254)
    check = schemas["VerificationCheck"]["properties"]["code"]
    assert check["pattern"] == "^[\\s\\-‐‑‒–—―ー－・.]*(?:[0-9０-９][\\s\\-‐‑‒–—―ー－・.]*){6}$"
    docs = await http.get("/api/docs")
    assert docs.status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"code_length": 8}])
async def test_the_schema_says_how_many_digits_a_code_has(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    check = spec["components"]["schemas"]["VerificationCheck"]["properties"]["code"]
    assert check["pattern"].endswith("]*){8}$")


@pytest.mark.parametrize(
    "to", ["emma@example.test", "emma@localhost", "EMMA@Mail.Example.LOCAL", "emma@x.onion."]
)
async def test_a_special_use_domain_is_refused_as_the_schema_says(
    api: httpx.AsyncClient, http: httpx.AsyncClient, to: str
) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    to_schema = spec["components"]["schemas"]["EmailVerificationCreate"]["properties"]["to"]
    pattern = to_schema["pattern"]
    assert re.match(pattern, to) is None
    response = await api.post("/api/v1/verifications", json={"to": to})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_email"


@pytest.fixture
def statements(runtime: Any) -> list[str]:
    """Every SQL statement the service runs from now on, in order."""
    seen: list[str] = []

    def on_sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    for engine in {runtime.db.write_engine, runtime.db.read_engine}:
        event.listen(engine.sync_engine, "before_cursor_execute", on_sql)
    return seen


async def test_a_verification_counts_no_account_quota_and_its_check_rewrites_no_message(
    api: httpx.AsyncClient, sink: Sink, statements: list[str]
) -> None:
    """The work of a create+check pair (bench/verifications.py): a verification belongs to no
    account, so no account quota is counted; once its email was accepted, the check that
    approves it has no message left to cancel, so it writes only the code and the challenge."""
    created = await create(api)
    assert [s for s in statements if "codes.account_id" in s] == []
    code = await sink.wait_for_code(ADDRESS)
    for _ in range(200):  # the courier records the relay's answer just after the sink has it
        shown = await api.get(f"/api/v1/verifications/{created['id']}")
        if shown.json()["delivery"]["status"] == "accepted":
            break
        await asyncio.sleep(0.01)
    statements.clear()

    assert (await check(api, created["id"], code)).status_code == 200

    writes = [s.split(" SET ")[0] for s in statements if s.startswith(("UPDATE", "INSERT"))]
    assert writes == ["UPDATE codes", "UPDATE challenges"]
