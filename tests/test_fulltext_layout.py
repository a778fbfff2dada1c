"""How an article's text is laid out in the 📖 messages: what a reader sees, not what is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.fulltext.article import REASON_NO_TEXT, Article, ExtractionFailure
from bot.render.article import render_article
from bot.render.i18n import LANGUAGES, lang
from bot.services.articles import StoryRef, tap_messages
from bot.settings import FulltextSettings
from tests.support.tghtml_check import check_message

URL = "https://news.example/story"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SENTENCE = "The council met again on Tuesday and agreed on the plan for the harbour. "


def article(*paragraphs: str) -> Article:
    return Article(title="Harbour plan", paragraphs=paragraphs, source="Coastal", url=URL)


def shown(messages: list[str]) -> list[str]:
    """What each message shows, checked the way Telegram checks it."""
    return [check_message(m) for m in messages]


def text_of(size: int) -> str:
    """A paragraph of whole sentences, about `size` characters long."""
    return (SENTENCE * (size // len(SENTENCE) + 1))[:size].rsplit(". ", 1)[0] + "."


def test_soft_hyphens_and_byte_order_marks_are_not_shown() -> None:
    # soundofscience.fr, fairkom.eu, nymag.com: words hyphenated with U+00AD ("pour\xadsuite");
    # arabic_article (CNN Arabic): a paragraph of a lone U+FEFF showed as a blank paragraph.
    body = (
        "En réac\xadtion à la can\xaddi\xadda\xadture",
        "\ufeff",
        " \u200b ",
        "Kommunikations\xadmedien",
    )
    (message,) = shown(render_article(article(*body), source_name=None))
    blocks = message.split("\n\n")[1:]  # after the header
    assert blocks == ["En réaction à la candidature", "Kommunikationsmedien"]


def test_a_subheading_stays_with_the_text_it_heads() -> None:
    # wikipedia-2 ("Culture"), telemedicus.info ("Fazit"), mercurial ("Conclusion"): the
    # subheading ended one message and its section began the next.
    first, rest = text_of(3800), text_of(2000)
    messages = shown(render_article(article(first, "Conclusion", rest), source_name=None))
    assert len(messages) == 2
    assert messages[1].startswith("Conclusion\n\n" + rest[:40])
    assert not messages[0].endswith("Conclusion")


def test_a_subheading_stays_with_its_text_when_messages_are_filled() -> None:
    first, rest = text_of(3400), text_of(6000)
    filled = shown(
        render_article(article(first, "Ownership model", rest), source_name=None, fill=True)
    )
    assert all(not m.endswith("Ownership model") for m in filled)
    assert any(
        m.startswith("Ownership model\n\n") or "\n\nOwnership model\n\n" in m for m in filled
    )


def test_a_list_may_end_a_message() -> None:
    # A list is not a subheading: what follows it may begin the next message.
    header = len("Harbour plan\nCoastal · news.example\n\n")
    items = ("• harbour walls", "• new moorings")
    first = ("word " * 1000)[: 4096 - header - len("\n\n• harbour walls\n• new moorings") - 1]
    messages = shown(render_article(article(first + ".", *items, text_of(900)), source_name=None))
    assert len(messages[0]) == 4096
    assert messages[0].endswith("\n\n• harbour walls\n• new moorings")


def test_a_list_is_one_item_a_line() -> None:
    # keep-tabular-data, wikipedia-2: every list item was a paragraph of its own, a blank line
    # between each two; a list of 200 references took twice the screen.
    body = ("It will bring:", "• new graphics", "• new sounds", "• a tutorial", "Then 0.18.")
    (message,) = shown(render_article(article(*body), source_name=None))
    assert message.split("\n\n")[1:] == [
        "It will bring:",
        "• new graphics\n• new sounds\n• a tutorial",
        "Then 0.18.",
    ]


def test_a_long_list_is_cut_between_items() -> None:
    items = tuple(f"• Reference {i}: {SENTENCE.strip()}" for i in range(200))
    messages = shown(render_article(article(*items), source_name=None))
    assert len(messages) > 3
    for message in messages[1:]:
        lines = message.split("\n")
        assert all(line.startswith("• Reference ") and line.endswith(".") for line in lines)


@pytest.mark.parametrize("code", sorted(LANGUAGES))
@pytest.mark.parametrize("reason", [REASON_NO_TEXT, "HTTP 403 (Cloudflare bot check)"])
def test_a_failure_says_why_without_brackets_in_brackets(code: str, reason: str) -> None:
    # readwrite.com1: "Couldn't get the article's text (the page has too little text
    # (paywall?)). Read it here: ..."
    ref = StoryRef(id=1, title="Harbour plan", link=URL, source="Coastal")
    fs = FulltextSettings()
    [message] = tap_messages(ref, ExtractionFailure(reason), fs, now=NOW, lang=lang(code))
    text = check_message(message.html)
    assert "))" not in text and URL in text
    assert lang(code)(reason) in text
