"""Remove the readers' comments that follow an article before the article is extracted.

Pure. trafilatura drops a comment section whose ``id`` or ``class`` *starts* with
"comment" (``include_comments=False``); templates also name it ``story-comments``,
``readerComments``, ``ArticleCommentsWrapper``, ``YourSayWidget_rptComments``, and then
the thread (each comment a paragraph of prose) came back after the article, past every
line rule: where a thread starts cannot be told from its lines (BENCHMARKS.md,
"Thirteenth round"), but the markup says it.

An element whose ``id`` or class names comments (not "commentary", not "commentator")
goes when all of these hold:

- a paragraph of prose stands before it on the page: comments follow an article, and a
  forum thread's first post is marked as the replies are;
- it does not hold the article: the page's headline (``<h1>``), ``<main>`` or
  ``articleBody``;
- it is not code, nor in code (a highlighter's ``<span class="token comment">``);
- it is not named "live" too (a live blog's or a match's feed, "live-match-comment");
- "comment" is not a part of another element in "block__element" naming
  ("gallery__item__comment": an item's caption or the editor's text on it);
- it holds at most 80 % of the page's text, and nothing inside a comment-named element
  that holds more goes (a page that is a discussion);
- the elements chosen hold at most 80 % of the page's text together.

A live blog's entries ("Posted on …"), a timeline or a list of dated headlines are not
marked as comments, so no rule on their lines is involved.

Some templates print the thread as plain paragraphs and signatures, with no element named
for it; its one mark is the empty anchor that the page's "Comments (12)" link jumps to,
``<a name="comments"></a>`` (``readerComments``, ``comment-8979602``, ``yoursay``: not
"commented", not "commentary"), at the head of the thread, or last in the heading or
cell that heads it. The elements after such an anchor (or that heading) in its container
are the thread's, and go under the same guards as a named element, each of them: a
paragraph of prose before them (an anchor before the article takes nothing), no
``<h1>``, ``<main>`` or ``articleBody`` in any, and all chosen at most 80 % of the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree
from lxml.html import HtmlElement

from bot.fulltext.tree import first_body

# Share of the page's text above which comment-named elements are the page, and stay
# (a blog post's thread may well be longer than the post).
MAX_COMMENTS_SHARE = 0.8
_PROSE_WORDS = 15  # a text of this many words holding a sentence end is prose

# The rest of the test, asked only of elements whose `id` or class holds "omment" or
# "OMMENT" (`comment_named`): few do.
_COMMENT_NAMED = etree.XPath(
    "self::*[not(ancestor-or-self::pre or ancestor-or-self::code)"
    " and re:test(concat(@id, ' ', @class),"
    " '(?<!__)comment(?!ary|ator)', 'i') and not(re:test(concat(@id, ' ', @class),"
    " '(?<![a-z])live', 'i'))]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_HOLDS_ARTICLE = etree.XPath(
    ".//*[self::h1 or self::main or @role='main' or @itemprop='articleBody']"
)
_TEXT = etree.XPath("string-length(normalize-space(string(.)))")
# An anchor's name (or id) that marks where the comments start: as `_COMMENT_NAMED`, not
# "commented" ("startofcommented" marks an article's text on one template), or "Your say".
_ANCHOR_NAME = re.compile(r"(?<!__)comment(?!ary|ator|ed)|your[\W_]?say", re.IGNORECASE)
_LIVE = re.compile(r"(?<![a-z])live", re.IGNORECASE)
_HEAD_LEVELS = 3  # an anchor last in a heading in a cell in a row: the rows after it
_SENTENCE_END = re.compile(r"[.!?。！？]")
_UNREAD = frozenset({"a", "script", "style", "noscript", "template", "textarea", "option"})


def _names_comments(name: str | None) -> bool:
    return name is not None and ("omment" in name or "OMMENT" in name)


def comment_named(tree: etree._Element) -> list[etree._Element]:
    """The elements in a ``<body>`` whose `id` or class names comments, in document order.

    What the XPath ``//body//*[(contains(@class, 'omment') or contains(@id, 'omment') or
    ...) and <_COMMENT_NAMED's test>]`` gives, in a third of its time: the substring tests
    in Python on each element's two attributes, where the XPath's `contains` made a string
    of each attribute four times over, and the rest of the test only on the few that pass.
    Like the XPath, it reads the whole document `tree` belongs to.
    """
    return [
        element
        for element in tree.getroottree().getroot().iter(etree.Element)
        if (_names_comments(element.get("class")) or _names_comments(element.get("id")))
        and any(True for _ in element.iterancestors("body"))
        and _COMMENT_NAMED(element)
    ]


def _is_comments_anchor(anchor: etree._Element) -> bool:
    """An empty ``<a>`` without a link whose name or id says the comments start here."""
    if anchor.get("href") is not None or len(anchor) or (anchor.text or "").strip():
        return False
    name = f"{anchor.get('name') or ''} {anchor.get('id') or ''}"
    return _ANCHOR_NAME.search(name) is not None and _LIVE.search(name) is None


def anchored_threads(body: etree._Element) -> list[etree._Element]:
    """The elements that follow an empty comments anchor in its container, in document order.

    Not in or of code; each element once (a thread of per-comment anchors, "comment-123",
    gives the elements after its first anchor).
    """
    found: dict[etree._Element, None] = {}
    for anchor in body.iter("a"):
        if not _is_comments_anchor(anchor) or any(
            a.tag in ("pre", "code") for a in anchor.iterancestors()
        ):
            continue
        head = _thread_head(anchor, body)
        if head in found:
            continue  # an earlier anchor's thread holds it, and all that follows it
        for sibling in _following(head):
            found.setdefault(sibling)
    return list(found)


def _following(element: etree._Element) -> Iterator[etree._Element]:
    """The elements after `element` in its parent (scripts and styles are no text)."""
    return (
        sibling
        for sibling in element.itersiblings()
        if isinstance(sibling.tag, str) and sibling.tag not in ("script", "style")
    )


def _thread_head(anchor: etree._Element, body: etree._Element) -> etree._Element:
    """Where the thread an anchor marks starts: the anchor, or the heading or cell that
    holds it last (``<h3><a name="comments"></a>Comments (3)</h3>``), up to
    `_HEAD_LEVELS` elements out, when nothing follows it in its own parent."""
    head = anchor
    for _ in range(_HEAD_LEVELS):
        parent = head.getparent()
        if next(_following(head), None) is not None or parent is None or parent is body:
            break
        head = parent
    return head


def _in_document_order(
    body: etree._Element, elements: list[etree._Element]
) -> list[etree._Element]:
    wanted = set(elements)
    return [e for e in body.getroottree().getroot().iter() if e in wanted]


def _text_length(element: etree._Element) -> int:
    return int(_TEXT(element))


def _is_prose(text: str | None) -> bool:
    if not text:
        return False
    return len(text.split()) >= _PROSE_WORDS and _SENTENCE_END.search(text) is not None


def _after_prose(body: etree._Element, candidates: list[etree._Element]) -> set[etree._Element]:
    """The candidates that a text of prose (outside links, scripts and the candidates)
    comes before.

    One walk in document order, up to the first such text: every candidate not yet
    reached by then comes after it.
    """
    wanted = set(candidates)
    reached: set[etree._Element] = set()
    skip: etree._Element | None = None  # a subtree whose text is not read (a link ...)
    inside = 0  # how many candidates the walk is in
    for event, element in etree.iterwalk(body, events=("start", "end")):
        if event == "start":
            if element in wanted:
                reached.add(element)
                inside += 1
            if skip is None and isinstance(element.tag, str) and element.tag in _UNREAD:
                skip = element
            read = skip is None and not inside and isinstance(element.tag, str)
            if read and _is_prose(element.text):  # a comment node's text is not the page's
                return wanted - reached
        else:
            if element is skip:
                skip = None
            if element in wanted:
                inside -= 1
            if skip is None and not inside and element is not body and _is_prose(element.tail):
                return wanted - reached
    return set()


def prune_comments(tree: HtmlElement) -> int:
    """Drop comment sections that follow the article from `tree` in place; return how many."""
    body = first_body(tree)
    if body is None:
        return 0
    found = comment_named(tree)
    anchored = anchored_threads(body)
    if anchored:
        found = _in_document_order(body, [*found, *anchored])
    if not found:
        return 0
    page = _text_length(body)
    chosen: dict[etree._Element, int] = {}
    kept: set[etree._Element] = set()  # comment-named elements that hold the page
    for element in found:  # document order: ancestors come first
        if not isinstance(element, HtmlElement) or element.getparent() is None:
            continue
        ancestors = set(element.iterancestors())
        if ancestors & kept or ancestors & chosen.keys():
            continue  # stays or goes with its ancestor
        length = _text_length(element)
        if page and length > MAX_COMMENTS_SHARE * page:
            kept.add(element)
            continue
        if _HOLDS_ARTICLE(element):
            continue  # a wrapper of the article: comment sections inside it may still go
        chosen[element] = length
    if not chosen or (page and sum(chosen.values()) > MAX_COMMENTS_SHARE * page):
        return 0
    dropped = _after_prose(body, list(chosen))
    for element in dropped:
        element.drop_tree()
    return len(dropped)
