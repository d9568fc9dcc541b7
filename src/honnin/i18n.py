"""Gettext catalogs (ja, en) and text that is translated only when it is shown.

Domain code raises errors and builds messages before anyone knows who will read them, so it
marks text with `_()`, which returns a `LazyText`; the edge (page, API response, email, CLI)
renders it in the reader's language. Catalogs are `.po` files compiled in memory at first use,
so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from honnin.phrases import phrases

Locale = Literal["en", "ja"]
LOCALES: tuple[str, ...] = get_args(Locale)
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalog of a supported locale (English for anything else)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class LazyText:
    """A msgid and its named parameters, rendered in a locale on demand.

    With `plural` set, `count` picks the form by the catalog's own plural rule (English has
    two forms, Japanese one), as gettext's `ngettext` does."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int = 1

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        catalog = translations(locale)
        if self.plural is None:
            text = catalog.gettext(self.msgid)
        else:
            # an entry not translated yet reads as empty from a compiled catalog: use English
            text = catalog.ngettext(self.msgid, self.plural, self.count) or (
                self.msgid if self.count == 1 else self.plural
            )
        if not self.params:
            return text
        # a parameter that is itself text to translate (a country's name) reads in `locale` too
        return text.format(
            **{k: v.render(locale) if hasattr(v, "render") else v for k, v in self.params.items()}
        )


def _(msgid: str, **params: Any) -> LazyText:
    """Mark `msgid` for translation; `{name}` placeholders are filled from `params`."""
    return LazyText(msgid, params)


def ngettext(singular: str, plural: str, count: int, **params: Any) -> LazyText:
    """Mark a text whose wording depends on `count` ("1 try" / "2 tries"); placeholders are
    filled from `params` (pass the count there too where the text shows it)."""
    return LazyText(singular, params, plural, count)


def gettext(locale: str, msgid: str, **params: Any) -> str:
    return LazyText(msgid, params).render(locale)


def ngettext_in(locale: str, singular: str, plural: str, count: int, **params: Any) -> str:
    """`ngettext`, rendered at once in `locale` (templates call it as `ngettext`)."""
    return ngettext(singular, plural, count, **params).render(locale)


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick ja or en from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LOCALES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default


@functools.cache
def template_environment(package: str, locale: str) -> Environment:
    """Jinja2 templates of `package` (its `templates` folder) speaking `locale`.

    Templates call `_("text {name}", name=value)` and
    `ngettext("{n} try", "{n} tries", n, n=n)`: the same catalog and placeholders as the
    Python code. HTML is autoescaped; an undefined variable is an error, not an empty string.
    """
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["_"] = functools.partial(gettext, locale)
    env.globals["ngettext"] = functools.partial(ngettext_in, locale)
    env.filters["phrases"] = functools.partial(phrases, locale)  # Japanese line breaks
    return env
