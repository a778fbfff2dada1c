"""Benchmark `parse_feed` on one item that repeats an element many times.

Run from the repo root: ``python -m bench.bench_hostile_feeds [--counts 10000,100000]``.
For each repeated element (RSS ``category``, ``dc:subject``, ``media:keywords``,
Atom ``category``; ``enclosure`` and Atom ``link`` for comparison) and each count,
parses the feed in this process and prints the CPU seconds and how many
categories the entry kept. Work that grows faster than the count shows as a
ratio above the counts' ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.parser import parse_feed

NOW = datetime(2026, 12, 6, tzinfo=UTC)
_RSS_HEAD = (
    '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>'
    "<item><title>x</title><link>https://a.test/1</link>"
)
_ATOM_HEAD = (
    '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
    "<entry><title>x</title><id>tag:a.test,2026:1</id>"
)
ELEMENTS: dict[str, tuple[str, Callable[[int], str]]] = {
    "rss category": ("rss", lambda i: f"<category>c{i}</category>"),
    "dc:subject": ("rss", lambda i: f"<dc:subject>s{i}</dc:subject>"),
    "media:keywords": ("rss", lambda i: f"<media:keywords>k{i}</media:keywords>"),
    "rss enclosure": ("rss", lambda i: f'<enclosure url="https://a.test/{i}.mp3" length="1"/>'),
    "atom category": ("atom", lambda i: f'<category term="t{i}"/>'),
    "atom link": ("atom", lambda i: f'<link rel="related" href="https://a.test/{i}"/>'),
}


def body(kind: str, element: Callable[[int], str], count: int) -> bytes:
    inner = "".join(element(i) for i in range(count))
    if kind == "rss":
        return (_RSS_HEAD + inner + "</item></channel></rss>").encode()
    return (_ATOM_HEAD + inner + "</entry></feed>").encode()


def main() -> None:
    from bench._common import print_machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10000,100000")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print_machine()
    for name, (kind, element) in ELEMENTS.items():
        cells = []
        for count in counts:
            data = body(kind, element, count)
            content_type = f"application/{kind}+xml"
            started = time.process_time()
            feed = parse_feed(data, url="https://a.test/feed", content_type=content_type, now=NOW)
            seconds = time.process_time() - started
            kept = len(feed.entries[0].categories) if feed.entries else 0
            cells.append(f"{count:,}: {seconds:.2f} s CPU ({kept} categories)")
        print(f"{name:16} " + "; ".join(cells))


if __name__ == "__main__":
    main()
