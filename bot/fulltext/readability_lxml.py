"""readability-lxml's Document on a parsed tree, with the cleaning its answer's text needs.

readability-lxml (0.9) reads markup: the vote serialised our tree, and the library parsed
it again, dropped the hidden elements, and ran lxml_html_clean's Cleaner over a copy
(`Document._parse`). Two thirds of that Cleaner's time went to its JavaScript pass
(``on*`` attributes, ``javascript:`` links in every link attribute, ``srcdoc``), which
changes attributes only. The vote reads the text of readability-lxml's answer
(`vote._summary_grams`), and its scoring reads no attribute but ``class``, ``id``,
``itemprop`` and an ``<iframe>``'s ``src`` (a YouTube or Vimeo frame is kept, with the text
"VIDEO"; another is dropped). So `TreeDocument._parse` copies our tree instead of parsing
markup and runs the same Cleaner less its JavaScript pass, giving every ``<iframe>``'s
``src`` (and ``<base>``'s ``href``, which it is resolved against) the value the markup and
that pass would have given it: libxml2 writes a link attribute URI-escaped (a space as
``%20``), and the pass strips it and empties a script's. Everything else is the library's
own code.

Its link density (`get_link_density`, called on every candidate container and each of
their links) measured each text's length after three regular-expression substitutions
(readability's ``clean``): 40 % of its time. `cleaned_length` gives the same length in one
pass over the runs of whitespace (tests hold it to ``clean`` on crafted and random texts).

Only a page of the usual shape is read so (`round_trips`: ``<html>`` holding ``<head>``
and ``<body>``): markup parsed again is given that shape, so on another page (text before
``<html>`` made the tree's root a ``<div>``) the tree and its markup are not the same page,
and `readability_document` gives the library markup as before.
`tests/test_fulltext_readability.py` holds the answer's text to the library's own on
every test page.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from readability import Document
from readability.cleaners import html_cleaner
from readability.readability import REGEXES

try:
    from lxml.html.clean import Cleaner
except ImportError:  # lxml 5.2+: the cleaner lives in its own project, as readability says
    from lxml_html_clean import Cleaner

__all__ = ["TREE_PATH", "TreeDocument", "cleaned_length", "readability_document", "round_trips"]

# readability-lxml's Cleaner, less `javascript`: the tags it kills (script, style, link,
# comments, processing instructions), `<image>` as `<img>`, style attributes stripped.
_CLEANER = Cleaner(
    **{
        name: getattr(html_cleaner, name)
        for name in (
            "scripts",
            "comments",
            "style",
            "inline_style",
            "links",
            "meta",
            "add_nofollow",
            "page_structure",
            "processing_instructions",
            "embedded",
            "frames",
            "forms",
            "annoying_tags",
            "remove_tags",
            "remove_unknown_tags",
            "safe_attrs_only",
        )
    },
    javascript=False,
)
_DISPLAY_NONE = REGEXES["displayNoneRe"]
_RUN = re.compile(r"\s{2,}")  # runs of whitespace that `clean` may shorten
_TABS = re.compile(r"\t|[ \t]{2,}")  # `clean`'s last substitution
_LONG_RUN = 255  # `clean` first makes a run this long (or longer) as many spaces


def cleaned_length(text: str) -> int:
    """``len(readability.readability.clean(text))``, without building the cleaned text.

    `clean` strips the text and rewrites each run of whitespace on its own: a run of 255
    or more becomes 255 spaces and then one; a run holding a line break becomes that
    break; another run has each tab, and each stretch of two or more spaces and tabs,
    made one space. A lone whitespace character keeps its length, so only runs of two or
    more count.
    """
    text = text.strip()
    length = len(text)
    for run in _RUN.findall(text):
        if len(run) >= _LONG_RUN or "\n" in run:
            length -= len(run) - 1
        else:
            length -= len(run) - len(_TABS.sub(" ", run))
    return length


def _as_written(tag: str, name: str, value: str) -> str:
    """A link attribute's value as the markup gave it back: libxml2 URI-escapes ``href`` and
    ``src`` when it writes HTML, and parsing does not undo it."""
    probe = etree.Element(tag)
    probe.set(name, value)
    parsed = lxml.html.fragment_fromstring(etree.tostring(probe, method="html", encoding="unicode"))
    return str(parsed.get(name, ""))


def _iframe_source(src: str) -> str:
    """An iframe's ``src`` as the markup and then the Cleaner's JavaScript pass leave it:
    escaped, stripped, and empty when it is a script (`lxml.html`'s ``rewrite_links`` hands
    each link over stripped)."""
    return str(html_cleaner._remove_javascript_link(_as_written("iframe", "src", src).strip()))


class _Document(Document):
    """readability-lxml's `Document`, its link density measured in one pass."""

    def get_link_density(self, elem: HtmlElement) -> float:
        links = sum(cleaned_length(link.text_content() or "") for link in elem.findall(".//a"))
        return float(links) / max(cleaned_length(elem.text_content() or ""), 1)


class TreeDocument(_Document):
    """readability-lxml's `Document`, given a parsed page (`HtmlElement`) instead of markup.

    The tree is not changed: each parse (the library parses again for its lenient second
    try) works on a copy.
    """

    def _parse(self, input: Any) -> HtmlElement:  # the library's name for its argument
        doc: HtmlElement = deepcopy(input)
        for base in doc.iter("base"):
            href = base.get("href")
            if href is not None:
                base.set("href", _as_written("base", "href", href))
        # The library's first two steps, as it takes them: hidden elements go.
        for element in doc.xpath("//*[@hidden]"):
            element.drop_tree()
        for element in doc.xpath("//*[@style]"):
            if _DISPLAY_NONE.search(element.get("style")):
                element.drop_tree()
        _CLEANER(doc)  # in place: `doc` is already a copy
        for frame in doc.iter("iframe"):
            src = frame.get("src")
            if src is not None:
                frame.set("src", _iframe_source(src))
        self.encoding = "utf-8"
        doc.resolve_base_href(handle_failures=self.handle_failures)
        return doc


def _blank(text: str | None) -> bool:
    return not text or text.isspace()


def round_trips(tree: HtmlElement) -> bool:
    """Whether the page is shaped as the parser shapes markup: ``<html>`` holding at most a
    ``<head>`` and then a ``<body>``, with no text between them (whitespace aside)."""
    if tree.tag != "html" or not _blank(tree.text) or not _blank(tree.tail):
        return False
    tags = [child.tag for child in tree]
    if tags not in (["head", "body"], ["body"], ["head"], []):
        return False
    return all(_blank(child.tail) for child in tree)


# `TreeDocument` leans on two private names: the library's `Document._parse` and the
# cleaner's `_remove_javascript_link`. Should an update take either away, every page goes
# the markup way (slower, the same text) instead of the vote abstaining on every page.
TREE_PATH = callable(getattr(Document, "_parse", None)) and callable(
    getattr(html_cleaner, "_remove_javascript_link", None)
)


def readability_document(tree: HtmlElement) -> Document:
    """readability-lxml's Document on the page: on the tree itself when it has the usual
    shape (`TreeDocument`), else on its markup, which the library parses again."""
    if TREE_PATH and round_trips(tree):
        return TreeDocument(tree)
    return _Document(etree.tostring(tree, encoding="unicode", method="html"))
