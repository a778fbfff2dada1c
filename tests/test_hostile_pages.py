"""Pages built to hurt the full-text extraction: markup that html.parser rescans, huge trees.

Extraction runs in a thread, and a thread cannot be stopped: work past the extraction's
time limit goes on burning a core (and a slot of the extractor pool) after the user was
told it took too long. So each hostile page here must be finished, not merely timed
out. The pages are read in a child process with a generous deadline (30 s, only to
detect a hang; the old code needed minutes to hours for these).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import lxml.html
import pytest

from bot.fulltext.article import (
    MAX_ELEMENTS,
    REASON_TOO_LARGE,
    Article,
    ExtractionFailure,
    extract_article,
)
from bot.fulltext.body import declared_text, defuse_metadata
from bot.ingest.fetcher import Fetcher, FetchPolicy
from tests.support.feedserver import FeedServer, Reply

PROSE = (
    "The council approved the new tram line on Tuesday after a long debate. "
    "Construction starts in spring and the first trams should run in two years. "
) * 3
HANG_DEADLINE = 30.0  # seconds; only detects a hang, never a measure of speed


def _page(article_body: str) -> str:
    ld = json.dumps({"@type": "NewsArticle", "articleBody": article_body})
    return (
        "<html><head><title>Tram line approved after long debate</title>"
        f'<script type="application/ld+json">{ld}</script></head>'
        "<body><nav><a href='/'>Home</a></nav><p>Short teaser.</p></body></html>"
    )


def _extract_in_child(html: str) -> str:
    """Run extract_article in a child process; its first paragraph, or raise on a hang."""
    code = textwrap.dedent(
        """
        import sys
        from bot.fulltext.article import Article, extract_article
        result = extract_article(sys.stdin.read(), url="https://news.test/tram")
        print(result.paragraphs[0] if isinstance(result, Article) else result.reason)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=html,
        capture_output=True,
        text=True,
        timeout=HANG_DEADLINE,
        check=True,
    )
    return done.stdout.strip()


# Markup that never finishes: html.parser (Python 3.11) looks for its end as far as the
# text goes, once per "<" (quadratic; with an open quote, worse: 240 KB took 5 minutes).
UNFINISHED = {
    "open quotes": "<a x='" * 40_000,
    "tags without an end": "<a" * 120_000,
    "open comments": "<!--" * 60_000,
}


@pytest.mark.parametrize("junk", UNFINISHED.values(), ids=UNFINISHED.keys())
def test_an_article_body_of_unfinished_markup_is_read_not_rescanned(junk: str) -> None:
    first = _extract_in_child(_page(f"<p>{PROSE}</p>{junk}"))

    assert first == PROSE.strip()


def test_a_meta_content_of_unfinished_markup_is_read_not_rescanned() -> None:
    """trafilatura strips tags from every meta content with a regex that rescans too."""
    junk = "<a" * 120_000
    html = _page(f"<p>{PROSE}</p>").replace(
        "<title>", f'<meta name="description" content="{junk}"><title>'
    )

    assert _extract_in_child(html) == PROSE.strip()


def test_a_json_ld_block_keeps_its_short_metadata_when_its_body_is_defused() -> None:
    """Only what makes the block costly goes: a long articleBody, not the headline."""
    ld = {
        "@type": "NewsArticle",
        "headline": "Tram line approved after long debate",
        "publisher": {"@type": "Organization", "name": "City Courier"},
        "articleBody": f"<p>{PROSE}</p>" + "<a" * 120_000,
    }
    tree = lxml.html.fromstring(
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
        "<body><p>x</p></body></html>"
    )

    defuse_metadata(tree)

    [script] = tree.xpath("//script")
    kept = json.loads(script.text)
    assert kept["headline"] == ld["headline"] and kept["publisher"] == ld["publisher"]
    assert kept["articleBody"] == ""


def test_ordinary_metadata_is_left_as_it_is() -> None:
    ld = json.dumps({"@type": "NewsArticle", "articleBody": f"<p>{PROSE}</p>" * 20})
    html = (
        f'<html><head><meta name="description" content="A &lt;b&gt;bold&lt;/b&gt; claim">'
        f'<script type="application/ld+json">{ld}</script></head><body></body></html>'
    )
    tree = lxml.html.fromstring(html)

    defuse_metadata(tree)

    assert lxml.html.tostring(tree) == lxml.html.tostring(lxml.html.fromstring(html))


def test_declared_html_reads_as_html_to_text_reads_it() -> None:
    html = (
        "<p>One &amp; two<br>three</p><script>var x = '<p>';</script>"
        "<div>Four <b>five</b></div><!-- a comment --><ul><li>six</li></ul>tail"
    )

    assert declared_text(html) == "One & two\nthree\n\nFour five\n\nsix\n\ntail"


def test_a_page_of_too_many_elements_is_refused_before_extraction() -> None:
    """180,000 tiny paragraphs in 2 MB took a minute; the count is the bound, not time."""
    tiny = "<p>word</p>" * MAX_ELEMENTS
    html = f"<html><body><p>{PROSE}</p>{tiny}</body></html>"

    assert extract_article(html, url="https://news.test/t") == ExtractionFailure(REASON_TOO_LARGE)
    # A long page of real size is read.
    normal = "".join(f"<p>{PROSE} Paragraph {i}.</p>" for i in range(2000))
    assert isinstance(extract_article(f"<html><body>{normal}</body></html>", url="u"), Article)


async def test_a_meta_refresh_or_embedded_address_is_never_followed(server: FeedServer) -> None:
    """Only HTTP redirects are followed (each hop checked); the page's own markup never
    makes the bot fetch anything: no <meta refresh>, frame, image or stylesheet."""
    secret = server.url("/secret")
    server.route("/secret", Reply(200, {"Content-Type": "text/html"}, b"<p>secret</p>"))
    page = (
        f'<html><head><meta http-equiv="refresh" content="0; url={secret}">'
        f'<link rel="stylesheet" href="{secret}"><title>Tram line approved</title></head>'
        f'<body><iframe src="{secret}"></iframe><img src="{secret}"><p>{PROSE}</p></body></html>'
    )
    url = server.route("/page.html", Reply(200, {"Content-Type": "text/html"}, page.encode()))
    policy = FetchPolicy(allow_private_networks=True, timeout_seconds=5)

    async with Fetcher(policy) as fetcher:
        fetched = await fetcher.fetch_page(url, now=datetime.now(UTC))
    assert fetched.body is not None
    result = extract_article(fetched.body, url=fetched.final_url)

    assert isinstance(result, Article) and result.paragraphs[0] == PROSE.strip()
    assert fetched.final_url == url and server.hits["/secret"] == 0


def test_an_inline_svg_of_many_paths_does_not_count_against_the_element_bound() -> None:
    """trafilatura drops <svg> whole before reading: a big chart does not make a page too large."""
    chart = "<svg>" + '<path d="M0 0"/>' * MAX_ELEMENTS + "</svg>"
    body = "".join(f"<p>{PROSE} Paragraph {i}.</p>" for i in range(20))
    html = f"<html><body><article>{chart}{body}</article></body></html>"

    article = extract_article(html, url="https://news.test/chart")

    assert isinstance(article, Article)
    assert any("Paragraph 19." in p for p in article.paragraphs)
