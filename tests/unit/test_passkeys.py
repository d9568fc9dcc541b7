"""Passkeys' rules apart from where they are kept: the relying party and its origins (never an
IP address), the setting's list of extra origins, the authenticators' names, and a new
passkey's answer checked against its challenge, origin and relying party."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from honnin.authenticators import aaguids, passkeys
from honnin.authenticators.passkeys import PasskeyRefused, RelyingParty
from honnin.config import Settings
from tests.support.passkeys import SoftAuthenticator

RP = RelyingParty.of("http://localhost:8000", "", "Example")


def test_the_relying_party_is_the_base_urls_host() -> None:
    assert RP.id == "localhost"
    assert RP.origins == ("http://localhost:8000",)
    rp = RelyingParty.of(
        "https://id.example.com/", "https://app.example.com, android:apk-key-hash:abc", "X"
    )
    assert rp.id == "id.example.com"
    assert rp.origins == (
        "https://id.example.com",
        "https://app.example.com",
        "android:apk-key-hash:abc",
    )


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://[::1]:8000", "https://10.0.0.2"])
def test_an_ip_address_is_never_a_relying_party(url: str) -> None:
    assert not RelyingParty.of(url, "", "X").available


@pytest.mark.parametrize("origins", ["https://app.example.com/login", "ftp://x.example", "app"])
def test_extra_origins_must_be_origins(origins: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(webauthn_origins=origins)


def test_extra_origins_are_a_comma_separated_list() -> None:
    settings = Settings(webauthn_origins="https://a.example.com, http://localhost:3000")
    rp = RelyingParty.of("http://localhost:8000", settings.webauthn_origins, "X")
    assert rp.origins == (
        "http://localhost:8000",
        "https://a.example.com",
        "http://localhost:3000",
    )


def test_authenticators_are_named_by_their_aaguid() -> None:
    assert aaguids.name_of("FBFC3007-154E-4ECC-8C0B-6E020557D7BD") == "iCloud Keychain"
    assert aaguids.name_of("00000000-0000-0000-0000-000000000000") is None


def creation(challenge: str) -> dict[str, object]:
    return passkeys.creation_options(
        RP, challenge=challenge, user_id=b"\x01" * 16, user_name="emma@example.com", existing=[]
    )


def test_a_new_passkey_is_checked_against_its_challenge_origin_and_relying_party() -> None:
    challenge = passkeys.new_challenge()
    phone = SoftAuthenticator("http://localhost:8000")
    new = passkeys.verify_new(RP, json.dumps(phone.create(creation(challenge))), challenge)
    assert new.backup_eligible
    assert new.user_verified
    assert new.aaguid == "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
    assert new.transports == "internal,hybrid"

    other = passkeys.new_challenge()
    with pytest.raises(PasskeyRefused):  # an answer to another challenge
        passkeys.verify_new(RP, json.dumps(phone.create(creation(challenge))), other)
    elsewhere = SoftAuthenticator("https://honnin.example.net")
    with pytest.raises(PasskeyRefused):  # made on another site's page
        passkeys.verify_new(RP, json.dumps(elsewhere.create(creation(challenge))), challenge)
    wrong_rp = RelyingParty("example.org", "X", ("http://localhost:8000",))
    with pytest.raises(PasskeyRefused):  # for another relying party
        passkeys.verify_new(wrong_rp, json.dumps(phone.create(creation(challenge))), challenge)
    for garbage in ("", "[]", "{}", '{"response": 3}'):
        with pytest.raises(PasskeyRefused):
            passkeys.verify_new(RP, garbage, challenge)
