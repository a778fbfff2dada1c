"""Per-key sliding-window rate limit (pure apart from its own memory)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class SlidingWindowLimiter:
    """Allow `limit` events per `period` seconds for each key."""

    limit: int
    period: float
    _events: dict[int, deque[float]] = field(default_factory=dict)

    def check(self, key: int, now: float) -> float | None:
        """Record an event and return None, or return seconds to wait (not recorded)."""
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.period:
            events.popleft()
        if len(events) >= self.limit:
            return self.period - (now - events[0])
        events.append(now)
        if len(self._events) > 10_000:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.period]
        for key in idle:
            del self._events[key]
