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

__all__ = ["MetaTags", "PageMeta", "meta_tags", "page_meta"]

logger = logging.getLogger(__name__)

# The <meta> tags whose content is the page's summary, by attribute: "property" or "name".
_DESCRIBING_PROPERTIES = frozenset({"og:description", "twitter:description"})
_DESCRIBING_NAMES = frozenset({"og:description", "description", "twitter:description"})
_TYPES = frozenset({"og:type"})  # either attribute names the Open Graph type
_PUBLISHED = frozenset({"article:published_time"})  # ...or an article's publication time
_XPATH_SPACE = " \t\r\n"  # the whitespace XPath's normalize-space() strips
_ARTICLE_CASE = str.maketrans("ARTICLE", "article")


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


@dataclass(frozen=True)
class MetaTags:
    """What the page's <meta> tags say that the cleaning steps read, read in one walk.

    `descriptions`: the contents of its description tags (``og:description``,
    ``description``, ``twitter:description``), in page order, as the standfirst and
    the intro read them; `declares_article`: whether it calls itself an article (Open
    Graph type "article", or an article's publication time). Each was an XPath's walk
    over the whole page (`//meta[...]`), three a page: one walk serves all.
    """

    descriptions: tuple[str, ...]
    declares_article: bool


def _is_article_type(content: str | None) -> bool:
    """Whether an og:type is "article...", read as XPath's `starts-with(translate(
    normalize-space(@content), 'ARTICLE', 'article'), 'article')` reads it."""
    # Runs of spaces inside the first seven characters fail the test either way.
    return content is not None and (
        content.lstrip(_XPATH_SPACE).translate(_ARTICLE_CASE).startswith("article")
    )


def _content(meta: HtmlElement) -> str | None:
    """A <meta>'s content; without a ``content`` attribute, its ``value`` one.

    Some pages write ``value=`` (and the Postlight Parser's saved pages all do: it renames
    ``content`` before it reads them); without this their description was not read, and the
    standfirst and intro rules, which find the printed summary by it, were blind there.
    """
    content = meta.get("content")
    return meta.get("value") if content is None else content


def meta_tags(tree: HtmlElement) -> MetaTags:
    """The page's description tags and whether it declares an article (read-only).

    Every <meta> of the document holding `tree`, as `//meta` finds them; a tag's
    ``value`` stands in for a ``content`` it lacks (`_content`).
    """
    descriptions: list[str] = []
    article = False
    for meta in tree.getroottree().iter("meta"):
        prop, name, content = meta.get("property"), meta.get("name"), _content(meta)
        if content is not None and (prop in _DESCRIBING_PROPERTIES or name in _DESCRIBING_NAMES):
            descriptions.append(content)
        article = article or (
            prop in _PUBLISHED
            or name in _PUBLISHED
            or ((prop in _TYPES or name in _TYPES) and _is_article_type(content))
        )
    return MetaTags(tuple(descriptions), article)
