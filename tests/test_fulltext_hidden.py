"""Full text from what the page shows: hidden elements, pages of links, the dev-set split.

Hidden blocks (a video playlist, a template, a closed menu) used to come back as article
text whenever trafilatura's recall pass or fallback extractors took them; a page saved
with a dialog open hides its whole content and must still give the article.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.fulltext_eval import halves
from bot.fulltext.article import REASON_NOT_ARTICLE, Article, ExtractionFailure, extract_article
from tests.support.fulltextkit import HALVES, Page
from tests.support.samples import TRAM_PROSE, TRAM_URL

HIDDEN = [
    "Eastern districts will get a new ferry timetable from Monday, the transport office "
    "said in a statement on its website.",
    "The founder of a yoga studio chain was found dead at home, police said, adding that "
    "the circumstances were being investigated.",
]
ARTICLE = "<article>" + "".join(f"<p>{p}</p>" for p in TRAM_PROSE) + "</article>"


def page(body: str) -> str:
    return (
        "<html><head><title>Tram line approved</title></head><body>"
        f"<nav><a href='/'>Home</a></nav>{body}<footer><p>© Courier</p></footer></body></html>"
    )


def text_of(html: str) -> str:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return "\n".join(result.paragraphs)


@pytest.mark.parametrize(
    "hidden",
    [
        "<div hidden>{}</div>",
        "<div style='display: none'>{}</div>",
        "<div style='DISPLAY:NONE'>{}</div>",
        "<div style='visibility:hidden'>{}</div>",
        "<div aria-hidden='true'>{}</div>",
    ],
)
def test_hidden_blocks_after_the_article_are_not_its_text(hidden: str) -> None:
    block = hidden.format("".join(f"<p>{p}</p>" for p in HIDDEN))
    text = text_of(page(ARTICLE + block))
    assert "tram line" in text and "cyclists' groups" in text
    assert "ferry" not in text and "yoga" not in text


def test_hidden_paragraphs_inside_the_article_are_dropped() -> None:
    article = (
        "<article>"
        + "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
        + "".join(f"<p hidden>{p}</p>" for p in HIDDEN)
        + "</article>"
    )
    text = text_of(page(article))
    assert "cyclists' groups" in text and "ferry" not in text


def test_a_page_saved_with_a_dialog_open_still_gives_the_article() -> None:
    # The whole content is aria-hidden behind the dialog: too much of the page to be furniture.
    body = (
        f"<div id='app' aria-hidden='true'>{ARTICLE}</div>"
        "<div role='dialog'><p>We use cookies.</p><button>Accept</button></div>"
    )
    text = text_of(page(body))
    assert "tram line" in text and "cyclists' groups" in text


def test_a_page_behind_a_dialog_gives_its_main_content_despite_a_long_footer() -> None:
    # The dialog hides the page's wrapper; the footer outside it holds 45 % of the text,
    # so the "nearly all of the text" guard alone would drop the article.
    footer = "".join(f"<p>Footer line {i} about the company and its offices.</p>" for i in range(8))
    body = (
        f"<div aria-hidden='true'><main>{ARTICLE}</main></div>"
        f"<div role='dialog'><p>We value your privacy</p></div><footer>{footer}</footer>"
    )
    text = text_of(page(body))
    assert "tram line" in text and "cyclists' groups" in text


def test_an_article_beside_a_long_list_of_headlines_is_not_a_link_list() -> None:
    # Most of the page's text is links (a "most read" box), but the article is prose.
    heads = [f"Story number {i} about the harbour authority and its budget" for i in range(40)]
    box = "".join(f"<li><a href='/s/{i}'>{h}</a></li>" for i, h in enumerate(heads))
    text = text_of(page(f"{ARTICLE}<aside><h2>Most read</h2><ul>{box}</ul></aside>"))
    assert "tram line" in text and "harbour authority" not in text


def test_a_page_of_headlines_is_still_not_an_article() -> None:
    heads = [f"Story number {i} about the harbour authority and its budget" for i in range(40)]
    box = "".join(f"<li><a href='/s/{i}'>{h}</a></li>" for i, h in enumerate(heads))
    result = extract_article(page(f"<main><ul>{box}</ul></main>"), url=TRAM_URL)
    assert result == ExtractionFailure(REASON_NOT_ARTICLE)


@pytest.mark.parametrize("wrapper", ["header", "div"])
def test_a_page_whose_text_is_a_menu_run_together_is_not_an_article(wrapper: str) -> None:
    # trafilatura's whole-page fallback runs the menu's links into one line of text
    # ("Home Section number 0 Section number 1 ..."): still the page's link texts.
    menu = "".join(f"<a href='/s/{i}'>Section number {i}</a> " for i in range(40))
    result = extract_article(page(f"<{wrapper}>{menu}</{wrapper}>"), url=TRAM_URL)
    assert result == ExtractionFailure(REASON_NOT_ARTICLE)


def test_a_short_brief_under_a_large_menu_is_shown_not_refused() -> None:
    # A news brief of one paragraph (under 300 characters) on a page that is mostly
    # menu links: the text is not any link's, so it is the article, shown as partial.
    menu = "".join(f"<a href='/s/{i}'>Section number {i}</a> " for i in range(40))
    body = f"<header>{menu}</header><article><p>{TRAM_PROSE[0]}</article><footer>{menu}</footer>"
    result = extract_article(page(body), url=TRAM_URL)
    assert isinstance(result, Article), result
    assert result.partial and result.paragraphs == (TRAM_PROSE[0],)


def test_an_article_inside_a_named_anchor_is_not_link_text() -> None:
    # Old markup wraps content in <a name="..."> (a jump target, not a link): its text
    # is the page's own, so the page is not a link list.
    menu = "".join(f"<a href='/s/{i}'>Section {i}</a> " for i in range(10))
    body = f"<header>{menu}</header><a name='top'>{ARTICLE}</a>"
    assert "cyclists' groups" in text_of(page(body))


@pytest.mark.parametrize("hidden", ["<article hidden>", "<article aria-hidden='true'>"])
def test_a_hidden_article_beside_a_large_menu_is_read_rather_than_nothing(hidden: str) -> None:
    # Without its hidden elements the page is a menu ("not an article page"); its text
    # waits for a script to reveal it. The page read whole gives the article.
    menu = "".join(f"<a href='/s/{i}'>Section number {i}</a> " for i in range(40))
    text = text_of(page(f"<header>{menu}</header>{hidden}{ARTICLE[9:]}"))
    assert "tram line" in text and "cyclists' groups" in text


@pytest.mark.parametrize(
    "style", ["visibility: hidden; animation-name: none", "display:none", "opacity:0;display:none"]
)
def test_paragraphs_hidden_one_by_one_until_scrolled_to_are_the_article(style: str) -> None:
    # A "reveal on scroll" script hides each paragraph until it comes into view: no one
    # holds most of the page, together they hold nearly all of it. Pruning them left
    # the footer's line as the article.
    paragraphs = [*TRAM_PROSE, *HIDDEN]
    article = "<article>" + "".join(f"<p style='{style}'>{p}</p>" for p in paragraphs)
    footer = "<p>The Courier has been published in Varnholm since 1921 by Courier Media.</p>"
    text = text_of(page(f"{article}</article>{footer}"))
    for paragraph in paragraphs:
        assert paragraph in text


@pytest.mark.parametrize(
    "href", ["javascript:", "javascript:void(0)", " JavaScript:open()", "#", " # "]
)
def test_an_article_inside_a_script_link_is_not_link_text(href: str) -> None:
    # A card made clickable by a script (<a href="javascript:..."> or "#") goes nowhere:
    # its text is the page's own, and a short one is shown, not refused as a link list.
    body = f"<a href='{href}'><p>{TRAM_PROSE[0]}</p><p>{TRAM_PROSE[1]}</p></a>"
    assert "tram line" in text_of(page(body))


ROUNDUP_TOPICS = [
    "the harbour authority budget",
    "a new tram depot in the east",
    "cycling lanes on the ring road",
    "the library's longer opening hours",
    "school meals and their suppliers",
    "a bridge closed for repairs",
    "the council's housing plan",
    "water prices next year",
]


def roundup(meta: str) -> str:
    """A blog post of links with a line on each, under a menu: most of its text is links."""
    items = "".join(
        f"<li><a href='https://other{i}.example/s'>What the papers say about {t}</a>:"
        " worth reading.</li>"
        for i, t in enumerate(ROUNDUP_TOPICS)
    )
    menu = "".join(f"<a href='/s/{i}'>Section {i}</a> " for i in range(12))
    return (
        f"<html><head><title>Links of the week</title>{meta}</head><body><nav>{menu}</nav>"
        f"<article><p>Here is what I read this week.</p><ul>{items}</ul></article>"
        f"<footer>{menu}</footer></body></html>"
    )


@pytest.mark.parametrize(
    "meta",
    [
        "<meta property='og:type' content='article'>",
        "<meta property='article:published_time' content='2026-01-01T08:00:00Z'>",
    ],
)
def test_a_post_of_links_that_declares_an_article_is_shown(meta: str) -> None:
    text = text_of(roundup(meta))
    assert "harbour authority budget: worth reading." in text
    assert "bridge closed for repairs" in text


def test_the_same_links_on_a_page_that_is_no_article_are_refused() -> None:
    for meta in ("", "<meta property='og:type' content='website'>"):
        result = extract_article(roundup(meta), url=TRAM_URL)
        assert result == ExtractionFailure(REASON_NOT_ARTICLE)


def test_a_page_whose_only_text_is_a_few_link_words_is_still_not_an_article() -> None:
    menu = "".join(f"<a href='/s/{i}'>Section number {i}</a> " for i in range(40))
    result = extract_article(
        page(f"<main><p><a href='/x'>Tram news</a></p>{menu}</main>"), url=TRAM_URL
    )
    assert result == ExtractionFailure(REASON_NOT_ARTICLE)


def test_parity_split_alternates_over_sorted_names_and_hash_split_is_the_pages_own() -> None:
    names = ["cnn", "aclu", "bbc-1", "wapo-1", "001"]
    pages = [Page(name, b"", Counter()) for name in names]
    assert halves(pages, "parity") == {
        "001": HALVES[0],
        "aclu": HALVES[1],
        "bbc-1": HALVES[0],
        "cnn": HALVES[1],
        "wapo-1": HALVES[0],
    }
    assert halves(pages, "hash") == {p.name: p.half for p in pages}
