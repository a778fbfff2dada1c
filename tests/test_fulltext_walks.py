"""Cheaper walks over a parsed page that find what the XPaths they replace found.

`first_body` stands for ``tree.xpath("//body")[0]``, `comment_named` for the comment
sections' XPath, `_element_count` for a walk with a stack of our own: each is held here
to the former way on crafted pages (a page that parses as a fragment, nested and
misplaced elements, comments and processing instructions) and, when the shared data is
present, on Readability's test pages.
"""

from __future__ import annotations

import pytest
from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.article import _UNCOUNTED, _element_count, _parse
from bot.fulltext.comments import comment_named
from bot.fulltext.tree import first_body
from tests.support.fulltextkit import DEFAULT_DATA, load_pages

# The comment sections' XPath as it was, and the former element count.
_COMMENTS = etree.XPath(
    "//body//*[(contains(@class, 'omment') or contains(@id, 'omment')"
    " or contains(@class, 'OMMENT') or contains(@id, 'OMMENT'))"
    " and not(ancestor-or-self::pre or ancestor-or-self::code)"
    " and re:test(concat(@id, ' ', @class),"
    " '(?<!__)comment(?!ary|ator)', 'i') and not(re:test(concat(@id, ' ', @class),"
    " '(?<![a-z])live', 'i'))]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def _stack_count(tree: HtmlElement, *, stop: int) -> int:
    count = 0
    stack: list[HtmlElement] = [tree]
    while stack:
        element = stack.pop()
        if isinstance(element.tag, str) and element.tag in _UNCOUNTED:
            continue
        count += 1
        if count > stop:
            return count
        stack.extend(element)
    return count


PAGES = {
    "plain": "<html><head><title>T</title></head><body><p>One</p></body></html>",
    "fragment": "<div class='comments'><p>Only a block</p><p id='commentList'>x</p></div>",
    "warnings first": (
        "Warning: x on line 3<br><html><body><div id='comments'>c</div></body></html>"
    ),
    "nested body": (
        "<html><body><div><body class='inner'><p class='comment-body'>x</p></body></div>"
        "<div class='Comments'>y</div></body></html>"
    ),
    "no body": "<html><head><title>Only a head</title><meta class='comment'></head></html>",
    "names": (
        "<html><head><meta class='comment'></head><body>"
        "<div class='READER-COMMENTS'>a</div><div id='commentary'>b</div>"
        "<div class='commentator'>c</div><div class='gallery__item__comment'>d</div>"
        "<div class='live-comment'>e</div><div class='olive comment'>f</div>"
        "<pre><span class='token comment'>g</span></pre><code class='comment'>h</code>"
        "<div class='box'><section id='story_comments'><div class='commentItem'>i</div>"
        "</section></div><!-- comment --><?php echo 1 ?>"
        "<div class='ommentless'>j</div><div data-x='comment'>k</div></body></html>"
    ),
    "uncounted": (
        "<html><head><script>var a = 1;</script><style>p {}</style></head><body>"
        "<svg><g><path d='M0 0'/></g><svg><path/></svg></svg><math><mi>x</mi></math>"
        "<noscript><script>1</script><p>no js</p></noscript><template><p>t</p></template>"
        "<!-- a comment --><p>Text<b>bold</b></p></body></html>"
    ),
}


def _tree(html: str) -> HtmlElement:
    tree = _parse(html)
    assert tree is not None
    return tree


@pytest.mark.parametrize("name", PAGES)
def test_first_body_is_the_xpaths_first(name: str) -> None:
    tree = _tree(PAGES[name])
    bodies = tree.xpath("//body")
    assert first_body(tree) is (bodies[0] if bodies else None)


def test_first_body_reads_the_whole_document_of_a_fragment() -> None:
    tree = _tree(PAGES["fragment"])
    assert tree.tag == "div"  # the page parses as a fragment: the tree is below the root
    body = first_body(tree)
    assert body is not None and body.tag == "body" and tree in body


@pytest.mark.parametrize("name", PAGES)
def test_comment_named_is_the_xpaths_answer(name: str) -> None:
    tree = _tree(PAGES[name])
    assert comment_named(tree) == _COMMENTS(tree)


def test_comment_named_finds_comment_sections_only() -> None:
    found = comment_named(_tree(PAGES["names"]))
    assert [e.get("class") or e.get("id") for e in found] == [
        "READER-COMMENTS",
        "olive comment",
        "story_comments",
        "commentItem",
    ]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("stop", [2, 5, 1_000])
def test_element_count_is_the_walks(name: str, stop: int) -> None:
    tree = _tree(PAGES[name])
    assert _element_count(tree, stop=stop) == _stack_count(tree, stop=stop)


def test_element_count_skips_uncounted_subtrees() -> None:
    # html, head, body, p, b (the parser drops HTML comments): scripts, styles, svg,
    # math, noscript and template are left out whole, with what they hold.
    assert _element_count(_tree(PAGES["uncounted"]), stop=1_000) == 5


def test_element_count_of_an_uncounted_root() -> None:
    assert _element_count(etree.fromstring("<svg><path/></svg>"), stop=10) == 0


@pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="shared test pages absent")
def test_the_same_on_readabilitys_pages() -> None:
    for page in load_pages(DEFAULT_DATA):
        tree = _parse(page.html)
        if tree is None:
            continue
        bodies = tree.xpath("//body")
        assert first_body(tree) is (bodies[0] if bodies else None), page.name
        assert comment_named(tree) == _COMMENTS(tree), page.name
        for stop in (300, 25_000):
            assert _element_count(tree, stop=stop) == _stack_count(tree, stop=stop), page.name
