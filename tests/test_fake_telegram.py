"""The fake Bot API server behaves like Telegram, checked through PTB's own HTTP stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.warnings import PTBDeprecationWarning

from tests.support.fake_telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
    Fault,
    HtmlParseError,
    parse_html,
)

USER = 4242
GROUP = -4001


class ManualClock:
    """A monotonic clock the test moves by hand (flood buckets, callback deadlines)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tg(clock: ManualClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(clock=clock) as fake:
        fake.add_private_chat(USER, first_name="Ann")
        yield fake
    assert fake.server_errors == []


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


def raw_call(tg: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """POST form-encoded like PTB does and return (HTTP status, JSON reply)."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    reply = httpx.post(f"{tg.base_url}{tg.token}/{method}", data=data, timeout=10)
    return reply.status_code, reply.json()


def retry_seconds(err: RetryAfter) -> float:
    """Read RetryAfter.retry_after whether PTB gives an int (deprecated) or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])


# --- HTML parse mode (TDLib parse_html) ------------------------------------------------------

VALID_HTML = [
    ("<b>bold</b> rest", "bold rest", [("bold", 0, 4)]),
    ("<strong>a</strong><em>b</em><ins>c</ins><del>d</del>", "abcd",
     [("bold", 0, 1), ("italic", 1, 1), ("underline", 2, 1), ("strikethrough", 3, 1)]),
    ("<s>x</s><strike>y</strike><u>z</u>", "xyz",
     [("strikethrough", 0, 2), ("underline", 2, 1)]),
    ("<B>upper</B>", "upper", [("bold", 0, 5)]),
    ("<b >spaced</b >", "spaced", [("bold", 0, 6)]),
    ("<b>x</>", "x", [("bold", 0, 1)]),
    ("<i>a<b>b</b></i>", "ab", [("italic", 0, 2), ("bold", 1, 1)]),
    ("<b>a</b><b>b</b>", "ab", [("bold", 0, 2)]),
    ("<b></b>x", "x", []),
    ("a &lt; b &gt; c &amp; &quot;q&quot;", 'a < b > c & "q"', []),
    ("&lt&gt", "<>", []),
    ("&nbsp;&copy;&AMP;&Lt;", "&nbsp;&copy;&AMP;&Lt;", []),
    ("&#39;&#x27;&#X27;&#0;", "''&#X27;&#0;", []),
    ("5 > 3", "5 > 3", []),
    ("😀<b>x</b>", "😀x", [("bold", 2, 1)]),
    ("&#128512;<i>y</i>", "😀y", [("italic", 2, 1)]),
    ("  \n<b>x</b> \n\n", "x", [("bold", 0, 1)]),
    ("tab\there\r\n", "tab here", []),
    ('<code class="language-python">x = 1</code>', "x = 1", [("code", 0, 5)]),
    ("<pre>a<b>b</b></pre>", "ab", [("pre", 0, 2)]),
    ("<code><i>c</i></code>", "c", [("code", 0, 1)]),
    ("<blockquote>q</blockquote>", "q", [("blockquote", 0, 1)]),
    ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
    ("<blockquote>a<blockquote>b</blockquote></blockquote>", "ab", [("blockquote", 0, 2)]),
    ('<span class="tg-spoiler">s</span>', "s", [("spoiler", 0, 1)]),
    ("<tg-spoiler>s</tg-spoiler>", "s", [("spoiler", 0, 1)]),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", [("custom_emoji", 0, 2)]),
    ("<a href>bare</a>", "bare", [("text_link", 0, 4)]),
]  # fmt: skip


@pytest.mark.parametrize(("html", "text", "entities"), VALID_HTML)
def test_parse_html_accepts_what_telegram_accepts(
    html: str, text: str, entities: list[tuple[str, int, int]]
) -> None:
    parsed = parse_html(html)
    assert parsed.text == text
    assert [(e.type, e.offset, e.length) for e in parsed.entities] == entities


@pytest.mark.parametrize(
    ("html", "url"),
    [
        ('<a href="https://example.com/x?a=1&amp;b=2">l</a>', "https://example.com/x?a=1&b=2"),
        ("<a href='https://example.com'>l</a>", "https://example.com/"),
        ("<a href=example.com>l</a>", "http://example.com/"),
        ('<a href="tg://resolve?domain=x">l</a>', "tg://resolve?domain=x"),
    ],
)
def test_parse_html_normalises_link_urls(html: str, url: str) -> None:
    (entity,) = parse_html(html).entities
    assert (entity.type, entity.url) == ("text_link", url)


def test_parse_html_keeps_pre_language_and_mentions() -> None:
    (pre,) = parse_html('<pre><code class="language-python">x</code></pre>').entities
    assert (pre.type, pre.language) == ("pre", "python")
    (mention,) = parse_html('<a href="tg://user?id=77">Bob</a>').entities
    assert mention.to_dict()["type"] == "text_mention"
    assert mention.to_dict()["user"]["id"] == 77


INVALID_HTML = [
    ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
    ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
    ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
    ("é<p>", 'Unsupported start tag "p" at byte offset 2'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("x <", "Unclosed start tag at byte offset 2"),
    ("<a href=http://x>y</a>", "Unexpected end of name token at byte offset 8"),
    ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
    ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
    ('<a href="x"/>y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
    ("<b class", 'Unclosed start tag "b" at byte offset 0'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ("&#xD800;", "Text contains invalid Unicode characters after decoding HTML entities, "
                 "check for unmatched surrogate code units"),
]  # fmt: skip


@pytest.mark.parametrize(("html", "message"), INVALID_HTML)
def test_parse_html_rejects_like_tdlib(html: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as err:
        parse_html(html)
    assert str(err.value) == message


def test_parse_error_reaches_the_wire_verbatim(tg: FakeTelegram) -> None:
    status, body = raw_call(tg, "sendMessage", chat_id=USER, text="<p>x</p>", parse_mode="HTML")
    assert (status, body["error_code"]) == (400, 400)
    assert body["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )


async def test_message_stores_plain_text_raw_html_and_entities(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>Top</b> &amp; more", parse_mode="HTML")
    assert sent.text == "Top & more"
    assert sent.entities[0].type == "bold"
    (msg,) = tg.messages(USER)
    assert (msg.text, msg.html, msg.message_id) == ("Top & more", "<b>Top</b> &amp; more", 1)
    assert msg.entities == [{"type": "bold", "offset": 0, "length": 3}]


# --- limits --------------------------------------------------------------------------------


async def test_text_limit_counts_code_points_after_parsing(tg: FakeTelegram, bot: Bot) -> None:
    tg.flood_limits = False
    await bot.send_message(USER, "😀" * 4096)  # 8192 UTF-16 units, still 4096 code points
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "&amp;" * 4096, parse_mode="HTML")
    await bot.send_message(USER, "  " + "a" * 4096 + "\n\n")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "😀" * 4097)
    status, body = raw_call(tg, "sendMessage", chat_id=USER, text="a" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")


async def test_empty_text_is_rejected(tg: FakeTelegram) -> None:
    for text in ("", "  \n ", "<b></b>"):
        status, body = raw_call(tg, "sendMessage", chat_id=USER, text=text, parse_mode="HTML")
        assert (status, body["description"]) == (400, "Bad Request: message text is empty")


async def test_caption_limit_is_1024(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)


async def test_callback_data_limit_is_64_bytes(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "no", reply_markup=keyboard("é" * 32 + "a"))
    markup = '{"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}'
    status, body = raw_call(tg, "sendMessage", chat_id=USER, text="t", reply_markup=markup)
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_url_buttons_need_http_or_tg_urls(tg: FakeTelegram, bot: Bot) -> None:
    good = InlineKeyboardMarkup([[InlineKeyboardButton("a", url="https://example.com")]])
    await bot.send_message(USER, "ok", reply_markup=good)
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("a", url="javascript:alert(1)")]])
    with pytest.raises(BadRequest, match="Button_url_invalid"):
        await bot.send_message(USER, "no", reply_markup=bad)


# --- chats: not found, blocked, deactivated, migrated, kicked -------------------------------


async def test_unknown_chat_is_not_found(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hi")
    status, body = raw_call(tg, "sendMessage", chat_id=999, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_blocked_and_deactivated_users_answer_403(tg: FakeTelegram, bot: Bot) -> None:
    tg.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    tg.unblock(USER)
    tg.add_private_chat(77)
    tg.deactivate(77)
    status, body = raw_call(tg, "sendMessage", chat_id=77, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: user is deactivated")
    assert tg.messages(USER) == [] and tg.messages(77) == []


async def test_migrated_group_raises_chat_migrated(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_group(GROUP, "News", admins=[USER])
    tg.migrate(GROUP, -1001234567890)
    with pytest.raises(ChatMigrated) as err:
        await bot.send_message(GROUP, "hi")
    assert err.value.new_chat_id == -1001234567890
    status, body = raw_call(tg, "sendMessage", chat_id=GROUP, text="hi")
    assert body["description"] == "Bad Request: group chat was upgraded to a supergroup chat"
    assert (status, body["parameters"]) == (400, {"migrate_to_chat_id": -1001234567890})
    await bot.send_message(-1001234567890, "hi again")
    assert tg.chat(-1001234567890).type == "supergroup"


async def test_member_update_kicked_blocks_the_private_chat(tg: FakeTelegram, bot: Bot) -> None:
    update = tg.member_update(USER, "kicked")
    assert update["new_chat_member"]["status"] == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "hi")
    tg.member_update(USER, "member")
    await bot.send_message(USER, "welcome back")
    (raw,) = [u for u in tg.pending_updates() if "my_chat_member" in u][:1]
    member_update = Update.de_json(raw, bot).my_chat_member
    assert member_update is not None
    assert member_update.new_chat_member.status == "kicked"


async def test_group_admins_are_configurable(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_group(GROUP, "News", admins=[USER], members=[55], creator=56)
    admins = await bot.get_chat_administrators(GROUP)
    assert sorted((m.user.id, m.status) for m in admins) == [
        (56, "creator"),
        (USER, "administrator"),
    ]
    assert (await bot.get_chat_member(GROUP, 55)).status == "member"
    assert (await bot.get_chat_member(GROUP, USER)).status == "administrator"
    tg.set_admins(GROUP, [])
    assert (await bot.get_chat_member(GROUP, USER)).status == "left"
    assert (await bot.get_chat(GROUP)).title == "News"


# --- flood limits and fault injection ------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_private_chat_flood_raises_retry_after(
    tg: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    for i in range(3):  # the burst
        await bot.send_message(USER, f"m{i}")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "too fast")
    assert retry_seconds(err.value) >= 1
    assert tg.stats.rejected_429 == 1
    status, body = raw_call(tg, "sendMessage", chat_id=USER, text="again")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert body["description"] == "Too Many Requests: retry after 1"
    clock.advance(1.0)
    await bot.send_message(USER, "after waiting")
    assert len(tg.messages(USER)) == 4


async def test_group_flood_is_20_per_minute(tg: FakeTelegram, clock: ManualClock) -> None:
    tg.add_group(GROUP)
    for i in range(20):
        clock.advance(0.5)
        assert raw_call(tg, "sendMessage", chat_id=GROUP, text=f"m{i}")[0] == 200
    status, body = raw_call(tg, "sendMessage", chat_id=GROUP, text="one more")
    assert status == 429 and body["parameters"]["retry_after"] == 51
    clock.advance(51)
    assert raw_call(tg, "sendMessage", chat_id=GROUP, text="later")[0] == 200


async def test_overall_limit_is_30_per_second_unless_paid(
    tg: FakeTelegram, clock: ManualClock
) -> None:
    for uid in range(1, 31):
        tg.add_private_chat(uid)
        assert raw_call(tg, "sendMessage", chat_id=uid, text="hi")[0] == 200
    tg.add_private_chat(31)
    assert raw_call(tg, "sendMessage", chat_id=31, text="hi")[0] == 429
    paid = raw_call(tg, "sendMessage", chat_id=31, text="hi", allow_paid_broadcast=True)
    assert paid[0] == 200
    clock.advance(1.0)
    assert raw_call(tg, "sendMessage", chat_id=31, text="hi")[0] == 200


async def test_a_late_request_does_not_punish_a_paced_client(
    tg: FakeTelegram, clock: ManualClock
) -> None:
    start = clock.now
    for i in range(61):  # exactly 30/s, but the first request arrived 30 ms late
        clock.now = start + i / 30 + (0.03 if i == 0 else 0.0)
        tg.add_private_chat(1000 + i)
        assert raw_call(tg, "sendMessage", chat_id=1000 + i, text="hi")[0] == 200
    assert tg.stats.rejected_429 == 0


async def test_flood_limits_can_be_switched_off(tg: FakeTelegram, bot: Bot) -> None:
    tg.flood_limits = False
    for i in range(10):
        await bot.send_message(USER, f"m{i}")
    assert tg.stats.rejected_429 == 0


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_injects_429_and_5xx(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=7)
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER, "a")
    assert retry_seconds(err.value) == 7
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "b")
    await bot.send_message(USER, "c")
    assert tg.texts(USER) == ["c"]
    assert (tg.stats.injected_faults, tg.stats.rejected_429) == (2, 1)


async def test_fault_hook_decides_per_call(tg: FakeTelegram, bot: Bot) -> None:
    tg.set_fault_hook(lambda method, params: Fault(500) if params.get("text") == "x" else None)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "y")
    tg.set_fault_hook(None)
    assert tg.texts(USER) == ["y"]


# --- edits, callbacks, chat actions, commands -----------------------------------------------


async def test_edit_message_text_applies_and_keeps_history(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    await bot.edit_message_text("<i>v2</i>", USER, sent.message_id, parse_mode="HTML")
    (msg,) = tg.messages(USER)
    assert (msg.text, msg.html, msg.reply_markup) == ("v2", "<i>v2</i>", None)
    assert msg.edits[0]["text"] == "v1" and msg.edits[0]["reply_markup"] is not None
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("b"))
    assert tg.messages(USER)[0].buttons[0]["callback_data"] == "b"


async def test_identical_edit_is_not_modified(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "<b>same</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<strong>same</strong>",
            USER,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("a"),
        )
    status, body = raw_call(
        tg,
        "editMessageReplyMarkup",
        chat_id=USER,
        message_id=sent.message_id,
        reply_markup=keyboard("a").to_json(),
    )
    assert status == 400
    assert body["description"] == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )


async def test_edit_of_unknown_message_is_not_found(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER, 12345)


async def test_callback_query_must_be_answered_once_before_the_deadline(
    tg: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    sent = await bot.send_message(USER, "pick", reply_markup=keyboard("yes"))
    first = tg.press_button(USER, sent.message_id, "yes")
    await bot.answer_callback_query(first, text="done")
    assert (tg.callback_answer(first) or {}).get("text") == "done"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(first)
    late = tg.press_button(USER, sent.message_id, "yes")
    clock.advance(15.1)
    status, body = raw_call(tg, "answerCallbackQuery", callback_query_id=late)
    assert (status, body["description"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    with pytest.raises(ValueError, match="no button"):
        tg.press_button(USER, sent.message_id, "nope")


async def test_chat_actions_are_recorded(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_chat_action(USER, "typing")
    assert tg.chat_actions(USER) == ["typing"]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


async def test_set_my_commands_is_validated_and_stored_per_scope(
    tg: FakeTelegram, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("topics", "Topics")])
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("help", "Help")], scope=scope, language_code="de")
    assert [c["command"] for c in tg.commands()] == ["start", "topics"]
    assert (
        tg.commands(scope, "de")
        == tg.commands({"type": "all_private_chats"}, "de")
        == [{"command": "help", "description": "Help"}]
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "topics"]
    for bad, message in [
        (BotCommand("Start", "x"), "Bot_command_invalid"),
        (BotCommand("a" * 33, "x"), "Command length must not exceed 32"),
        (BotCommand("ok", ""), "Command description must be non-empty"),
        (BotCommand("ok", "d" * 257), "Command description length must not exceed 256"),
    ]:
        with pytest.raises(BadRequest, match=message):
            await bot.set_my_commands([bad])
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(101)])
    await bot.delete_my_commands()
    assert tg.commands() == []


# --- files ---------------------------------------------------------------------------------


async def test_send_document_multipart_stores_bytes(tg: FakeTelegram, bot: Bot) -> None:
    payload = b"\x00\x01binary\r\n--not-a-boundary\r\n\xff"
    sent = await bot.send_document(
        USER, payload, filename="résumé.bin", caption="<i>c</i>", parse_mode="HTML"
    )
    (msg,) = tg.messages(USER)
    assert msg.kind == "document" and msg.file is not None
    assert (msg.file.filename, msg.file.data, msg.text) == ("résumé.bin", payload, "c")
    assert sent.document is not None
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    photo = await bot.send_photo(USER, b"\x89PNG fake", filename="p.png")
    assert photo.photo and tg.messages(USER)[-1].kind == "photo"


async def test_user_document_can_be_fetched_with_get_file(tg: FakeTelegram, bot: Bot) -> None:
    message = tg.send_document(USER, "feeds.opml", b"<opml/>", mime_type="text/xml")
    file = await bot.get_file(message["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"<opml/>"


# --- wire format ----------------------------------------------------------------------------


def test_wrong_token_and_unknown_method(tg: FakeTelegram) -> None:
    reply = httpx.post(f"{tg.base_url}123:wrong/getMe")
    assert reply.status_code == 401
    assert reply.json()["description"] == "Unauthorized: invalid token specified"
    reply = httpx.post(f"{tg.base_url}{tg.token}/sendTelepathy")
    assert (reply.status_code, reply.json()["description"]) == (404, "Not Found: method not found")


async def test_wrong_token_raises_invalid_token(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123:wrong", base_url=tg.base_url):
            pass


def test_json_bodies_query_strings_and_case_insensitive_methods(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}{tg.token}"
    assert httpx.post(f"{url}/SENDMESSAGE", json={"chat_id": USER, "text": "json"}).json()["ok"]
    assert httpx.get(f"{url}/sendmessage", params={"chat_id": USER, "text": "query"}).json()["ok"]
    assert tg.texts(USER) == ["json", "query"]
    assert [r.method for r in tg.requests] == ["sendMessage", "sendMessage"]
    assert tg.calls("sendmessage")[0] == {"chat_id": USER, "text": "json"}


def test_get_updates_honours_offset_and_timeout(tg: FakeTelegram) -> None:
    tg.send_text(USER, "/start")
    tg.send_text(USER, "hello")
    _, body = raw_call(tg, "getUpdates", timeout=0)
    first, second = body["result"]
    assert first["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert second["update_id"] == first["update_id"] + 1
    started = time.monotonic()
    _, body = raw_call(tg, "getUpdates", offset=second["update_id"] + 1, timeout=1)
    assert body["result"] == [] and 0.9 <= time.monotonic() - started < 3
    assert tg.pending_updates() == []


def test_long_poll_returns_as_soon_as_an_update_arrives(tg: FakeTelegram) -> None:
    timer = threading_timer(0.2, lambda: tg.send_text(USER, "ping"))
    started = time.monotonic()
    _, body = raw_call(tg, "getUpdates", timeout=10)
    timer.join()
    assert body["result"][0]["message"]["text"] == "ping"
    assert time.monotonic() - started < 5


def threading_timer(delay: float, action: Any) -> Any:
    import threading

    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_group_messages_carry_the_sender(tg: FakeTelegram) -> None:
    tg.add_group(GROUP, "News", admins=[USER])
    message = tg.send_text(GROUP, "/topics@newsbrief_test_bot", from_user=USER)
    assert message["from"]["id"] == USER and message["chat"]["type"] == "group"
    assert message["entities"][0]["length"] == len("/topics@newsbrief_test_bot")


def test_wait_for_times_out_with_a_clear_error(tg: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match="wait_for timed out"):
        tg.wait_for(USER, timeout=0.2)


def test_a_subprocess_can_talk_to_the_fake(tg: FakeTelegram) -> None:
    script = textwrap.dedent(
        f"""
        import httpx
        httpx.post("{tg.base_url}{tg.token}/sendMessage", data={{"chat_id": "{USER}",
                   "text": "<b>from a child</b>", "parse_mode": "HTML"}})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    (msg,) = tg.wait_for(USER, 1, timeout=5)
    assert msg.text == "from a child"


# --- end to end: a PTB Application polling ----------------------------------------------------


async def test_explicit_entities_are_kept_without_parse_mode(tg: FakeTelegram) -> None:
    entities = [{"type": "bold", "offset": 0, "length": 2}]
    status, _ = raw_call(tg, "sendMessage", chat_id=USER, text="hi there", entities=entities)
    assert status == 200
    assert tg.messages(USER)[0].entities == entities


async def test_application_polling_answers_start(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(f"Hello, {update.effective_user.first_name}!")

    app = ApplicationBuilder().token(DEFAULT_TOKEN).base_url(tg.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        tg.send_text(USER, "/start")
        await tg.await_for(USER, 1)
        tg.send_text(USER, "/start@other_bot")  # addressed to another bot: PTB ignores it
        tg.send_text(USER, "/start@newsbrief_test_bot")
        await tg.await_for(USER, 2)
        await tg.await_for(lambda: not tg.pending_updates())
        await app.updater.stop()
        await app.stop()
    await asyncio.sleep(0)
    assert tg.texts(USER) == ["Hello, Ann!", "Hello, Ann!"]
    offsets = [p.get("offset") for p in tg.calls("getUpdates")]
    assert any(isinstance(o, int) and o > 1 for o in offsets)
    assert tg.pending_updates() == []
