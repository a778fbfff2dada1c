"""Tests for bot.fulltext.article: extraction, cleaning and rendering of article pages."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bot.fulltext.article import (
    REASON_EMPTY,
    REASON_NO_TEXT,
    REASON_NOT_ARTICLE,
    Article,
    ExtractionFailure,
    clean_paragraphs,
    extract_article,
    is_junk_line,
)
from bot.render.article import render_article
from bot.render.tghtml import plain_text, visible_length
from bot.services.articles import StoryRef, first_tap_messages
from bot.settings import FulltextSettings
from tests.support.samples import ARTICLES, NEWS_FURNITURE, NEWS_PARAGRAPHS, NEWS_TITLE, NEWS_URL
from tests.support.tghtml_check import check_message, squash

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> bytes:
    return (ARTICLES / name).read_bytes()


def news_article() -> Article:
    article = extract_article(load("news_article.html"), url=NEWS_URL)
    assert isinstance(article, Article), article
    return article


def shown_text(messages: list[str]) -> str:
    return "\n\n".join(plain_text(message) for message in messages)


# --- extraction of the test pages ------------------------------------------------------------


def test_news_article_keeps_every_body_paragraph_and_nothing_else() -> None:
    article = news_article()
    assert article.title == NEWS_TITLE
    assert article.source == "The Varnholm Courier"
    assert article.url == NEWS_URL
    assert len(article.paragraphs) == len(NEWS_PARAGRAPHS)
    for paragraph, start in zip(article.paragraphs, NEWS_PARAGRAPHS, strict=True):
        assert paragraph.startswith(start)
    text = shown_text(render_article(article, source_name=None))
    for paragraph in article.paragraphs:
        assert paragraph in text
    for furniture in NEWS_FURNITURE:
        assert furniture not in text, furniture


def test_news_article_accepts_text_as_well_as_bytes() -> None:
    html = load("news_article.html").decode("utf-8")
    assert extract_article(html, url=NEWS_URL) == news_article()


def test_news_article_renders_title_source_and_link_first() -> None:
    messages = render_article(news_article(), source_name=None)
    assert len(messages) == 1
    assert messages[0].startswith(f"<b>{NEWS_TITLE}</b>\n<i>The Varnholm Courier</i> · ")
    assert f'<a href="{NEWS_URL}">courier.example</a>' in messages[0]


def test_long_article_is_split_at_paragraphs_and_sentences() -> None:
    article = extract_article(load("long_article.html"), url="https://coastal.example/night-train")
    assert isinstance(article, Article), article
    assert sum(len(p) for p in article.paragraphs) > 3 * 4096
    assert max(len(p) for p in article.paragraphs) > 4096  # one paragraph must be cut
    messages = render_article(article, source_name="Coastal Weekly")
    assert len(messages) >= 4
    blocks = [block for message in messages for block in plain_text(message).split("\n\n")]
    header = blocks.pop(0)
    assert header.startswith("The night train comes back to the northern coast")
    for block in blocks:
        # Whole paragraphs, or pieces of the long one cut after a full sentence.
        assert block in article.paragraphs or block.endswith((".", '."')), block[-60:]
    assert squash("".join(blocks)) == squash("".join(article.paragraphs))


@pytest.mark.parametrize("name", ["news_article.html", "long_article.html"])
def test_rendered_messages_are_valid_telegram_html(name: str) -> None:
    article = extract_article(load(name), url="https://example.com/a?b=1&c=<2>")
    assert isinstance(article, Article)
    for message in render_article(article, source_name="Site & <Co>"):
        check_message(message)
        assert visible_length(message) <= 4096


def test_paywall_stub_is_shown_as_partial() -> None:
    result = extract_article(load("paywall_stub.html"), url="https://courier.example/paid")
    assert isinstance(result, Article), result
    assert result.partial
    assert result.paragraphs[0].startswith("Documents seen by the Courier show")
    assert not any("Subscribe" in p or "Log in" in p for p in result.paragraphs)
    assert not any("for subscribers" in p for p in result.paragraphs)


def test_partial_text_is_sent_with_a_paywall_note() -> None:
    url = "https://courier.example/paid"
    result = extract_article(load("paywall_stub.html"), url=url)
    ref = StoryRef(id=1, title="Harbour budget", link=url, source="Courier")
    (message,) = first_tap_messages(ref, result, FulltextSettings(), now=NOW)
    check_message(message)
    assert "Documents seen by the Courier show" in plain_text(message)
    assert plain_text(message).endswith(
        f"The page shows only this much text (paywall?). Read it there: {url}"
    )


def test_link_list_page_is_not_an_article() -> None:
    result = extract_article(load("section_front.html"), url="https://courier.example/city")
    assert result == ExtractionFailure(REASON_NOT_ARTICLE)


@pytest.mark.parametrize("html", [b"", "", "   \n", b"\x00\x00"])
def test_empty_page(html: bytes | str) -> None:
    result = extract_article(html, url="https://example.com/")
    assert isinstance(result, ExtractionFailure)
    assert result.reason in (REASON_EMPTY, REASON_NO_TEXT, "the page could not be parsed as HTML")


def test_plain_text_page_is_too_short() -> None:
    result = extract_article(b"just some words", url="https://example.com/")
    assert isinstance(result, ExtractionFailure)


def test_min_chars_is_configurable() -> None:
    result = extract_article(load("news_article.html"), url=NEWS_URL, min_chars=100_000)
    assert isinstance(result, Article) and result.partial
    assert not news_article().partial


# --- cleaning ---------------------------------------------------------------------------------

REAL = [
    "The council voted on Thursday to build the new tram line through the city centre.",
    "The opposition said the cost estimate had already risen twice since 2021.",
]


@pytest.mark.parametrize(
    "junk",
    [
        "What is your opinion on this topic?",
        "What is your opinion on this topic? Leave the first comment",
        "Leave the first comment",
        "Be the first to comment",
        "Join the conversation",
        "Comments (12)",
        "12 comments",
        "Show all comments",
        "Download our app for breaking news alerts",
        "Get the app",
        "Download the free Courier app",
        "Sign up for our free newsletter and get the top stories in your inbox.",
        "Subscribe to our weekly newsletter",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "Accept all cookies",
        "Home > World > Europe",
        "News » Local",
        "Home / City / Transport",
        "Share on Facebook",
        "Share this article",
        "Facebook Twitter Email",
        "Share",
        "Advertisement",
        "ADVERTISEMENT - Story continues below",
        "Sponsored content",
        "Follow us on Instagram",
        "4 min read",
        "Listen to this article",
        "Subscribe to continue reading.",
        "Already a subscriber? Log in",
        "This article is for subscribers",
        "This story is available only to our subscribers.",
        "Photo: Reuters",
        "By Jane Doe · 14 March 2024",
        "April 26, 2018",
        "Oct 18, 2019· 8 min read",
        "Posted on April 21, 2015, at 11:29 a.m.",
        "Updated 14 March 2024 10:05",
        "Copyright © 1998 - 2016 Tencent. All Rights Reserved",
        "© 2024 The Varnholm Courier",
        # Datelines, share and print buttons, skip links, newsletter and comment widgets,
        # topic tags and photo credits as many sites write them.
        "Updated 3:45 PM ET, Mon March 2, 2020",
        "Published 12:01 a.m. ET March 3, 2020",
        "Thursday, March 5, 2020",
        "2020-03-03",
        "Share this:",
        "Print this article",
        "Advertisement - Continue Reading Below",
        "Skip to main content",
        "Enter your email address",
        "Thank you for subscribing!",
        "Tags: tram, council, transport",
        "Filed under: Politics",
        "Loading comments...",
        "Sort by: Newest",
        "(Photo by John Smith/Getty Images)",
    ],
)
def test_junk_lines_are_removed(junk: str) -> None:
    assert is_junk_line(junk)
    assert clean_paragraphs([REAL[0], junk, REAL[1]]) == REAL


@pytest.mark.parametrize(
    "real",
    [
        "He declined to comment.",
        "Related concerns were raised by residents of the northern districts.",
        "By the end of the year, the line will carry its first passengers.",
        "Share prices of the construction company rose 4 percent on Monday.",
        "Home prices near the planned stops have already risen, agents say.",
        "The newsletter of the residents' association called the vote a betrayal.",
        "Work starts next spring.",
        "Costs and timeline",  # a lone subheading between paragraphs
        "Temperatures > 30 degrees are expected this week, officials said on Monday",
        "On April 26, 2018, the council voted for the first plan.",
        "Copyright law was changed in 2019, and the court ruled that the use was fair.",
        "On Monday, March 2, 2020, the council met again.",
        "Thank you for coming, the mayor told the crowd.",
        "Print media covered the vote widely.",
        "Updated plans were published on 3 March 2020.",
    ],
)
def test_real_paragraphs_are_kept(real: str) -> None:
    assert not is_junk_line(real)
    assert clean_paragraphs([REAL[0], real, REAL[1]]) == [REAL[0], real, REAL[1]]


def test_short_final_paragraph_is_kept() -> None:
    assert clean_paragraphs([*REAL, "Work starts in May."]) == [*REAL, "Work starts in May."]


def test_read_more_heading_and_its_headlines_are_removed() -> None:
    paragraphs = [
        REAL[0],
        "Read more:",
        "Bus fares to rise by 8 percent in April",
        "• Tram study splits council parties",
        REAL[1],
    ]
    assert clean_paragraphs(paragraphs) == REAL


def test_inline_related_headline_is_removed() -> None:
    assert clean_paragraphs([REAL[0], "Related: Bus fares to rise in April", REAL[1]]) == REAL


def test_runs_of_short_lines_are_link_lists() -> None:
    paragraphs = [REAL[0], "Sport", "Culture", "Opinion", REAL[1], "Tags", "Trams"]
    assert clean_paragraphs(paragraphs) == REAL


def test_leading_and_trailing_labels_are_removed() -> None:
    assert clean_paragraphs(["City news", *REAL, "Reuters"]) == REAL


def test_duplicates_and_title_are_removed() -> None:
    paragraphs = ["The tram decision", REAL[0], REAL[0], REAL[1], REAL[1].upper()]
    assert clean_paragraphs(paragraphs, title="The Tram Decision") == REAL


def test_lines_inside_a_paragraph_are_cleaned_and_kept_together() -> None:
    paragraphs = [f"{REAL[0]}\nShare on Facebook\n{REAL[1]}"]
    assert clean_paragraphs(paragraphs) == [f"{REAL[0]}\n{REAL[1]}"]


def test_whitespace_is_normalised() -> None:
    assert clean_paragraphs(["  The   council\u00a0voted on the new line.  "]) == [
        "The council voted on the new line."
    ]


# --- rendering --------------------------------------------------------------------------------


def test_render_prefers_the_given_source_name() -> None:
    article = Article("Title", ("Text.",), "Site", "https://e.com/a")
    messages = render_article(article, source_name="Feed <name>")
    assert messages == [
        '<b>Title</b>\n<i>Feed &lt;name&gt;</i> · <a href="https://e.com/a">e.com</a>\n\nText.'
    ]


def test_render_without_source_shows_only_the_link() -> None:
    article = Article("Title", ("Text.",), None, "https://www.e.com/a")
    assert render_article(article, source_name=None) == [
        '<b>Title</b>\n<a href="https://www.e.com/a">e.com</a>\n\nText.'
    ]


def test_render_never_links_unsafe_urls() -> None:
    article = Article("Title", ("Text.",), None, "javascript:alert(1)")
    (message,) = render_article(article, source_name=None)
    assert "<a " not in message
    check_message(message)


def test_render_truncates_a_huge_title() -> None:
    article = Article("T" * 5000, ("Text.",), "Site", "https://e.com/")
    (message,) = render_article(article, source_name=None)
    assert len(plain_text(message).split("\n")[0]) <= 300
    check_message(message)


_HOSTILE = ["<", ">", "&", "&amp;", "&nbsp;", "<b>", "\x00", "\ud800", "😀", "👨‍👩‍👧", "e\u0301",
            "مرحبا", "שלום", " ", "\n", ". ", "word", "x" * 50]  # fmt: skip


@pytest.mark.parametrize("seed", range(20))
def test_render_random_hostile_articles(seed: int) -> None:
    rng = random.Random(seed)

    def text(size: int) -> str:
        return "".join(rng.choice(_HOSTILE) for _ in range(size))

    paragraphs = tuple(text(rng.randint(1, 900)) for _ in range(rng.randint(1, 12)))
    article = Article(text(rng.randint(1, 400)), paragraphs, text(5), "https://e.com/?q=<&>")
    limit = rng.choice([200, 1000, 4096])
    messages = render_article(article, source_name=None, limit=limit)
    for message in messages:
        check_message(message, limit=limit)
    assert messages[0].startswith("<b>")
