"""Schedule commands: /schedule and /timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Update

from bot.render import texts, tghtml
from bot.services import lookup
from bot.storage import chats as chat_store
from bot.storage.models import Chat
from handlers.common import chat_of, ensure_chat_row, may_change
from handlers.context import BotContext
from handlers.replies import send_html


def _when(chat: Chat) -> str:
    if chat.next_briefing_at is None or chat.mode != "scheduled":
        return "—"
    local = chat.next_briefing_at.astimezone(ZoneInfo(chat.timezone))
    return local.strftime("%a %d %b, %H:%M")


def describe(chat: Chat) -> str:
    if chat.mode == "instant":
        return texts.SCHEDULE_INSTANT
    if chat.mode == "off":
        return texts.SCHEDULE_OFF
    return texts.SCHEDULE_SET.format(
        times=tghtml.escape(chat.briefing_times.replace(" ", ", ")),
        zone=tghtml.escape(chat.timezone),
        next=_when(chat),
    )


def _apply(session: Session, chat_id: int, request: lookup.ScheduleRequest, now: datetime) -> str:
    chat = session.get(Chat, chat_id)
    assert chat is not None
    if request.mode is None:
        return texts.SCHEDULE_SHOW.format(
            times=tghtml.escape(chat.briefing_times.replace(" ", ", "))
            if chat.mode == "scheduled"
            else tghtml.escape(chat.mode),
            zone=tghtml.escape(chat.timezone),
            next=_when(chat),
        )
    if request.mode == "instant" and chat.mode != "instant":
        chat.instant_since = now
    chat.mode = request.mode
    if request.times:
        chat.briefing_times = " ".join(request.times)
    chat.updated_at = now
    chat_store.reschedule(chat, now=now)
    session.add(chat)
    return describe(chat)


async def schedule(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    try:
        request = lookup.parse_schedule(context.args or [])
    except lookup.UsageError:
        await send_html(context, chat.id, texts.usage_line("schedule"))
        return
    if request.mode is not None and not await may_change(context, update):
        await send_html(context, chat.id, texts.GROUP_ADMINS_ONLY)
        return
    await ensure_chat_row(context, update)
    now = services.clock()
    reply = await services.db(lambda s: _apply(s, chat.id, request, now))
    await send_html(context, chat.id, reply)


def _set_zone(session: Session, chat_id: int, zone: str, now: datetime) -> str:
    chat = session.get(Chat, chat_id)
    assert chat is not None
    chat.timezone, chat.updated_at = zone, now
    chat_store.reschedule(chat, now=now)
    session.add(chat)
    return texts.TIMEZONE_SET.format(zone=tghtml.escape(zone), next=_when(chat))


async def timezone(update: Update, context: BotContext) -> None:
    services, chat = context.services, chat_of(update)
    args = context.args or []
    if len(args) != 1:
        await send_html(context, chat.id, texts.usage_line("timezone"))
        return
    choice = lookup.resolve_timezone(args[0])
    if choice.zone is None:
        reply = texts.TIMEZONE_UNKNOWN.format(name=tghtml.escape(args[0][:64]))
        if choice.suggestions:
            names = " or ".join(tghtml.escape(z) for z in choice.suggestions)
            reply += texts.DID_YOU_MEAN.format(suggestions=names)
        else:
            reply += texts.TIMEZONE_HINT
        await send_html(context, chat.id, reply)
        return
    if not await may_change(context, update):
        await send_html(context, chat.id, texts.GROUP_ADMINS_ONLY)
        return
    await ensure_chat_row(context, update)
    zone, now = choice.zone, services.clock()
    await send_html(context, chat.id, await services.db(lambda s: _set_zone(s, chat.id, zone, now)))
