"""The SMTP timeouts: one per step, RFC 5321 §4.5.3.2's by default, each a setting."""

from __future__ import annotations

import pytest

from honnin.config import Settings
from honnin.courier.channels.smtp import SmtpTimeouts


def test_the_defaults_are_rfc_5321s() -> None:
    assert SmtpTimeouts.from_settings(Settings()) == SmtpTimeouts(
        connect=300, command=300, data_block=180, final_reply=600
    )


def test_each_step_is_its_own_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONNIN_SMTP_CONNECT_TIMEOUT_SECONDS", "20")
    monkeypatch.setenv("HONNIN_SMTP_TIMEOUT_SECONDS", "15")  # as before: each command
    monkeypatch.setenv("HONNIN_SMTP_DATA_TIMEOUT_SECONDS", "60")
    monkeypatch.setenv("HONNIN_SMTP_FINAL_REPLY_TIMEOUT_SECONDS", "900")

    assert SmtpTimeouts.from_settings(Settings()) == SmtpTimeouts(
        connect=20, command=15, data_block=60, final_reply=900
    )


def test_a_claim_no_longer_has_to_outlast_a_send() -> None:
    """The courier renews its claims while it sends; a short claim with long SMTP timeouts is
    fine (it only decides how soon a dead courier's messages are taken over)."""
    settings = Settings(courier_claim_seconds=30, smtp_final_reply_timeout_seconds=600)
    assert settings.courier_claim_seconds == 30
    with pytest.raises(ValueError, match="courier_claim_seconds"):
        Settings(courier_claim_seconds=0.5)
