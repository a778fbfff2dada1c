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

import re

import trafilatura.utils
import trafilatura.xpaths
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

__all__ = ["C_LOOKUP", "first_body", "guarded", "use_c_lookup", "use_guarded_xpaths"]

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


_REGEXP_NS = "http://exslt.org/regular-expressions"  # EXSLT's, which lxml's XPath runs in Python
# An EXSLT regular-expression test on attributes: re:test(@id, 'pattern') or
# re:test(@id|@class, 'pattern', 'i') (an XPath string literal holds no quote of its kind).
_ATTRIBUTE_TEST = re.compile(
    r"re:test\((@[\w:-]+(?:\s*\|\s*@[\w:-]+)*)\s*,\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)"
)


def guarded(path: str) -> str:
    """The XPath `path` with each ``re:test`` on attributes asked only when one is there.

    lxml runs an EXSLT ``re:test`` in Python, a call from C for every element its step
    reaches, and one on an element without the attribute gets "" (an empty node-set's
    string). A pattern that cannot match "" answers false to it, so
    ``((@id or @class) and re:test(@id|@class, 'p'))`` is the same test, and XPath's
    ``and`` leaves the call out when the element has neither attribute. A test whose
    pattern matches "" stays as it is, and so does one guarded already.
    """

    def guarded_test(test: re.Match[str]) -> str:
        flags = re.IGNORECASE if "i" in (test[3] or "") else 0
        if re.search(test[2], "", flags) is not None:
            return test[0]
        guard = f"(({' or '.join(name.strip() for name in test[1].split('|'))}) and "
        if test.string.endswith(guard, 0, test.start()):
            return test[0]  # guarded already
        return f"{guard}{test[0]})"

    return _ATTRIBUTE_TEST.sub(guarded_test, path)


def use_guarded_xpaths() -> None:
    """Give trafilatura's XPath lists (`trafilatura.xpaths`) their `guarded` forms, in place.

    Its passes ask them of every page (the boilerplate, comment and content searches), where
    the ``re:test`` calls on elements without an ``id`` or ``class`` cost about 1 ms a page;
    each list is changed in place, so every module that imported it reads the new one.
    They select the same elements. Idempotent.
    """
    for value in vars(trafilatura.xpaths).values():
        if not isinstance(value, list):
            continue
        for i, expression in enumerate(value):
            if isinstance(expression, etree.XPath):
                path = guarded(expression.path)
                if path != expression.path:
                    value[i] = etree.XPath(path, namespaces={"re": _REGEXP_NS})
