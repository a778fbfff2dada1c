"""Per-key sliding-window rate limits (pure apart from their own, bounded memory)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Enough for every active user of a busy bot; beyond it the quietest keys go first.
MAX_KEYS = 10_000


@dataclass
class SlidingWindowLimiter:
    """Allow `limit` events per `period` seconds for each key.

    Memory stays bounded: keys whose window has emptied are dropped as the map
    grows, and past `max_keys` the least recently seen keys are evicted too (a
    forgotten key only starts a fresh window, it never gets blocked wrongly).
    """

    limit: int
    period: float
    max_keys: int = MAX_KEYS
    _events: dict[Hashable, deque[float]] = field(default_factory=dict)
    _warned_until: dict[Hashable, float] = field(default_factory=dict)

    def check(self, key: Hashable, now: float) -> float | None:
        """Record an event and return None, or return seconds to wait (not recorded)."""
        events = self._events.pop(key, None)
        if events is None:
            events = deque()
        self._events[key] = events  # re-inserted: dict order is least recently seen first
        while events and now - events[0] >= self.period:
            events.popleft()
        if len(events) >= self.limit:
            return self.period - (now - events[0])
        events.append(now)
        if len(self._events) > self.max_keys:
            self._evict(now)
        return None

    def first_refusal(self, key: Hashable, now: float, wait: float) -> bool:
        """True once per refused stretch: say "slow down" once, not once per dropped event."""
        if self._warned_until.get(key, -1.0) > now:
            return False
        self._warned_until.pop(key, None)
        self._warned_until[key] = now + wait  # dict order: oldest warning first
        if len(self._warned_until) > self.max_keys:
            live = [(k, t) for k, t in self._warned_until.items() if t > now]
            self._warned_until = dict(live[-self.max_keys :])
        return True

    def __len__(self) -> int:
        return len(self._events)

    def _evict(self, now: float) -> None:
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.period]
        for key in idle:
            del self._events[key]
        excess = len(self._events) - self.max_keys
        for key in list(self._events)[: max(0, excess)]:
            del self._events[key]


@dataclass
class InFlight:
    """Work under way by key: a second request for a key while the first runs is dropped."""

    _keys: set[Hashable] = field(default_factory=set)

    @contextmanager
    def claim(self, key: Hashable) -> Iterator[bool]:
        """Yield True and hold `key` until the block ends, or yield False if it is held."""
        if key in self._keys:
            yield False
            return
        self._keys.add(key)
        try:
            yield True
        finally:
            self._keys.discard(key)
