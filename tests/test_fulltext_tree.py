"""Parsed pages' element classes chosen in C (`bot.fulltext.tree`): the same text.

lxml.html's own lookup (a Python method, for the form classes) ran for every element
Python code reached; trafilatura's parser now uses lxml's default lookup in C. These
tests show the parser uses it, and that extraction gives the same result either way on
the test articles and on crafted pages with forms (the only elements whose class changed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
import trafilatura
import trafilatura.utils
from lxml.html import HtmlComment, HtmlElement

from bot.fulltext.article import ExtractionResult, extract_article
from bot.fulltext.tree import C_LOOKUP, use_c_lookup
from tests.support.samples import TRAM_PROSE, TRAM_URL

ARTICLES = Path(__file__).parent / "testdata" / "articles"
FORM_PAGE = (
    "<html><head><title>Tram line approved</title></head><body>"
    "<form action='/search'><label for='q'>Search</label><input id='q' name='q'>"
    "<select name='s'><option>All</option></select><textarea>Note</textarea></form>"
    "<div class='story'><h1>Tram line approved</h1>"
    + "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
    + "<form><label>Your email</label><input type='email'><button>Subscribe</button></form>"
    "</div></body></html>"
)


@pytest.fixture
def python_lookup() -> Iterator[None]:
    """trafilatura's parser with lxml.html's own lookup, as before; restored after."""
    trafilatura.utils.HTML_PARSER.set_element_class_lookup(lxml.html.HtmlElementClassLookup())
    try:
        yield
    finally:
        use_c_lookup()


def test_trafilaturas_parser_chooses_classes_in_c() -> None:
    tree = trafilatura.load_html(FORM_PAGE)
    assert tree is not None
    form = tree.find(".//form")
    assert type(form) is HtmlElement  # lxml.html's lookup made it a FormElement
    assert type(tree.find(".//input")) is HtmlElement
    assert trafilatura.utils.HTML_PARSER.makeelement("p").__class__ is HtmlElement
    assert isinstance(C_LOOKUP, lxml.etree.ElementDefaultClassLookup)


def test_a_comment_keeps_its_class() -> None:
    tree = lxml.html.fromstring("<div><!-- a note --><p>x</p></div>", parser=_keeping_comments())
    assert type(tree[0]) is HtmlComment


def _keeping_comments() -> lxml.html.HTMLParser:
    parser = lxml.html.HTMLParser(remove_comments=False)
    parser.set_element_class_lookup(C_LOOKUP)
    return parser


def _extractions() -> list[ExtractionResult]:
    pages = [(path.read_bytes(), f"https://example.com/{path.stem}") for path in ARTICLES.iterdir()]
    return [extract_article(html, url=url) for html, url in [*pages, (FORM_PAGE, TRAM_URL)]]


def test_the_text_is_the_same_as_with_lxml_htmls_lookup(
    request: pytest.FixtureRequest,
) -> None:
    ours = _extractions()
    request.getfixturevalue("python_lookup")
    tree = trafilatura.load_html(FORM_PAGE)
    assert tree is not None
    assert type(tree.find(".//form")).__name__ == "FormElement"
    assert _extractions() == ours
