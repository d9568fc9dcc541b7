"""The embedded default with no SMS or voice provider: texts and the scripts of calls go to the
dev mailbox, shown like mail, so a newcomer can sign in with a phone number with nothing else
installed. Outside dev mode, a channel without a provider is refused clearly."""

from __future__ import annotations

import httpx
import pytest

from tests.support.smtp import Sink


@pytest.mark.parametrize("settings_overrides", [{"dev": True}])
async def test_in_dev_mode_a_text_and_a_call_arrive_in_the_dev_mailbox(
    api: httpx.AsyncClient, sink: Sink
) -> None:
    texted = await api.post(
        "/api/v1/verifications", json={"to": "090-1234-5678", "channel": "sms", "locale": "en"}
    )
    assert texted.status_code == 201, texted.text
    mail = await sink.wait_for("819012345678@sms.honnin.localhost")
    assert mail.message["Subject"] == "Text message to +819012345678"
    assert mail.text.splitlines()[-1] == f"@localhost #{mail.code}"
    checked = await api.post(
        f"/api/v1/verifications/{texted.json()['id']}/check", json={"code": mail.code}
    )
    assert checked.json()["status"] == "approved"

    called = await api.post(
        "/api/v1/verifications", json={"to": "03-1234-5678", "channel": "call", "locale": "en"}
    )
    assert called.status_code == 201, called.text
    script = (await sink.wait_for("81312345678@call.honnin.localhost")).text
    assert script.startswith("Hello. This is Example.")
    assert script.count(", ") >= 10  # the code, digit by digit, twice


async def test_outside_dev_mode_a_channel_without_a_provider_is_refused(
    api: httpx.AsyncClient,
) -> None:
    for channel, words in (("sms", "Texts can't be sent"), ("call", "can't make calls")):
        response = await api.post(
            "/api/v1/verifications", json={"to": "090-1234-5678", "channel": channel}
        )
        assert response.status_code == 422
        assert response.json()["error"] == "channel_unavailable"
        assert words in response.json()["message"]
