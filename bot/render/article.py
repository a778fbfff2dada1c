"""Lay an extracted article out as Telegram HTML messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.fulltext.article import Article, hostname
from bot.fulltext.body import BULLET
from bot.render import plain, tghtml

TITLE_LIMIT = 300
# A short paragraph that ends no sentence is a subheading or a lead-in ("Conclusion",
# "What we know so far:"): it goes into the message of the text it introduces, so no
# message ends with a heading whose section starts in the next one.
HEADING_CHARS = 100
_HELD_LIMIT = 4  # a run of more such lines (a menu-like list) is not held together whole
_ENDS_SENTENCE = re.compile(r"""[.!?…。！？؟]["'”’»)\]」』]*(?:\[\w{1,8}\])*$""")


def render_article(
    article: Article,
    *,
    source_name: str | None,
    limit: int = tghtml.MESSAGE_LIMIT,
    fill: bool = False,
) -> list[str]:
    """Lay an article out as Telegram HTML messages: bold title, source and link, then text.

    Messages end between paragraphs (or list items, one a line), never right after a
    subheading; with `fill`, a paragraph is cut at a sentence to fill each message (a
    long article in as few messages as it can). Soft hyphens and zero-width characters
    are not shown.
    """
    source = source_name or article.source
    origin = tghtml.link(hostname(article.url), article.url)
    byline = f"{tghtml.italic(source)} · {origin}" if source else origin
    title = plain.truncate(plain.drop_invisible(article.title).strip(), TITLE_LIMIT)
    header = f"{tghtml.bold(title)}\n{byline}"
    shown = (plain.drop_invisible(paragraph) for paragraph in article.paragraphs)
    paragraphs = [paragraph for paragraph in shown if paragraph.strip()]
    blocks = [header, *(tghtml.escape(b) for b in _with_headings_held(_lists(paragraphs)))]
    return tghtml.split_html_message(blocks, limit=limit, fill=fill)


def _lists(paragraphs: Iterable[str]) -> list[str]:
    """Join each run of list items into one paragraph, an item a line."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and paragraph.startswith(BULLET) and joined[-1].startswith(BULLET):
            joined[-1] = f"{joined[-1]}\n{paragraph}"
        else:
            joined.append(paragraph)
    return joined


def _is_heading(paragraph: str) -> bool:
    text = paragraph.strip()
    return (
        len(text) <= HEADING_CHARS
        and "\n" not in text
        and not text.startswith(BULLET)
        and _ENDS_SENTENCE.search(text) is None
    )


def _with_headings_held(paragraphs: Iterable[str]) -> list[str]:
    """Join each heading to the paragraph after it (one block, still a blank line apart)."""
    blocks: list[str] = []
    held: list[str] = []
    for paragraph in paragraphs:
        held.append(paragraph)
        if _is_heading(paragraph):
            while len(held) > _HELD_LIMIT:
                blocks.append(held.pop(0))
            continue
        blocks.append(tghtml.BLOCK_SEPARATOR.join(held))
        held = []
    if held:
        blocks.append(tghtml.BLOCK_SEPARATOR.join(held))
    return blocks
