"""Subheadings trafilatura skipped between two paragraphs come back (`bot.fulltext.gaps`).

trafilatura's "wild text" path (no container it trusts) gathers a page's paragraphs and
leaves its headings out; a heading that is all the page holds between two paragraphs of
the extracted text is put back where it stands.
"""

from __future__ import annotations

import lxml.html

from bot.fulltext.article import Article, extract_article
from bot.fulltext.gaps import restore_headings

P1 = (
    "The council approved the new tram line on Tuesday after a long debate about its cost, "
    "its route and the trees along the avenue."
)
P2 = (
    "Construction starts in spring and the first trams will run in two years, the city "
    "transport office said in a statement on Wednesday."
)
P3 = (
    "Residents along the route will be asked for their views in a series of meetings this "
    "winter, the office said, before any work begins."
)


def tree(body: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(
        f"<html><head><title>Tram line approved</title></head><body>{body}</body></html>"
    )


def test_a_skipped_subheading_between_two_paragraphs_comes_back() -> None:
    page = tree(f"<div><p>{P1}</p><h2>What happens next</h2><p>{P2}</p><p>{P3}</p></div>")
    assert restore_headings(page, [P1, P2, P3]) == [P1, "What happens next", P2, P3]


def test_a_heading_inside_a_paragraphs_lines_splits_it() -> None:
    page = tree(f"<div><p>{P1}</p><h3>Next <em>steps</em></h3><p>{P2}</p></div>")
    assert restore_headings(page, [f"{P1}\n{P2}"]) == [P1, "Next steps", P2]


def test_a_heading_with_other_text_beside_it_stays_out() -> None:
    page = tree(
        f"<div><p>{P1}</p><div><h2>Related</h2><p>Buses late again</p></div><p>{P2}</p></div>"
    )
    assert restore_headings(page, [P1, P2]) == [P1, P2]


def test_headings_of_boxes_links_titles_and_dividers_stay_out() -> None:
    for heading in (
        "<aside><h3>More news</h3></aside>",
        '<a href="/buses"><h3>Why the buses are late</h3></a>',
        '<h3><a href="/buses">Why the buses are late</a></h3>',
        "<h2>Tram line approved</h2>",
        "<h2>* * *</h2>",
    ):
        page = tree(f"<div><p>{P1}</p>{heading}<p>{P2}</p></div>")
        assert restore_headings(page, [P1, P2], titles=["Tram line approved"]) == [P1, P2]


def test_a_heading_is_put_back_only_between_two_paragraphs_of_prose() -> None:
    page = tree(f"<div><p>{P1}</p><h2>Further reading</h2><ul><li>Bus plan</li></ul></div>")
    assert restore_headings(page, [P1, "• Bus plan"]) == [P1, "• Bus plan"]
    page = tree(f"<div><p>Step one</p><h2>How it works</h2><p>{P2}</p></div>")
    assert restore_headings(page, ["Step one", P2]) == ["Step one", P2]


def test_a_heading_already_in_the_text_is_not_doubled() -> None:
    page = tree(f"<div><p>{P1}</p><h2>What happens next</h2><p>{P2}</p></div>")
    text = [P1, "What happens next", P2]
    assert restore_headings(page, text) == text


def test_a_page_without_headings_is_returned_as_it_is() -> None:
    page = tree(f"<div><p>{P1}</p><p>{P2}</p></div>")
    assert restore_headings(page, [P1, P2]) == [P1, P2]


def test_the_article_keeps_a_subheading_trafilatura_skips() -> None:
    # The classes of a CMS template (Contao) on which trafilatura reads the paragraphs one
    # by one and leaves the heading between them out.
    html = (
        "<html><head><title>Tram line approved</title></head><body><div id='main'>"
        '<div class="mod_article block" id="tram"><div class="ce_text block">'
        f"<p>{P1}</p><h2>What happens next</h2><p>{P2}</p><p>{P3}</p></div>"
        '<div class="related"><div class="teaser"><div class="content">'
        "<h2><span>Why the buses are late</span></h2>"
        '<a class="more" href="https://example.com/buses">more</a>'
        "</div></div></div></div></div></body></html>"
    )
    result = extract_article(html, url="https://example.com/tram")
    assert isinstance(result, Article)
    assert result.paragraphs[:4] == (P1, "What happens next", P2, P3)
