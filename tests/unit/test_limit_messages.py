"""The refusals of the rate limits say "1 second", not "1 seconds", in every language."""

from __future__ import annotations

import pytest

from honnin.limits.service import too_many_attempts, too_many_sends


@pytest.mark.parametrize(
    ("seconds", "locale", "expected"),
    [
        (1, "en", "Too many attempts. Try again in 1 second."),
        (900, "en", "Too many attempts. Try again in 900 seconds."),
        (1, "ja", "試行回数が多すぎます。1秒後にもう一度お試しください。"),
        (900, "ja", "試行回数が多すぎます。900秒後にもう一度お試しください。"),
    ],
)
def test_too_many_attempts(seconds: int, locale: str, expected: str) -> None:
    assert too_many_attempts(seconds).render(locale) == expected


@pytest.mark.parametrize(
    ("seconds", "locale", "expected"),
    [
        (1, "en", "Too many codes were requested. Try again in 1 second."),
        (3600, "en", "Too many codes were requested. Try again in 3600 seconds."),
        (1, "ja", "コードの要求が多すぎます。1秒後にもう一度お試しください。"),
        (3600, "ja", "コードの要求が多すぎます。3600秒後にもう一度お試しください。"),
    ],
)
def test_too_many_sends(seconds: int, locale: str, expected: str) -> None:
    assert too_many_sends(seconds).render(locale) == expected
