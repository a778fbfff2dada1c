"""Remember, for a few seconds, the addresses a host resolved to that passed the guard.

With the SSRF guard on, every hop resolves its host with getaddrinfo in a worker thread,
even when a pooled connection to that host is then reused; a round over 1,000 feeds on
100 hosts made 1,000 thread hops for 100 names. Only checked answers are kept, so the
guarantee is unchanged: every hop's connection goes to an address that passed the check.
With the guard off (``check=False``) answers are kept unchecked, so that the fetcher
resolves names on its own threads either way (``bot.ingest.resolver``), not httpcore.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.ingest.netguard import Resolver, checked_addresses, parse_literal

TTL_SECONDS = 30.0  # spans one refresh round; feeds are polled minutes apart
MAX_HOSTS = 1024


class CheckedAnswers:
    """Resolve and check ``(host, port)`` at most once per ``ttl`` seconds.

    A refusal (``AddressRefused``) or a resolution error (``OSError``) propagates and
    is never kept: the next hop asks again. A kept answer is the one that passed the
    check; a rebinding name gains nothing by it (the connection stays on the earlier,
    public address). IP literals are checked every time (nothing to resolve).
    """

    def __init__(
        self,
        resolve: Resolver,
        *,
        ttl: float = TTL_SECONDS,
        max_hosts: int = MAX_HOSTS,
        clock: Callable[[], float] = time.monotonic,
        check: bool = True,
    ) -> None:
        self._resolve = resolve
        self._check = check
        self._ttl = ttl
        self._max_hosts = max_hosts
        self._clock = clock
        # (host, port) -> (expires at, addresses), oldest answer first.
        self._answers: OrderedDict[tuple[str, int], tuple[float, tuple[str, ...]]] = OrderedDict()

    async def addresses(self, host: str, port: int) -> list[str]:
        """Return the checked addresses of host; raise as ``checked_addresses`` does."""
        if parse_literal(host) is not None:
            if not self._check:
                return [host]
            return await checked_addresses(host, port, resolve=self._resolve)
        key = (host.lower(), port)
        kept = self._answers.get(key)
        if kept is not None and kept[0] > self._clock():
            return list(kept[1])
        if self._check:
            addresses = await checked_addresses(host, port, resolve=self._resolve)
        else:
            addresses = await self._resolve(host, port)
        self._keep(key, tuple(addresses))  # reached only if every address passed
        return addresses

    def _keep(self, key: tuple[str, int], addresses: tuple[str, ...]) -> None:
        now = self._clock()
        self._answers.pop(key, None)
        self._answers[key] = (now + self._ttl, addresses)
        while len(self._answers) > self._max_hosts or self._oldest_expired(now):
            self._answers.popitem(last=False)

    def _oldest_expired(self, now: float) -> bool:
        oldest = next(iter(self._answers.values()), None)
        return oldest is not None and oldest[0] <= now
