"""Prometheus metrics: per-process counters and histograms, shared gauges from the database.

Counters and histograms count what this process did and carry a `role` label
(`all`, `bot`, `worker`, or `cli`), so several workers add up in Prometheus.
Gauges that describe shared state (outbox backlog, flood hold, feeds, chats)
are read from the database at scrape time, so every process reports the same
numbers; their help text says so. Instrumented code calls the small helpers
below, never the metric objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from bot.storage.gauges import SharedGauges

PREFIX = "newsbrief"
SHARED = " (from the database: shared by all processes)"

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_role = "cli"


def _counter(name: str, help_text: str, *labels: str) -> Counter:
    """A per-process counter, labelled by role first."""
    return Counter(f"{PREFIX}_{name}", help_text, ["role", *labels], registry=REGISTRY)


def _histogram(name: str, help_text: str, buckets: tuple[float, ...]) -> Histogram:
    """A per-process duration histogram, labelled by role."""
    return Histogram(f"{PREFIX}_{name}", help_text, ["role"], buckets=buckets, registry=REGISTRY)


MESSAGES = _counter(
    "messages_sent",
    "Outbox messages handled by this process, by kind and result (sent, retried, failed, blocked)",
    "kind",
    "result",
)
FLOOD_WAITS = _counter(
    "telegram_429", "429 Too Many Requests answers this process received from Telegram"
)
REFRESH_SECONDS = _histogram(
    "refresh_duration_seconds",
    "Duration of one refresh tick (all feeds that were due)",
    (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
COMPOSE_SECONDS = _histogram(
    "compose_duration_seconds",
    "Duration of one compose tick (scheduled and instant briefings)",
    (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ENTRIES = _counter("entries_ingested", "Feed entries stored (new to their feed)")
MERGED = _counter("stories_merged", "Entries merged into a story another entry had started")
FULLTEXT = _counter(
    "fulltext_cache",
    "Full-text lookups, by result (hit: cached text, miss: page fetched)",
    "result",
)

# Names of every metric this module exports (the tests and the README list them).
SHARED_GAUGES = (
    f"{PREFIX}_outbox_pending_messages",
    f"{PREFIX}_outbox_oldest_pending_age_seconds",
    f"{PREFIX}_flood_hold_seconds",
    f"{PREFIX}_feeds",
    f"{PREFIX}_active_chats",
)
DATABASE_UP = f"{PREFIX}_database_up"
PROCESS_METRICS = (
    f"{PREFIX}_messages_sent",
    f"{PREFIX}_telegram_429",
    f"{PREFIX}_refresh_duration_seconds",
    f"{PREFIX}_compose_duration_seconds",
    f"{PREFIX}_entries_ingested",
    f"{PREFIX}_stories_merged",
    f"{PREFIX}_fulltext_cache",
)


KINDS = ("briefing", "instant", "broadcast", "reply")
RESULTS = ("sent", "retried", "failed", "blocked")


def set_role(role: str) -> None:
    """Label this process's counters with its role (`run --role`); start the known series at 0."""
    global _role
    _role = role
    for metric in (FLOOD_WAITS, REFRESH_SECONDS, COMPOSE_SECONDS, ENTRIES, MERGED):
        metric.labels(role=role)
    for kind in KINDS:
        for result in RESULTS:
            MESSAGES.labels(role=role, kind=kind, result=result)
    for result in ("hit", "miss"):
        FULLTEXT.labels(role=role, result=result)


def count_message(kind: str, result: str) -> None:
    MESSAGES.labels(role=_role, kind=kind, result=result).inc()


def count_flood_wait() -> None:
    FLOOD_WAITS.labels(role=_role).inc()


def observe_refresh(seconds: float, *, entries: int, merged: int) -> None:
    REFRESH_SECONDS.labels(role=_role).observe(seconds)
    ENTRIES.labels(role=_role).inc(entries)
    MERGED.labels(role=_role).inc(merged)


def observe_compose(seconds: float) -> None:
    COMPOSE_SECONDS.labels(role=_role).observe(seconds)


def count_fulltext(*, hit: bool) -> None:
    FULLTEXT.labels(role=_role, result="hit" if hit else "miss").inc()


class SharedStateCollector(Collector):
    """Gauges read from the database at each scrape (`read` returns them)."""

    def __init__(self, read: Callable[[], SharedGauges]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        g = self.read()
        yield GaugeMetricFamily(
            SHARED_GAUGES[0], "Outbox messages waiting to be sent" + SHARED, g.outbox_pending
        )
        yield GaugeMetricFamily(
            SHARED_GAUGES[1],
            "Age of the oldest unsent outbox message" + SHARED,
            g.oldest_pending_age,
        )
        yield GaugeMetricFamily(
            SHARED_GAUGES[2], "Seconds left of Telegram's flood hold" + SHARED, g.flood_hold
        )
        feeds = GaugeMetricFamily(
            SHARED_GAUGES[3], "Enabled feeds by state" + SHARED, labels=["state"]
        )
        for state, count in sorted(g.feeds.items()):
            feeds.add_metric([state], count)
        yield feeds
        chats = GaugeMetricFamily(
            SHARED_GAUGES[4], "Active chats by delivery mode" + SHARED, labels=["mode"]
        )
        for mode, count in sorted(g.active_chats.items()):
            chats.add_metric([mode], count)
        yield chats


class _Fixed(Collector):
    def __init__(self, *families: GaugeMetricFamily) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self.families


def exposition(shared: SharedGauges | None) -> bytes:
    """This process's metrics plus the shared gauges (None: the database did not answer)."""
    registry = CollectorRegistry(auto_describe=False)
    if shared is not None:
        registry.register(SharedStateCollector(lambda: shared))
    up = GaugeMetricFamily(
        DATABASE_UP, "1 when the database answered this scrape, else 0", int(shared is not None)
    )
    registry.register(_Fixed(up))
    return generate_latest(REGISTRY) + generate_latest(registry)
