"""The page's title and site name, and its visible text sizes: cheaper, and the same.

`bot.fulltext.meta` runs only the title and site-name steps of trafilatura's
metadata extraction; these tests hold it to `trafilatura.metadata.extract_metadata` on
every page the tests have (so an update of trafilatura that changes its steps shows here).
Readability's 130 test pages count when ``../shared/data`` is there (skipped visibly when
not, unless ``REQUIRE_CORPUS=1``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.settings import set_date_params

from bot.fulltext.article import Article, _Page, extract_article
from bot.fulltext.meta import PageMeta, page_meta
from tests.conftest import shared_data

ARTICLES = Path(__file__).parent / "testdata" / "articles"
URL = "https://news.example.com/2026/12/story"


def _tree(html: bytes | str) -> HtmlElement:
    tree = trafilatura.load_html(html)
    assert tree is not None
    return tree


def _trafilaturas(tree: HtmlElement, url: str) -> PageMeta:
    found = extract_metadata(tree, url, set_date_params(extensive=False))
    return PageMeta(found.title or None, found.sitename or None)


@pytest.mark.parametrize("path", sorted(ARTICLES.glob("*.html")), ids=lambda p: p.name)
def test_title_and_site_name_are_trafilaturas_on_the_test_articles(path: Path) -> None:
    tree = _tree(path.read_bytes())
    assert page_meta(tree, URL) == _trafilaturas(tree, URL)


@pytest.mark.corpus
def test_title_and_site_name_are_trafilaturas_on_readabilitys_pages() -> None:
    differ = []
    sources = sorted(shared_data("readability-test-pages").glob("*/source.html"))
    for source in sources:
        tree = _tree(source.read_bytes())
        url = f"https://example.com/{source.parent.name}"
        if page_meta(tree, url) != _trafilaturas(tree, url):
            differ.append(source.parent.name)
    assert len(sources) == 130
    assert differ == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # og:site_name, with an entity and a run of spaces: unescaped and trimmed
        (
            '<meta property="og:site_name" content="Auto&amp;Wirtschaft  -  Magazin">'
            '<meta property="og:title" content="Harbour reopens">',
            PageMeta("Harbour reopens", "Auto&Wirtschaft - Magazin"),
        ),
        # a Twitter handle as the site's name
        (
            '<meta name="twitter:site" content="@harbourgazette"><title>Harbour reopens</title>',
            PageMeta("Harbour reopens", "Harbourgazette"),
        ),
        # no name anywhere: the host, from the canonical link
        (
            '<link rel="canonical" href="https://www.gazette.example/a/1">'
            "<title>Harbour reopens</title>",
            PageMeta("Harbour reopens", "gazette.example"),
        ),
    ],
)
def test_the_site_name_comes_from_the_page_as_trafilatura_finds_it(
    head: str, expected: PageMeta
) -> None:
    tree = _tree(f"<html><head>{head}</head><body><p>Text.</p></body></html>")
    assert page_meta(tree, URL) == expected == _trafilaturas(tree, URL)


def test_the_article_names_its_site_without_markup_and_its_title_without_the_site() -> None:
    page = (ARTICLES / "news_article.html").read_text(encoding="utf-8")
    page = page.replace("The Varnholm Courier", "Courier &amp;  Co")
    article = extract_article(page, url=URL)
    assert isinstance(article, Article)
    assert article.source == "Courier & Co"
    assert article.title == "Varnholm council approves east-west tram line after eight-hour debate"


def test_visible_text_sizes_count_what_a_reader_sees_and_links_once() -> None:
    tree = _tree(
        "<html><head><title>Not counted</title></head><body>"
        "<p>abcd <script>var x = 1;</script>efg</p>"  # 4 + 3: the script's tail counts
        "<style>p {}</style><noscript><p>no script</p></noscript>"
        "<!-- a comment -->hi"  # the comment's text does not count, its tail does
        '<a href="/x">link <b>bold</b></a> tail'  # 4 + 4 linked, then 4
        '<a href="/y"><a href="/z">inner</a></a>'  # nested: counted once (5)
        '<a href="javascript:void(0)">button</a>'  # a script link is not a link (6)
        "</body></html>"
    )
    page = _Page.of(tree)
    assert (page.total, page.linked) == (4 + 3 + 2 + 4 + 4 + 4 + 5 + 6, 4 + 4 + 5)
