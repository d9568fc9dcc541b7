from __future__ import annotations

import pytest

from honnin.accounts.passwords import WeakPassword, check_strength, hash_password, verify_password


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("password", "too common"),
        ("12345678", "too common"),
        ("qwertyuiop", "too common"),
        ("emmawatson2026", "email address or name"),
        ("x" * 257, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_strength(password, ["emmawatson@example.com"])
    assert reason in str(caught.value)
    assert caught.value.code == "weak_password"


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "tsuki-ga-kirei-desu-ne", "Gl4ss!Harbor#Quiet"]
)
def test_good_passwords_pass(password: str) -> None:
    check_strength(password, ["emma@example.com"])


async def test_hashes_are_argon2id_and_verify() -> None:
    hashed = await hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert await verify_password(hashed, "correct horse battery staple")
    assert not await verify_password(hashed, "correct horse battery stapler")
    assert not await verify_password("not a hash", "anything")
