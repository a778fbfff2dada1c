"""A page's title and site name, found as trafilatura's metadata step finds them.

Pure. trafilatura's `extract_metadata` also looks for the authors, the date, categories,
tags and a licence, none of which the reader is shown, and `bare_extraction` ran it again
on every pass. On Readability's test pages that was 40 % of a pass (the author search
alone 7.6 ms a page, median; BENCHMARKS.md, "Full text: what it costs"). This runs only
its title and site-name steps, in its order, once a page; `tests/test_fulltext_meta.py`
checks both against `extract_metadata` on every test page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)

__all__ = ["PageMeta", "page_meta"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageMeta:
    """What the reader sees of a page's metadata: its title and the site's name."""

    title: str | None
    sitename: str | None


def page_meta(tree: HtmlElement, url: str | None) -> PageMeta:
    """The page's title and site name (read-only: the tree is not changed)."""
    found = examine_meta(tree)
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # trafilatura guards its JSON-LD reading the same way
        logger.debug("JSON-LD metadata unreadable url=%s", url, exc_info=True)
    found.title = found.title or extract_title(tree)
    found.sitename = found.sitename or extract_sitename(tree)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")  # a Twitter handle
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif (address := found.url or extract_url(tree, url)) and (match := META_URL.match(address)):
        found.sitename = match[1]
    found.clean_and_trim()  # entities, runs of spaces, control characters, length
    return PageMeta(found.title or None, found.sitename or None)
