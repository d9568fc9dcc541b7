"""Every user-facing string is in both catalogs, and Japanese is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from honnin.i18n import LOCALE_DIR, negotiate, ngettext, template_environment

ROOT = Path(__file__).resolve().parents[2]


def entries(locale: str) -> dict[str, tuple[str, ...]]:
    """msgid -> its translations (one for a plain entry; a plural one under its singular)."""
    found: dict[str, tuple[str, ...]] = {}
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        for message in read_po(handle):
            msgid, msgstr = message.id, message.string
            if isinstance(msgid, str) and msgid and isinstance(msgstr, str):
                found[msgid] = (msgstr,)
            elif isinstance(msgid, tuple | list) and isinstance(msgstr, tuple | list):
                found[msgid[0]] = tuple(msgstr)
    return found


def catalog(locale: str) -> dict[str, str]:
    """msgid -> msgstr; a plural entry under its singular msgid ("" unless every form is there)."""
    return {k: "|".join(v) if all(v) else "" for k, v in entries(locale).items()}


def plurals(locale: str) -> dict[str, tuple[str, ...]]:
    """The plural entries (by their singular msgid) and their forms in `locale`."""
    return {k: v for k, v in entries(locale).items() if k in _plural_ids()}


def _plural_ids() -> set[str]:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id[0] for m in read_po(handle) if isinstance(m.id, tuple | list)}


def extracted() -> set[str]:
    method_map = [
        ("src/honnin/**.py", "python"),
        ("src/honnin/**/templates/**.html", "jinja2"),
        ("src/honnin/**/templates/**.txt", "jinja2"),
    ]
    found = extract_from_dir(str(ROOT), method_map, keywords={"_": None, "ngettext": (1, 2)})
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
    text = ngettext(
        "Wait {seconds} second before asking for another code.",
        "Wait {seconds} seconds before asking for another code.",
        7,
        seconds=7,
    )
    assert text.render("ja") == "次のコードを送信できるまで、あと7秒お待ちください。"


TRIES = (
    "That code isn't right. Check it and try again ({remaining} try left).",
    "That code isn't right. Check it and try again ({remaining} tries left).",
)


@pytest.mark.parametrize(
    ("count", "locale", "expected"),
    [
        (1, "en", "That code isn't right. Check it and try again (1 try left)."),
        (2, "en", "That code isn't right. Check it and try again (2 tries left)."),
        (0, "en", "That code isn't right. Check it and try again (0 tries left)."),
        (1, "ja", "コードが正しくありません。確認して、もう一度入力してください（あと1回）。"),
        (4, "ja", "コードが正しくありません。確認して、もう一度入力してください（あと4回）。"),
    ],
)
def test_plural_forms_follow_each_languages_rule(count: int, locale: str, expected: str) -> None:
    assert ngettext(*TRIES, count, remaining=count).render(locale) == expected


@pytest.mark.parametrize(("count", "expected"), [(1, "in 1 second."), (25, "in 25 seconds.")])
def test_templates_have_plural_forms_too(count: int, expected: str) -> None:
    template = template_environment("honnin.web", "en").from_string(
        "{{ ngettext('You can ask for a new code in {seconds} second.', "
        "'You can ask for a new code in {seconds} seconds.', n, seconds=n) }}"
    )
    assert template.render(n=count) == f"You can ask for a new code {expected}"


def test_every_plural_entry_has_each_form_of_its_language() -> None:
    english, japanese = plurals("en"), plurals("ja")
    assert set(english) == set(japanese)
    assert len(english) >= 3
    for msgid in english:
        assert [bool(form) for form in english[msgid]] == [True, True], msgid  # one, other
        assert [bool(form) for form in japanese[msgid]] == [True], msgid  # a single form


def test_an_untranslated_plural_falls_back_to_english_not_to_nothing() -> None:
    text = ngettext("{n} apple that no catalog has", "{n} apples that no catalog has", 3, n=3)
    assert text.render("ja") == "3 apples that no catalog has"
