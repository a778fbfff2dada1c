"""Back-off arithmetic for feed polling: when to check a feed next (pure)."""

from __future__ import annotations

# 2**60 times any sane interval is far past any maximum; capping the exponent keeps
# float arithmetic from overflowing after years of failures.
_MAX_EXPONENT = 60


def next_check_delay(
    *,
    interval: float,
    retry_after: float | None,
    max_age: float | None,
    ttl: float | None,
    maximum: float,
) -> float:
    """Return seconds until the next check after a successful (or hinted) fetch.

    The largest of ``interval`` and the server hints (Retry-After, Cache-Control
    max-age, RSS ``<ttl>``), clamped to ``maximum`` but never below ``interval``:
    a ``<ttl>`` of 720 minutes must not silence a feed for 12 hours (iovxw/rssbot #63).
    """
    hints = [hint for hint in (retry_after, max_age, ttl) if hint is not None]
    wanted = max([interval, *hints])
    return max(interval, min(wanted, maximum))


def failure_backoff(*, interval: float, consecutive_failures: int, maximum: float) -> float:
    """Return seconds until the next attempt after ``consecutive_failures`` failures in a row.

    ``interval * 2**(n-1)``, clamped to ``maximum`` but never below ``interval``.
    """
    exponent = min(max(consecutive_failures - 1, 0), _MAX_EXPONENT)
    return max(interval, min(interval * 2.0**exponent, maximum))
