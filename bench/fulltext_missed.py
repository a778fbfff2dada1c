"""Where each missed snippet of `bench/fulltext_snippets.py` is lost, step by step.

Run from the repo root:
``python bench/fulltext_missed.py FOLDER [--half diag|check|all] [--gn1 GN1FOLDER]``.

Each page of the half goes through the 📖 tap's code (`reader_text`) while the steps of
`bot.fulltext.article` are watched: trafilatura's lines of each pass on our tree (recall
and balanced), their cleaned text, the vote's input and output. Every wanted snippet the
final text misses is then looked up in the page's visible text and in each step's text,
and the first step it is not in is where it was lost:

- ``dom``: not even in the page's visible text (a script's text, an attribute)
- ``trafilatura``: in the page, in no trafilatura line of either pass
- ``cleaning``: in trafilatura's lines, not in the cleaned draft
- ``vote``: in the vote's input, not in its output
- ``later``: in the vote's output (or the draft, when no vote ran), not in the text shown
  (pass choice, articleBody stand-in, delivery)

With ``--gn1``, the L3S-GN1 pages of the half (`bench/fulltext_gn1.py`) are listed by the
full-text words our text misses, most first, each with how many of those words
trafilatura's lines held (lost by a step of ours) and how many they never held.

Diagnostic only: nothing here is part of the bot. Choices go on the diag half.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml.html import HtmlElement

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html

import bot.fulltext.article as article
from bench.fulltext_snippets import SnippetPage, _flat, load, ours

_STEPS = ("dom", "trafilatura", "cleaning", "vote", "later")


class _Watch:
    """Texts each watched step produced for the page being read."""

    def __init__(self) -> None:
        self.raw: dict[bool, list[str]] = {True: [], False: []}
        self.cleaned: list[str] = []
        self.vote_in: list[str] = []
        self.vote_out: list[str] = []

    def install(self) -> Callable[[], None]:
        draft, voted = article._draft, article._voted

        def watched_draft(*args: Any, **kwargs: Any) -> Any:
            result = draft(*args, **kwargs)
            if result is not None:
                self.raw[bool(kwargs.get("recall"))].extend(line.text for line in result.raw)
                self.cleaned.extend(result.paragraphs)
            return result

        def watched_voted(tree: Any, found: Any) -> list[str]:
            out = voted(tree, found)
            self.vote_in.extend(found.paragraphs)
            self.vote_out.extend(out)
            return out

        article._draft = watched_draft  # type: ignore[assignment]
        article._voted = watched_voted  # type: ignore[assignment]

        def restore() -> None:
            article._draft = draft  # type: ignore[assignment]
            article._voted = voted  # type: ignore[assignment]

        return restore


def _root(html: bytes) -> HtmlElement | None:
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.LxmlError):
        return None
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return root


def _page_text(root: HtmlElement | None) -> str:
    """The page's text, run together and each element's a word apart (snippets may cross
    elements either way)."""
    if root is None:
        return ""
    return _flat("".join(root.itertext())) + "\n" + _flat(" ".join(root.itertext()))


def _holder(root: HtmlElement, text: str) -> HtmlElement | None:
    """The deepest element whose text holds `text`."""
    flat = _flat(text)
    best = None
    for element in root.iter():
        if isinstance(element.tag, str) and flat in _flat(element.text_content()):
            best = element  # document order: a descendant comes after its ancestor
    return best


def _container(root: HtmlElement, lines: list[str]) -> HtmlElement | None:
    """The deepest element that holds most (80 %) of the characters of the shown text."""
    weight: Counter[HtmlElement] = Counter()
    total = 0
    for line in lines:
        if len(line) < 30:
            continue
        holder = _holder(root, line[:80])
        if holder is None:
            continue
        total += len(line)
        for element in (holder, *holder.iterancestors()):
            weight[element] += len(line)
    inside = [e for e, w in weight.items() if w >= 0.8 * total]
    return max(inside, key=lambda e: sum(1 for _ in e.iterancestors()), default=None)


def _path(element: HtmlElement, stop: HtmlElement | None) -> str:
    names = []
    for node in (element, *element.iterancestors()):
        if node is stop:
            break
        names.append(
            node.tag + (f".{node.get('class', '').split()[0]}" if node.get("class") else "")
        )
    return "/".join(reversed(names[:6]))


def _has(snippet: str, texts: list[str]) -> bool:
    return _flat(snippet) in _flat("\n".join(texts))


def where_lost(snippet: str, page_text: str, watch: _Watch) -> str:
    """The first step whose text no longer holds the snippet."""
    if _flat(snippet) not in page_text:
        return "dom"
    raw = watch.raw[True] + watch.raw[False]
    if not _has(snippet, raw):
        return "trafilatura"
    if not _has(snippet, watch.cleaned):
        return "cleaning"
    if watch.vote_in and _has(snippet, watch.vote_in) and not _has(snippet, watch.vote_out):
        return "vote"
    return "later"


def diagnose(page: SnippetPage) -> list[tuple[str, str, str]]:
    """(step, pass that had it, snippet) for each wanted snippet the text shown misses."""
    watch = _Watch()
    restore = watch.install()
    try:
        text = _flat(ours(page))
    finally:
        restore()
    root = _root(page.html)
    page_text = _page_text(root)
    box = _container(root, watch.vote_out or watch.cleaned) if root is not None else None
    rows = []
    for snippet in page.wanted:
        if _flat(snippet) in text:
            continue
        step = where_lost(snippet, page_text, watch)
        passes = "".join(
            name for name, key in (("R", True), ("B", False)) if _has(snippet, watch.raw[key])
        )
        where = ""
        if step == "trafilatura" and root is not None:
            holder = _holder(root, snippet)
            inside = (
                holder is not None and box is not None and box in (holder, *holder.iterancestors())
            )
            where = ("IN " if inside else "out ") + (
                _path(holder, box) if holder is not None else "?"
            )
        rows.append((step, passes or "-", snippet + ("  @ " + where if where else "")))
    return rows


def _watched(html: bytes | str, read: Callable[[], str]) -> tuple[str, _Watch]:
    watch = _Watch()
    restore = watch.install()
    try:
        return read(), watch
    finally:
        restore()


def gn1_losses(folder: Path, half: str) -> None:
    """GN1 pages by full-text words lost: in trafilatura's lines, or never in them."""
    from bench import fulltext_gn1
    from tests.support.fulltextkit import words

    rows = []
    for page in fulltext_gn1.load(folder):
        if not page.full or half not in ("all", page.half):
            continue
        text, watch = _watched(page.html, lambda page=page: fulltext_gn1.ours(page))
        missing = page.full - words(text)
        raw = words("\n".join(watch.raw[True] + watch.raw[False]))
        ours_lost = sum((missing & raw).values())
        rows.append((sum(missing.values()), ours_lost, page))
    print("\n| page | full-text words | missed | in trafilatura's lines | never there |")
    print("|---|---|---|---|---|")
    for missed, ours_lost, page in sorted(rows, key=lambda r: -r[0])[:40]:
        total = sum(page.full.values())
        print(
            f"| {page.name[:8]} {page.url[:60]} | {total} | {missed} | {ours_lost} "
            f"| {missed - ours_lost} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--half", choices=("diag", "check", "all"), default="diag")
    parser.add_argument("--gn1", type=Path, help="also list this L3S-GN1 set's pages by loss")
    args = parser.parse_args(argv)
    if not (args.folder / "evaldata.json").is_file():
        print(f"{args.folder}/evaldata.json not found: needs a local copy", file=sys.stderr)
        return 2
    pages = [p for p in load(args.folder) if args.half in ("all", p.half)]
    steps: Counter[str] = Counter()
    for page in pages:
        rows = diagnose(page)
        if rows:
            print(page.url)
        for step, passes, snippet in rows:
            steps[step] += 1
            print(f"  {step:<11} {passes:<2} {snippet[:200]!r}")
    print("\n| step | missed |\n|---|---|")
    for step in _STEPS:
        print(f"| {step} | {steps[step]} |")
    if args.gn1:
        gn1_losses(args.gn1, args.half)
    return 0


if __name__ == "__main__":
    sys.exit(main())
