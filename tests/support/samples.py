"""Sample data several test modules share: two outlets' feeds, the news article page and its facts.

Kept here (not in a test module) so no test module imports another.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.feedserver import FeedServer, Reply

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
ARTICLES = TESTDATA / "articles"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html"}


def rss(title: str, items: list[tuple[str, str, str, str]], ttl: int | None = None) -> bytes:
    """RSS 2.0 from (guid, title, link, description) tuples."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>{link}</link>"
        f"<description>{d}</description><pubDate>Tue, 20 Jan 2026 10:00:00 GMT</pubDate></item>"
        for g, t, link, d in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{ttl_tag}{body}</channel></rss>"
    ).encode()


# Two outlets: the Qamishli story runs in both (one merge); the Iran stories differ.
FEED_A = rss(
    "Outlet A",
    [
        (
            "a-1",
            "Kurdish residents in Syria's Qamishli step up patrols as government pressure grows",
            "https://a.example/qamishli?utm_source=rss",
            "Residents formed night patrols...",
        ),
        (
            "a-2",
            "Iran rejects US magazine report on January unrest death toll",
            "https://a.example/iran-report",
            "Tehran said the figures were invented.",
        ),
        ("a-3", "New semiconductor plant opens in Dresden", "https://a.example/chips", ""),
    ],
)
FEED_B = rss(
    "Outlet B",
    [
        (
            "b-77",
            "Kurdish residents in Syria's Qamishli step up patrols as pressure from Damascus grows",
            "https://b.example/world/qamishli-patrols",
            "Night patrols were formed by residents…",
        ),
        (
            "b-78",
            "Iran protest death toll climbs to 6,126, rights group says",
            "https://b.example/iran-toll",
            "A rights group raised its count.",
        ),
    ],
)


def serve_outlets(server: FeedServer) -> FeedServer:
    """Route /a.xml and /b.xml (FEED_A, FEED_B) and a /broken.xml that answers 500."""
    server.route("/a.xml", Reply(200, RSS, FEED_A))
    server.route("/b.xml", Reply(200, RSS, FEED_B))
    server.route("/broken.xml", Reply(500, {}, b""))
    return server


# A short article page for the full-text extraction tests: its address and paragraphs.
TRAM_URL = "https://site.example/a"
TRAM_PROSE = [
    "The council voted on Thursday to build the new tram line through the city centre, "
    "ending a decade of studies and postponed decisions about public transport.",
    "The opposition said the cost estimate had already risen twice since 2021 and warned "
    "that taxpayers would carry the risk of further overruns on the project.",
    "Shop owners around the market square are divided about three years of construction "
    "work, while cyclists' groups welcomed the plan but criticised the lost bicycle lane.",
]


# --- tests/testdata/articles/news_article.html -------------------------------------------

NEWS_URL = "https://courier.example/city/2024/03/14/tram-line-approved"
NEWS_TITLE = "Varnholm council approves east-west tram line after eight-hour debate"
# The tram story's headline in news_feed, which a 📖 tap's header shows (not the page's title).
TRAM_HEADLINE = "City council approves new tram line after long debate"

# The first words of each body paragraph of news_article.html, in order.
NEWS_PARAGRAPHS = [
    "Varnholm's city council voted 27 to 22 on Thursday night",
    "The 9.4-kilometre line is expected to cost 3.1 billion kroner",
    '"This is the most important decision this council has taken in a generation,"',
    "The opposition argued that the city cannot afford the project",
    "Shop owners around the market square are divided.",
    "The national government has agreed in principle to pay half",
    "Cyclists' groups welcomed the plan but criticised the decision",
    "Work on the first section, between the harbour and the central station",
]
# Page furniture of news_article.html that must not reach the reader.
NEWS_FURNITURE = [
    "cookies",
    "Manage settings",
    "Home",
    "Region",
    "Download our app",
    "City > Transport",
    "By Ingrid Solberg",
    "Share on",
    "Advertisement",
    "Read more",
    "Bus fares to rise",
    "Tram study splits council parties",
    "Get the Courier morning briefing",
    "newsletter",
    "Subscribe",
    "Comments (0)",
    "What is your opinion",
    "Leave the first comment",
    "Most read",
    "Harbour rowers win the Ferry Cup",
    "Storm closes coastal road",
    "Follow us",
    "All rights reserved",
]


def tram_page(header: str, *, head: str = "", before: str = "", after: str = "") -> str:
    """The tram story as a plain news page: menu, header (headline, `header`, byline), body.

    `head` goes into ``<head>`` after the title, `before` before the article's header,
    `after` after its body.
    """
    body = "".join(f"<p>{p}</p>" for p in TRAM_PROSE * 2)
    return (
        f"<html><head><title>Tram line approved | Courier</title>{head}</head><body>"
        '<nav><a href="/">Home</a> <a href="/city">City</a> <a href="/sport">Sport</a></nav>'
        f'{before}<header class="article-header"><h1>Tram line approved</h1>{header}'
        '<p class="byline">By Jane Doe</p></header>'
        f'<div class="article-body">{body}</div>{after}'
        "<footer><p>© Courier</p></footer></body></html>"
    )


def news_feed(server: FeedServer) -> bytes:
    """A local outlet's feed: the tram story (links the article page), a 404, a hostile title."""
    article = server.url("/articles/tram.html")
    items = [
        ("t-1", TRAM_HEADLINE, article, "world"),
        ("t-2", "Chip maker opens semiconductor plant", server.url("/articles/missing.html"), ""),
        ("t-3", "Climate talks stall over funding", "https://example.invalid/climate", ""),
        ("t-4", "Hostile <b>title</b> a < b & c &amp;nbsp; \u202eevil", server.url("/x"), ""),
    ]
    body = "".join(
        f"<item><guid>{g}</guid><title>{t.replace('&', '&amp;').replace('<', '&lt;')}</title>"
        f"<link>{link}</link><category>{c}</category>"
        f"<pubDate>Wed, 25 Nov 2026 0{i}:00:00 GMT</pubDate></item>"
        for i, (g, t, link, c) in enumerate(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local News</title>'
        f"<link>{server.base_url}</link>{body}</channel></rss>"
    ).encode()


def serve_news(server: FeedServer) -> FeedServer:
    """Route /feed.xml (news_feed), the tram article page and a missing page (404)."""
    server.route("/feed.xml", Reply(200, RSS, news_feed(server)))
    page = (ARTICLES / "news_article.html").read_bytes()
    server.route("/articles/tram.html", Reply(200, HTML, page))
    server.route("/articles/missing.html", Reply(404, {}, b"not here"))
    return server
