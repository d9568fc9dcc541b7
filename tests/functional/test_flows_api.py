"""`/api/v1/flows`: the same journeys, headless, for an application's own UI."""

from __future__ import annotations

from typing import Any

import httpx

from honnin.flows.recovery import ACTIONS as RECOVERY
from honnin.flows.reset import ACTIONS as RESET
from honnin.flows.settings import ACTIONS as SETTINGS
from honnin.flows.signin import ACTIONS as SIGN_IN
from honnin.flows.signup import ACTIONS as SIGN_UP
from honnin.runtime import Runtime
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
EMMA = "emma@example.com"


async def start(api: httpx.AsyncClient, kind: str) -> tuple[str, dict[str, Any]]:
    response = await api.post("/api/v1/flows", json={"kind": kind})
    assert response.status_code == 201, response.text
    body = response.json()
    return f"/api/v1/flows/{body['id']}", body


async def act(api: httpx.AsyncClient, url: str, action: str, **fields: str) -> httpx.Response:
    return await api.post(url, json={"action": action, **fields})


async def test_sign_up_then_sign_in_with_a_session_token(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    url, flow = await start(api, "sign_up")
    assert flow["state"] == "details"
    assert flow["actions"] == ["submit_details"]
    flow = (await act(api, url, "submit_details", email=EMMA, password=PASSWORD)).json()
    assert flow["state"] == "code"
    assert flow["code"]["destination_hint"] == "em*****@example.com"
    assert flow["code"]["delivery"]["status"] in ("sending", "accepted")
    done = (await act(api, url, "submit_code", code=await sink.wait_for_code(EMMA))).json()
    assert done["state"] == "done"
    assert done["session_token"]
    again = await act(api, url, "submit_code", code="000000")  # a done flow takes no action
    assert again.status_code == 409

    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=EMMA)
    signed_in = (await act(api, url, "submit_password", password=PASSWORD)).json()
    me = await api.get(
        "/api/v1/sessions/current", headers={"X-Session-Token": signed_in["session_token"]}
    )
    assert me.status_code == 200
    client = await runtime.clients.authenticate(api.headers["Authorization"].split()[1])
    assert client is not None
    session = await runtime.sessions.by_token(signed_in["session_token"], client.id)
    assert session is not None
    assert session.name == EMMA


async def test_errors_carry_a_stable_code_and_the_flow(api: httpx.AsyncClient, sink: Sink) -> None:
    await api.post("/api/v1/verifications", json={"to": "x@example.com"})  # a client in use
    url, _flow = await start(api, "sign_in")
    bad_name = await act(api, url, "submit_identifier", name="not an address")
    assert bad_name.status_code == 422
    assert bad_name.json()["error"] == "invalid_email"
    await act(api, url, "submit_identifier", name=EMMA)
    wrong = await act(api, url, "submit_password", password="nope")
    assert wrong.status_code == 400
    body = wrong.json()
    assert body["error"] == "invalid_credentials"
    assert body["flow"]["state"] == "password"
    assert set(body["flow"]["actions"]) == {"submit_password", "send_code", "email_code", "restart"}
    assert body["flow"]["ways"] == ["email_code"]
    out_of_step = await act(api, url, "confirm_address", address=EMMA)
    assert out_of_step.status_code == 409
    assert out_of_step.json()["error"] == "action_not_allowed"


async def test_a_flow_belongs_to_the_client_that_made_it(
    api: httpx.AsyncClient, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    url, _flow = await start(api, "sign_in")
    other = (await runtime.clients.create("Other app")).api_key
    response = await http.get(url, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
    assert response.json()["error"] == "flow_not_found"
    assert (await http.get(url)).status_code == 401


async def test_the_openapi_document_has_every_action_with_its_fields(
    http: httpx.AsyncClient,
) -> None:
    """Every action a flow takes has a body in the schema, with exactly its fields: a new action
    without one fails here."""
    spec = (await http.get("/api/openapi.json")).json()
    body = spec["paths"]["/api/v1/flows/{flow_id}"]["post"]["requestBody"]
    assert body["required"] is True
    union = body["content"]["application/json"]["schema"]
    mapping = union["discriminator"]["mapping"]
    every_action = {
        a
        for table in (SIGN_IN, SIGN_UP, SETTINGS, RESET, RECOVERY)
        for actions in table.values()
        for a in actions
    }
    assert set(mapping) == every_action
    schemas = spec["components"]["schemas"]
    fields = {
        action: sorted(schemas[ref.rsplit("/", 1)[1]]["required"])
        for action, ref in mapping.items()
    }
    assert fields == {
        "submit_identifier": ["action", "name"],
        "submit_password": ["action", "password"],
        "submit_details": ["action", "email", "password"],
        "submit_code": ["action", "code"],
        "choose_option": ["action", "option"],
        "confirm_address": ["action", "address"],
        "send_code": ["action", "way"],
        "email_code": ["action"],
        "resend": ["action"],  # and `channel`, optional
        "have_code": ["action"],
        "other_options": ["action"],
        "change_address": ["action"],
        "restart": ["action"],
        "add_proof": ["action", "address"],  # and `sign_in`, optional
        "remove_proof": ["action", "proof"],
        "add_app": ["action", "name"],
        "remove_app": ["action", "app"],
        "submit_passkey": ["action", "credential"],
        "add_passkey": ["action"],  # and `name`, optional
        "remove_passkey": ["action", "passkey"],
        "cancel_change": ["action", "change"],
        "verify": ["action"],
        "confirm": ["action"],
        "back": ["action"],
        "change_password": ["action"],
        "submit_new_password": ["action", "password"],
        "two_step_on": ["action"],
        "two_step_off": ["action"],
        "new_recovery_code": ["action"],
        "use_recovery_code": ["action", "recovery_code"],
        "sign_out_session": ["action", "session"],
        "sign_out_others": ["action"],
        "set_time_zone": ["action", "time_zone"],
        "skip_password": ["action"],
        "submit_new_way": ["action", "address"],
        "start_recovery": ["action"],  # and `time_zone`, optional
        "close_account": ["action"],
        "reopen": ["action"],
    }
    assert all(
        schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False for ref in mapping.values()
    )
    password = schemas["SubmitDetails"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (15, 256)
    assert schemas["FlowCreate"]["properties"]["kind"]["enum"] == [
        "sign_in",
        "sign_up",
        "settings",
        "password_reset",
        "recovery",
    ]


async def test_a_field_an_action_does_not_take_is_refused(api: httpx.AsyncClient) -> None:
    url, _flow = await start(api, "sign_in")
    response = await act(api, url, "submit_identifier", name=EMMA, password=PASSWORD)
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"field": "submit_identifier.password", "problem": "Extra inputs are not permitted"}
    ]
    unknown = await act(api, url, "fly")
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "invalid_request"
    assert (await api.get(url)).json()["state"] == "identifier"


async def test_an_action_shows_its_code_as_a_fresh_read_would(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    """An action shows the code it just sent or checked without reading it again
    (`Context.challenge`): what it shows must be what reading the flow afresh shows."""
    await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=EMMA)

    async def shown_as_read(response: httpx.Response) -> dict[str, Any]:
        body = response.json()
        shown = body.get("flow", body)
        assert shown["code"] is not None
        read = (await api.get(url)).json()
        assert {**shown, "session_token": None} == read
        return dict(shown["code"])

    sent = await shown_as_read(await act(api, url, "email_code"))
    assert sent["attempts_remaining"] == 5
    first = await sink.wait_for_code(EMMA)
    wrong = "000000" if first != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):  # each wrong try counted, then the code burned
        code = await shown_as_read(await act(api, url, "submit_code", code=wrong))
        assert (code["attempts_remaining"], code["usable"]) == (left, left > 0)
    resent = await shown_as_read(await act(api, url, "resend"))  # at once: the code was burned
    assert (resent["attempts_remaining"], resent["usable"]) == (5, True)
    done = await act(api, url, "submit_code", code=await sink.wait_for_code(EMMA, count=2))
    assert done.json()["state"] == "done"
    approved = await shown_as_read(done)
    assert approved["usable"] is False
