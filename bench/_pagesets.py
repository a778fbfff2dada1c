"""What the 📖 page-set checks share: halves, arguments, the two extractors, averages.

Each `bench/fulltext_*.py` reads its own set from a local copy and scores it its own way;
these are the parts that are the same for all of them.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import trafilatura

from tests.support.fulltextkit import Score, reader_text

HALVES = ("diag", "check")

Extract = Callable[[bytes | str, str], str]


def half_of(key: str) -> str:
    """The half a page (or a site) falls in, by a stable hash of its key."""
    return HALVES[hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % 2]


def arguments(description: str, folder: str, pages: str) -> argparse.ArgumentParser:
    """A check's command line: FOLDER, --half, --pages and --no-trafilatura."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", type=Path, help=folder)
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all")
    parser.add_argument("--pages", action="store_true", help=pages)
    parser.add_argument("--no-trafilatura", action="store_true", help="score ours only")
    return parser


def ours(html: bytes | str, url: str) -> str:
    """What a reader gets through the 📖 button: every "Read on" tap, not the header."""
    return reader_text(html, url, "Story")  # type: ignore[arg-type]  # str is read too


def trafilatura_alone(html: bytes | str, url: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def extractors(*, with_trafilatura: bool) -> list[tuple[str, Extract]]:
    """Ours, and trafilatura alone with its defaults unless left out."""
    found: list[tuple[str, Extract]] = [("ours", ours)]
    if with_trafilatura:
        found.append(("trafilatura", trafilatura_alone))
    return found


def score_cells(per_page: Mapping[str, Sequence[Score]], i: int) -> str:
    """Page `i`'s precision and recall under each extractor, for a one-line listing."""
    return "  ".join(
        f"{label} P {got[i].precision:.2f} R {got[i].recall:.2f}" for label, got in per_page.items()
    )


def mean_score(scores: Sequence[Score]) -> tuple[float, float, float]:
    """Mean precision, recall and F1 over pages."""
    n = len(scores) or 1
    return (
        sum(s.precision for s in scores) / n,
        sum(s.recall for s in scores) / n,
        sum(s.f1 for s in scores) / n,
    )
