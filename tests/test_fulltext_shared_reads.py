"""The same answers for less: the page's <meta> tags read once (`bot.fulltext.meta.meta_tags`),
the intro's walk skipped without an <h1>, the page's text sizes in one pass.

Each is held to the way it replaced: the page-wide XPaths the standfirst, the intro and the
link-list test read (crafted pages, and Readability's 130 pages when ``../shared/data``
is there).
"""

from __future__ import annotations

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring, fromstring

from bot.fulltext import article, intro, lead
from bot.fulltext.meta import MetaTags, meta_tags
from tests.conftest import shared_data

# The page-wide XPaths `meta_tags` replaced: the standfirst's and the intro's (one path)
# and the link-list test's (`body.declares_article`).
# A tag's ``value`` stands in for a ``content`` it lacks (`bot.fulltext.meta._content`).
_DESCRIBING = (
    "//meta[@property='og:description' or @name='og:description' or @name='description'"
    " or @name='twitter:description' or @property='twitter:description']"
)
_DESCRIPTIONS = etree.XPath(
    f"{_DESCRIBING}/@content | {_DESCRIBING}[not(@content)]/@value", smart_strings=False
)
_ARTICLE_TYPE = "starts-with(translate(normalize-space({}), 'ARTICLE', 'article'), 'article')"
_DECLARES_ARTICLE = etree.XPath(
    "//meta[((@property='og:type' or @name='og:type')"
    f" and ((@content and {_ARTICLE_TYPE.format('@content')})"
    f" or (not(@content) and {_ARTICLE_TYPE.format('@value')})))"
    " or @property='article:published_time' or @name='article:published_time']"
)


def _old_tags(tree: HtmlElement) -> MetaTags:
    """What the three XPaths gave (`lead`'s and `intro`'s were the same path)."""
    descriptions = tuple(str(text) for text in _DESCRIPTIONS(tree))
    return MetaTags(descriptions, bool(_DECLARES_ARTICLE(tree)))


HEADS = [
    "",
    '<meta property="og:type" content="article">',
    '<meta name="og:type" content="  \n\tARTICLE:news">',
    '<meta property="og:type" content="art icle">',
    '<meta property="og:type" content=" website">',
    '<meta property="og:type">',
    '<meta property="og:type" content="">',
    '<meta property="og:type" content="\u00a0article">',  # no XPath space: not stripped
    '<meta property="og:type" content="Article\u0130">',
    '<meta name="article:published_time" content="">',
    '<meta property="article:published_time">',
    '<meta name="Article:published_time" content="2020">',
    '<META NAME="DESCRIPTION" CONTENT="Upper-case markup: names lower-cased by the parser">',
    '<meta name="description" content="One"><meta property="og:description" content="Two">'
    '<meta name="twitter:description" content=""><meta property="twitter:description"'
    ' content="Three"><meta name="og:description" content="Four"><meta name="description">',
    '<meta property="description" content="property, not name: no description">',
    '<meta name="description" value="A value for a missing content">',
    '<meta name="description" content="The content wins" value="not the value">',
    '<meta name="description" content="" value="an empty content still wins">',
    '<meta property="og:type" value="article">',
    '<meta property="og:type" content="website" value="article">',
    '<meta name="twitter:description" property="og:type" content="article and description">',
    '<meta itemprop="description" content="not one of ours">',
]


@pytest.mark.parametrize("head", HEADS)
def test_meta_tags_are_what_the_xpaths_read(head: str) -> None:
    body = '<p>Text.</p><meta name="description" content="A tag in the body counts too">'
    tree = fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    assert meta_tags(tree) == _old_tags(tree)


def test_meta_tags_read_the_whole_document_from_an_element_in_it() -> None:
    tree = fromstring(
        '<html><head><meta property="og:type" content="article">'
        '<meta name="description" content="Head"></head><body><div id="x"><p>t</p></div>'
        '<meta name="description" content="Body"></body></html>'
    )
    inner = tree.get_element_by_id("x")
    assert meta_tags(inner) == _old_tags(inner) == MetaTags(("Head", "Body"), True)
    fragment = fragment_fromstring('<div><meta name="description" content="Alone"></div>')
    assert meta_tags(fragment) == _old_tags(fragment)


def test_meta_tags_skip_comments_and_processing_instructions() -> None:
    tree = fromstring(
        '<html><head><!-- <meta name="description" content="no"> --><?meta x?>'
        '<meta name="description" content="yes"></head><body><p>t</p></body></html>'
    )
    assert meta_tags(tree) == _old_tags(tree) == MetaTags(("yes",), False)


@pytest.mark.corpus
def test_meta_tags_are_what_the_xpaths_read_on_readabilitys_pages() -> None:
    sources = sorted(shared_data("readability-test-pages").glob("*/source.html"))
    differ = []
    for source in sources:
        tree = trafilatura.load_html(source.read_bytes())
        assert tree is not None
        if meta_tags(tree) != _old_tags(tree):
            differ.append(source.parent.name)
    assert len(sources) == 130
    assert differ == []


DESCRIBED = (
    '<html><head><meta name="description" content="The harbour reopened on Monday after'
    ' a storm closed it for a week, the port authority said."></head><body><h1>Harbour'
    " reopens</h1><p>{lead}</p><div><p>The harbour reopened on Monday after a storm closed"
    " it for a week, the port authority said.</p><p>Ferries ran again from six in the"
    " morning, and the first cargo ship docked at noon, its captain said.</p></div>"
    "</body></html>"
)


@pytest.mark.parametrize(
    "lead_text",
    [
        "The harbour reopened on Monday after a storm closed it for a week, the port"
        " authority said.",
        "Ships are back in the bay after seven days of wind and high water on the coast.",
    ],
)
def test_standfirst_and_intro_give_the_same_with_the_tags_read_before(lead_text: str) -> None:
    tree = fromstring(DESCRIBED.format(lead=lead_text))
    paragraphs = [
        "Ferries ran again from six in the morning, and the first cargo ship docked at"
        " noon, its captain said."
    ]
    tags = meta_tags(tree)
    assert lead.standfirst(tree, paragraphs, descriptions=tags.descriptions) == lead.standfirst(
        tree, paragraphs
    )
    assert intro.intro(tree, paragraphs, descriptions=tags.descriptions) == intro.intro(
        tree, paragraphs
    )


def test_an_element_tree_is_what_meta_tags_takes() -> None:
    root = etree.fromstring('<html><head><meta name="description" content="x"/></head></html>')
    assert meta_tags(root).descriptions == ("x",)


NO_HEADLINE = [
    "<p>The harbour reopened on Monday after a storm closed it for a week.</p>",
    "<h2>Harbour reopens</h2><p>The harbour reopened on Monday after a storm closed it.</p>",
    "<div><p>Ships are back.</p></div><p>The harbour reopened on Monday after a storm.</p>",
    "<!-- <h1>not one</h1> --><p>The harbour reopened on Monday after a storm closed it.</p>",
]


@pytest.mark.parametrize("body", NO_HEADLINE)
def test_without_an_h1_the_walk_finds_no_headline(body: str) -> None:
    tree = fromstring(f"<html><body>{body}</body></html>")
    page = tree.find("body")
    assert page is not None
    assert not intro.has_headline(page)
    first = intro._words("The harbour reopened on Monday after a storm")
    walk = intro._walk(page, first)
    assert walk is None or walk.headline < 0
    assert intro.intro(tree, ["The harbour reopened on Monday after a storm closed it."]) == []


@pytest.mark.parametrize(
    "body",
    [
        "<h1>Harbour reopens</h1><p>Text.</p>",
        "<div><header><h1>Harbour <b>reopens</b></h1></header></div>",
        "<noscript><h1>Harbour reopens</h1></noscript>",  # still asked: the walk decides
    ],
)
def test_an_h1_anywhere_in_the_body_is_a_headline_to_look_for(body: str) -> None:
    page = fromstring(f"<html><body>{body}</body></html>").find("body")
    assert page is not None
    assert intro.has_headline(page)


def _walked_sizes(tree: HtmlElement, links: set[HtmlElement]) -> tuple[int, int]:
    """The walk `_text_sizes` replaced (main d557f6c): "start" and "end" events, a count
    of the links open, and a script's subtree stepped over."""
    total = linked = 0
    for body in tree.iter("body"):
        if any(a.tag == "body" for a in body.iterancestors()):
            continue
        in_link = 0
        walk = etree.iterwalk(body, events=("start", "end"))
        for event, element in walk:
            tag = element.tag
            if event == "start":
                if tag in article._UNSEEN:
                    walk.skip_subtree()
                    continue
                in_link += element in links
                text = element.text
                if text and isinstance(tag, str):
                    total += len(text.strip())
                    linked += len(text.strip()) if in_link else 0
                continue
            in_link -= element in links
            tail = element.tail
            if tail and element is not body:
                total += len(tail.strip())
                linked += len(tail.strip()) if in_link else 0
    return total, linked


SIZED = [
    "<p>Plain text, <a href='/a'>a link</a> and its tail.</p>",
    "<a href='/a'>outer <b>bold <a href='/b'>inner</a> after inner</b> tail of b</a> out",
    "<a href='/a'>x<script>var a = 1;</script> after script</a><script>b</script> tail",
    "<style>p {}</style><noscript><a href='/n'>no script</a></noscript> seen",
    "<!-- a comment --> after comment <?pi data?> after pi <a href='#'>top</a> t",
    "<a href='javascript:x()'>button</a> after <a>no href</a> end",
    "<div>  spaced   </div>\n  <a href='/z'>  z  </a>  \n",
    "<table><tr><td><a href='/c'>cell <i>link</i></a> more</td></tr></table>",
]


@pytest.mark.parametrize("body", SIZED)
def test_text_sizes_are_the_walks(body: str) -> None:
    tree = fromstring(f"<html><head><title>T</title></head><body>{body}</body></html>")
    links = set(article._links(tree))
    assert article._text_sizes(tree, links) == _walked_sizes(tree, links)


def test_text_sizes_count_a_body_inside_a_body_once() -> None:
    outer = etree.Element("html")
    body = etree.SubElement(outer, "body")
    body.text = "outer "
    inner = etree.SubElement(body, "body")
    inner.text = "inner"
    inner.tail = " tail"
    link = etree.SubElement(inner, "a", href="/x")
    link.text = "link"
    comment = etree.Comment("note")
    comment.tail = " after a comment"
    body.append(comment)
    links = {link}
    assert article._text_sizes(outer, links) == _walked_sizes(outer, links) == (18, 4)


def test_inside_is_every_node_below_the_elements() -> None:
    tree = fromstring(
        "<html><body><div id='a'><p>x<!-- c --><b>y</b></p></div><div id='b'>z</div></body></html>"
    )
    a, b = tree.get_element_by_id("a"), tree.get_element_by_id("b")
    p = a[0]
    assert article._inside([a]) == set(a.iterdescendants())
    assert article._inside([a, p]) == set(a.iterdescendants())  # p is below a already
    assert article._inside([p, b]) == set(p.iterdescendants())  # b has no child
    assert article._inside([]) == set()
