"""Japanese line breaking on the server: BudouX's phrase boundaries, as `<wbr>`.

Pages ask the browser for phrase-aware wrapping (`word-break: auto-phrase` for `:lang(ja)`), but
Chromium takes a run with digits or a Latin word in it ("30日間の待機期間が…", "Example のサポート
チームにお問い合わせ…") for one long phrase, and then breaks it anywhere: 「待機期／間」「お問い／
合わせ」. BudouX splits those runs well; a `<wbr>` at each of its boundaries gives the browser the
only places to break (`.phrases` is `word-break: keep-all`: Chromium's own guesses would break
「手／続き」 again). Templates use it as the `phrases` filter on Japanese sentences and headings
(never in an attribute).
"""

from __future__ import annotations

import functools

import budoux
from markupsafe import Markup, escape


@functools.cache
def _parser() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


@functools.lru_cache(maxsize=4096)
def _split(text: str) -> Markup:
    inner = Markup("<wbr>").join(escape(chunk) for chunk in _parser().parse(text))
    return Markup('<span class="phrases">') + inner + Markup("</span>")


def phrases(locale: str, text: str) -> str:
    """`text` with a `<wbr>` between its phrases in Japanese, in a `span.phrases`; unchanged
    otherwise, and unchanged if it is markup already (a split could cut its tags)."""
    if locale != "ja" or not text or isinstance(text, Markup):
        return text
    return _split(text)
