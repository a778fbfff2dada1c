"""The article's standfirst: the summary a news page prints between headline and body.

Pure. News and blog templates print the standfirst (dek, lead, intro, strapline) in the
article's header, outside the element that holds the body, so trafilatura, which keeps
one container, leaves it out. The page says which text it is: the same summary is its
description (``og:description``, ``description``, ``twitter:description``). A visible
element whose whole text is that description, standing before the article's first
paragraph, is the standfirst. A description the page does not print (an SEO blurb), or
prints in a teaser link, or prints after the body has begun, is not. A body the page
does not print, its JSON-LD ``articleBody`` (a paywalled page prints the standfirst and
an offer), has nothing to stand before: the printed description leads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.meta import meta_tags
from bot.fulltext.tree import first_body

MIN_WORDS = 8  # a shorter description is a label or a site slogan, not a summary
_START_CHARS = 40  # an element is a candidate when its text begins like a description
_FIRST_WORDS = 8  # the article's first paragraph is found in the page by these words
# Plain strings (`smart_strings=False`): only the texts are read, and a "smart" one keeps
# its parent element, which lxml makes a Python object for (through lxml.html's Python
# class lookup) for each of the page's texts before or after the standfirst.
_VISIBLE = "[not(ancestor::script or ancestor::style or ancestor::noscript)]"
_BEFORE = etree.XPath(f"preceding::text(){_VISIBLE}", smart_strings=False)
_AFTER = etree.XPath(f"following::text(){_VISIBLE}", smart_strings=False)
_REACH = 2000  # the body begins within this many words after the standfirst
_SKIP = frozenset({"script", "style", "noscript", "template", "title", "a"})
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _key(text: str) -> str:
    return " ".join(_words(text))


def _descriptions(tree: HtmlElement, texts: Sequence[str] | None = None) -> set[str]:
    """The page's descriptions long enough to be a summary, as keys; `texts`: the page's
    description tags' contents when read already (`bot.fulltext.meta.meta_tags`)."""
    keys = (_key(str(text)) for text in (meta_tags(tree).descriptions if texts is None else texts))
    return {key for key in keys if len(key.split()) >= MIN_WORDS}


def _printed(body: etree._Element, descriptions: set[str]) -> etree._Element | None:
    """The first element whose whole text is one of the descriptions, outside links."""
    for element in body.iter():
        tag, text = element.tag, element.text  # each read makes a new string: read once
        if not isinstance(tag, str) or tag in _SKIP or not text or text.isspace():
            continue  # (a text of spaces has no word: its key would be "")
        # The description may begin here (its first words, the last maybe cut short).
        start = _key(text[:_START_CHARS])
        if not start or not any(d.startswith(start) for d in descriptions):
            continue
        if any(a.tag in _SKIP for a in element.iterancestors()):
            continue
        node: etree._Element | None = element
        while node is not None and node.tag != "body":
            key = _key(node.text_content())
            if key in descriptions:
                return node
            if not any(d.startswith(key) for d in descriptions):
                break
            node = node.getparent()
    return None


def standfirst(
    tree: HtmlElement,
    paragraphs: Sequence[str],
    *,
    titles: Sequence[str] = (),
    declared: str = "",
    descriptions: Sequence[str] | None = None,
) -> str | None:
    """The page's printed standfirst when the extracted `paragraphs` lack it, else None.

    `titles`: the page's headlines; a description repeating one is not a standfirst.
    `declared`: the text of the page's JSON-LD `articleBody`, if it has one.
    `descriptions`: the page's description tags' contents, when read already
    (`bot.fulltext.meta.meta_tags`); else they are read here.

    It must stand before the article: the first paragraph's first words follow it in the
    page's visible text (within `_REACH` words), and do not come before it; or they are
    nowhere in the page's visible text but in `declared` (the body is the page's JSON-LD,
    which the page does not print).
    """
    # A description that repeats the headline is the headline (shown above the text).
    summaries = _descriptions(tree, descriptions) - {_key(title) for title in titles}
    body = first_body(tree)
    if not summaries or body is None or not paragraphs:
        return None
    element = _printed(body, summaries)
    if element is None:
        return None
    text = " ".join(element.text_content().split())
    key = _key(text)
    if key in _key(" ".join(paragraphs)):
        return None
    first = " ".join(_words(paragraphs[0])[:_FIRST_WORDS])
    if not first or first in _key(" ".join(_BEFORE(element))):
        return None
    if not _follows(element, first) and not _unprinted(element, first, declared):
        return None
    if _above_headline(body, element, first):
        return None
    return text


def _above_headline(body: etree._Element, element: etree._Element, first: str) -> bool:
    """Whether `element` stands above the page's first ``<h1>``, and the body's `first`
    words follow that headline: a summary printed above the headline (a box of the page's
    title and description for voice assistants, a teaser) is not the standfirst, which
    news templates print under the headline.

    One walk in document order up to the first of the two, and one over the text after
    the headline (up to `_REACH` words).
    """
    headline = next(body.iter("h1"), None)
    if headline is None:
        return False
    for node in body.iter(etree.Element):
        if node is headline:
            return False  # the headline comes first
        if node is element:
            break
    return _follows(headline, first)


def _follows(element: etree._Element, first: str) -> bool:
    """Whether the page's visible text soon after `element` holds `first` (the body's start)."""
    words: list[str] = []
    for text in _AFTER(element):
        words.extend(_words(str(text)))
        if len(words) >= _REACH:
            break
    return first in " ".join(words)


def _unprinted(element: etree._Element, first: str, declared: str) -> bool:
    """Whether `first` (the body's start) is in the page's `declared` articleBody but not
    in its visible text after `element` (nor before it: checked first)."""
    return first in _key(declared) and first not in _key(" ".join(_AFTER(element)))
