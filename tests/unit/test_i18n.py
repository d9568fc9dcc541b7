"""Every user-facing string is in both catalogs, and Japanese is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from honnin.i18n import LOCALE_DIR, gettext, negotiate

ROOT = Path(__file__).resolve().parents[2]


def catalog(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}  # type: ignore[misc]


def extracted() -> set[str]:
    method_map = [
        ("src/honnin/**.py", "python"),
        ("src/honnin/**/templates/**.html", "jinja2"),
        ("src/honnin/**/templates/**.txt", "jinja2"),
    ]
    found = extract_from_dir(str(ROOT), method_map, keywords={"_": None})
    return {message[2] if isinstance(message[2], str) else message[2][0] for message in found}


def test_every_string_is_in_both_catalogs() -> None:
    strings = extracted()
    assert len(strings) > 50
    for locale in ("en", "ja"):
        missing = strings - set(catalog(locale))
        assert not missing, f"run scripts/i18n: {sorted(missing)}"


def test_japanese_is_complete_and_keeps_placeholders() -> None:
    for msgid, msgstr in catalog("ja").items():
        assert msgstr, f"untranslated: {msgid!r}"
        for placeholder in ("{length}", "{seconds}", "{code}", "{remaining}", "{minutes}"):
            assert (placeholder in msgid) == (placeholder in msgstr), msgid


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR,ja;q=0.5", "ja"),
        ("fr,de", "en"),
        ("ja;q=0,en", "en"),
        ("*", "en"),
    ],
)
def test_language_negotiation(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


def test_placeholders_are_filled_after_translation() -> None:
    assert gettext("ja", "Wait {seconds} seconds before asking for another code.", seconds=7) == (
        "次のコードを要求できるまで 7 秒お待ちください。"
    )
