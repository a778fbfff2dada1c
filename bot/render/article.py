"""Lay an extracted article out as Telegram HTML messages."""

from __future__ import annotations

from bot.fulltext.article import Article, hostname
from bot.render import plain, tghtml

TITLE_LIMIT = 300


def render_article(
    article: Article,
    *,
    source_name: str | None,
    limit: int = tghtml.MESSAGE_LIMIT,
    fill: bool = False,
) -> list[str]:
    """Lay an article out as Telegram HTML messages: bold title, source and link, then text.

    Messages end between paragraphs; with `fill`, a paragraph is cut at a sentence to
    fill each message (a long article in as few messages as it can).
    """
    source = source_name or article.source
    origin = tghtml.link(hostname(article.url), article.url)
    byline = f"{tghtml.italic(source)} · {origin}" if source else origin
    title = plain.truncate(article.title.strip(), TITLE_LIMIT)
    header = f"{tghtml.bold(title)}\n{byline}"
    blocks = [header, *(tghtml.escape(paragraph) for paragraph in article.paragraphs)]
    return tghtml.split_html_message(blocks, limit=limit, fill=fill)
