"""Codes by text message and by voice call, through a Twilio-compatible API (a local fake that
answers as Twilio documents it) whose status callbacks reach honnin on a real loopback port:
delivery reports in the timeline and in `delivery.status`, refusals with their plain reasons,
the next provider taking over, and forged callbacks refused."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from honnin.cli.main import app as cli
from honnin.codes import pumping
from honnin.config import Settings
from honnin.courier.providers import provider_key
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.live import listening
from tests.support.smtp import CODE, free_port
from tests.support.twilio import FakeTwilio

MOBILE = "+819012345678"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def second_twilio() -> Iterator[FakeTwilio]:
    """Another provider (say, a second Twilio-compatible company), after the first."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def limits() -> dict[str, Any]:
    """Settings a test adds (parametrize `limits`)."""
    return {}


@pytest.fixture
def settings_overrides(
    twilio: FakeTwilio, second_twilio: FakeTwilio, port: int, limits: dict[str, Any]
) -> dict[str, Any]:
    both = f"{twilio.provider_url('+815012340000')},{second_twilio.provider_url('+815099990000')}"
    return {
        "base_url": f"http://127.0.0.1:{port}",
        "sms_providers": both,
        "voice_providers": twilio.provider_url("+81312340000"),
        "courier_provider_attempts": 2,
        **limits,
    }


@pytest.fixture
async def served(app: FastAPI, port: int) -> AsyncIterator[str]:
    async with listening(app, port) as base_url:
        yield base_url


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def verification(api: httpx.AsyncClient, vid: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/verifications/{vid}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def delivery_becomes(api: httpx.AsyncClient, vid: str, status: str) -> dict[str, Any]:
    async def reached() -> bool:
        delivery = (await verification(api, vid))["delivery"]
        return bool(delivery and delivery["status"] == status)

    await until(reached)
    return await verification(api, vid)


async def test_a_text_carries_the_code_and_its_delivery_report_comes_back(
    api: httpx.AsyncClient, twilio: FakeTwilio, served: str, runtime: Runtime
) -> None:
    created = await api.post(
        "/api/v1/verifications", json={"to": "090-1234-5678", "channel": "sms", "locale": "ja"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["channel"], body["to_hint"]) == ("sms", "******78")
    text = await twilio.wait_for_message(MOBILE)
    assert text.from_ == "+815012340000"
    assert "Example のセキュリティコード" in text.body
    code = CODE.search(text.body)
    assert code is not None
    assert text.body.splitlines()[-1] == f"@127.0.0.1 #{code.group(1)}"  # WebOTP
    message = (await runtime.messages.recent(limit=1))[0]
    key = provider_key(twilio.provider_url("+815012340000"))  # the URL without its password
    assert text.status_callback == f"{served}/api/hooks/sms/{key}/{message.id}"

    reported = await delivery_becomes(api, body["id"], "delivered")
    assert reported["delivery"]["trouble"] is None
    callbacks = await twilio.wait_for_callbacks(text, 2)
    assert [c.status for c in callbacks] == [204, 204]
    checked = await api.post(
        f"/api/v1/verifications/{body['id']}/check", json={"code": code.group(1)}
    )
    assert checked.json()["status"] == "approved"

    timeline = await runtime.messages.show(str(message.id))
    assert timeline.provider_ref == text.sid
    assert [e.kind for e in timeline.events] == ["queued", "accepted", "progress", "delivered"]
    assert timeline.events[-1].detail == "message delivered"
    assert "twilio" in (timeline.events[-1].via or "")


async def test_a_text_the_carrier_filtered_says_so(
    api: httpx.AsyncClient, twilio: FakeTwilio, served: str, runtime: Runtime
) -> None:
    twilio.outcome(MOBILE, "undelivered", error_code=30007)
    created = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    reported = await delivery_becomes(api, created.json()["id"], "undelivered")
    assert reported["delivery"]["trouble"] == "provider"
    assert reported["delivery"]["reason"] == "filtered"
    message = (await runtime.messages.recent(limit=1))[0]
    timeline = await runtime.messages.show(str(message.id))
    assert timeline.events[-1].reply_code == 30007
    assert timeline.reason == "filtered"


async def test_a_number_the_provider_refuses_for_good_goes_to_the_next_provider(
    api: httpx.AsyncClient,
    twilio: FakeTwilio,
    second_twilio: FakeTwilio,
    served: str,
    runtime: Runtime,
) -> None:
    twilio.refuse(MOBILE, 21408)  # texts to this region not enabled at the first provider
    created = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    text = await second_twilio.wait_for_message(MOBILE)
    assert text.from_ == "+815099990000"
    await delivery_becomes(api, created.json()["id"], "delivered")
    message = (await runtime.messages.recent(limit=1))[0]
    timeline = await runtime.messages.show(str(message.id))
    kinds = [e.kind for e in timeline.events]
    assert kinds[:3] == ["queued", "handed_over", "accepted"]
    handed = timeline.events[1]
    assert handed.reply_code == 21408
    assert "handed over to twilio" in (handed.detail or "")
    assert handed.via != timeline.events[2].via  # each attempt names its provider
    assert timeline.provider == 1
    assert twilio.messages_to(MOBILE) == []


async def test_a_provider_that_does_not_answer_hands_over_after_its_attempts(
    api: httpx.AsyncClient,
    twilio: FakeTwilio,
    second_twilio: FakeTwilio,
    served: str,
    runtime: Runtime,
) -> None:
    twilio.down()
    await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    await second_twilio.wait_for_message(MOBILE)
    message = (await runtime.messages.recent(limit=1))[0]
    kinds = [e.kind for e in (await runtime.messages.show(str(message.id))).events]
    assert kinds[:4] == ["queued", "deferred", "handed_over", "accepted"]


async def test_a_refusal_with_no_provider_left_fails_with_its_plain_reason(
    api: httpx.AsyncClient,
    twilio: FakeTwilio,
    second_twilio: FakeTwilio,
    served: str,
) -> None:
    twilio.refuse(MOBILE, 21614)
    second_twilio.refuse(MOBILE, 21614)
    created = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    failed = await delivery_becomes(api, created.json()["id"], "failed")
    assert failed["delivery"]["reason"] == "not_mobile"
    assert failed["delivery"]["trouble"] == "provider"


async def test_a_forged_callback_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, twilio: FakeTwilio, served: str, runtime: Runtime
) -> None:
    twilio.outcome(MOBILE, "sent")  # no delivery receipt ever comes
    created = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    text = await twilio.wait_for_message(MOBILE)
    await twilio.wait_for_status(text, "sent")
    url = text.status_callback
    assert url is not None
    params = twilio.message_callback_params(text, "undelivered", 30003)
    for signature in ("bad", "missing"):
        forged = await twilio.apost_callback(url, params, signature)
        assert forged.status == 403
    # signed with another account's token
    other = FakeTwilio(auth_token="0" * 32)
    forged = await twilio.apost_callback(url, params, other.sign(url, params))
    assert forged.status == 403
    assert (await verification(api, created.json()["id"]))["delivery"]["status"] == "accepted"
    # the real thing is recorded
    real = await twilio.apost_callback(url, params)
    assert real.status == 204
    assert (await verification(api, created.json()["id"]))["delivery"]["status"] == "undelivered"


async def test_a_call_says_the_code_and_reports_when_it_was_answered(
    api: httpx.AsyncClient, twilio: FakeTwilio, served: str
) -> None:
    created = await api.post(
        "/api/v1/verifications", json={"to": "03-1234-5678", "channel": "call", "locale": "en"}
    )
    assert created.status_code == 201, created.text
    call = await twilio.wait_for_call("+81312345678")
    assert call.from_ == "+81312340000"
    spoken = twilio.spoken(call)
    digits = [line for line in spoken if line.count(",") == 5]
    assert len(digits) == 2
    assert digits[0] == digits[1]
    code = digits[0].replace(", ", "").rstrip(".")
    assert {say.language for say in call.says} == {"en-US"}
    await delivery_becomes(api, created.json()["id"], "delivered")
    checked = await api.post(f"/api/v1/verifications/{created.json()['id']}/check",
                             json={"code": code})  # fmt: skip
    assert checked.json()["status"] == "approved"


async def test_a_call_nobody_answers_is_undelivered(
    api: httpx.AsyncClient, twilio: FakeTwilio, served: str
) -> None:
    twilio.call_outcome(MOBILE, "no-answer")
    created = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "call"})
    reported = await delivery_becomes(api, created.json()["id"], "undelivered")
    assert reported["delivery"]["reason"] == "no_answer"


@pytest.mark.parametrize(
    ("to", "channel", "error", "reason"),
    [
        ("050-1234-5678", "sms", "phone_not_accepted", "voip"),
        ("0120-123-456", "call", "phone_not_accepted", "toll_free"),
        ("03-1234-5678", "sms", "phone_cannot_text", None),
        ("12345", "sms", "invalid_phone", None),
    ],
)
async def test_numbers_that_cannot_take_a_code_are_refused_before_anything_is_sent(
    api: httpx.AsyncClient, twilio: FakeTwilio, to: str, channel: str, error: str,
    reason: str | None,
) -> None:  # fmt: skip
    response = await api.post(
        "/api/v1/verifications", json={"to": to, "channel": channel},
        headers={"Accept-Language": "ja"},
    )  # fmt: skip
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == error
    assert body.get("reason") == reason
    assert not body["message"].isascii()  # in Japanese
    await asyncio.sleep(0.1)
    assert twilio.requests == []


@pytest.mark.parametrize(
    "limits", [{"limit_prefix_sends": "3/hour", "limit_country_sends": "5/hour"}]
)
async def test_texts_to_one_prefix_and_one_country_are_paused_past_their_limits(
    api: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    async def send(number: str) -> httpx.Response:
        return await api.post("/api/v1/verifications", json={"to": number, "channel": "sms"})

    # SMS pumping walks through a range of numbers: +81 9012 34xx share a prefix
    for n in range(3):
        assert (await send(f"+8190123400{n:02d}")).status_code == 201
    paused = await send("+819012340099")
    assert paused.status_code == 429
    body = paused.json()
    assert body["error"] == "rate_limited"
    assert "paused" in body["message"]
    assert 0 < body["retry_after"] <= 3600
    # other prefixes of the country, until the country's limit
    assert (await send("+818012340000")).status_code == 201
    assert (await send("+817012340000")).status_code == 201
    assert (await send("+819098760000")).status_code == 429
    assert (await send("+16502530000")).status_code == 201  # another country
    await asyncio.sleep(0.2)
    assert len(twilio.messages) == 6


@pytest.mark.parametrize("limits", [{"limit_destination_sends": "2/hour"}])
async def test_a_call_instead_of_a_text_goes_on_with_the_same_verification(
    api: httpx.AsyncClient, twilio: FakeTwilio, clock: ShiftableClock
) -> None:
    """…and the text and the call both count for the number."""
    texted = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    text = await twilio.wait_for_message(MOBILE)
    clock.advance(seconds=31)  # past the resend cooldown
    called = await api.post(
        "/api/v1/verifications", json={"to": MOBILE, "channel": "call", "locale": "en"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert called.status_code == 201, called.text
    assert called.json()["id"] == texted.json()["id"]
    assert (called.json()["channel"], called.json()["send_count"]) == ("call", 2)
    call = await twilio.wait_for_call(MOBILE)
    spoken = next(line for line in twilio.spoken(call) if line.count(",") == 5)
    code = spoken.replace(", ", "").rstrip(".")
    texted_code = CODE.search(text.body)
    assert texted_code is not None
    vid = texted.json()["id"]
    superseded = await api.post(f"/api/v1/verifications/{vid}/check",
                                json={"code": texted_code.group(1)})  # fmt: skip
    assert superseded.json()["error"] in ("code_superseded", "invalid_code")
    approved = await api.post(f"/api/v1/verifications/{vid}/check", json={"code": code})
    assert approved.json()["status"] == "approved"
    clock.advance(seconds=31)
    third = await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "call"})
    assert third.status_code == 429


@pytest.mark.parametrize("limits", [{"pumping_alert_share": 0.5, "pumping_alert_min_codes": 3}])
async def test_codes_nobody_enters_raise_the_pumping_alert_and_the_cli_lists_their_messages(
    api: httpx.AsyncClient,
    twilio: FakeTwilio,
    clock: ShiftableClock,
    runtime: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock.advance(minutes=-15)  # sent a quarter of an hour ago: their codes have expired since
    created = [
        await api.post("/api/v1/verifications", json={"to": f"+8190123456{n}0", "channel": "sms"})
        for n in range(4)
    ]
    elsewhere = await api.post(
        "/api/v1/verifications", json={"to": "+16502530099", "channel": "sms"}
    )
    for response, number in ((created[0], "+819012345600"), (elsewhere, "+16502530099")):
        code = CODE.search((await twilio.wait_for_message(number)).body)
        assert code is not None
        checked = await api.post(f"/api/v1/verifications/{response.json()['id']}/check",
                                 json={"code": code.group(1)})  # fmt: skip
        assert checked.json()["status"] == "approved"
    clock.advance(minutes=15)

    with caplog.at_level(logging.WARNING, logger="honnin.pumping"):
        found = await pumping.alert(runtime.db, clock.now(), below=0.5, min_codes=3)
    assert [(s.scope, s.key, s.codes, s.entered) for s in found] == [
        ("prefix", "+819012", 4, 1),
        ("country", "JP", 4, 1),
    ]
    assert "SMS pumping suspected: prefix +819012: 1 of 4 codes" in caplog.text

    monkeypatch.setenv("HONNIN_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("HONNIN_PUMPING_ALERT_SHARE", "0.5")
    monkeypatch.setenv("HONNIN_PUMPING_ALERT_MIN_CODES", "3")
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["messages", "list", "--pumping", "--json"],
        env={"COLUMNS": "250"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    alert, listing = result.output.split("\n", 2)[:2], result.output.split("\n", 2)[2]
    assert alert[0].startswith("SMS pumping suspected: prefix +819012")
    assert alert[1].startswith("SMS pumping suspected: country JP")
    hints = sorted(m["recipient_hint"] for m in json.loads(listing))
    assert hints == ["******00", "******10", "******20", "******30"]  # not the US one


@pytest.mark.parametrize("limits", [{"sms_sender_ids": "US=+15005550006"}])
async def test_texts_go_from_the_sender_of_the_recipients_country(
    api: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    await api.post("/api/v1/verifications", json={"to": "+16502530000", "channel": "sms"})
    await api.post("/api/v1/verifications", json={"to": MOBILE, "channel": "sms"})
    assert (await twilio.wait_for_message("+16502530000")).from_ == "+15005550006"
    assert (await twilio.wait_for_message(MOBILE)).from_ == "+815012340000"  # the URL's own
