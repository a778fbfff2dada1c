"""Figure captions as article text: trafilatura drops every <figure>, captions with it.

Pure. A caption says what the page's photo or chart shows; the 📖 text shows no images,
so the caption is the only trace of it left (Readability keeps captions too). Each
<figure> that has a <figcaption> (and no table: trafilatura reads a figure holding a
table itself) is replaced, in place and before extraction, by its captions as
paragraphs. Whether a caption is kept is then the extractor's choice as for any
paragraph: one beside the article goes with the rest of the page's furniture.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

_FIGURES = etree.XPath("//body//figure[.//figcaption][not(.//table)][not(ancestor::figure)]")
_CAPTIONS = etree.XPath(".//figcaption")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?)\]”’])")


def caption_text(caption: etree._Element) -> str:
    """A caption's text, its parts apart: a credit in its own <span> ("Credit", the
    photographer) would otherwise run into the sentence before it."""
    text = " ".join(" ".join(caption.itertext()).split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def captions_as_paragraphs(tree: HtmlElement) -> int:
    """Replace each captioned figure in `tree` by its captions' text; return how many."""
    done = 0
    for figure in _FIGURES(tree):
        parent = figure.getparent()
        texts = [caption_text(caption) for caption in _CAPTIONS(figure)]
        if parent is None or not any(texts):
            continue
        paragraphs = []
        for text in filter(None, texts):
            paragraph = parent.makeelement("p", {})
            paragraph.text = text
            paragraphs.append(paragraph)
        paragraphs[-1].tail = figure.tail
        index = parent.index(figure)
        parent[index : index + 1] = paragraphs
        done += 1
    return done
