"""Scoring the 📖 full text against Mozilla Readability's test pages (shared by bench and tests).

Each page goes through the code a first tap runs: `extract_article` on the saved page,
then what is stored and rendered (`articles.tap_messages`): the first tap's messages and
those of each "Read on" tap after it. The text scored is what the messages show, without
the header (title, source, link) and the closing line.
Words are compared as multisets (bag of words) with the text of `expected.html`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import trafilatura

from bot.delivery.message import OutMessage
from bot.fulltext.article import extract_article
from bot.render import texts
from bot.render.stories import parse_fulltext_tap
from bot.render.tghtml import plain_text
from bot.services.articles import StoryRef, tap_messages
from bot.settings import FulltextSettings

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "readability-test-pages"
HALVES = ("tune", "test")
# A word: a run of letters and digits, except that each CJK character counts alone (those
# scripts put no spaces between words).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_NOW = datetime(2026, 1, 1, tzinfo=UTC)
SHINGLES_HELP = "score runs of four words, case kept, instead of single words"
# Closing lines the bot adds after the article's text.
_CLOSING = tuple(t.split("{", 1)[0] for t in (texts.FULLTEXT_CONTINUE, texts.FULLTEXT_PARTIAL))


@dataclass(frozen=True, slots=True)
class Page:
    """One saved page: its folder name, HTML and the expected article's words."""

    name: str
    html: bytes
    expected: Counter[str]

    @property
    def half(self) -> str:
        """Stable half for tuning/testing: the parity of a hash of the folder name."""
        return HALVES[hashlib.blake2b(self.name.encode(), digest_size=2).digest()[0] % 2]

    @property
    def url(self) -> str:
        return f"https://{self.name}.example/article"


@dataclass(frozen=True, slots=True)
class Score:
    """Word-level precision, recall and F1 of one extraction of one page."""

    precision: float
    recall: float
    f1: float
    words: int  # words extracted


def words(text: str) -> Counter[str]:
    """The text's words, lower-cased, as a multiset."""
    return Counter(word.lower() for word in _WORD.findall(text))


def shingles(text: str, n: int = 4) -> Counter[str]:
    """The text's runs of `n` consecutive words, case kept, as a multiset.

    Stricter than `words`: a word counts only in its place, so text out of order, joined
    across a paragraph, or in another case scores lower (benchmarks of article extractors
    often score this way).
    """
    found = _WORD.findall(text)
    return Counter(" ".join(found[i : i + n]) for i in range(max(1, len(found) - n + 1)) if found)


def score(got: Counter[str], expected: Counter[str]) -> Score:
    """Bag-of-words overlap. An empty result on an empty expectation counts as perfect."""
    n_got, n_expected = sum(got.values()), sum(expected.values())
    if n_got == 0 and n_expected == 0:
        return Score(1.0, 1.0, 1.0, 0)
    common = sum((got & expected).values())
    precision = common / n_got if n_got else 0.0
    recall = common / n_expected if n_expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Score(precision, recall, f1, n_got)


def load_pages(root: Path) -> list[Page]:
    """Every folder with source.html and expected.html, sorted by name."""
    pages = []
    for folder in sorted(p for p in root.iterdir() if (p / "expected.html").is_file()):
        # expected.html is UTF-8 without a charset declaration: decode before parsing.
        expected = lxml.html.fromstring((folder / "expected.html").read_text(encoding="utf-8"))
        pages.append(
            Page(folder.name, (folder / "source.html").read_bytes(), words(expected.text_content()))
        )
    return pages


def shown_body(messages: list[str], *, header: bool = True) -> str:
    """The article text the messages show: no header block, no closing line.

    `header`: the first block is the header (title, source, link), as on a first tap.
    """
    blocks = [block for m in messages for block in plain_text(m).split("\n\n")]
    if header and len(messages) == 1 and len(blocks) == 1:
        return ""  # a one-line failure ("Couldn't get the article's text ...")
    return "\n\n".join(b for b in blocks[int(header) :] if not b.startswith(_CLOSING))


def production_text(page: Page, fs: FulltextSettings | None = None, *, read_on: bool = True) -> str:
    """What a reader of a story linking to this page gets, as plain text.

    The first tap's messages, then (unless `read_on` is False) those of each "Read on"
    button the last message carries, as long as there is one.
    """
    return reader_text(page.html, page.url, page.name, fs, read_on=read_on)


def reader_text(
    html: bytes, url: str, title: str, fs: FulltextSettings | None = None, *, read_on: bool = True
) -> str:
    """What a reader of a story titled `title` linking to `url` (this page) gets, as plain text."""
    fs = fs or FulltextSettings()
    result = extract_article(html, url=url)
    ref = StoryRef(id=1, title=title, link=url, source="Source")
    messages = tap_messages(ref, result, fs, now=_NOW)
    texts = [shown_body([m.html for m in messages])]
    while read_on and (start := _read_on(messages)):
        messages = tap_messages(ref, result, fs, now=_NOW, start=start)
        texts.append(shown_body([m.html for m in messages], header=False))
    return "\n\n".join(t for t in texts if t)


def _read_on(messages: list[OutMessage]) -> int:
    """The first message a "Read on" button on the last message asks for, or 0."""
    buttons = [b for row in messages[-1].keyboard for b in row] if messages else []
    taps = [parse_fulltext_tap(b.callback_data) for b in buttons]
    return next((tap[1] for tap in taps if tap), 0)


def trafilatura_text(page: Page) -> str:
    """trafilatura alone, its defaults."""
    return trafilatura.extract(page.html, url=page.url) or ""
