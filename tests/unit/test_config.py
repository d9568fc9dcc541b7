from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from honnin.config import Settings, SmtpTarget
from honnin.destinations.kinds import Destinations
from honnin.errors import ConfigurationError


def test_outside_dev_mode_a_secret_is_required_and_the_error_says_how() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings().resolve_secret()
    message = str(caught.value)
    assert "HONNIN_SECRET_KEY" in message
    assert "--dev" in message


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="too short"):
        Settings(secret_key="short").resolve_secret()


def test_dev_mode_generates_one_secret_and_keeps_it(tmp_path: Path) -> None:
    first = Settings(dev=True, data_dir=tmp_path).resolve_secret()
    second = Settings(dev=True, data_dir=tmp_path).resolve_secret()
    assert first == second
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_environment_variables_and_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "honnin.toml"
    config.write_text('code_length = 8\nservice_name = "From file"\n')
    monkeypatch.setenv("HONNIN_CONFIG", str(config))
    monkeypatch.setenv("HONNIN_SERVICE_NAME", "From env")
    settings = Settings()
    assert settings.code_length == 8
    assert settings.service_name == "From env"


def test_the_embedded_default_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path}/data/honnin.db"


def test_dev_mode_sends_to_the_dev_mailbox() -> None:
    smtp = Settings(dev=True).smtp
    assert (smtp.host, smtp.port) == ("127.0.0.1", 8025)
    with pytest.raises(ConfigurationError, match="HONNIN_SMTP_URL"):
        Settings().smtp  # noqa: B018


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.com:587", ("relay.example.com", 587, False, None, None)),
        ("smtps://u%40x:p%3Aw@relay.example.com", ("relay.example.com", 465, True, "u@x", "p:w")),
        ("smtp://127.0.0.1", ("127.0.0.1", 25, False, None, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    target = SmtpTarget.parse(url)
    assert (target.host, target.port, target.implicit_tls, target.username, target.password) == (
        expected
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("smtp_url", "http://relay", "smtp://"),
        ("mail_from", "noreply@example.com", "Display Name"),
        ("code_length", 5, "greater than or equal to 6"),
        ("code_length", 9, "less than or equal to 8"),
        ("limit_destination_sends", "lots", "list of rates like"),
        ("dkim_domain", "example.com", "DKIM needs all"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(field: str, value: object, problem: str) -> None:
    values: dict[str, Any] = {field: value}
    with pytest.raises(ValidationError, match=problem):
        Settings(**values)


def test_a_list_of_rates_is_comma_separated_and_semicolons_still_work() -> None:
    commas = Settings(limit_destination_sends="3/hour,4/day")
    semicolons = Settings(limit_destination_sends="3/hour;4/day")
    assert [str(r) for r in commas.rate("destination_sends")] == ["3 per 1 hour", "4 per 1 day"]
    assert semicolons.rate("destination_sends") == commas.rate("destination_sends")


def test_phone_settings_are_iso_codes_that_libphonenumber_knows() -> None:
    settings = Settings(phone_default_region="us", phone_allowed_countries="jp, US")
    assert settings.phone_default_region == "US"
    rules = Destinations.from_settings(settings).phone.rules
    assert rules.allowed_countries == frozenset({"JP", "US"})
    assert Destinations.from_settings(Settings()).phone.rules.default_region == "JP"
    assert Destinations.from_settings(Settings()).phone.rules.allowed_countries == frozenset()
    with pytest.raises(ValidationError, match="'XX' is not a country code"):
        Settings(phone_default_region="XX")
    with pytest.raises(ValidationError, match="ZZ: not country codes"):
        Settings(phone_allowed_countries="JP,ZZ")


def test_allowed_countries_come_from_the_environment_as_a_comma_separated_string(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HONNIN_PHONE_ALLOWED_COUNTRIES", "JP,US")
    assert Destinations.from_settings(Settings()).phone.rules.allowed_countries == frozenset(
        {"JP", "US"}
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"voice_providers": "kannel+http://u:p@h:13013/cgi-bin/sendsms"}, "texts only"),
        ({"sms_providers": "twilio+https://AC1@api.twilio.com"}, "auth token"),
        ({"sms_providers": "https://api.twilio.com"}, "starts with kannel"),
        ({"sms_sender_ids": "UK=+447400123456"}, "'UK' is not an ISO 3166"),
        ({"sms_sender_ids": "+815012345678"}, "JP=\\+815012345678"),
    ],
)
def test_providers_are_checked_when_the_settings_are_read(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**settings)
