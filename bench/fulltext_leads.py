"""Check where the 📖 text begins, on 144 news and blog pages no setting was chosen on.

Run from the repo root:
``python bench/fulltext_leads.py FOLDER [--half diag|check|all] [--pages] [--no-trafilatura]``.

FOLDER holds `fixtures/` and `src/extractors/custom/` of the Postlight (Mercury) Parser's
repository (postlight/parser, MIT or Apache-2.0; nothing of it is part of this project:
the script reads a local copy, see BENCHMARKS.md, and exits 2 when there is none). Each
site's extractor test there names a saved page (`fixtures/….html`), its address, and the
first 13 words its article content must begin with, as the parser's authors checked them
by hand for that site (2016–2021 pages, many of them large news sites).

That is no full reference, only the article's opening; so this checks one thing the
other sets weigh little: whether the text begins where the article begins, neither
missing the lede nor starting with the page's furniture. For each page the opening's
last six words are looked for in a row in the extracted text (words as `\\w+`, lower
case): an expected opening now and then begins with a photo's caption or credit, which a
text may rightly leave out. The table gives the share of pages where it is found, where it is
found within the first 25 words of the text (nothing much before it), and the mean
number of words before it when found.

Each page goes through the code a 📖 tap runs (`tests.support.fulltextkit.reader_text`;
the header with the title is not counted) and through `trafilatura.extract` with its
defaults. Pages are split into halves by a stable hash of the site: "diag" (for finding
failure modes) and "check" (only measured).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pagesets import arguments, extractors, half_of

TAIL = 6  # the opening is found by its last six words in a row
NEAR_START = 25  # words before the opening that still count as "starts there"
_CHUNK = re.compile(r"\n  describe\(")
_URL = re.compile(r"url\s*=\s*(['`\"])(.+?)\1", re.S)
_FIXTURE = re.compile(r"readFileSync\(\s*'\./(fixtures/[^']+)'")
_OPENING = re.compile(r"first13,\s*(['`\"])(.*?)(?<!\\)\1\s*\)", re.S)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class LeadPage:
    site: str
    url: str
    html: bytes
    opening: tuple[str, ...]

    @property
    def half(self) -> str:
        return half_of(self.site)


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def load(folder: Path) -> list[LeadPage]:
    """Every (page, opening) pair the site tests name, whose page is on disk."""
    pages = []
    for test in sorted((folder / "src" / "extractors" / "custom").glob("*/index.test.js")):
        for chunk in _CHUNK.split(test.read_text(encoding="utf-8"))[1:]:
            url, fixture, opening = (
                _URL.search(chunk),
                _FIXTURE.search(chunk),
                _OPENING.search(chunk),
            )
            if not (url and fixture and opening):
                continue
            path = folder / fixture.group(1)
            words = tuple(tokens(opening.group(2).replace("\\'", "'")))
            if path.is_file() and len(words) >= TAIL:
                pages.append(LeadPage(test.parent.name, url.group(2), path.read_bytes(), words))
    return pages


def find_opening(text: list[str], opening: tuple[str, ...]) -> int | None:
    """How many words of `text` come before `opening`, or None when it is not there.

    The opening is found by its last `TAIL` words in a row: the first words of an
    expected opening are now and then a photo's caption or credit, which a text may
    rightly leave out. Words before the place where the whole opening would begin count
    as before it.
    """
    tail = opening[-TAIL:]
    first = tail[0]
    for start, word in enumerate(text):
        if word == first and tuple(text[start : start + TAIL]) == tail:
            return max(start - (len(opening) - TAIL), 0)
    return None


def main(argv: list[str] | None = None) -> int:
    args = arguments(
        __doc__.splitlines()[0],
        "a copy of postlight/parser's fixtures and src",
        "one line per page whose opening is not found near the start",
    ).parse_args(argv)
    if not (args.folder / "fixtures").is_dir():
        print(f"{args.folder}: no Postlight Parser fixtures there (needs a copy)", file=sys.stderr)
        return 2
    pages = [p for p in load(args.folder) if args.half in ("all", p.half)]
    print(f"Pages: {len(pages)} from {len({p.site for p in pages})} sites ({args.half})\n")
    print("| extractor | opening found | found within 25 words | mean words before it | empty |")
    print("|---|---|---|---|---|")
    misses: dict[str, list[str]] = {}
    for label, extract in extractors(with_trafilatura=not args.no_trafilatura):
        texts = [extract(page.html, page.url) for page in pages]
        before = [find_opening(tokens(t), p.opening) for t, p in zip(texts, pages, strict=True)]
        found = [b for b in before if b is not None]
        near = sum(b <= NEAR_START for b in found)
        n = max(len(pages), 1)
        mean_before = sum(found) / len(found) if found else 0.0
        empty = sum(not t.strip() for t in texts)
        print(
            f"| {label} | {len(found) / n:.3f} ({len(found)}) | {near / n:.3f} ({near}) "
            f"| {mean_before:.1f} | {empty} |"
        )
        misses[label] = [
            f"{p.site} [{p.half}] {'not found' if b is None else f'{b} words before'}: "
            f"{' '.join(p.opening)} | got: {' '.join(tokens(t)[:20])}"
            for p, b, t in zip(pages, before, texts, strict=True)
            if b is None or b > NEAR_START
        ]
    if args.pages:
        for label, lines in misses.items():
            print(f"\n{label}:")
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
