"""Seconds of one extraction thread spent on hostile full-text pages (CPU time, one core).

Run: python -m bench.bench_hostile_pages [--runs N] [--deadline S]. Each page is read in a
child process killed after the deadline (a hang shows as "> S s"); one line per page.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

PROSE = "The council approved the new tram line on Tuesday after a long debate. " * 6


def _with_ld(article_body: str) -> str:
    ld = json.dumps({"@type": "NewsArticle", "articleBody": article_body})
    return (
        f'<html><head><title>Tram line</title><script type="application/ld+json">{ld}</script>'
        "</head><body><p>Short teaser.</p></body></html>"
    )


PAGES = {
    "JSON-LD articleBody of 40,000 x <a x=' (240 KB)": _with_ld(
        f"<p>{PROSE}</p>" + "<a x='" * 40_000
    ),
    "JSON-LD articleBody of 120,000 x <a (240 KB)": _with_ld(f"<p>{PROSE}</p>" + "<a" * 120_000),
    "meta description of 120,000 x <a (240 KB)": (
        f'<html><head><meta name="description" content="{"<a" * 120_000}"></head>'
        f"<body><p>{PROSE}</p></body></html>"
    ),
    "8,000 empty comment anchors, each before a paragraph (1 MB)": (
        f"<html><body><article><h1>Tram line</h1><p>{PROSE}</p>"
        + "".join(f'<a name="comment-{i}"></a><p>Reader {i}: {PROSE[:70]}</p>' for i in range(8000))
        + "</article></body></html>"
    ),
    "180,000 x <p>word</p> (2 MB)": (
        f"<html><body><p>{PROSE}</p>{'<p>word</p>' * 180_000}</body></html>"
    ),
}

CHILD = (
    "import sys, time\n"
    "from bot.fulltext.article import extract_article\n"
    "html = sys.stdin.read(); t = time.process_time()\n"
    "r = extract_article(html, url='https://news.test/a')\n"
    "print(time.process_time() - t, type(r).__name__, getattr(r, 'reason', ''))\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args()
    for name, html in PAGES.items():
        seconds: list[float] = []
        outcome = ""
        for _ in range(args.runs):
            try:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD], input=html, capture_output=True,
                    text=True, timeout=args.deadline, check=True,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                outcome = f"> {args.deadline:g} s (killed)"
                break
            cpu, *rest = done.stdout.split(maxsplit=1)
            seconds.append(float(cpu))
            outcome = rest[0].strip() if rest else ""
        shown = " ".join(f"{s:.2f}" for s in sorted(seconds))
        print(f"{name}: cpu s [{shown}] -> {outcome}", flush=True)


if __name__ == "__main__":
    main()
