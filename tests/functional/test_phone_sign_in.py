"""Signing in with a phone number: as the name, with a code by text or by a call instead of
the password, "call me instead" when a text does not come, and phones as options of "verify
your identity" (confirmed by their last four digits). Through the JSON API; texts and calls
go through a Twilio-compatible fake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.functional.test_flows_api import act, start
from tests.support.clock import ShiftableClock
from tests.support.journeys import EMMA, PASSWORD
from tests.support.smtp import CODE
from tests.support.twilio import FakeTwilio

PHONE = "+819012345678"
LANDLINE = "+81312345678"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def settings_overrides(twilio: FakeTwilio) -> dict[str, Any]:
    return {
        "sms_providers": twilio.provider_url("+815012340000"),
        "voice_providers": twilio.provider_url("+81312340000"),
    }


async def texted_code(twilio: FakeTwilio, number: str = PHONE, count: int = 1) -> str:
    found = CODE.search((await twilio.wait_for_message(number, count)).body)
    assert found is not None
    return found.group(1)


async def called_code(twilio: FakeTwilio, number: str = PHONE, count: int = 1) -> str:
    call = await twilio.wait_for_call(number, count)
    spoken = next(line for line in twilio.spoken(call) if line.count(",") == 5)
    return spoken.replace(", ", "").rstrip(".")


@pytest.fixture
async def emma_with_phone(runtime: Runtime, emma: Any, twilio: FakeTwilio) -> Any:
    """Emma, whose phone number is verified security info and a sign-in name."""
    proof = await runtime.proofs.add(emma.id, "phone", "090-1234-5678")
    me = Requester(ip="198.51.100.1")
    sent = await runtime.proofs.send_code(emma.id, proof.id, requester=me, locale="en")
    await runtime.proofs.confirm(
        emma.id, sent.challenge_id, await texted_code(twilio), requester=me
    )
    return await runtime.accounts.add_sign_in_name(emma.id, "090-1234-5678")


async def test_a_phone_number_becomes_security_info_and_a_sign_in_name(
    emma_with_phone: Any, runtime: Runtime
) -> None:
    assert emma_with_phone.sign_in_names == ["em*****@example.com", "******78"]
    assert [(p.kind, p.hint, p.verified) for p in emma_with_phone.proofs] == [
        ("email", "em*****@example.com", True),
        ("phone", "******78", True),
    ]
    assert (await runtime.accounts.show("090-1234-5678")).id == emma_with_phone.id


async def test_sign_in_with_the_phone_number_and_a_texted_code(
    api: httpx.AsyncClient, emma_with_phone: Any, twilio: FakeTwilio
) -> None:
    url, _flow = await start(api, "sign_in")
    named = (await act(api, url, "submit_identifier", name="０９０-1234-5678")).json()
    assert (named["state"], named["name"], named["name_hint"]) == ("password", PHONE, "******78")
    assert named["ways"] == ["sms_code", "call_code"]
    sent = (await act(api, url, "send_code", way="sms_code")).json()
    assert sent["state"] == "code"
    assert (sent["code"]["channel"], sent["code"]["destination_hint"]) == ("sms", "******78")
    assert sent["code"]["call_offer_at"] is not None
    done = await act(api, url, "submit_code", code=await texted_code(twilio, count=2))
    assert done.json()["state"] == "done"
    assert done.json()["session_token"]


async def test_a_way_the_name_does_not_offer_is_refused(
    api: httpx.AsyncClient, emma_with_phone: Any
) -> None:
    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=PHONE)
    refused = await act(api, url, "send_code", way="email_code")
    assert refused.status_code == 409
    assert refused.json()["error"] == "action_not_allowed"
    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=EMMA)
    assert (await act(api, url, "send_code", way="sms_code")).status_code == 409


async def test_call_me_instead_is_offered_once_the_text_had_its_time(
    api: httpx.AsyncClient, emma_with_phone: Any, twilio: FakeTwilio, clock: ShiftableClock
) -> None:
    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=PHONE)
    sent = (await act(api, url, "send_code", way="sms_code")).json()
    texted = await texted_code(twilio, count=2)
    too_soon = await act(api, url, "resend", channel="call")
    assert too_soon.status_code == 409
    clock.advance(seconds=61)  # HONNIN_CALL_OFFER_AFTER_SECONDS
    called = (await act(api, url, "resend", channel="call")).json()
    assert called["code"]["channel"] == "call"
    assert called["code"]["call_offer_at"] is None
    code = await called_code(twilio)
    assert (await act(api, url, "submit_code", code=texted)).status_code == 400  # superseded
    done = await act(api, url, "submit_code", code=code)
    assert done.json()["state"] == "done"
    assert sent["code"]["destination_hint"] == called["code"]["destination_hint"]


async def test_a_number_without_an_account_walks_the_same_states_and_nothing_is_texted(
    api: httpx.AsyncClient, emma_with_phone: Any, twilio: FakeTwilio
) -> None:
    url, _flow = await start(api, "sign_in")
    named = (await act(api, url, "submit_identifier", name="080-1111-2222")).json()
    assert named["ways"] == ["sms_code", "call_code"]
    sent = (await act(api, url, "send_code", way="sms_code")).json()
    assert sent["state"] == "code"
    assert sent["code"]["channel"] == "sms"
    assert sent["code"]["delivery"] is None  # before a password, as for a known name
    wrong = await act(api, url, "submit_code", code="000000")
    assert wrong.status_code == 400
    assert twilio.messages_to("+818011112222") == []  # a decoy: to the void


async def test_a_landline_name_offers_a_call_only(
    api: httpx.AsyncClient, emma_with_phone: Any
) -> None:
    url, _flow = await start(api, "sign_in")
    named = (await act(api, url, "submit_identifier", name="03-1234-5678")).json()
    assert named["ways"] == ["call_code"]


async def test_a_phone_is_an_option_of_verify_your_identity_confirmed_by_its_last_four_digits(
    api: httpx.AsyncClient, emma_with_phone: Any, twilio: FakeTwilio, runtime: Runtime
) -> None:
    await runtime.accounts.set_two_step(EMMA, True)
    url, _flow = await start(api, "sign_in")
    await act(api, url, "submit_identifier", name=EMMA)
    options = await act(api, url, "submit_password", password=PASSWORD)
    body = options.json()
    assert body["state"] == "verify_options", body
    ways = [(o["way"], o["hint"]) for o in body["options"]]
    assert ways == [
        ("email_code", "em*****@example.com"),
        ("sms_code", "******78"),
        ("call_code", "******78"),
    ]
    sms = next(o["id"] for o in body["options"] if o["way"] == "sms_code")
    await act(api, url, "choose_option", option=sms)
    wrong = await act(api, url, "confirm_address", address="5679")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "wrong_address"
    malformed = await act(api, url, "confirm_address", address="567")
    assert malformed.status_code == 422
    sent = (await act(api, url, "confirm_address", address="５６７８")).json()
    assert (sent["state"], sent["code"]["channel"]) == ("verify_code", "sms")
    done = await act(api, url, "submit_code", code=await texted_code(twilio, count=2))
    assert done.json()["state"] == "done"
