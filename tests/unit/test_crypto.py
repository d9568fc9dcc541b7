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
