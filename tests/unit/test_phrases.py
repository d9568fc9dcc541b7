"""Japanese phrase boundaries on the server (BudouX), where the browser's guesses fall short."""

from __future__ import annotations

from markupsafe import Markup

from honnin.phrases import phrases


def test_japanese_breaks_between_phrases_only() -> None:
    # Chromium's auto-phrase takes this whole run for one phrase and breaks it 「待機期／間」
    text = "新しいセキュリティ情報は30日間の待機期間が過ぎてから使えるようになります。"
    assert phrases("ja", text) == (
        '<span class="phrases">新しい<wbr>セキュリティ情報は<wbr>30日間の<wbr>待機期間が<wbr>'
        "過ぎてから<wbr>使えるようになります。</span>"
    )


def test_the_text_is_escaped_and_other_languages_are_left_alone() -> None:
    assert phrases("ja", "<b>と</b>") == '<span class="phrases">&lt;b&gt;と<wbr>&lt;/b&gt;</span>'
    assert phrases("en", "For your protection") == "For your protection"
    assert phrases("ja", Markup("<a>リンク</a>")) == "<a>リンク</a>"  # markup: not cut
    assert phrases("ja", "") == ""
