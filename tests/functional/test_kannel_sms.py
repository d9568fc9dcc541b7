"""Codes by text message through the real Kannel gateway: bearerbox and smsbox with fakesmsc
(which reports every text delivered) and an SMPP server we control (which reports what a test
tells it: undelivered, refused). The code is read from what the SMSC received; the delivery
reports come back to honnin on a real loopback port and reach the message's timeline and the
verification's `delivery.status`. Skipped where Kannel is not installed (failed with CI=true).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from honnin.courier.providers import provider_key
from honnin.proofs.service import add_proof
from honnin.runtime import Runtime
from tests.support.kannel import KannelGateway, reports_in, require_kannel
from tests.support.live import listening
from tests.support.recovery import RecoveryFlow, cancel_link
from tests.support.settings import EMMA, PASSWORD
from tests.support.smpp import ESME_RINVDSTADR, SmppServer
from tests.support.smtp import CODE, Sink, free_port

SENDER = "+815012340000"
_numbers = itertools.count(1)


@pytest.fixture
def number() -> str:
    """A number of its own for each test (and each database it runs on): the gateway, and
    what its SMSCs received, last for the module."""
    return f"+81901234{next(_numbers):04d}"


@pytest.fixture(scope="module")
def smpp() -> Iterator[SmppServer]:
    require_kannel()
    with SmppServer() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(smpp: SmppServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KannelGateway]:
    with KannelGateway(tmp_path_factory.mktemp("kannel"), smpp=smpp, max_messages=3) as gateway:
        yield gateway


def provider(gateway: KannelGateway, smsc: str) -> str:
    sender = urllib.parse.quote(SENDER, safe="")
    address = gateway.sendsms_base.removeprefix("http://")
    return (
        f"kannel+http://{gateway.username}:{gateway.password}@{address}?smsc={smsc}&from={sender}"
    )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(params=["fake"])
def smsc(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_overrides(gateway: KannelGateway, port: int, smsc: str) -> dict[str, Any]:
    return {"base_url": f"http://127.0.0.1:{port}", "sms_providers": provider(gateway, smsc)}


@pytest.fixture
async def served(
    app: FastAPI, port: int, gateway: KannelGateway, runtime: Runtime
) -> AsyncIterator[str]:
    """The app on its port while the test runs, and until the gateway's reports are in."""
    gateway.ensure_running()
    async with listening(app, port) as base_url:
        yield base_url
        await reports_in(runtime)


async def delivery_becomes(api: httpx.AsyncClient, vid: str, status: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        body: dict[str, Any] = (await api.get(f"/api/v1/verifications/{vid}")).json()
        if body["delivery"] and body["delivery"]["status"] == status:
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.05)


async def test_a_code_passes_through_kannel_and_its_delivery_report_reaches_the_timeline(
    api: httpx.AsyncClient, gateway: KannelGateway, served: str, runtime: Runtime, number: str
) -> None:
    national = f"0{number[3:5]}-{number[5:9]}-{number[9:]}"  # 090-1234-0001
    created = await api.post(
        "/api/v1/verifications", json={"to": national, "channel": "sms", "locale": "ja"}
    )
    assert created.status_code == 201, created.text
    sms = await asyncio.to_thread(gateway.wait_for_message, number)
    assert sms.sender == SENDER
    assert sms.coding == "ucs-2"
    assert sms.text.startswith("Example shop で使う Example のセキュリティコード：")
    code = CODE.search(sms.text)
    assert code is not None
    assert sms.text.splitlines()[-1] == f"@127.0.0.1 #{code.group(1)}"

    await delivery_becomes(api, created.json()["id"], "delivered")
    checked = await api.post(
        f"/api/v1/verifications/{created.json()['id']}/check", json={"code": code.group(1)}
    )
    assert checked.json()["status"] == "approved"
    message = (await runtime.messages.recent(limit=1))[0]
    events = (await runtime.messages.show(str(message.id))).events
    reports = [(e.kind, e.reply_code) for e in events if e.kind in ("progress", "delivered")]
    assert ("delivered", 1) in reports  # Kannel's DLR 1: delivered to the phone
    assert all("kannel" in (e.via or "") for e in events[1:])


async def test_an_english_text_goes_as_plain_gsm(
    api: httpx.AsyncClient, gateway: KannelGateway, served: str, number: str
) -> None:
    created = await api.post(
        "/api/v1/verifications", json={"to": number, "channel": "sms", "locale": "en"}
    )
    assert created.status_code == 201
    sms = await asyncio.to_thread(gateway.wait_for_message, number)
    assert sms.coding == "text"
    assert sms.text.startswith("Example: ")  # the service, then the code
    assert "is your security code" in sms.text


@pytest.mark.parametrize("smsc", ["smpp"], indirect=True)
async def test_an_undelivered_text_is_reported_with_its_reason_and_never_its_code(
    api: httpx.AsyncClient,
    smpp: SmppServer,
    served: str,
    runtime: Runtime,
    number: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SMSC's receipt ends with `text:` and the text's first characters — the code: it is
    kept nowhere, shown nowhere, logged nowhere (nor is Kannel's password, in its URL)."""
    smpp.outcome_for(number, stat="UNDELIV", err=1)
    with caplog.at_level(logging.DEBUG):
        created = await api.post(
            "/api/v1/verifications", json={"to": number, "channel": "sms", "locale": "en"}
        )
        reported = await delivery_becomes(api, created.json()["id"], "undelivered")
    sent = await asyncio.to_thread(smpp.wait_for_message, number)
    code = CODE.search(sent.text)
    assert code is not None
    receipt = await asyncio.to_thread(smpp.wait_for_receipt, number)
    assert code.group(1) in receipt.text  # what the SMSC said, whole
    assert reported["delivery"]["reason"] == "unreachable"
    assert reported["delivery"]["trouble"] == "provider"
    message = (await runtime.messages.recent(limit=1))[0]
    shown = await runtime.messages.show(str(message.id))
    assert shown.events[-1].reply_code == 2  # Kannel's DLR 2: not delivered
    assert "stat:UNDELIV" in (shown.events[-1].detail or "")
    everything = [json.dumps(reported), caplog.text, repr(shown)]
    assert not [text for text in everything if code.group(1) in text]
    assert "kannel-secret" not in caplog.text  # the gateway's password


@pytest.mark.parametrize("smsc", ["smpp"], indirect=True)
async def test_a_text_the_smsc_refuses_fails_with_its_reason(
    api: httpx.AsyncClient, smpp: SmppServer, served: str, number: str
) -> None:
    smpp.refuse(number, command_status=ESME_RINVDSTADR)
    created = await api.post("/api/v1/verifications", json={"to": number, "channel": "sms"})
    reported = await delivery_becomes(api, created.json()["id"], "failed")
    assert reported["delivery"]["reason"] == "invalid_number"


async def test_a_delivery_report_without_the_messages_secret_is_refused(
    api: httpx.AsyncClient, gateway: KannelGateway, served: str, runtime: Runtime, number: str
) -> None:
    created = await api.post("/api/v1/verifications", json={"to": number, "channel": "sms"})
    await asyncio.to_thread(gateway.wait_for_message, number)
    message = (await runtime.messages.recent(limit=1))[0]
    async with httpx.AsyncClient() as client:
        for token in ("", "0" * 64):
            forged = await client.get(
                f"{served}/api/hooks/sms/{provider_key(provider(gateway, 'fake'))}/{message.id}",
                params={"token": token, "status": "2", "reply": "forged"},
            )
            assert forged.status_code == 403
    await delivery_becomes(api, created.json()["id"], "delivered")  # the real reports still count


async def test_a_recovery_notice_reaches_the_phone_through_kannel_with_its_link(
    api: httpx.AsyncClient,
    gateway: KannelGateway,
    served: str,
    runtime: Runtime,
    number: str,
    sink: Sink,
) -> None:
    """Notices go to every way: to a phone by text, with the link that cancels, which works."""
    account = await runtime.accounts.create(EMMA, PASSWORD, email_verified=True)
    async with runtime.db.transaction() as tx:
        await add_proof(tx, account.id, "phone", number, runtime.clock.now(), verified=True)
    await RecoveryFlow(api, runtime).start(sink, EMMA)
    sms = await asyncio.to_thread(gateway.wait_for_message, number)
    assert sms.text.startswith("Example: someone asked to recover your account with n")
    assert (sms.coding, sms.parts) == ("text", 2)  # GSM: the date alone, no narrow spaces
    change_id, token = cancel_link(sms.text)
    async with httpx.AsyncClient(base_url=served) as person:  # no sign-in: the link is enough
        page = await person.get(f"/account/changes/{change_id}", params={"token": token})
        assert "Cancel the recovery" in page.text
    async with runtime.db.transaction(write=False) as tx:
        assert len(await runtime.recoveries.waiting(tx)) == 1
