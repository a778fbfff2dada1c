"""A feed item's image candidates, in order of trust: media RSS, enclosures, the summary's <img>.

Pure extraction of the URLs a feed gives; `parser._normalise` keeps the first
that passes the link checks (`canonical_url`: absolute http(s), sane host,
fits its column). Telegram fetches the image itself; we never download it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_MAX_SCAN = 100_000  # characters of summary HTML searched for an <img>


def _is_image(kind: object, medium: object, url: str) -> bool:
    """An enclosure or media:content is an image when it says so (or its name does)."""
    if isinstance(medium, str) and medium:
        return medium.lower() == "image"
    if isinstance(kind, str) and kind:
        return kind.lower().startswith("image/")
    return url.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES)


def _urls(items: object, key: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if not isinstance(items, list):
        return
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get(key), str):
            yield item[key].strip(), item


class _FirstImage(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.src: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.src is None and tag == "img":
            self.src = next((v for k, v in attrs if k == "src" and v), None)


def first_img(html: str) -> str | None:
    """The src of the first <img> in an HTML fragment, or None."""
    if "<img" not in html.lower():
        return None
    finder = _FirstImage()
    try:
        finder.feed(html[:_MAX_SCAN])
        finder.close()
    except (AssertionError, ValueError):  # malformed markup: whatever was found stands
        pass
    return finder.src


def from_feedparser(entry: Mapping[str, Any], summary_html: str) -> tuple[str, ...]:
    """Candidates from a feedparser entry: media:thumbnail, media:content, image
    enclosures, then the first <img> of the summary or content."""
    found = [url for url, _ in _urls(entry.get("media_thumbnail"), "url")]
    found += _images(entry.get("media_content"), "url", "type", medium_key="medium")
    found += _images(entry.get("enclosures"), "href", "type")
    return _with_first_img(found, summary_html)


def from_json_feed(item: Mapping[str, Any], body_html: str) -> tuple[str, ...]:
    """Candidates from a JSON Feed item: image, banner_image, image attachments, <img>."""
    found = [item[k].strip() for k in ("image", "banner_image") if isinstance(item.get(k), str)]
    found += _images(item.get("attachments"), "url", "mime_type")
    return _with_first_img(found, body_html)


def _images(items: object, key: str, type_key: str, *, medium_key: str = "") -> list[str]:
    """The URLs (under `key`) of the listed media that are images."""
    return [
        url
        for url, item in _urls(items, key)
        if _is_image(item.get(type_key), item.get(medium_key) if medium_key else None, url)
    ]


def _with_first_img(found: list[str], html: str) -> tuple[str, ...]:
    """The candidates found, then the first <img> of the HTML; each URL once."""
    img = first_img(html)
    return tuple(dict.fromkeys([*found, *([img] if img else [])]))
