"""Tests for bot.render.tghtml: escaping, builders, visible length and message splitting."""

from __future__ import annotations

import random

import pytest
from telegram.constants import MessageLimit

from bot.render import tghtml
from bot.render.plain import truncate
from bot.render.tghtml import (
    bold,
    bold_html,
    code,
    escape,
    italic,
    link,
    plain_text,
    split_html_message,
    visible_length,
)
from tests.support.tghtml_check import check_message, squash

# --- escape and builders -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a < b & c", "a &lt; b &amp; c"),
        ("&nbsp;", "&amp;nbsp;"),
        ("&amp;amp;", "&amp;amp;amp;"),
        ("<b>unbalanced", "&lt;b&gt;unbalanced"),
        ('say "hi"', 'say "hi"'),
        ("שלום עולם", "שלום עולם"),
        ("line\nnext\ttab", "line\nnext\ttab"),
        ("win\r\nmac\rend", "win\nmac\nend"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert plain_text(escaped) == raw.replace("\r\n", "\n").replace("\r", "\n")


def test_escape_quote_for_attributes() -> None:
    assert escape('a"b', quote=True) == "a&quot;b"


def test_escape_drops_characters_telegram_cannot_take() -> None:
    raw = "a\x00b\x01c\x1fd\x0be\ud800f\udfffg\ufffeh\uffffi"
    assert escape(raw) == "abcdefghi"


def test_escape_keeps_emoji_rtl_and_combining_marks() -> None:
    raw = "😀 👨‍👩‍👧‍👦 🇺🇦 مرحبا e\u0301"
    assert escape(raw) == raw


def test_builders_escape_their_text() -> None:
    assert bold("a<b") == "<b>a&lt;b</b>"
    assert italic("x & y") == "<i>x &amp; y</i>"
    assert code("<p>") == "<code>&lt;p&gt;</code>"


@pytest.mark.parametrize(
    "url", ["https://example.com/a?b=1&c=2", "http://example.com", "tg://resolve?domain=x"]
)
def test_link_accepts_safe_schemes(url: str) -> None:
    html = link("Title <1>", url)
    assert html == f'<a href="{escape(url, quote=True)}">Title &lt;1&gt;</a>'
    check_message(html)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "/relative/path",
        "ftp://example.com/file",
        "https://exa mple.com/",
        "",
        "http://[::1",
    ],
)
def test_link_refuses_other_urls(url: str) -> None:
    assert link("Title & more", url) == "Title &amp; more"


def test_link_escapes_quotes_in_href() -> None:
    html = link("x", 'https://e.com/"><script>')
    assert html == '<a href="https://e.com/&quot;&gt;&lt;script&gt;">x</a>'
    check_message(html)


def test_link_with_blank_text_shows_the_url() -> None:
    assert plain_text(link(" ", "https://e.com/")) == "https://e.com/"


def test_bold_html_wraps_built_html_and_refuses_raw_text() -> None:
    assert bold_html(link("a", "https://e.com")) == '<b><a href="https://e.com">a</a></b>'
    with pytest.raises(ValueError):
        bold_html("a < b")


def test_truncate_is_the_plain_one() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("hello world this is long", 12) == "hello world…"
    assert truncate("x" * 20, 5) == "xxxx…"
    assert len(truncate("👨‍👩‍👧‍👦" * 3, 10)) <= 10


# --- visible length ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "length"),
    [
        ("plain", 5),
        ("<b>bold</b> &amp; <i>it</i>", 9),
        ("&lt;&gt;&quot;&#39;&#x27;", 5),
        ("&nbsp;", 6),  # not a Telegram entity: shown as typed
        ('<a href="https://e.com/long/url">x</a>', 1),
        ("😀", 1),  # one code point, two UTF-16 units
        ("👨‍👩‍👧‍👦", 7),  # four emoji and three ZWJs
        ("e\u0301", 2),  # base letter plus combining mark
        ("שלום", 4),
        ("a > b", 5),
    ],
)
def test_visible_length_counts_code_points(html: str, length: int) -> None:
    assert visible_length(html) == length


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "a < b",
        "<p>para</p>",
        "<b/>",
        "</b>",
        "<b><i>x</b></i>",
        "<a href=>x</a>",
        "&#xd800;",  # decodes to a lone surrogate: Telegram rejects the text
    ],
)
def test_visible_length_rejects_invalid_html(html: str) -> None:
    with pytest.raises(ValueError):
        visible_length(html)


# --- splitting one plain-text block ---------------------------------------------------------


def split_plain_text(text: str, *, limit: int) -> list[str]:
    """The plain text of the messages one escaped block is split into."""
    return [plain_text(m).strip() for m in split_html_message([escape(text)], limit=limit)]


def test_split_plain_text_prefers_sentences() -> None:
    text = "The council met on Monday. It voted on the tram. The vote was close."
    assert split_plain_text(text, limit=50) == [
        "The council met on Monday. It voted on the tram.",
        "The vote was close.",
    ]


def test_split_plain_text_falls_back_to_words_then_hard() -> None:
    assert split_plain_text("alpha beta gamma delta", limit=11) == ["alpha beta", "gamma delta"]
    assert split_plain_text("abcdefghij", limit=4) == ["abcd", "efgh", "ij"]


def test_split_plain_text_short_and_empty() -> None:
    assert split_plain_text("  short  ", limit=100) == ["short"]
    assert split_plain_text("   ", limit=10) == []
    with pytest.raises(ValueError):
        split_plain_text("x", limit=0)


def test_split_plain_text_keeps_grapheme_clusters() -> None:
    family = "👨‍👩‍👧‍👦"
    assert split_plain_text(family * 5, limit=10) == [family] * 5
    assert split_plain_text("e\u0301" * 5, limit=3) == ["e\u0301"] * 5


def test_split_plain_text_at_a_sentence_with_a_citation_mark() -> None:
    # wikipedia-2: every sentence ended ".[287]", so a long paragraph was cut between words.
    text = "It is compulsory from 6.[287] Schools are free.[288] Most adults can read.[143]"
    assert split_plain_text(text, limit=60) == [
        "It is compulsory from 6.[287] Schools are free.[288]",
        "Most adults can read.[143]",
    ]


def test_split_plain_text_at_cjk_full_stop() -> None:
    assert split_plain_text("今日は晴れ。明日は雨です。", limit=8) == [
        "今日は晴れ。",
        "明日は雨です。",
    ]


# --- split_html_message ----------------------------------------------------------------------


def test_blocks_are_packed_with_blank_lines() -> None:
    blocks = [bold("Title"), escape("one & two"), escape("three")]
    assert split_html_message(blocks) == ["<b>Title</b>\n\none &amp; two\n\nthree"]


def test_packing_respects_the_limit() -> None:
    blocks = [escape("x" * 6)] * 5
    messages = split_html_message(blocks, limit=14)
    assert messages == ["xxxxxx\n\nxxxxxx"] * 2 + ["xxxxxx"]


def test_blank_blocks_are_dropped() -> None:
    assert split_html_message(["", "  \n", bold(" "), "x"]) == ["x"]
    assert split_html_message([]) == []


def test_invalid_block_raises() -> None:
    with pytest.raises(ValueError):
        split_html_message(["a < b"])


def test_long_tagged_block_is_cut_between_tags() -> None:
    block = bold("word " * 30) + link("click here now", "https://e.com/?a=1&b=2")
    messages = split_html_message([block], limit=40)
    for message in messages:
        check_message(message, limit=40)
    assert squash("".join(plain_text(m) for m in messages)) == squash(plain_text(block))
    # The link is cut between words: closed before the cut and reopened after it.
    assert messages[-2].endswith('<a href="https://e.com/?a=1&amp;b=2">click here</a>')
    assert messages[-1] == '<a href="https://e.com/?a=1&amp;b=2">now</a>'


def test_long_block_fills_the_current_message_first() -> None:
    messages = split_html_message([escape("intro"), escape("word " * 30)], limit=40)
    assert messages[0].startswith("intro\n\nword")
    assert all(visible_length(m) <= 40 for m in messages)


def test_entities_are_never_cut() -> None:
    block = escape("&<>" * 100)
    messages = split_html_message([block], limit=7)
    for message in messages:
        check_message(message, limit=7)
    assert "".join(plain_text(m) for m in messages) == "&<>" * 100


HOSTILE = [
    "<script>alert(1)</script>",
    "a < b & c",
    "&nbsp;",
    "&amp;amp;",
    "<b>unbalanced",
    "x" * 5000,
    "مرحبا بالعالم. " * 400,
    "שלום עולם! " * 500,
    "😀🎉👍" * 2000,
    "👨‍👩‍👧‍👦 " * 900,
    "e\u0301\u0302\u0303 " * 1500,
    "nul\x00byte \x01\x1f end",
    "lone \ud800 surrogate \ufffe\uffff",
    "&#0; &#x110000; &#x41 &lt",
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_produces_valid_messages(raw: str) -> None:
    title = raw * (1 + 5000 // max(len(raw), 1))  # a 5,000+ character title
    blocks = [bold_html(link(title, "https://example.com/?q=<x>")), escape(raw), italic(raw)]
    messages = split_html_message(blocks)
    for message in messages:
        check_message(message)
    assert squash("".join(plain_text(m) for m in messages)) == squash(
        "".join(plain_text(b) for b in blocks)
    )


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_passes_tdlib_rules(raw: str) -> None:
    blocks = [bold(raw * 3), escape(raw), link(raw, "https://example.com/a&b")]
    for message in split_html_message(blocks):
        check_message(message)


_PIECES = [
    "<", ">", "&", "amp;", "&lt;", "<b>", "</b>", '"', "'", " ", "  ", "\n", "\t", "\r",
    "\x00", "\x07", "\ud83d", "\ufffe", "é", "e\u0301", "😀", "👨‍👩‍👧", "🇺🇦", "שלום",
    "مرحبا", "日本語", ".", "!", "?", "…", "word", "sentence. ", "https://x.y/?a=1&b=2",
]  # fmt: skip


def _random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(size))


@pytest.mark.parametrize("seed", range(40))
def test_random_blocks_split_into_valid_messages(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([5, 17, 64, 300, 4096])
    builders = [escape, bold, italic, code, lambda t: link(t, _random_text(rng, 3))]
    blocks = [rng.choice(builders)(_random_text(rng, rng.randint(0, 400))) for _ in range(8)]
    messages = split_html_message(blocks, limit=limit)
    for message in messages:
        check_message(message, limit=limit)
        assert visible_length(message) <= limit
    shown = squash("".join(plain_text(m) for m in messages))
    assert shown == squash("".join(plain_text(b) for b in blocks))


@pytest.mark.parametrize("seed", range(40))
def test_random_plain_text_split_loses_nothing(seed: int) -> None:
    rng = random.Random(1000 + seed)
    text = _random_text(rng, rng.randint(0, 600))
    limit = rng.randint(1, 200)
    pieces = split_plain_text(text, limit=limit)
    assert all(0 < len(piece) <= limit and piece == piece.strip() for piece in pieces)
    assert squash("".join(pieces)) == squash(plain_text(escape(text)))


def test_module_constants() -> None:
    assert tghtml.MESSAGE_LIMIT == MessageLimit.MAX_TEXT_LENGTH == 4096
    assert tghtml.BLOCK_SEPARATOR == "\n\n"
