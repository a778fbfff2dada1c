"""trafilatura's XPaths with their attribute tests guarded select what they selected.

`guarded` asks an EXSLT ``re:test`` on attributes only when the element has one of them
(lxml runs each such test in Python); `use_guarded_xpaths` puts the guarded forms into
trafilatura's XPath lists in place. Each is held here to the XPath as written, on crafted
pages (elements without the attributes, with empty ones, with ``id`` before or after
``class``) and, when the shared data is present, on Readability's test pages: every XPath
of `trafilatura.xpaths` as trafilatura writes it (read afresh from its source) against
the list the extraction now uses.
"""

from __future__ import annotations

import runpy

import pytest
import trafilatura.main_extractor
import trafilatura.xpaths
from lxml import etree

from bot.fulltext.article import _parse
from bot.fulltext.tree import guarded, use_guarded_xpaths
from tests.support.fulltextkit import DEFAULT_DATA, load_pages

_NS = {"re": "http://exslt.org/regular-expressions"}

PAGE = (
    "<html><head><title>T</title></head><body>"
    "<div><p>No attributes</p><span>x</span></div>"
    "<div id='nav-top' class='box'>a</div>"
    "<div class='site-nav' id='main'>b</div>"
    "<div id='' class=''>empty values</div>"
    "<section class='Comments list'>c</section>"
    "<p style='display:none' id='x'>d</p>"
    "<div data-x='nav'>an attribute of another name</div>"
    "</body></html>"
)
EXPRESSIONS = [
    ".//*[re:test(@id, 'nav')]",
    ".//*[re:test(@class, 'nav')]",
    ".//*[self::div or self::section][re:test(@id|@class, '^(?:nav|site)')]",
    ".//*[re:test(@class, 'comments', 'i') or re:test(@id|@style, 'none')]",
    ".//*[not(re:test(@class, 'nav'))]",  # the guard inside a negation
    ".//*[re:test(@class, '^$|box')]",  # matches "": left as it is
    ".//*[re:test(@id, 'x*')]",  # matches "": left as it is
]


def _original_paths() -> dict[str, list[str]]:
    """The XPaths of trafilatura's lists as its source writes them."""
    fresh = runpy.run_path(trafilatura.xpaths.__file__)
    return {
        name: [expression.path for expression in value]
        for name, value in fresh.items()
        if isinstance(value, list) and value and isinstance(value[0], etree.XPath)
    }


def test_guarded_adds_the_attribute_test() -> None:
    assert guarded(".//*[re:test(@id, 'nav')]") == ".//*[((@id) and re:test(@id, 'nav'))]"
    assert guarded("re:test(@id|@class, '^a', 'i')") == (
        "((@id or @class) and re:test(@id|@class, '^a', 'i'))"
    )


def test_guarded_leaves_a_pattern_that_matches_nothing() -> None:
    for path in (".//*[re:test(@id, 'x*')]", ".//*[re:test(@class, '^$|box')]"):
        assert guarded(path) == path
    assert guarded(".//*[re:test(., 'nav')]") == ".//*[re:test(., 'nav')]"  # not attributes


@pytest.mark.parametrize("path", EXPRESSIONS)
def test_guarded_selects_the_same_elements(path: str) -> None:
    tree = _parse(PAGE)
    assert tree is not None
    assert etree.XPath(guarded(path), namespaces=_NS)(tree) == etree.XPath(path, namespaces=_NS)(
        tree
    )


def test_the_lists_are_changed_in_place_once() -> None:
    use_guarded_xpaths()
    before = list(trafilatura.xpaths.OVERALL_DISCARD_XPATH)
    use_guarded_xpaths()  # idempotent: nothing left to guard
    assert before == trafilatura.xpaths.OVERALL_DISCARD_XPATH
    # The modules that imported a list read the guarded one.
    assert trafilatura.main_extractor.OVERALL_DISCARD_XPATH is (
        trafilatura.xpaths.OVERALL_DISCARD_XPATH
    )
    assert all("and re:test(" in e.path for e in trafilatura.xpaths.REMOVE_COMMENTS_XPATH)


@pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="shared test pages absent")
def test_the_same_on_readabilitys_pages() -> None:
    original = {
        name: [etree.XPath(path, namespaces=_NS) for path in paths]
        for name, paths in _original_paths().items()
    }
    assert "OVERALL_DISCARD_XPATH" in original
    for page in load_pages(DEFAULT_DATA):
        tree = _parse(page.html)
        if tree is None:
            continue
        for name, expressions in original.items():
            used = getattr(trafilatura.xpaths, name)
            for old, new in zip(expressions, used, strict=True):
                assert new(tree) == old(tree), (page.name, name)
