"""The standfirst: the summary a news page prints between headline and body.

Templates print it in the article's header, outside the body's container, so the
extraction (trafilatura keeps one container) left it out; the page's description meta
tag says which text it is. Seen on trafilatura's evaluation pages
(bench/fulltext_snippets.py) from Tagesspiegel, NZZ, SWR, Telegraph, Wired, The Atlantic and others.
"""

from __future__ import annotations

import pytest

from bot.fulltext.article import Article, extract_article
from tests.support.samples import TRAM_PROSE, TRAM_URL, tram_page

DEK = (
    "After ten years of studies the council backs a line through the centre, "
    "but the cost has risen twice and shop owners fear the works."
)
OTHER = "Read the other story about the harbour ferries that the council also approved today."
META = f'<meta property="og:description" content="{DEK}"><meta name="description" content="{DEK}">'


def page(header: str, *, head: str = META, after: str = "") -> str:
    return tram_page(header, head=head, after=after)


def paragraphs(html: str) -> tuple[str, ...]:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result.paragraphs


@pytest.mark.parametrize(
    "dek",
    [
        f'<p class="standfirst">{DEK}</p>',
        f'<div class="article-dek"><p>{DEK}</p></div>',
        '<h2 class="subtitle"><strong>{}</strong> {}</h2>'.format(*DEK.split(" ", 1)),
    ],
)
def test_the_printed_standfirst_leads_the_text(dek: str) -> None:
    got = paragraphs(page(dek))
    assert got[0] == DEK
    assert list(got[1:]) == TRAM_PROSE * 2


@pytest.mark.parametrize(
    ("header", "after"),
    [
        ("", ""),  # the description is not printed (a search-engine blurb)
        (f'<p class="teaser"><a href="/other">{DEK}</a></p>', ""),  # a teaser link
        ("", f'<aside class="about"><p>{DEK}</p></aside>'),  # printed after the article
        (f"<p>{OTHER}</p>", ""),  # a paragraph that is not the description
    ],
)
def test_no_standfirst_is_made_up(header: str, after: str) -> None:
    got = paragraphs(page(header, after=after))
    assert DEK not in got and OTHER not in got
    assert list(got) == TRAM_PROSE * 2


def test_a_description_that_is_the_first_paragraph_is_not_shown_twice() -> None:
    head = f'<meta property="og:description" content="{TRAM_PROSE[0]}">'
    got = paragraphs(page("", head=head))
    assert list(got) == TRAM_PROSE * 2


def test_a_description_repeating_the_headline_is_not_a_standfirst() -> None:
    headline = "Tram line approved after a decade of studies and two cost rises"
    html = page(f"<h2>{headline}</h2>", head=f'<meta name="description" content="{headline}">')
    html = html.replace("<title>Tram line approved | Courier</title>", f"<title>{headline}</title>")
    assert headline not in paragraphs(html)


def test_the_standfirst_leads_the_declared_body_of_a_paywalled_page() -> None:
    """A paywalled page prints its standfirst and an offer; the body is only in its JSON-LD.

    The articleBody stands in for the short printed text, and the standfirst, printed on
    the page though the body is not, still leads it (seen on a trade paper's page of
    trafilatura's evaluation set).
    """
    body = "\\n\\n".join(TRAM_PROSE * 2)
    ld = f'<script type="application/ld+json">{{"@type": "NewsArticle", "articleBody": "{body}"}}'
    offer = "".join(f"<li>{item}</li>" for item in ("Monthly plan", "Cancel any time", "1.00 EUR"))
    html = (
        f"<html><head><title>Tram line approved | Courier</title>{META}{ld}</script></head>"
        f'<body><header><h1>Tram line approved</h1><p class="standfirst">{DEK}</p></header>'
        f'<div class="paywall"><p>Read on with a subscription</p><ul>{offer}</ul></div>'
        "</body></html>"
    )
    got = paragraphs(html)
    assert got[0] == DEK
    assert " ".join(" ".join(got[1:]).split()) == " ".join(TRAM_PROSE * 2)
