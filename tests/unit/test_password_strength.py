"""The password meter's judgement: the refusing rules' reason, else how far beyond them."""

from __future__ import annotations

import pytest

from honnin.accounts.strength import assess


def test_nothing_typed_yet() -> None:
    found = assess("", [], only_factor=True)
    assert (found.score, found.acceptable) == (0, False)
    assert found.reason.render("en") == "Type a password to see how strong it is."


@pytest.mark.parametrize(
    ("password", "names", "only_factor", "says"),
    [
        ("short", [], True, "Use at least 15 characters for your password."),
        ("tangerine-dusk", [], True, "Use at least 15 characters for your password."),
        ("emma.smith2026!!x", ["emma.smith@example.com"], True, "Don't use your email address"),
        ("passwordpassword", [], True, "one of the most common ones"),
        ("abcabcabcabcabcab", [], True, "too common or too easy to guess"),
    ],
)
def test_a_refused_password_says_why(
    password: str, names: list[str], only_factor: bool, says: str
) -> None:
    found = assess(password, names, only_factor=only_factor)
    assert not found.acceptable
    assert found.score <= 1
    assert says in found.reason.render("en")


def test_two_step_verification_lowers_the_length() -> None:
    """8 characters with a second factor, 15 without (NIST SP 800-63B)."""
    assert assess("tangerine-dusk", [], only_factor=False).acceptable
    assert not assess("tangerine-dusk", [], only_factor=True).acceptable


def test_an_accepted_password_says_how_strong_in_both_languages() -> None:
    strong = assess("correct horse battery staple lagoon", [], only_factor=True)
    assert (strong.acceptable, strong.score) == (True, 4)
    assert strong.reason.render("en") == "Strong. It's very hard to guess."
    assert strong.reason.render("ja") == "強力です。推測されるおそれはほとんどありません。"
    fair = assess("monkey-monkey-monkey", [], only_factor=True)
    assert fair.acceptable
    assert fair.score == 2
    assert fair.reason.render("en") == "Fair. Longer is stronger: add another word."
