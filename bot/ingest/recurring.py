"""A feed's recurring headline or reused link: the next item is a new story.

Many feeds give the same headline to a new article every day or so: "Morning
Briefing", "Today's crossword", "Live updates: Ukraine war" on each day's new
live page, "Letters to the editor". By title alone such an entry matches the story
of the last issue, and joining it would hide the new issue from every chat that
had the last one (a delivered story is not sent again).

So an entry does not join a story that already holds an entry of its own feed
with the same headline under another link, published `RECURRING_GAP` or more
apart, unless the two also carry the same non-empty summary (the same article
moved to a new address). Within the gap, a new link under the same headline is
the same story again (an outlet's update or a repost), and merges as before;
other outlets' entries are never affected.

Likewise a link: a podcast's episodes all linking to the show's page, an alert feed
linking every alert to its one page. An entry's link joins the story of the feed's
earlier entry under that link unless the two headlines are not the same story (by
`bot.ingest.dedup`) and either lie `RECURRING_GAP` apart or share no word: then the
link is no article's address (`link_reused`). A live article whose headline its feed
rewrites within hours ("Earthquake strikes central Chile", then "Chile quake:
officials count damage", one URL, new GUIDs) still joins by its link.

And a GUID: a feed that gives one GUID to every item (its own address, "1") and lists
one item at a time made each new item look like an edit of the first, never stored.
An item under a stored GUID with another link and a headline that is not the same
story is another item (`guid_reused`); an edit (the same link, or a headline dedup
matches) is still the item it edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ingest.dedup import Fingerprint, best_match

RECURRING_GAP = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Issue:
    """What tells one of a feed's entries from the next issue of its headline."""

    published_at: datetime
    link: str | None
    title: str
    summary: str


def _headline(title: str) -> str:
    return " ".join(title.casefold().split())


def another_issue(new: Issue, earlier: Issue) -> bool:
    """Whether `new` is a later (or earlier) issue of the headline `earlier` ran under.

    Both must come from the same feed; the caller knows.
    """
    if not new.link or not earlier.link or new.link == earlier.link:
        return False  # without two links it cannot be told from an update
    if abs(new.published_at - earlier.published_at) < RECURRING_GAP:
        return False
    if _headline(new.title) != _headline(earlier.title):
        return False
    moved = bool(new.summary) and new.summary.strip() == earlier.summary.strip()
    return not moved


def runs_again(new: Issue, own: list[Issue]) -> bool:
    """Whether `new` is another issue of any of `own`, its feed's entries of one story."""
    return any(another_issue(new, earlier) for earlier in own)


def link_reused(
    fp: Fingerprint, published_at: datetime, earlier: Iterable[tuple[Fingerprint, datetime]]
) -> bool:
    """Whether an entry's link, given before by its feed to `earlier` entries (their
    fingerprints and times, read lazily: the first match ends it), is a link the feed
    reuses for other items."""
    given = False
    for other, at in earlier:
        if best_match(fp, [(0, other)]) is not None:
            return False  # the same story under its link
        if abs(published_at - at) < RECURRING_GAP and set(fp.tokens) & set(other.tokens):
            return False  # a live article's headline, rewritten within hours
        given = True
    return given


def guid_reused(
    new: tuple[str | None, Fingerprint], stored: tuple[str | None, Fingerprint]
) -> bool:
    """Whether an item under a GUID the feed stored before is another item: (link,
    headline fingerprint) of the new one and of the stored one."""
    (link, fp), (stored_link, stored_fp) = new, stored
    if not link or not stored_link or link == stored_link:
        return False
    return best_match(fp, [(0, stored_fp)]) is None
