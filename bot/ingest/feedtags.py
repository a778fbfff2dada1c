"""A bound on the categories feedparser collects per entry (and per feed).

feedparser 6 adds each ``<category>``, ``<dc:subject>``, ``<media:keywords>``
or Atom ``category`` through one method that first checks whether the list
already holds the same tag: a scan of the list for every tag, so the work
grows with the square of their number. A feed item with 10,000 categories
took 1.4 CPU seconds to parse, 100,000 several minutes: a hostile feed held a
parse worker until the parse timeout killed it, every round.

`install` replaces that method, once per process, with one that keeps the
first `MAX_TAGS` distinct tags of each entry and ignores the rest (the same
check, on a list that never grows past the bound). Nothing downstream wants
more: a category is a topic hint, and an entry that claims hundreds says
nothing. Without the method (another feedparser), nothing is installed and
`installed()` says so; `tests/test_feedtags.py` fails then.
"""

from __future__ import annotations

from typing import Any

import feedparser

MAX_TAGS = 64

try:
    from feedparser.mixin import _FeedParserMixin as _Mixin
except ImportError:  # pragma: no cover - another feedparser layout
    _Mixin = None


def _add_tag_bounded(self: Any, term: Any, scheme: Any, label: Any) -> None:
    context = self._get_context()
    tags = context.setdefault("tags", [])
    if (not term) and (not scheme) and (not label):
        return
    if len(tags) >= MAX_TAGS:
        return
    value = feedparser.FeedParserDict(term=term, scheme=scheme, label=label)
    if value not in tags:
        tags.append(value)


def install() -> None:
    """Bound feedparser's per-entry tags (idempotent)."""
    if _Mixin is not None and hasattr(_Mixin, "_add_tag"):
        _Mixin._add_tag = _add_tag_bounded


def installed() -> bool:
    """Whether feedparser collects tags through the bounded method."""
    return _Mixin is not None and getattr(_Mixin, "_add_tag", None) is _add_tag_bounded
