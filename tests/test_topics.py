import pytest

from bot.ingest.topics import TopicMatcher
from bot.settings import Topic

TOPICS = [
    Topic("tech", "Technology", ("artificial intelligence", "chip")),
    Topic("climate", "Climate", ("klimawandel", "COP29")),
    Topic("world", "World"),
]
MATCHER = TopicMatcher.from_topics(TOPICS)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("EU passes Artificial Intelligence act", {"tech"}),
        ("New chip plant opens", {"tech"}),
        ("Potato chips sales rise", set()),  # whole words only
        ("Microchip maker fined", set()),
        ("Der KLIMAWANDEL trifft Bayern", {"climate"}),  # Unicode case folding
        ("Talks at cop29 stall", {"climate"}),
        ("artificial  intelligence, chip and more", {"tech"}),
        ("Intelligence services are artificial", set()),  # phrase order matters
    ],
)
def test_keywords_match_whole_words(title: str, expected: set[str]) -> None:
    assert MATCHER.match(feed_topics=(), categories=(), title=title) == expected


def test_feed_topics_and_categories_union() -> None:
    got = MATCHER.match(
        feed_topics=("world", "unknown"), categories=("Technology", "Sport"), title="x"
    )
    assert got == {"world", "tech"}


def test_keyword_in_summary_counts() -> None:
    got = MATCHER.match(feed_topics=(), categories=(), title="x", summary="a new chip")
    assert got == {"tech"}


def test_keywords_are_not_regular_expressions() -> None:
    matcher = TopicMatcher.from_topics([Topic("x", "X", ("a.*b", "(((a)))"))])
    assert matcher.match(feed_topics=(), categories=(), title="aaaa b") == set()
