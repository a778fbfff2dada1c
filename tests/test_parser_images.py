"""The parser keeps a story's image: media RSS, enclosures, the summary's first <img>,
only http(s), only what passes the link checks; JSON Feed too."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.ingest.images import first_img
from bot.ingest.parser import parse_feed

FEEDS = Path(__file__).parent / "testdata" / "feeds"
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def images_by_title(body: bytes, content_type: str) -> dict[str, str | None]:
    parsed = parse_feed(body, url="https://feeds.example/x", content_type=content_type, now=NOW)
    assert parsed.error is None
    return {e.title: e.image_url for e in parsed.entries}


def test_rss_image_quirks() -> None:
    found = images_by_title((FEEDS / "images.xml").read_bytes(), "application/rss+xml")
    assert found == {
        "thumbnail first": "https://img.example/thumb-1.jpg",
        "content image, not the video": "https://img.example/content-2.png",
        "image enclosure, not the audio": "https://img.example/photo-3.webp",
        "first img of the summary, resolved against the channel link": (
            "https://news.example/media/inline-4.jpg"
        ),
        # Tracking parameters go, as they do from links; the rest of the query stays.
        "hostile: javascript, data and ftp are refused, then a good one": (
            "https://img.example/ok-5.jpg?w=640"
        ),
        "hostile only: no image": None,
        "none at all": None,
    }


def test_atom_enclosure_link() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><id>urn:1</id><title>atom image</title><link href="https://a.example/1"/>
    <link rel="enclosure" type="image/jpeg" href="https://a.example/p.jpg"/>
    <updated>2026-03-28T10:00:00Z</updated></entry></feed>"""
    assert images_by_title(atom, "application/atom+xml") == {
        "atom image": "https://a.example/p.jpg"
    }


def test_json_feed_image_fields() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {"id": "1", "title": "image field", "image": "https://j.example/1.jpg"},
            {
                "id": "2",
                "title": "attachment",
                "attachments": [
                    {"url": "https://j.example/a.mp3", "mime_type": "audio/mpeg"},
                    {"url": "https://j.example/2.png", "mime_type": "image/png"},
                ],
            },
            {"id": "3", "title": "html img", "content_html": '<p><img src="/3.gif"></p>'},
            {"id": "4", "title": "not a string", "image": 5},
        ],
    }
    found = images_by_title(json.dumps(doc).encode(), "application/feed+json")
    assert found == {
        "image field": "https://j.example/1.jpg",
        "attachment": "https://j.example/2.png",
        "html img": "https://feeds.example/3.gif",
        "not a string": None,
    }


def test_first_img_survives_broken_markup() -> None:
    assert first_img('<p><img alt="x" src="https://i.example/1.jpg"') is None  # cut off
    assert first_img('<div><img src="https://i.example/1.jpg"><img src="b">') == (
        "https://i.example/1.jpg"
    )
    assert first_img("no images here") is None
    assert first_img("<img>") is None
