"""Headline lists: every message fits Telegram and carries the buttons of its own stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.render.stories import StoryView, compose_story_list, parse_fulltext_callback
from tests.support.tghtml_check import check_message

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def story(i: int, title: str) -> StoryView:
    return StoryView(
        id=i,
        title=title,
        link=f"https://example.org/{i}?q=<x>&y=1",
        source="Outlet & Co <News>",
        published_at=NOW - timedelta(minutes=5 * i),
        other_sources=("B", "C", "D", "E", "F"),
    )


def test_long_lists_split_into_valid_messages_with_their_own_buttons() -> None:
    stories = [story(i, f"{i} " + "Very long headline & <odd> text " * 12) for i in range(1, 21)]
    messages = compose_story_list(stories, header_html="<b>Latest</b>", now=NOW)
    assert len(messages) > 1
    seen: list[int] = []
    for message in messages:
        text = check_message(message.html)
        ids = [parse_fulltext_callback(b.callback_data) for row in message.keyboard for b in row]
        for story_id in ids:
            assert story_id is not None and f"{story_id}. " in text
        seen += [i for i in ids if i is not None]
    assert seen == list(range(1, 21))


def test_short_list_is_one_message_naming_other_outlets() -> None:
    [message] = compose_story_list([story(1, "Short")], header_html="<b>H</b>", now=NOW)
    text = check_message(message.html)
    assert "Outlet & Co <News> · 5 min ago · also B, C, D, E +1 more" in text
