"""Remove what a reader of the page never sees before the article is extracted.

Pure. trafilatura's own extraction already discards elements styled ``display: none``
or ``visibility: hidden``, marked ``hidden`` or ``aria-hidden="true"``; its fallback
extractors (and its recall mode's whole-page baseline) do not, so hidden menus, player
playlists and templates came back as article text. Pruning them from the tree first
makes every pass see the page as it is shown.

An element that holds nearly all of the page's text is kept even when hidden: a page saved
while a dialog was open hides its whole content that way, and an empty page is worse
than one with a little furniture. So is an ``aria-hidden`` element around the page's
<main>, however much text lies outside it (a long footer beside a consent dialog). And
nothing is dropped when the hidden elements together hold nearly all of the page's text
(paragraphs a script fades in one by one as the reader scrolls), as trafilatura's own
pruning holds back when it would leave too little.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.tree import first_body

# Share of the page's text above which a hidden element is kept (see the module's doc).
MAX_HIDDEN_SHARE = 0.8

# `@style and`: lxml runs the regular expression in Python, once for every element it is
# asked about, and without the guard every element of the body was (an element without a
# style gives re:test an empty string, which never matches): half the pruning's time.
_HIDDEN = etree.XPath(
    "//body//*[@hidden or @aria-hidden='true' or (@style"
    " and re:test(@style, 'display\\s*:\\s*none|visibility\\s*:\\s*hidden', 'i'))]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_TEXT = etree.XPath("string-length(normalize-space(string(.)))")
# A page behind an open dialog: the dialog script sets aria-hidden on the page's wrapper,
# which still holds the page's main content (<main> or role="main"; not <article>: a
# carousel hides its off-screen slides, which may be article cards, the same way).
_BEHIND_DIALOG = etree.XPath(
    "@aria-hidden='true' and not(@hidden)"
    " and not(re:test(@style, 'display\\s*:\\s*none|visibility\\s*:\\s*hidden', 'i'))"
    " and .//*[self::main or @role='main']",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def _text_length(element: etree._Element) -> int:
    return int(_TEXT(element))


def prune_hidden(tree: HtmlElement) -> int:
    """Drop hidden elements from `tree` in place; return how many were dropped."""
    hidden = _HIDDEN(tree)
    if not hidden:
        return 0
    body = first_body(tree)
    page = _text_length(body) if body is not None else 0
    chosen: dict[etree._Element, int] = {}
    for element in hidden:  # document order: ancestors come first
        if not isinstance(element, HtmlElement) or element.getparent() is None:
            continue
        if any(ancestor in chosen for ancestor in element.iterancestors()):
            continue  # goes with its ancestor
        length = _text_length(element)
        if page and length > MAX_HIDDEN_SHARE * page:
            continue
        if _BEHIND_DIALOG(element):
            continue
        chosen[element] = length
    # Nearly all of the page hidden, piece by piece (paragraphs a script fades in as
    # the reader scrolls): that is the page, not furniture.
    if page and sum(chosen.values()) > MAX_HIDDEN_SHARE * page:
        return 0
    for element in chosen:
        element.drop_tree()
    return len(chosen)
