"""One truncation, one packer, Telegram's own limits: grapheme-safe cuts and story lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.constants import InlineKeyboardMarkupLimit, MessageLimit

from bot.render import plain, tghtml
from bot.render.stories import StoryView, compose_story_list

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # ZWJ sequence
FLAGS = "\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7\U0001f1ee\U0001f1f9"  # DE FR IT
THUMBS = "\U0001f44d\U0001f3fd"  # emoji + skin-tone modifier
DEVANAGARI = "\u0915\u093f"  # KA + vowel sign I: a spacing mark (Mc), not "combining"
E_ACUTE = "e\u0301"


def _clusters_kept(result: str, cluster: str) -> bool:
    body = result.removesuffix(plain.ELLIPSIS)
    return len(body) % len(cluster) == 0 and body == cluster * (len(body) // len(cluster))


@pytest.mark.parametrize("cluster", [FAMILY, FLAGS[:2], THUMBS, DEVANAGARI, E_ACUTE, "\u6f22"])
@pytest.mark.parametrize("limit", range(1, 24))
def test_truncate_never_splits_a_grapheme(cluster: str, limit: int) -> None:
    result = plain.truncate(cluster * 10, limit)
    assert len(result) <= limit
    assert _clusters_kept(result, cluster), (limit, result)


def test_truncate_keeps_flags_paired() -> None:
    for limit in range(2, len(FLAGS)):
        body = plain.truncate(FLAGS, limit).removesuffix(plain.ELLIPSIS)
        assert len(body) % 2 == 0 and FLAGS.startswith(body)


def test_truncate_prefers_a_word_boundary_and_cjk_has_none() -> None:
    assert plain.truncate("hello world this is long", 14) == "hello world…"
    assert plain.truncate("東京で大雪警報が発令されました", 8) == "東京で大雪警報…"
    assert plain.truncate("short", 10) == "short"
    assert plain.truncate("anything", 0) == ""


def test_headline_lists_use_the_same_truncation() -> None:
    title = FLAGS * 200  # no spaces: a hard, grapheme-safe cut
    story = StoryView(1, title, None, "Wire", NOW - timedelta(minutes=5))
    [message] = compose_story_list([story], header_html="", now=NOW)
    shown = tghtml.plain_text(message.html).split("\n")[0].removeprefix("1. ")
    body = shown.removesuffix(plain.ELLIPSIS)
    assert len(body) % 2 == 0 and title.startswith(body)


def test_split_html_hard_cut_keeps_flags_and_marks_whole() -> None:
    for cluster in (FLAGS[:2], DEVANAGARI, FAMILY):
        for limit in (n for n in (3, 5, 7, 11, 15) if n >= len(cluster)):
            for message in tghtml.split_html_message([cluster * 20], limit=limit):
                text = tghtml.plain_text(message)
                assert text == cluster * (len(text) // len(cluster)), (cluster, limit, text)


def _views(count: int, title_length: int) -> list[StoryView]:
    return [
        StoryView(i, f"Headline {i} " + "x" * title_length, f"https://example.com/{i}", "Wire",
                  NOW - timedelta(minutes=i))
        for i in range(1, count + 1)
    ]  # fmt: skip


def test_story_lists_fill_messages_to_telegrams_limit() -> None:
    messages = compose_story_list(_views(60, 250), header_html="<b>Latest</b>", now=NOW)
    assert len(messages) > 1
    lengths = [tghtml.visible_length(m.html) for m in messages]
    assert max(lengths) <= MessageLimit.MAX_TEXT_LENGTH
    item = tghtml.visible_length(tghtml.BLOCK_SEPARATOR) + tghtml.visible_length(
        compose_story_list(_views(1, 250), header_html="", now=NOW)[0].html
    )
    # Packed to the limit: no message but the last has room for one more item.
    assert all(n + item > MessageLimit.MAX_TEXT_LENGTH for n in lengths[:-1])
    numbers = [int(b.text.split()[-1]) for m in messages for row in m.keyboard for b in row]
    assert numbers == list(range(1, 61))


def test_story_list_keyboard_stays_within_telegrams_button_limit() -> None:
    messages = compose_story_list(_views(250, 0), header_html="", now=NOW)
    per_message = [sum(len(row) for row in m.keyboard) for m in messages]
    assert max(per_message) <= InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER
    assert sum(per_message) == 250


def test_footer_goes_last_and_fits() -> None:
    footer = "<i>" + "f" * 300 + "</i>"
    messages = compose_story_list(
        _views(40, 250), header_html="<b>H</b>", now=NOW, footer_html=footer
    )
    assert messages[-1].html.endswith(footer)
    assert all(tghtml.visible_length(m.html) <= MessageLimit.MAX_TEXT_LENGTH for m in messages)


def test_tghtml_limit_is_telegrams() -> None:
    assert tghtml.MESSAGE_LIMIT == MessageLimit.MAX_TEXT_LENGTH
