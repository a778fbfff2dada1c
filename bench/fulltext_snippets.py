"""Check the 📖 full text on a second, independent page set: expected and unwanted snippets.

Run from the repo root:
``python bench/fulltext_snippets.py FOLDER [--half diag|check|all] [--pages] [--dump FILE]``.

FOLDER holds an `evaldata.json` mapping each page's address to its saved file and to
snippets of text the article must hold ("with") and page furniture it must not
("without"), and the saved pages under `FOLDER/eval` or `FOLDER/cache`; trafilatura's
repository keeps such a set under `tests/` (Apache-2.0). Nothing of it is part of this
project: the script reads a local copy and exits 2 when there is none.

Each page goes through the code a 📖 tap runs (`tests.support.fulltextkit.reader_text`:
extraction, storage, rendering, every "Read on" tap), and through `trafilatura.extract`
with its defaults. A snippet counts as found when its text, with runs of whitespace made
one space and Unicode composed (NFC), is in the whole text so made. Scores are summed
over snippets, as trafilatura's own evaluation does: precision = found "with" / (found
"with" + found "without"), recall = found "with" / all "with". The pages are split by a stable hash
of their address into "diag" (looked at to find failure modes) and "check" (only
measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from tests.support.fulltextkit import reader_text

HALVES = ("diag", "check")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class SnippetPage:
    url: str
    html: bytes
    wanted: tuple[str, ...]
    unwanted: tuple[str, ...]

    @property
    def half(self) -> str:
        return HALVES[hashlib.blake2b(self.url.encode(), digest_size=2).digest()[0] % 2]


@dataclass(slots=True)
class Counts:
    found: int = 0  # wanted snippets in the text
    missed: int = 0  # wanted snippets not in it
    furniture: int = 0  # unwanted snippets in it
    clean: int = 0  # unwanted snippets not in it
    empty: int = 0  # pages with no text

    def add(self, page: SnippetPage, text: str) -> None:
        flat = _flat(text)
        found = sum(_flat(s) in flat for s in page.wanted)
        furniture = sum(_flat(s) in flat for s in page.unwanted)
        self.found += found
        self.missed += len(page.wanted) - found
        self.furniture += furniture
        self.clean += len(page.unwanted) - furniture
        self.empty += not flat

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.furniture) if self.found + self.furniture else 0.0

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.missed) if self.found + self.missed else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _flat(text: str) -> str:
    """Runs of whitespace made one space, Unicode composed (NFC) as snippets are typed."""
    return unicodedata.normalize("NFC", _SPACE.sub(" ", text).strip())


def load(folder: Path) -> list[SnippetPage]:
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(data):
        item = data[url]
        candidates = (folder / "cache" / item["file"], folder / "eval" / item["file"])
        path = next((p for p in candidates if p.is_file()), None)
        if path is not None:
            pages.append(
                SnippetPage(url, path.read_bytes(), tuple(item["with"]), tuple(item["without"]))
            )
    return pages


def ours(page: SnippetPage) -> str:
    return reader_text(page.html, page.url, "Story")


def trafilatura_alone(page: SnippetPage) -> str:
    return trafilatura.extract(page.html, url=page.url) or ""


def run(
    pages: Iterable[SnippetPage], extractor: Callable[[SnippetPage], str]
) -> tuple[dict[str, str], float]:
    texts, seconds = {}, 0.0
    for page in pages:
        start = time.perf_counter()
        texts[page.url] = extractor(page)
        seconds += time.perf_counter() - start
    return texts, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with evaldata.json, eval/ and cache/")
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all")
    parser.add_argument("--pages", action="store_true", help="list pages that miss or leak")
    parser.add_argument("--dump", type=Path, help="write every page's two texts to this JSON")
    parser.add_argument("--no-trafilatura", action="store_true", help="score ours only")
    args = parser.parse_args(argv)
    if not (args.folder / "evaldata.json").is_file():
        print(f"{args.folder}/evaldata.json not found: needs a local copy", file=sys.stderr)
        return 2
    pages = [p for p in load(args.folder) if args.half in ("all", p.half)]
    mine, t_mine = run(pages, ours)
    theirs, t_theirs = ({}, 0.0) if args.no_trafilatura else run(pages, trafilatura_alone)
    print(f"Pages: {len(pages)} ({args.half})\n")
    print("| extractor | P | R | F1 | found | missed | furniture | empty | ms/page |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, texts, seconds in (("ours", mine, t_mine), ("trafilatura", theirs, t_theirs)):
        if not texts:
            continue
        counts = Counts()
        for page in pages:
            counts.add(page, texts[page.url])
        print(
            f"| {label} | {counts.precision:.3f} | {counts.recall:.3f} | {counts.f1:.3f} "
            f"| {counts.found} | {counts.missed} | {counts.furniture} | {counts.empty} "
            f"| {1000 * seconds / len(pages):.1f} |"
        )
    if theirs:
        empty = [p.url for p in pages if not _flat(mine[p.url]) and _flat(theirs[p.url])]
        print(f"\nEmpty where trafilatura finds text ({len(empty)}): {', '.join(empty) or '-'}")
    if args.pages:
        print()
        for page in pages:
            flat = _flat(mine[page.url])
            missed = [s for s in page.wanted if _flat(s) not in flat]
            leaked = [s for s in page.unwanted if _flat(s) in flat]
            if missed or leaked:
                print(f"{page.url}\n  missed: {missed}\n  leaked: {leaked}")
    if args.dump:
        dump = {p.url: {"ours": mine[p.url], "trafilatura": theirs.get(p.url)} for p in pages}
        args.dump.write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
