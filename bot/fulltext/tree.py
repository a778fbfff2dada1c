"""The classes of a parsed page's elements, chosen in C rather than in Python.

lxml makes a Python object for an element each time Python code reaches one that has
none (an iteration, an XPath result, a parent), and asks the parser's class lookup which
class it gets. ``lxml.html``'s lookup is a Python method (so that ``<form>``, ``<input>``,
``<select>``, ``<textarea>`` and ``<label>`` get their own classes, with form-field
properties), called for every such element: about 7 % of an extraction's CPU time, in
trafilatura's passes (which copy the tree several times), the vote's extractors and our
own stages. Nothing in the extraction uses those form classes (trafilatura,
readability-lxml, lxml_html_clean, justext, or our code): `use_c_lookup` gives trafilatura's
parser lxml's default lookup, in C, with the same classes for every other node (every
element an ``HtmlElement``, comments ``HtmlComment``...). The text is the same
(BENCHMARKS.md, "Fourteenth session").
"""

from __future__ import annotations

import trafilatura.utils
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

__all__ = ["C_LOOKUP", "first_body", "use_c_lookup"]

C_LOOKUP = etree.ElementDefaultClassLookup(
    element=HtmlElement,
    comment=HtmlComment,
    pi=HtmlProcessingInstruction,
    entity=HtmlEntity,
)


def use_c_lookup() -> None:
    """Make trafilatura's HTML parser (`trafilatura.load_html`) choose classes in C.

    Trees it parses from then on, and their copies, get `C_LOOKUP`'s classes. Idempotent.
    """
    trafilatura.utils.HTML_PARSER.set_element_class_lookup(C_LOOKUP)


def first_body(tree: etree._Element) -> HtmlElement | None:
    """The page's first ``<body>`` in document order: what ``tree.xpath("//body")[0]`` gives.

    The search stops at the first one (after the head), where the XPath walks every node of
    the page, its texts included: a tenth of a millisecond a call on the test pages, and
    each stage asked it. Like the XPath, it reads the whole document `tree` belongs to (a
    page that parses as a fragment is an element below the document's root).
    """
    return next(tree.getroottree().getroot().iter("body"), None)
