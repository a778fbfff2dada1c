"""An article longer than one tap's messages: a "Read on" button sends the next ones.

A tap shows at most `fulltext.max_messages` messages; what is kept beyond them (up to
`fulltext.max_read_on_messages`) is one button away instead of only on the page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.delivery.message import OutMessage
from bot.fulltext.article import Article
from bot.render import texts
from bot.render.i18n import LANGUAGES, lang
from bot.render.stories import fulltext_callback, parse_fulltext_callback, parse_fulltext_tap
from bot.render.tghtml import plain_text
from bot.services.articles import CLOSING_ROOM, StoryRef, tap_messages
from bot.settings import FulltextSettings
from tests.support.samples import TRAM_URL
from tests.support.tghtml_check import check_message, squash

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REF = StoryRef(id=7, title="Tram report", link=TRAM_URL, source="Courier")


def report(count: int) -> Article:
    """`count` paragraphs of ~2,900 characters, every sentence different."""
    paragraphs = tuple(
        " ".join(f"Sentence {i}.{j} of the report on the tram line." for j in range(60))
        for i in range(count)
    )
    return Article("Tram report", paragraphs, "Courier", TRAM_URL)


def read_on(messages: list[OutMessage]) -> tuple[str, str] | None:
    """The last message's button: (label, callback data), or None."""
    buttons = [b for row in messages[-1].keyboard for b in row]
    assert len(buttons) <= 1 and all(not m.keyboard for m in messages[:-1])
    return (buttons[0].text, buttons[0].callback_data) if buttons else None


def read_all(article: Article, fs: FulltextSettings) -> list[list[OutMessage]]:
    """Every tap's messages: the first, then one per "Read on" button, while there is one."""
    taps = [tap_messages(REF, article, fs, now=NOW)]
    while (button := read_on(taps[-1])) is not None:
        tap = parse_fulltext_tap(button[1])
        assert tap is not None and tap[0] == REF.id
        taps.append(tap_messages(REF, article, fs, now=NOW, start=tap[1]))
    return taps


def test_a_long_article_reads_on_to_its_end_nothing_lost_or_repeated() -> None:
    # 40 paragraphs fill ~29 messages: three taps of ten (the cap), the last one shorter.
    article = report(40)
    taps = read_all(article, FulltextSettings(max_messages=10))
    assert len(taps) == 3
    assert all(len(tap) == 10 for tap in taps[:2])
    first = read_on(taps[0])
    assert first is not None and first[0].startswith("📖 Read on (11–20 of ")
    assert first[1] == fulltext_callback(REF.id, 10) == "ft:7:10"
    for tap in taps:
        for message in tap:
            check_message(message.html)
    shown = [plain_text(m.html) for tap in taps for m in tap]
    assert not any("Continue reading" in text for text in shown[-1:])
    body = squash("".join(text.split("Continue reading: ")[0] for text in shown))
    assert squash("".join(article.paragraphs)) in body
    assert len(body) < len(squash("".join(article.paragraphs))) + 400  # header only


def test_read_on_stops_at_what_is_kept_and_links_to_the_page() -> None:
    taps = read_all(report(40), FulltextSettings(max_messages=10, max_read_on_messages=15))
    assert len(taps) == 2
    assert len(taps[1]) == 5  # messages 11-15, the link in the last
    assert plain_text(taps[1][-1].html).endswith(f"Continue reading: {TRAM_URL}")
    assert read_on(taps[1]) is None


@pytest.mark.parametrize("code", sorted(LANGUAGES))
@pytest.mark.parametrize("cap", [3, 10, 20])
def test_a_tap_sends_at_most_max_messages_the_closing_line_in_the_last(cap: int, code: str) -> None:
    # 20 is the cap's ceiling, a group's flood limit a minute: the closing line went out as
    # a message of its own after a full last message, the 21st of one tap.
    fs = FulltextSettings(max_messages=cap)
    closing = lang(code)(texts.FULLTEXT_CONTINUE, link=TRAM_URL)
    assert len("\n\n" + closing) - len(TRAM_URL) <= CLOSING_ROOM
    taps = [tap_messages(REF, report(60), fs, now=NOW, lang=lang(code))]
    while (button := read_on(taps[-1])) is not None:
        tap = parse_fulltext_tap(button[1])
        assert tap is not None
        taps.append(tap_messages(REF, report(60), fs, now=NOW, start=tap[1], lang=lang(code)))
    assert len(taps) > 2
    for tap in taps[:-1]:
        assert len(tap) == cap
        assert check_message(tap[-1].html).endswith(f"\n\n{closing}")


def test_a_read_on_button_for_one_message_names_it_alone() -> None:
    # wikipedia-2's last button said "Read on (31–31 of 31)".
    first, last = read_all(report(14), FulltextSettings(max_messages=10))
    assert read_on(first) == ("📖 Read on (11 of 11)", "ft:7:10")
    assert len(last) == 1
    de = tap_messages(REF, report(14), FulltextSettings(), now=NOW, lang=lang("de"))
    assert de[-1].keyboard[0][0].text == "📖 Weiterlesen (11 von 11)"


def test_an_article_within_the_cap_has_no_button() -> None:
    (taps,) = read_all(report(3), FulltextSettings(max_messages=10))
    assert read_on(taps) is None


def test_a_read_on_button_past_the_stored_text_says_it_expired() -> None:
    [message] = tap_messages(REF, report(3), FulltextSettings(), now=NOW, start=10)
    assert "button has expired" in message.html and not message.keyboard


@pytest.mark.parametrize(
    ("data", "tap"),
    [
        ("ft:7", (7, 0)),
        ("ft:7:10", (7, 10)),
        ("ft:7:0", None),
        ("ft:7:", None),
        ("ft:7:x", None),
        ("ft:7:10:20", None),
        ("ft:7:12345", None),
        ("ft::10", None),
    ],
)
def test_read_on_callback_data(data: str, tap: tuple[int, int] | None) -> None:
    assert parse_fulltext_tap(data) == tap
    assert parse_fulltext_callback(data) == (tap[0] if tap else None)
