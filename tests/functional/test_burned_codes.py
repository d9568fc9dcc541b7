"""A code burned by wrong tries: it says so, and a new one can be sent at once.

The resend cooldown is waived for a burned code (it keeps mailboxes from being flooded, not
people from replacing a code that no longer works); the send quotas still apply. The rule is
the code engine's, so the engine, the verification API and the flows API all follow it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from honnin.codes.service import CheckOutcome
from honnin.errors import RateLimited
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.support.smtp import Sink

ADDRESS = "emma@example.com"
PASSWORD = "correct horse battery staple"
ME = Requester(ip="198.51.100.7")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# --- in the code engine --------------------------------------------------------------------


async def test_the_engine_waives_the_cooldown_for_a_burned_code_only(
    runtime: Runtime, sink: Sink
) -> None:
    codes = runtime.codes
    async with runtime.db.transaction() as tx:
        sent = await codes.send(
            tx, purpose="test", channel="email", destination=ADDRESS, locale="en", requester=ME
        )
    first = await sink.wait_for_code(ADDRESS)
    sent_at = sent.challenge.last_sent_at
    assert sent_at is not None

    outcomes = []
    for tries in range(5):
        async with runtime.db.transaction() as tx:
            challenge = await codes.get(tx, sent.challenge.id)
            assert challenge is not None
            assert codes.attempts_remaining(challenge) == 5 - tries
            assert codes.usable(challenge) is True
            # not burned yet: the cooldown holds
            assert codes.resend_available_at(challenge) == sent_at + codes.policy.resend_cooldown
            with pytest.raises(RateLimited) as refused:
                await codes.resend(tx, challenge, requester=ME)
            assert refused.value.scope == "cooldown"
        async with runtime.db.transaction() as tx:
            challenge = await codes.get(tx, sent.challenge.id)
            assert challenge is not None
            outcomes.append((await codes.check(tx, challenge, wrong(first))).outcome)
    assert outcomes == [CheckOutcome.INVALID] * 4 + [CheckOutcome.TOO_MANY_ATTEMPTS]

    async with runtime.db.transaction() as tx:
        burned = await codes.get(tx, sent.challenge.id)
        assert burned is not None
        assert codes.attempts_remaining(burned) == 0
        assert codes.usable(burned) is False
        assert codes.resend_available_at(burned) == sent_at  # at once
        again = await codes.resend(tx, burned, requester=ME)  # no clock moved: no cooldown
    assert again.challenge.send_count == 2
    assert codes.attempts_remaining(again.challenge) == 5
    second = await sink.wait_for_code(ADDRESS, count=2)
    async with runtime.db.transaction() as tx:
        fresh = await codes.get(tx, sent.challenge.id)
        assert fresh is not None
        assert codes.usable(fresh) is True
        assert (await codes.check(tx, fresh, second)).outcome is CheckOutcome.APPROVED


@pytest.mark.parametrize("settings_overrides", [{"limit_destination_sends": "2/hour"}])
async def test_the_send_quotas_still_apply_to_a_burned_code(runtime: Runtime, sink: Sink) -> None:
    codes = runtime.codes
    async with runtime.db.transaction() as tx:
        sent = await codes.send(
            tx, purpose="test", channel="email", destination=ADDRESS, locale="en", requester=ME
        )
    for round_ in (1, 2):
        code = await sink.wait_for_code(ADDRESS, count=round_)
        for _ in range(5):
            async with runtime.db.transaction() as tx:
                challenge = await codes.get(tx, sent.challenge.id)
                assert challenge is not None
                await codes.check(tx, challenge, wrong(code))
        async with runtime.db.transaction() as tx:
            challenge = await codes.get(tx, sent.challenge.id)
            assert challenge is not None
            if round_ == 1:
                await codes.resend(tx, challenge, requester=ME)
            else:
                with pytest.raises(RateLimited) as refused:
                    await codes.resend(tx, challenge, requester=ME)
                assert refused.value.scope == "destination"
    assert len(sink.to(ADDRESS)) == 2


# --- the verification API ------------------------------------------------------------------


async def test_the_verification_api_sends_a_new_code_at_once_after_a_burned_one(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    created = (await api.post("/api/v1/verifications", json={"to": ADDRESS})).json()
    code = await sink.wait_for_code(ADDRESS)
    path = f"/api/v1/verifications/{created['id']}/check"
    errors = [(await api.post(path, json={"code": wrong(code)})).json()["error"] for _ in range(5)]
    assert errors == ["invalid_code"] * 4 + ["too_many_attempts"]
    shown = (await api.get(f"/api/v1/verifications/{created['id']}")).json()
    assert shown["resend_available_at"] == created["created_at"]

    again = await api.post("/api/v1/verifications", json={"to": ADDRESS})

    assert again.status_code == 201, again.text
    assert again.json()["send_count"] == 2
    new = await sink.wait_for_code(ADDRESS, count=2)
    assert (await api.post(path, json={"code": new})).json()["status"] == "approved"


# --- the flows API -------------------------------------------------------------------------


async def test_the_flows_api_says_a_code_is_burned_and_resends_at_once(
    api: httpx.AsyncClient, sink: Sink, runtime: Runtime
) -> None:
    await runtime.accounts.create(ADDRESS, PASSWORD, email_verified=True)
    flow = (await api.post("/api/v1/flows", json={"kind": "sign_in"})).json()
    url = f"/api/v1/flows/{flow['id']}"
    await api.post(url, json={"action": "submit_identifier", "name": ADDRESS})
    state: dict[str, Any] = (await api.post(url, json={"action": "email_code"})).json()
    assert state["code"]["usable"] is True
    assert state["code"]["attempts_remaining"] == 5
    sent_at = datetime.fromisoformat(state["code"]["resend_available_at"]) - (
        runtime.codes.policy.resend_cooldown
    )
    code = await sink.wait_for_code(ADDRESS)

    replies = [
        await api.post(url, json={"action": "submit_code", "code": wrong(code)}) for _ in range(5)
    ]

    assert [r.json()["error"] for r in replies] == ["invalid_code"] * 4 + ["too_many_attempts"]
    assert [r.json()["flow"]["code"]["attempts_remaining"] for r in replies] == [4, 3, 2, 1, 0]
    burned = replies[-1].json()
    assert burned["message"] == (
        "Too many wrong codes were entered, so this code can no longer be used. Send a new code."
    )
    assert burned["flow"]["code"]["usable"] is False
    assert datetime.fromisoformat(burned["flow"]["code"]["resend_available_at"]) == sent_at

    resent = await api.post(url, json={"action": "resend"})

    assert resent.status_code == 200, resent.text
    assert resent.json()["code"]["usable"] is True
    assert resent.json()["code"]["attempts_remaining"] == 5
    new = await sink.wait_for_code(ADDRESS, count=2)
    done = await api.post(url, json={"action": "submit_code", "code": new})
    assert done.json()["state"] == "done"
