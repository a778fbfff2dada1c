"""Use cases: a subscriber's mute words and personal keywords (/mute /follow /filters …).

Input is checked whole before anything is stored: one phrase too long, or the
list past its limit, and nothing changes, so the answer describes the state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.briefings.filters import KINDS, MAX_ENTRIES, MAX_LENGTH, normalise_phrase
from bot.services.context import Services
from bot.services.subscriber import Asker, as_chat
from bot.storage import filters as filter_store
from bot.storage.models import Chat

# "quoted phrase", “curly quotes” or a bare word; an unclosed quote runs to the end.
_ARG_RE = re.compile(r'"([^"]*)"?|“([^”]*)”?|«([^»]*)»?|(\S+)')


def parse_phrases(text: str) -> tuple[str, ...]:
    """Split command arguments into words and quoted phrases, as typed (pure)."""
    found = []
    for match in _ARG_RE.finditer(text):
        phrase = next((g for g in match.groups() if g is not None), "").strip()
        if phrase:
            found.append(" ".join(phrase.split()))
    return tuple(found)


def is_everything(phrases: Sequence[str]) -> bool:
    """`/unmute all`: the one word "all", unquoted or not."""
    return [p.casefold() for p in phrases] == ["all"]


def phrase_key(phrase: str) -> str:
    """A short, stable id of a stored phrase for button data (64-byte limit)."""
    return hashlib.sha1(phrase.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class FilterList:
    mutes: tuple[str, ...]
    follows: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.mutes) + len(self.follows)


@dataclass(frozen=True)
class FilterChange:
    """What /mute, /follow, /unmute or /unfollow did (or why it did nothing)."""

    kind: str  # mute | follow
    changed: tuple[str, ...] = ()  # added or removed, in match form
    unchanged: tuple[str, ...] = ()  # already there, or not there to remove
    too_long: tuple[str, ...] = ()  # as typed; nothing was changed
    no_words: tuple[str, ...] = ()  # as typed (only punctuation); nothing was changed
    over_limit: int = 0  # entries there would be; nothing was changed
    now: FilterList = field(default_factory=lambda: FilterList((), ()))


def _list(session: Session, chat: Chat) -> FilterList:
    found = filter_store.chat_filters(session, chat.id)
    return FilterList(tuple(found["mute"]), tuple(found["follow"]))


async def list_filters(services: Services, who: Asker, *, create: bool = True) -> FilterList:
    return await as_chat(services, who, _list, create=create)


async def add(services: Services, who: Asker, kind: str, typed: Sequence[str]) -> FilterChange:
    """Add mute words (kind "mute") or keywords ("follow"); all or nothing."""
    assert kind in KINDS
    too_long = tuple(t for t in typed if len(t) > MAX_LENGTH)
    no_words = tuple(t for t in typed if len(t) <= MAX_LENGTH and normalise_phrase(t) is None)
    fitting = [t for t in typed if t not in too_long]
    wanted = list(dict.fromkeys(p for t in fitting if (p := normalise_phrase(t))))

    def work(session: Session, chat: Chat) -> FilterChange:
        before = _list(session, chat)
        have = before.mutes if kind == "mute" else before.follows
        if too_long or no_words:
            return FilterChange(kind, too_long=too_long, no_words=no_words, now=before)
        new = tuple(p for p in wanted if p not in have)
        already = tuple(p for p in wanted if p in have)
        if before.total + len(new) > MAX_ENTRIES:
            return FilterChange(kind, over_limit=before.total + len(new), now=before)
        filter_store.add_filters(session, chat.id, kind, new, now=services.clock())
        return FilterChange(kind, changed=new, unchanged=already, now=_list(session, chat))

    return await as_chat(services, who, work)


async def remove(
    services: Services, who: Asker, kind: str, typed: Sequence[str] | None
) -> FilterChange:
    """Remove mute words or keywords (all of the kind when `typed` is None)."""
    assert kind in KINDS
    wanted = None if typed is None else [p for t in typed if (p := normalise_phrase(t))]

    def work(session: Session, chat: Chat) -> FilterChange:
        gone = filter_store.remove_filters(session, chat.id, kind, wanted)
        missing = tuple(p for p in dict.fromkeys(wanted or ()) if p not in gone)
        return FilterChange(kind, changed=tuple(gone), unchanged=missing, now=_list(session, chat))

    return await as_chat(services, who, work)


async def remove_by_key(services: Services, who: Asker, kind: str, key: str) -> FilterChange:
    """A 🗑 button under /filters: remove the phrase whose `phrase_key` is `key`."""

    def work(session: Session, chat: Chat) -> FilterChange:
        have = filter_store.chat_filters(session, chat.id).get(kind, [])
        match = [p for p in have if phrase_key(p) == key]
        gone = filter_store.remove_filters(session, chat.id, kind, match) if match else []
        return FilterChange(kind, changed=tuple(gone), now=_list(session, chat))

    return await as_chat(services, who, work)
