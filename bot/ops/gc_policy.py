"""The process's garbage-collector thresholds, set once at the entry point.

CPython collects its youngest generation after every 700 net new container
objects (the default). A refresh allocates millions of short-lived ones (parsed
entries, rows, fingerprints) on top of a few hundred thousand long-lived ones
(modules, settings, caches), so at 700 the young collections run thousands of
times and promote enough survivors to trigger a full collection every few
seconds, each walking the whole heap. A young threshold of 10,000 lets most
short-lived objects die before any collection sees them: in a 1,000-feed
refresh full collections fell from ~32 to ~3 (BENCHMARKS.md, section 1).
Reference cycles are still collected, only in larger batches; the older
generations keep CPython's default ratios.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (10_000, 10, 10)  # young generation, then CPython's default ratios


def tune_gc() -> None:
    """Set this process's collector thresholds (`GC_THRESHOLDS`)."""
    gc.set_threshold(*GC_THRESHOLDS)
