"""Feed discovery: the feeds a web page names in its <link rel="alternate"> tags.

Pure: bytes and the page's address in, absolute feed URLs out (RSS Board's
"RSS Autodiscovery": `<link rel="alternate" type="application/rss+xml" href=…>`).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",  # JSON Feed 1.0 pages name it so
        "application/rdf+xml",
    }
)
MAX_LINKS = 10


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or len(self.hrefs) >= MAX_LINKS:
            return
        values = {name: (value or "").strip() for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.hrefs.append(values["href"])


def feed_links(body: bytes, page_url: str) -> list[str]:
    """The http(s) feed addresses a page names, absolute, in page order, without repeats."""
    parser = _LinkParser()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    found = []
    for href in parser.hrefs:
        url = urljoin(page_url, href)
        if urlsplit(url).scheme in ("http", "https") and url != page_url and url not in found:
            found.append(url)
    return found
