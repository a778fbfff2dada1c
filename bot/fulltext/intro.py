"""The article's intro: prose the page prints between its headline and the extracted body.

Pure. Templates print the intro (lead, teaser, standfirst, excerpt, dek) in the article's
header or in a box of its own beside the body's container, where trafilatura, which keeps
one container, leaves it out. `lead` finds it when the page's description is its
whole text; this module finds it by where it stands and what the markup calls it: a
block of prose after the page's last ``<h1>`` before the body (within `REACH` words of it)
and before the body's first words, that the markup names an intro (its class, or a class
of its parent or grandparent: ``lead``, ``intro``, ``teaser``, ``excerpt``, ``dek``…) or
whose words hold most of the page's description. A block under a caption, byline or
author box, a link, a control or a menu is not one, and neither is a block mostly of
link text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.meta import meta_tags
from bot.fulltext.tree import first_body

MIN_WORDS = 12  # a shorter block is a byline, a date, a label
# The intro begins within this many words after the headline: a site's logo in an <h1>
# stands far above the article, and what lies between is the page's header.
REACH = 120
DESCRIBED = 0.6  # share of the description's words a block holds to be the printed summary
_FIRST_WORDS = 8  # the body's first paragraph is found in the page by these words
_LEVELS = 2  # the block's own class, its parent's and its grandparent's are read
# Class-name words that name an article's intro, in the usual templates' markup.
_INTRO_NAMES = frozenset(
    {
        "lead", "lede", "intro", "introduction", "teaser", "standfirst", "excerpt", "dek",
        "deck", "chapo", "chapeau", "summary", "abstract", "incipit", "subtitle", "strapline",
    }
)  # fmt: skip
# Class-name words of what is printed near a headline but is no intro.
_OTHER_NAMES = frozenset({"caption", "credit", "byline", "author", "bio", "meta", "date"})
# Elements laid out as blocks: a text belongs to the innermost one holding it.
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "header", "main", "aside", "blockquote", "h1",
        "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dd", "dt", "dl", "td", "th",
        "table", "tr", "figure", "figcaption", "footer", "nav", "form", "body", "address",
        "details", "summary", "pre", "center",
    }
)  # fmt: skip
# Text under one of these is no intro: a caption, a control, a menu, a time.
_NOT_PROSE = frozenset(
    {"figure", "figcaption", "button", "nav", "form", "label", "select", "footer", "time"}
)
_UNSEEN = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})
_ENDS = tuple(".!?…\"'”’»)")  # prose ends a sentence
_WORD = re.compile(r"\w+")
_CLASS_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_DESCRIPTION_WORDS = 8  # a shorter description is a label or a slogan


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


@dataclass
class _Block:
    """The text of one block that lies between the headline and the body."""

    element: etree._Element
    start: int  # the page's words before it
    words: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    linked: int = 0  # words inside links
    apart: bool = False  # some of its text is under a caption, control or menu


@dataclass
class _Walk:
    """The page's visible text up to the body's first words, in document order."""

    words: list[str] = field(default_factory=list)
    headline: int = -1  # words up to the end of the last <h1> so far
    shared: set[etree._Element] = field(default_factory=set)  # the body's first words' holders
    blocks: dict[etree._Element, _Block] = field(default_factory=dict)  # after that <h1>


def intro(
    tree: HtmlElement,
    paragraphs: Sequence[str],
    *,
    headlines: Sequence[str] = (),
    descriptions: Sequence[str] | None = None,
) -> list[str]:
    """The page's printed intro when the extracted `paragraphs` lack it, else nothing.

    `headlines`: the page's titles; a block repeating one is the headline, not an intro.
    `descriptions`: the page's description tags' contents, when read already
    (`bot.fulltext.meta.meta_tags`); else they are read here.
    """
    first = _words(paragraphs[0])[:_FIRST_WORDS] if paragraphs else []
    body = first_body(tree)
    if len(first) < 3 or body is None or not has_headline(body):
        return []
    walk = _walk(body, first)
    if walk is None or walk.headline < 0:
        return []
    texts = meta_tags(tree).descriptions if descriptions is None else descriptions
    summaries = [
        set(words)
        for words in (_words(str(text)) for text in texts)
        if len(words) >= _DESCRIPTION_WORDS
    ]
    body = " ".join(_words(" ".join(paragraphs)))
    titles = {" ".join(_words(title)) for title in headlines}
    found: list[str] = []
    parent = None
    for block in walk.blocks.values():
        key = " ".join(block.words)
        if (
            len(block.words) < MIN_WORDS
            or block.start - walk.headline > REACH
            or block.apart
            or 3 * block.linked > len(block.words)
            or key in titles
            or " ".join(block.words[:_FIRST_WORDS]) in body
        ):
            continue
        text = " ".join("".join(block.texts).split())
        if not text.endswith(_ENDS) or not _intro(block, walk.shared, summaries):
            continue
        if found and block.element.getparent() is not parent:
            break  # an intro of several paragraphs has them side by side
        parent = block.element.getparent()
        found.append(text)
    return found


def _intro(block: _Block, shared: set[etree._Element], descriptions: list[set[str]]) -> bool:
    """Whether the block holds most of the page's description, or the markup names it an intro.

    The names are read on the block and its nearest ancestors that do not hold the body
    too: the article's container names the article (its author, its tags), not the block.
    """
    words = set(block.words)
    if any(len(d & words) >= DESCRIBED * len(d) for d in descriptions):
        return True
    names: set[str] = set()
    element: etree._Element | None = block.element
    for _ in range(_LEVELS + 1):
        if element is None or element in shared:
            break
        classes = element.get("class") or ""
        names.update(word.casefold() for word in _CLASS_WORD.findall(classes))
        element = element.getparent()
    return bool(names & _INTRO_NAMES) and not names & _OTHER_NAMES


def has_headline(body: etree._Element) -> bool:
    """Whether the body holds an <h1>: without one, `_walk` finds no headline (it need not
    walk the page to say so; lxml finds the tag in C, making no element of the others)."""
    return next(body.iter("h1"), None) is not None


def _walk(body: etree._Element, first: list[str]) -> _Walk | None:
    """The text before the body's `first` words, or None when they are not on the page.

    One walk over the body, stepping over what is not shown as text (scripts, styles,
    frames); each text after an <h1> goes to the innermost block holding it.
    """
    walk = _Walk()
    # For each element open here, the innermost block holding it (itself when a block):
    # read in constant time, so that a page of deeply nested elements costs no more.
    stack: list[etree._Element | None] = []
    h1 = links = apart = 0
    events = etree.iterwalk(body, events=("start", "end"))
    for event, element in events:
        tag = element.tag
        if not isinstance(tag, str):  # a comment or processing instruction: only its tail
            text = element.tail if event == "end" else None
        elif event == "start":
            if tag in _UNSEEN:
                events.skip_subtree()  # its "end" still comes, for its tail
            else:
                h1 += tag == "h1"
                links += tag == "a"
                apart += tag in _NOT_PROSE
            stack.append(element if tag in _BLOCKS else (stack[-1] if stack else None))
            text = element.text if tag not in _UNSEEN else None
        else:
            stack.pop()
            if tag not in _UNSEEN:
                h1 -= tag == "h1"
                links -= tag == "a"
                apart -= tag in _NOT_PROSE
                if tag == "h1" and not h1:
                    walk.headline = len(walk.words)
                    walk.blocks = {}
            text = element.tail if element is not body else None
            if text and tag == "br":
                text = " " + text  # a line break between two texts of the block
        words = _words(text) if text else []
        if not words:
            continue
        before = len(walk.words)
        walk.words.extend(words)
        if _find(walk.words[max(0, before - len(first) + 1) :], first) is not None:
            walk.shared = {e for e in stack if e is not None}
            return walk
        holder = stack[-1] if stack else None
        if h1 or walk.headline < 0 or holder is None:
            continue
        block = walk.blocks.get(holder)
        if block is None:
            block = walk.blocks[holder] = _Block(holder, before)
        block.words.extend(words)
        block.texts.append(text or "")
        block.linked += len(words) if links else 0
        block.apart = block.apart or apart > 0
    return None


def _find(words: list[str], needle: list[str]) -> int | None:
    size = len(needle)
    for i in range(len(words) - size + 1):
        if words[i : i + size] == needle:
            return i
    return None
