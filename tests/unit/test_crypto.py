from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from honnin.crypto import Keyring


def test_sealed_secrets_open_only_in_their_context() -> None:
    keyring = Keyring(b"k" * 40)
    sealed = keyring.seal(b"123456", "message-1")
    assert b"123456" not in sealed
    assert keyring.unseal(sealed, "message-1") == b"123456"
    with pytest.raises(InvalidTag):
        keyring.unseal(sealed, "message-2")
    with pytest.raises(InvalidTag):
        Keyring(b"j" * 40).unseal(sealed, "message-1")


def test_digests_depend_on_purpose_key_and_parts() -> None:
    keyring = Keyring(b"k" * 40)
    base = keyring.digest("code", "challenge", "123456")
    assert base == keyring.digest("code", "challenge", "123456")
    assert base != keyring.digest("destination", "challenge", "123456")
    assert base != keyring.digest("code", "challenge1", "23456")  # parts are not just joined
    assert base != Keyring(b"j" * 40).digest("code", "challenge", "123456")


OLD, NEW, OLDER = b"o" * 40, b"n" * 40, b"e" * 40


def test_the_current_key_signs_and_every_key_is_accepted() -> None:
    rotated = Keyring(NEW, [OLD, OLDER])
    made_before = Keyring(OLD).digest("code", "challenge", "123456")
    assert rotated.digest("code", "challenge", "123456") == Keyring(NEW).digest(
        "code", "challenge", "123456"
    )
    assert rotated.digests("code", "challenge", "123456") == (
        Keyring(NEW).digest("code", "challenge", "123456"),
        made_before,
        Keyring(OLDER).digest("code", "challenge", "123456"),
    )
    assert rotated.matches(made_before, "code", "challenge", "123456") is True
    assert rotated.matches(made_before, "code", "challenge", "654321") is False
    assert Keyring(NEW).matches(made_before, "code", "challenge", "123456") is False
    assert Keyring(NEW, [NEW]).digests("csrf", "x") == (Keyring(NEW).digest("csrf", "x"),)


def test_what_a_previous_key_sealed_still_opens_and_new_seals_use_the_current_key() -> None:
    sealed_before = Keyring(OLD).seal(b"123456", "message-1")
    rotated = Keyring(NEW, [OLD])
    assert rotated.unseal(sealed_before, "message-1") == b"123456"
    with pytest.raises(InvalidTag):
        rotated.unseal(sealed_before, "message-2")
    with pytest.raises(InvalidTag):
        Keyring(NEW).unseal(sealed_before, "message-1")
    sealed_now = rotated.seal(b"654321", "message-3")
    assert Keyring(NEW).unseal(sealed_now, "message-3") == b"654321"
    with pytest.raises(InvalidTag):
        Keyring(OLD).unseal(sealed_now, "message-3")
