"""Passkeys through the JSON API, answered by a software authenticator (tests/support/passkeys.py,
built from the WebAuthn spec): added from the security info, a sign-in without a name, the
second step, verifying who you are, removal — and the answers that must be refused: another
flow's challenge, another origin, a replay, an unknown passkey, a passkey that did not verify
its person when two-step verification is on. A count that goes backwards is recorded."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from honnin.audit.service import for_account
from honnin.runtime import Runtime
from tests.support.apps import add_app
from tests.support.operators import Operator
from tests.support.passkeys import SoftAuthenticator, b64u
from tests.support.settings import EMMA, PASSWORD, SettingsFlow, sign_in, titled
from tests.support.smtp import Sink

ORIGIN = "http://localhost:8000"  # the default HONNIN_BASE_URL's


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN)


async def add_passkey(
    flow: SettingsFlow, phone: SoftAuthenticator, name: str | None = "laptop"
) -> dict[str, Any]:
    state = await flow.act("add_passkey", name=name) if name else await flow.act("add_passkey")
    assert state["state"] == "add_passkey", state
    created = phone.create(state["webauthn"])
    done = await flow.act("submit_passkey", credential=created)
    assert done["notice"] == "passkey_added", done
    return done


class SignInFlow:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.url = ""

    async def begin(self) -> dict[str, Any]:
        flow = (await self.api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
        self.url = f"/api/v1/flows/{flow['id']}"
        return dict(flow)

    async def act(self, action: str, status: int = 200, **fields: Any) -> dict[str, Any]:
        response = await self.api.post(self.url, json={"action": action, **fields})
        assert response.status_code == status, response.text
        return dict(response.json())


async def test_a_passkey_is_added_and_signs_in_without_a_name(
    flow_of_emma: SettingsFlow,
    api: httpx.AsyncClient,
    phone: SoftAuthenticator,
    sink: Sink,
    runtime: Runtime,
    emma: Any,
) -> None:
    await flow_of_emma.start()
    state = await flow_of_emma.act("add_passkey", name="laptop")
    options = state["webauthn"]
    assert options["rp"] == {"id": "localhost", "name": "Example"}
    assert options["user"]["name"] == EMMA
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    done = await flow_of_emma.act("submit_passkey", credential=phone.create(options))
    [listed] = done["security"]["passkeys"]
    assert listed["name"] == "laptop"
    assert listed["authenticator"] == "iCloud Keychain"
    assert listed["synced"] is True
    await titled(sink, EMMA, "A passkey was added to your Example account")
    again = await flow_of_emma.act("add_passkey")  # unnamed: its authenticator's name
    [excluded] = again["webauthn"]["excludeCredentials"]  # one passkey per authenticator
    assert excluded["id"] == b64u(phone.credentials[0].id)
    other = SoftAuthenticator(ORIGIN, aaguid="bada5566-a7aa-401f-bd96-45619a55120d")
    named = await flow_of_emma.act("submit_passkey", credential=other.create(again["webauthn"]))
    assert [k["name"] for k in named["security"]["passkeys"]] == ["laptop", "1Password"]

    flow = SignInFlow(api)
    state = await flow.begin()
    assert "submit_passkey" in state["actions"]
    assert state["webauthn"]["allowCredentials"] == []  # any: the autofill list
    done = await flow.act("submit_passkey", credential=phone.get(state["webauthn"]))
    assert done["state"] == "done"
    session = await api.get(
        "/api/v1/sessions/current", headers={"X-Session-Token": done["session_token"]}
    )
    assert session.json()["method"] == "passkey+verified"
    async with runtime.db.transaction(write=False) as tx:
        actions = [e.action for e in await for_account(tx, emma.id)]
    assert actions[-1] == "passkey_added"


async def test_answers_for_another_challenge_origin_or_twice_are_refused(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, phone: SoftAuthenticator
) -> None:
    await flow_of_emma.start()
    await add_passkey(flow_of_emma, phone)
    first, second = SignInFlow(api), SignInFlow(api)
    one, _two = await first.begin(), await second.begin()
    for_first = phone.get(one["webauthn"])

    refused = await second.act("submit_passkey", status=400, credential=for_first)
    assert refused["error"] == "passkey_refused"  # another flow's challenge
    shown = refused["flow"]["webauthn"]  # a new challenge: the first answer spent the old
    phishing = phone.get(shown, origin="https://honnin.example.net")
    refused = await second.act("submit_passkey", status=400, credential=phishing)
    assert refused["error"] == "passkey_refused"  # another origin
    late = phone.get(shown)  # right, but for the challenge the phishing answer spent
    refused = await second.act("submit_passkey", status=400, credential=late)
    assert refused["error"] == "passkey_refused"

    done = await first.act("submit_passkey", credential=for_first)
    assert done["state"] == "done"
    third = SignInFlow(api)
    await third.begin()
    replayed = await third.act("submit_passkey", status=400, credential=for_first)
    assert replayed["error"] == "passkey_refused"


async def test_an_unknown_passkey_is_told_to_use_a_name(
    api: httpx.AsyncClient, phone: SoftAuthenticator, emma: Any
) -> None:
    stranger = SoftAuthenticator(ORIGIN)
    flow = SignInFlow(api)
    state = await flow.begin()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "x"})
    refused = await flow.act(
        "submit_passkey", status=400, credential=stranger.get(state["webauthn"])
    )
    assert refused["error"] == "passkey_refused"
    assert "isn't on any account" in refused["message"]
    garbage = await flow.act("submit_passkey", status=400, credential={"id": 3})
    assert garbage["error"] == "passkey_refused"


async def test_the_second_step_and_verifying_who_you_are(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, phone: SoftAuthenticator, clock: Any
) -> None:
    await flow_of_emma.start()
    done = await add_passkey(flow_of_emma, phone)
    assert (await flow_of_emma.act("two_step_on"))["state"] == "confirm_two_step"
    assert (await flow_of_emma.act("confirm"))["security"]["two_step"] is True

    flow = SignInFlow(api)
    await flow.begin()
    await flow.act("submit_identifier", name=EMMA)
    options = await flow.act("submit_password", password=PASSWORD)
    [key] = [o for o in options["options"] if o["way"] == "passkey"]
    assert key["kind"] == "passkey"
    chosen = await flow.act("choose_option", option=key["id"])
    assert chosen["state"] == "verify_passkey"
    [allowed] = chosen["webauthn"]["allowCredentials"]
    assert allowed["id"]
    done = await flow.act("submit_passkey", credential=phone.get(chosen["webauthn"]))
    assert done["state"] == "done"

    clock.advance(seconds=601)
    state = await flow_of_emma.act("verify")
    [key] = [o for o in state["options"] if o["way"] == "passkey"]
    chosen = await flow_of_emma.act("choose_option", option=key["id"])
    verified = await flow_of_emma.act("submit_passkey", credential=phone.get(chosen["webauthn"]))
    assert verified["notice"] == "verified"


async def test_without_user_verification_it_is_one_step(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, runtime: Runtime
) -> None:
    tapped = SoftAuthenticator(ORIGIN, user_verified=False)  # presence only: a tap
    await flow_of_emma.start()
    await add_passkey(flow_of_emma, tapped)
    flow = SignInFlow(api)
    state = await flow.begin()
    done = await flow.act("submit_passkey", credential=tapped.get(state["webauthn"]))
    assert done["state"] == "done"  # two-step verification off: one step signs in
    await runtime.accounts.set_two_step(EMMA, True)
    state = await flow.begin()
    refused = await flow.act("submit_passkey", status=400, credential=tapped.get(state["webauthn"]))
    assert refused["error"] == "passkey_not_verified"


async def test_a_count_that_goes_back_is_recorded(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, runtime: Runtime, emma: Any
) -> None:
    key = SoftAuthenticator(ORIGIN, counting=True)
    await flow_of_emma.start()
    await add_passkey(flow_of_emma, key)
    flow = SignInFlow(api)
    for _ in range(2):
        state = await flow.begin()
        assert (await flow.act("submit_passkey", credential=key.get(state["webauthn"])))[
            "state"
        ] == "done"
    key.credentials[0].sign_count = 0  # a copy of the key, made after its first use
    state = await flow.begin()
    done = await flow.act("submit_passkey", credential=key.get(state["webauthn"]))
    assert done["state"] == "done"  # accepted, and recorded
    async with runtime.db.transaction(write=False) as tx:
        actions = [e.action for e in await for_account(tx, emma.id)]
    assert "passkey_count_went_back" in actions


async def test_removing_a_passkey_needs_another_way(
    flow_of_emma: SettingsFlow, phone: SoftAuthenticator, clock: Any, sink: Sink
) -> None:
    await flow_of_emma.start()
    done = await add_passkey(flow_of_emma, phone)
    key_id = done["security"]["passkeys"][0]["id"]
    clock.advance(seconds=601)
    state = await flow_of_emma.act("remove_passkey", passkey=key_id)
    assert state["state"] == "verify_options"
    assert "passkey" not in [o["way"] for o in state["options"]]  # not by itself
    state = await flow_of_emma.act("submit_password", password=PASSWORD)
    assert state["state"] == "confirm_remove"
    removed = await flow_of_emma.act("confirm")
    assert removed["notice"] == "passkey_removed"
    assert removed["security"]["passkeys"] == []
    await titled(sink, EMMA, "A passkey was removed from your Example account")


async def test_a_passkey_is_on_one_account_only(
    flow_of_emma: SettingsFlow, api: httpx.AsyncClient, phone: SoftAuthenticator, runtime: Runtime
) -> None:
    await flow_of_emma.start()
    state = await flow_of_emma.act("add_passkey", name="laptop")
    created = phone.create(state["webauthn"])
    await flow_of_emma.act("submit_passkey", credential=created)
    await runtime.accounts.create("taro@example.jp", PASSWORD, email_verified=True)
    taro = SettingsFlow(api, await sign_in(api, "taro@example.jp"))
    await taro.start()
    state = await taro.act("add_passkey", name="copied")
    # attestation "none" signs nothing: anyone may send Emma's credential id and public key
    # in an answer to their own challenge — and get nothing, not even a second copy
    copied = phone.create(state["webauthn"])
    copied["response"]["attestationObject"] = created["response"]["attestationObject"]
    copied["id"] = copied["rawId"] = created["id"]
    refused = await taro.act("submit_passkey", status=409, credential=copied)
    assert refused["error"] == "conflict"


async def test_support_sees_the_apps_and_passkeys(
    flow_of_emma: SettingsFlow, phone: SoftAuthenticator, clock: Any, operator: Operator
) -> None:
    await flow_of_emma.start()
    await add_passkey(flow_of_emma, phone, "laptop")
    await add_app(flow_of_emma, clock, "work phone")
    code, out = await operator.run("accounts", "show", EMMA)
    assert code == 0, out
    assert "authenticator apps and passkeys" in out
    assert re.search(r"app +work phone", out)
    assert re.search(r"passkey +laptop \(iCloud Keychain\)", out)
    code, out = await operator.run("accounts", "show", EMMA, "--json")
    shown = json.loads(out)
    assert [a["name"] for a in shown["authenticator_apps"]] == ["work phone"]
    assert [(k["name"], k["synced"]) for k in shown["passkeys"]] == [("laptop", True)]
