"""Give loose text beside blocks a paragraph of its own before the article is extracted.

Pure. Older templates (and hand-written pages) put the article's text straight into a
container that also holds blocks: "<td><div>(a photo)</div>First paragraph... <p>Second
...", or "<span><div>(share buttons)</div>Text<br><br>More <a>linked words</a> text
...". A browser shows each run of such text as a paragraph. trafilatura reads the blocks
and the text after a `<br>`, but drops a run that follows a block, and with links kept
(`include_links`, which our cleaning needs) a link in such a run goes with everything
after it up to the next `<br>`: a news page lost its first paragraph, or half of each
paragraph ("Apparently", "The latest issue of").

Each run of loose text and inline elements between a container's blocks is wrapped in a
`<p>`, which every extractor reads whole; `<br>`s inside a run stay line breaks. Only
containers that lay text out (they hold a `<p>` or a `<br>`) beside a block change: a
container of text and inline elements alone is read well already, and loose text beside
a page's layout blocks alone (a broken script's leftovers in `<body>`) is no article's.
A run of links alone ("Learn more") stays as it was, and so does anything inside a
paragraph, heading, list item or code. Scripts, styles and embeds end a run and stay.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# What keeps its text whole: a paragraph, heading, list item, term or code.
_WHOLE = frozenset({"p", "li", "dt", "dd", "pre", "code"}) | _HEADINGS
# Elements a browser lays out as blocks: loose text beside one of these is a run of its own.
_BLOCKS = _HEADINGS | {
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "div",
    "dl", "fieldset", "figure", "footer", "form", "header", "hr", "main", "nav", "ol",
    "p", "pre", "section", "table", "ul",
}  # fmt: skip
# Containers whose loose text is read as it is: those that keep their text whole, a
# table's or a list's parts (they hold cells and items, not text), and what is no text.
_KEEP = _WHOLE | {
    "table", "thead", "tbody", "tfoot", "tr", "ul", "ol", "dl", "select",
    "script", "style", "noscript", "template", "textarea", "head", "html",
}  # fmt: skip
# Elements whose text is no paragraph's (scripts, styles, noscript's markup, embeds):
# they stay where they are and end a run, never go into a <p>.
_APART = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math"}
)
# A container inside one of these is part of a paragraph, heading, list item or code:
# its text is read with that (a reference list's item holding a <div>), never split.
_INLINE_CONTEXT = _WHOLE | {"a"}
# A page that would get more paragraphs than this is left as it is: each costs the passes
# that read it, and a made-up page of 12,000 blocks beside loose words doubled its
# extraction (the test pages' most is 236 runs).
MAX_RUNS = 1_000
# A container lays text out when it holds one of these beside its blocks.
_TEXT_MARKS = frozenset({"p", "br"})


def _block_holders(body: etree._Element) -> set[etree._Element]:
    """The blocks under `body` and every element holding one (a <span> around <div>s).

    One walk up from each block, stopping at an element already marked: linear in the
    page's size however deep it nests.
    """
    holders: set[etree._Element] = set()
    for element in body.iter(*_BLOCKS):
        while element is not None and element not in holders:
            holders.add(element)
            element = element.getparent()
    return holders


def _has_words(text: str | None) -> bool:
    return bool(text and not text.isspace())


def _text(element: etree._Element) -> str:
    if not isinstance(element.tag, str):
        return ""  # a comment or processing instruction shows nothing
    return "".join(element.itertext())


def _stays(child: etree._Element, blocks: set[etree._Element]) -> bool:
    """Whether a child stays where it is, between runs: a block, or what is no text."""
    return child in blocks or not isinstance(child.tag, str) or child.tag in _APART


def _mixed(element: etree._Element, blocks: set[etree._Element]) -> bool:
    """Whether the container holds a block beside loose text that is not whitespace."""
    children = list(element)
    if not any(child in blocks for child in children):
        return False
    # Text is laid out here: the container also holds a paragraph or a line break. Loose
    # text elsewhere (beside a page's layout blocks, a broken script's leftovers) is not
    # the article's, and trafilatura rightly leaves it.
    if not any(child.tag in _TEXT_MARKS for child in children):
        return False
    if _has_words(element.text):
        return True
    return any(
        _has_words(child.tail) or (not _stays(child, blocks) and _has_words(_text(child)))
        for child in children
    )


def _wrap_runs(container: HtmlElement, blocks: set[etree._Element]) -> int:
    """Wrap each run of loose text and inline children of `container` in a <p>.

    The new children are gathered in a list and set once: inserting each at its place
    costs a walk along the children, quadratic in a container of thousands of blocks.
    """
    wrapped = 0
    children: list[etree._Element] = []  # the container's new children, in order
    run = container.makeelement("p", {})
    run.text, container.text = container.text, None
    for child in list(container):
        if _stays(child, blocks):
            wrapped += _close(container, run, children)
            children.append(child)
            run = container.makeelement("p", {})
            run.text, child.tail = child.tail, None
            continue
        run.append(child)  # moves it, with its tail
    wrapped += _close(container, run, children)
    container[:] = children
    return wrapped


def _unlinked_words(element: etree._Element) -> bool:
    """Whether the element shows words outside links (its tail not counted)."""
    if not isinstance(element.tag, str) or element.tag == "a":
        return False
    if _has_words(element.text):
        return True
    return any(_unlinked_words(child) or _has_words(child.tail) for child in element)


def _close(container: HtmlElement, run: HtmlElement, children: list[etree._Element]) -> int:
    """End a run: a <p> among `children` if it shows words (1), else its parts as they were (0)."""
    if _unlinked_words(run):
        children.append(run)
        return 1
    # Whitespace, empty inline elements (an image, a spacer), links alone ("Learn more",
    # which trafilatura reads as it reads a list of links): back in place, unwrapped.
    if run.text:
        if children:
            children[-1].tail = (children[-1].tail or "") + run.text
        else:
            container.text = (container.text or "") + run.text
    children.extend(run)
    return 0


def wrap_loose_text(tree: HtmlElement, *, limit: int = MAX_RUNS) -> int:
    """Wrap loose text beside blocks in paragraphs, in place; return how many were made.

    A page whose containers could make more than `limit` paragraphs is left as it is.
    """
    found: list[tuple[HtmlElement, set[etree._Element]]] = []
    runs = 0  # at most one run before each child that stays, and one after the last
    for body in tree.iter("body"):
        blocks = _block_holders(body)
        for element in blocks:
            if (
                element.tag not in _KEEP
                and element.tag != "body"
                and _mixed(element, blocks)
                and not any(a.tag in _INLINE_CONTEXT for a in element.iterancestors())
            ):
                found.append((element, blocks))
                runs += 1 + sum(_stays(child, blocks) for child in element)
    if runs > limit:
        return 0
    return sum(_wrap_runs(container, blocks) for container, blocks in found)
