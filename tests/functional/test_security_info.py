"""Email security info counts only once a code sent to it has come back."""

from __future__ import annotations

import pytest

from honnin.codes.errors import CodeSuperseded
from honnin.errors import Conflict, InvalidInput
from honnin.limits.service import Requester
from honnin.runtime import Runtime
from tests.support.clock import ShiftableClock
from tests.support.smtp import Sink

PASSWORD = "correct horse battery staple"
ME = Requester(ip="192.0.2.7")


async def test_an_address_is_verified_by_the_code_sent_to_it(runtime: Runtime, sink: Sink) -> None:
    account = await runtime.accounts.create("emma@example.com", PASSWORD)
    assert [p.verified for p in account.proofs] == [False]

    sent = await runtime.proofs.send_code(
        account.id, account.proofs[0].id, requester=ME, locale="en"
    )
    mail = await sink.wait_for("emma@example.com")
    assert sent.destination_hint == "em*****@example.com"
    assert "for the Example account em*****@example.com" in mail.text
    assert "verifying your email address" in mail.text

    proof = await runtime.proofs.confirm(account.id, sent.challenge_id, mail.code, requester=ME)

    assert proof.verified
    assert [p.verified for p in (await runtime.accounts.show("emma@example.com")).proofs] == [True]
    with pytest.raises(Conflict):
        await runtime.proofs.send_code(account.id, proof.id, requester=ME, locale="en")


async def test_a_second_address_and_a_resend(
    runtime: Runtime, sink: Sink, clock: ShiftableClock
) -> None:
    account = await runtime.accounts.create("emma@example.com", PASSWORD)
    work = await runtime.proofs.add(account.id, "email", "Emma@Work.example")
    assert work.hint == "em*****@work.example"
    with pytest.raises(Conflict):
        await runtime.proofs.add(account.id, "email", "emma@work.example")

    first = await runtime.proofs.send_code(account.id, work.id, requester=ME, locale="ja")
    old = (await sink.wait_for("emma@work.example")).code
    clock.advance(seconds=31)
    second = await runtime.proofs.send_code(account.id, work.id, requester=ME, locale="ja")
    new = (await sink.wait_for("emma@work.example", count=2)).code

    assert second.challenge_id == first.challenge_id
    with pytest.raises(CodeSuperseded):
        await runtime.proofs.confirm(account.id, first.challenge_id, old, requester=ME)
    assert (
        await runtime.proofs.confirm(account.id, first.challenge_id, new, requester=ME)
    ).verified


async def test_a_verified_address_can_become_another_sign_in_name(
    runtime: Runtime, sink: Sink
) -> None:
    account = await runtime.accounts.create("emma@example.com", PASSWORD)
    other = await runtime.accounts.create("taro@example.jp", PASSWORD)
    work = await runtime.proofs.add(account.id, "email", "emma@work.example")
    with pytest.raises(InvalidInput, match="Verify"):
        await runtime.accounts.add_sign_in_name(account.id, "emma@work.example")

    sent = await runtime.proofs.send_code(account.id, work.id, requester=ME, locale="en")
    code = await sink.wait_for_code("emma@work.example")
    await runtime.proofs.confirm(account.id, sent.challenge_id, code, requester=ME)
    shown = await runtime.accounts.add_sign_in_name(account.id, "emma@work.example")

    assert shown.sign_in_names == ["em*****@example.com", "em*****@work.example"]
    assert (await runtime.accounts.show("emma@work.example")).id == account.id
    with pytest.raises(InvalidInput):  # not the other account's verified security info
        await runtime.accounts.add_sign_in_name(other.id, "emma@work.example")
    with pytest.raises(Conflict):
        await runtime.accounts.add_sign_in_name(account.id, "emma@work.example")
