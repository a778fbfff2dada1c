"""Where the 📖 text begins: at the article's opening, neither after it nor before it.

Seen on the Postlight Parser's site tests (bench/fulltext_leads.py, diag half): a
standfirst printed in lines cut by <br>s (otrs.com), a
summary box printed above the headline (npr.org), and furniture left before the first
paragraph: a photographer's credit (npr.org), a file photo's caption (timesofindia), an
affiliate-link notice (mentalfloss.com), an image's file name (al.com), a dateline with
the year first (sanwa.co.jp).
"""

from __future__ import annotations

import pytest
from lxml.html import HtmlElement
from trafilatura import load_html

from bot.fulltext.article import Article, extract_article
from bot.fulltext.clean import clean_paragraphs, is_junk_line
from tests.support.samples import TRAM_PROSE, TRAM_URL, tram_page

DEK = (
    "After ten years of studies the council backs a line through the centre, "
    "but the cost has risen twice and shop owners fear the works."
)


def tree(html: str) -> HtmlElement:
    parsed = load_html(html)
    assert parsed is not None
    return parsed


def paragraphs(html: str) -> tuple[str, ...]:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result.paragraphs


def test_a_standfirst_cut_by_line_breaks_leads_the_text() -> None:
    """otrs.com: the header prints the description in lines cut by <br>s."""
    lines = DEK.replace(" through", "<br>\nthrough").replace(" but", "<br>\nbut")
    html = tram_page(
        f'<div class="font-size-big"><p>{lines}</p></div>',
        head=f'<meta name="description" content="{DEK}">',
    )
    got = paragraphs(html)
    assert " ".join(got[0].split()) == DEK
    assert list(got[1:]) == TRAM_PROSE * 2


def test_a_summary_printed_above_the_headline_is_no_standfirst() -> None:
    """npr.org: a box of the title and description for voice assistants tops the page."""
    box = f'<div class="speakable"><b>Tram line approved</b> <b>{DEK}</b></div>'
    html = tram_page("", head=f'<meta name="description" content="{DEK}">', before=box)
    got = paragraphs(html)
    assert DEK not in got
    assert list(got) == TRAM_PROSE * 2


def test_a_standfirst_under_the_headline_is_still_taken() -> None:
    html = tram_page(f"<p>{DEK}</p>", head=f'<meta name="description" content="{DEK}">')
    assert paragraphs(html)[0] == DEK


@pytest.mark.parametrize(
    "junk",
    [
        "Chuck Burton/AP",
        "Jane Doe / Getty Images",
        "John Smith/AFP via Getty Images",
        "(Mike Cason/mcason@al.com)",  # al.com: the photographer's address
        "File photo of Chinese president Xi Jinping. (Reuters)",
        "This article contains affiliate links to products selected by our editors. "
        "Mental Floss may receive a commission for purchases made through these links.",
        "skimming scheme seized cash and cards.jpg",  # al.com: an image's file name
        "2019.03.08",  # sanwa.co.jp: a dateline, the year first
        "2019/03/08",
    ],
)
def test_furniture_before_the_first_paragraph_goes(junk: str) -> None:
    assert is_junk_line(junk)
    assert clean_paragraphs([junk, *TRAM_PROSE]) == TRAM_PROSE


@pytest.mark.parametrize(
    "real",
    [
        "AC/DC",
        "Input/Output",
        "The band AC/DC played on, AP reported.",
        "Mr Smith said the AP was wrong about the vote.",
        "A file photo (below) shows the old depot before the fire, the council said on Monday.",
        "Readers asked whether this article contains affiliate links; it does not.",
        "The file was called cat.jpg, he said.",
        "Version 2019.03.08 fixes the login bug.",
        "4.2.34.1.64",
    ],
)
def test_prose_and_names_like_them_stay(real: str) -> None:
    assert not is_junk_line(real)
