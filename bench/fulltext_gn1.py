"""Check the 📖 full text on a third page set: L3S-GN1, news articles annotated by hand.

Run from the repo root:
``python bench/fulltext_gn1.py FOLDER [--half diag|check|all] [--pages] [--dump FILE]``.

FOLDER is the unpacked L3S-GN1 set (Kohlschütter et al., WSDM 2010; 621 news articles
from 408 sites, crawled from Google News in 2008; licensed for research use only, so
nothing of it is part of this project: the script reads a local copy and exits 2 when
there is none). It holds `original/NAME.html` (the page as crawled, in UTF-8 whatever
its `<meta>` says: all 621 are valid UTF-8, 270 declare another charset, so the crawl
transcoded them), `annotated/NAME.html` (the page with each text block wrapped in
`<span class="x-nc-selN">`: 1 headline, 2 full text, 3 supplemental such as captions and
datelines, 4 related content, 5 comments, 0 or none boilerplate) and `url-mapping.txt`
(`<urn:uuid:NAME>` TAB address).

Each original page goes through the code a 📖 tap runs (`tests.support.fulltextkit.reader_text`:
extraction, storage, rendering, every "Read on" tap; the header with the title is not
scored), and through `trafilatura.extract` with its defaults, given the page's address. Both get
the file decoded as UTF-8 (``--bytes``: its bytes; the scores were the same, trafilatura
detects UTF-8 whatever the `<meta>` says). Some files hold mojibake themselves ("Â "
for a no-break space, double-encoded when crawled): the same for both extractors.
The reference is the full text (sel2) alone: the headline is shown in the 📖 header, and
captions, related links and comments are not the article. A text block's label is that
of the nearest enclosing span. Scores are bag-of-words precision, recall and F1 per page
(`tests.support.fulltextkit.score`), averaged over pages, and also F1 of the averaged P
and R. A variant makes supplemental (sel3) words neutral: extracted words that are not
full text but are supplemental count neither for nor against. Pages whose annotation has
no full text are left out. The pages are split by a stable hash of the file name into
"diag" (looked at to find failure modes) and "check" (only measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html
import trafilatura
from lxml.html import HtmlElement

from tests.support.fulltextkit import Score, reader_text, score, words

HALVES = ("diag", "check")
FULL_TEXT, SUPPLEMENTAL = "x-nc-sel2", "x-nc-sel3"
_LABELS = {f"x-nc-sel{n}" for n in range(6)}
_UNREAD = {"script", "style", "noscript"}


@dataclass(frozen=True, slots=True)
class GnPage:
    name: str
    url: str
    html: bytes | str
    full: Counter[str]  # words of the full text (sel2)
    supplemental: Counter[str]  # words of captions, datelines ... (sel3)

    @property
    def half(self) -> str:
        return HALVES[hashlib.blake2b(self.name.encode(), digest_size=2).digest()[0] % 2]


def _label(element: HtmlElement, inherited: str | None) -> str | None:
    classes = set((element.get("class") or "").split()) & _LABELS
    return min(classes) if element.tag == "span" and classes else inherited


def labelled_texts(element: HtmlElement, label: str | None = None) -> Iterator[tuple[str, str]]:
    """Each text block of the annotated page with its label (the nearest span's class)."""
    if not isinstance(element.tag, str) or element.tag in _UNREAD:
        return
    own = _label(element, label)
    if element.text and own:
        yield own, element.text
    for child in element:
        yield from labelled_texts(child, own)
        if child.tail and own:
            yield own, child.tail


def reference(annotated: bytes) -> dict[str, Counter[str]]:
    """The words of each label in an annotated page (blocks joined with spaces)."""
    tree = lxml.html.document_fromstring(annotated, parser=_UTF8)
    texts: dict[str, list[str]] = {}
    for label, text in labelled_texts(tree):
        texts.setdefault(label, []).append(text)
    return {label: words(" ".join(parts)) for label, parts in texts.items()}


_UTF8 = lxml.html.HTMLParser(encoding="utf-8")


def load(folder: Path, *, raw: bool = False) -> list[GnPage]:
    addresses = {}
    for line in (folder / "url-mapping.txt").read_text(encoding="utf-8").splitlines():
        key, _, url = line.partition("\t")
        addresses[key.strip().removeprefix("<urn:uuid:").removesuffix(">")] = url.strip()
    pages = []
    for path in sorted((folder / "original").glob("*.html")):
        annotated = folder / "annotated" / path.name
        if not annotated.is_file() or path.stem not in addresses:
            continue
        labels = reference(annotated.read_bytes())
        pages.append(
            GnPage(
                path.stem,
                addresses[path.stem],
                path.read_bytes() if raw else path.read_text(encoding="utf-8"),
                labels.get(FULL_TEXT, Counter()),
                labels.get(SUPPLEMENTAL, Counter()),
            )
        )
    return pages


def neutral_score(got: Counter[str], page: GnPage) -> Score:
    """As `score`, with extracted supplemental words that are not full text left out."""
    extra = got - page.full
    return score(got - (extra & page.supplemental), page.full)


def ours(page: GnPage) -> str:
    return reader_text(page.html, page.url, "Story")  # type: ignore[arg-type]  # str too


def trafilatura_alone(page: GnPage) -> str:
    return trafilatura.extract(page.html, url=page.url) or ""


def run(
    pages: Iterable[GnPage], extractor: Callable[[GnPage], str]
) -> tuple[dict[str, str], float]:
    texts, seconds = {}, 0.0
    for page in pages:
        start = time.perf_counter()
        texts[page.name] = extractor(page)
        seconds += time.perf_counter() - start
    return texts, seconds


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _cells(scores: list[Score]) -> str:
    p, r = mean(s.precision for s in scores), mean(s.recall for s in scores)
    f1_of_means = 2 * p * r / (p + r) if p + r else 0.0
    f1 = mean(s.f1 for s in scores)
    return f"{p:.3f} | {r:.3f} | **{f1:.4f}** | {f1_of_means:.4f}"


def report(pages: list[GnPage], results: dict[str, dict[str, str]], halves: list[str]) -> None:
    print("| half | n | extractor | reference | P | R | F1 (mean of pages) | F1 of mean P, R |")
    print("|---|---|---|---|---|---|---|---|")
    for half in halves:
        group = [p for p in pages if half in ("all", p.half)]
        for label, texts in results.items():
            got = {p.name: words(texts[p.name]) for p in group}
            main = [score(got[p.name], p.full) for p in group]
            neutral = [neutral_score(got[p.name], p) for p in group]
            print(f"| {half} | {len(group)} | {label} | sel2 | {_cells(main)} |")
            print(f"| {half} | {len(group)} | {label} | sel2, sel3 neutral | {_cells(neutral)} |")


def _page_lines(page: GnPage, mine: str, theirs: str | None) -> str:
    got = words(mine)
    o = score(got, page.full)
    line = f"{page.name} [{page.half}] {page.url}\n"
    line += f"  ours P/R/F1 {o.precision:.2f}/{o.recall:.2f}/{o.f1:.2f}"
    if theirs is not None:
        t = score(words(theirs), page.full)
        line += f", trafilatura {t.precision:.2f}/{t.recall:.2f}/{t.f1:.2f}"
    missing = page.full - got
    extra = got - page.full
    line += f"\n  missing ({sum(missing.values())}): {' '.join(sorted(missing.elements())[:60])}"
    line += f"\n  extra ({sum(extra.values())}): {' '.join(sorted(extra.elements())[:60])}"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder", type=Path, help="folder with original/, annotated/, url-mapping.txt"
    )
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all")
    parser.add_argument(
        "--pages", action="store_true", help="list each page's lost and extra words"
    )
    parser.add_argument("--dump", type=Path, help="write every page's texts to this JSON")
    parser.add_argument("--no-trafilatura", action="store_true", help="score ours only")
    parser.add_argument(
        "--bytes", action="store_true", help="pass the files' bytes, not their UTF-8 text"
    )
    args = parser.parse_args(argv)
    if not (args.folder / "url-mapping.txt").is_file() or not (args.folder / "annotated").is_dir():
        print(f"{args.folder}: no L3S-GN1 set there (needs a local copy)", file=sys.stderr)
        return 2
    loaded = load(args.folder, raw=args.bytes)
    pages = [p for p in loaded if p.full and args.half in ("all", p.half)]
    unscored = sum(not p.full for p in loaded)
    mine, t_mine = run(pages, ours)
    theirs, t_theirs = ({}, 0.0) if args.no_trafilatura else run(pages, trafilatura_alone)
    print(
        f"Pages: {len(pages)} ({args.half}); "
        f"without full text in the annotation, left out: {unscored}\n"
    )
    results = {"ours": mine} | ({"trafilatura": theirs} if theirs else {})
    report(pages, results, [*HALVES, "all"] if args.half == "all" else [args.half])
    n = max(len(pages), 1)
    print(
        f"\nTime per page: ours {1000 * t_mine / n:.1f} ms, "
        f"trafilatura {1000 * t_theirs / n:.1f} ms"
    )
    empty_ours = [p.name for p in pages if not words(mine[p.name])]
    print(f"Empty (ours) ({len(empty_ours)}): {', '.join(empty_ours) or '-'}")
    if theirs:
        empty = [p.name for p in pages if not words(mine[p.name]) and words(theirs[p.name])]
        print(f"Empty where trafilatura finds text ({len(empty)}): {', '.join(empty) or '-'}")
    if args.pages:
        print()
        for page in sorted(pages, key=lambda p: score(words(mine[p.name]), p.full).f1):
            print(_page_lines(page, mine[page.name], theirs.get(page.name)))
    if args.dump:
        dump = {
            p.name: {
                "url": p.url,
                "half": p.half,
                "ours": mine[p.name],
                "trafilatura": theirs.get(p.name),
            }
            for p in pages
        }
        args.dump.write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
