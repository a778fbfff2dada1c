"""Where the words we keep but the reference lacks lie: before, inside or after the article.

Run from the repo root:
``python bench/fulltext_extra.py --gn1 FOLDER --snippets FOLDER [--half diag] [--worst N]``.

For each L3S-GN1 page, each line of the extracted text (`extract_article`'s paragraphs, a
line a row) is the reference's when at least half of its word 3-grams (a short line: its
words) are in the full text (sel2); the lines before the first such line are "before",
those after the last one "after", the rest "inside". Each line's words that the
reference lacks (as a multiset, in the page's order) are its extra words. Pages are
ranked by precision lost (extra words over all words). For trafilatura's evaluation
pages each furniture snippet found is placed against the wanted snippets found around
it. Diagnosis only: choose on the diag halves.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html

from bench import fulltext_gn1 as gn1
from bench import fulltext_snippets as snip
from bot.fulltext.article import Article, extract_article

_GRAM = 3


def _grams(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + _GRAM]) for i in range(len(tokens) - _GRAM + 1)}


_WORD = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _sel2_text(folder: Path, name: str) -> str:
    tree = lxml.html.document_fromstring(
        (folder / "annotated" / f"{name}.html").read_bytes(), parser=gn1._UTF8
    )
    return " ".join(t for label, t in gn1.labelled_texts(tree) if label == gn1.FULL_TEXT)


def _lines(result: object) -> list[str]:
    if not isinstance(result, Article):
        return []
    return [line for p in result.paragraphs for line in p.split("\n") if line.strip()]


def place_lines(lines: list[str], reference: str) -> list[tuple[str, str, int]]:
    """Each line with its place (before / inside / after) and its extra words."""
    ref_tokens = _tokens(reference)
    ref_grams, ref_words = _grams(ref_tokens), set(ref_tokens)
    own = []
    for line in lines:
        tokens = _tokens(line)
        grams = _grams(tokens)
        if grams:
            own.append(len(grams & ref_grams) >= 0.5 * len(grams))
        else:
            own.append(bool(tokens) and all(t in ref_words for t in tokens))
    if not any(own):
        return [(line, "nowhere", len(_tokens(line))) for line in lines]
    first, last = own.index(True), len(own) - 1 - own[::-1].index(True)
    left = Counter(ref_tokens)
    placed = []
    for i, line in enumerate(lines):
        extra = 0
        for token in _tokens(line):
            if left[token] > 0:
                left[token] -= 1
            else:
                extra += 1
        place = "before" if i < first else "after" if i > last else "inside"
        placed.append((line, place, extra))
    return placed


def gn1_report(folder: Path, half: str, worst: int, show: int) -> None:
    pages = [p for p in gn1.load(folder) if p.full and half in ("all", p.half)]
    totals: Counter[str] = Counter()
    ranked = []
    for page in pages:
        lines = _lines(extract_article(page.html, url=page.url))
        placed = place_lines(lines, _sel2_text(folder, page.name))
        total = sum(len(_tokens(line)) for line in lines)
        by_place: Counter[str] = Counter()
        for _, place, extra in placed:
            by_place[place] += extra
        totals.update(by_place)
        lost = sum(by_place.values()) / total if total else 0.0
        ranked.append((lost, page, placed, by_place))
    print(f"GN1 {half}: {len(pages)} pages; extra words by place: {dict(totals)}")
    ranked.sort(key=lambda item: -item[0])
    for lost, page, placed, by_place in ranked[:worst]:
        print(f"\n== {page.name} {page.url} lost {lost:.2f} {dict(by_place)}")
        for line, place, extra in placed:
            if (place != "inside" and extra) or (place == "inside" and extra > 5):
                print(f"  [{place[:3]} +{extra}] {line[:show]}")


def snippets_report(folder: Path, half: str, worst: int, show: int) -> None:
    pages = [p for p in snip.load(folder) if half in ("all", p.half)]
    totals: Counter[str] = Counter()
    ranked = []
    for page in pages:
        text = snip._flat("\n".join(_lines(extract_article(page.html, url=page.url))))
        wanted = [text.find(snip._flat(s)) for s in page.wanted]
        wanted = [i for i in wanted if i >= 0]
        leaks = []
        for s in page.unwanted:
            at = text.find(snip._flat(s))
            if at < 0:
                continue
            place = (
                "nowhere"
                if not wanted
                else "before"
                if at < min(wanted)
                else "after"
                if at > max(wanted)
                else "inside"
            )
            totals[place] += 1
            leaks.append((place, s))
        if leaks:
            ranked.append((len(leaks), page, leaks))
    print(f"\nsnippets {half}: {len(pages)} pages; furniture found by place: {dict(totals)}")
    ranked.sort(key=lambda item: -item[0])
    for count, page, leaks in ranked[:worst]:
        print(f"\n== {page.url} furniture {count}")
        for place, s in leaks:
            print(f"  [{place[:3]}] {s[:show]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gn1", type=Path)
    parser.add_argument("--snippets", type=Path)
    parser.add_argument("--half", choices=("diag", "check", "all"), default="diag")
    parser.add_argument("--worst", type=int, default=30, help="pages to list")
    parser.add_argument("--show", type=int, default=160, help="characters of a line shown")
    args = parser.parse_args(argv)
    if args.gn1:
        gn1_report(args.gn1, args.half, args.worst, args.show)
    if args.snippets:
        snippets_report(args.snippets, args.half, args.worst, args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
