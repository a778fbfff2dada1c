"""The page's links and text sizes, read in Python as the XPath they replaced read them.

`_links` filters `//a[@href]` in Python: XPath's string functions on every href cost more
than the rest of the page's text sizes. It must keep the very links the XPath kept.
"""

from __future__ import annotations

import lxml.html
import pytest
from lxml import etree

from bot.fulltext.article import _links, _Page

# What `_links` replaced: a link goes somewhere unless its href, whitespace normalised and
# "JAVSCRIPT" lower-cased, starts with "javascript:" or is "#".
_HREF = "translate(normalize-space(@href), 'JAVSCRIPT', 'javscript')"
_XPATH_LINKS = etree.XPath(
    f"//a[@href and not(starts-with({_HREF}, 'javascript:') or {_HREF} = '#')]"
)
HREFS = [
    "/story",
    "https://site.example/a#b",
    "",
    " ",
    "#",
    " # ",
    "\n#\t",
    "#top",
    "\u00a0#",  # no-break space: not XPath whitespace, so a link
    "javascript:void(0)",
    "  JavaScript:open()",
    "JAVASCRIPT:x",
    "java script:x",
    "ja\nvascript:x",
    "javascript :x",
    "javascript:\n",
    "jump.html",
    "Javelin",
    "\u017fomething",  # a long s: XPath's translate() leaves it alone
]


def test_links_are_those_the_xpath_kept() -> None:
    anchors = "".join(f'<a href="{href}">link {i}</a>' for i, href in enumerate(HREFS))
    tree = lxml.html.document_fromstring(
        f"<html><body><p>{anchors}<a>no href</a></p></body></html>"
    )
    assert list(_links(tree)) == _XPATH_LINKS(tree)
    assert [a.text for a in _links(tree)] == [
        "link 0",
        "link 1",
        "link 2",
        "link 3",
        "link 7",
        "link 8",
        "link 12",
        "link 13",
        "link 14",
        "link 16",
        "link 17",
        "link 18",
    ]


@pytest.mark.parametrize(
    ("body", "total", "linked"),
    [
        # Text in a script, style or noscript does not count, nor anything inside one; its
        # tail does. Neither does a comment, nor its tail (the walk does not meet comments).
        ("a<!-- note --> b<script>x<a href='/'>y</a></script> t1 ", 3, 0),
        ("<noscript><p>n<style>s</style> nt</p></noscript> t2", 2, 0),
        # Link text counts as linked, a link's tail does not, a script inside it never.
        ("<a href='/x'>l1<script>q</script>l2<!--c-->l3</a>tail", 8, 4),
        ("<a href='#'>top</a> <a href='javascript:go()'>go</a>", 5, 0),
    ],
)
def test_text_sizes(body: str, total: int, linked: int) -> None:
    tree = lxml.html.document_fromstring(f"<html><body>{body}</body></html>")
    page = _Page.of(tree)
    assert (page.total, page.linked) == (total, linked)
