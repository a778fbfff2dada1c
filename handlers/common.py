"""Helpers shared by the handlers: the chat of an update, its row, group rights, topic names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session
from telegram import Chat as TgChat
from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.ingest.topics import Topic
from bot.render import texts, tghtml
from bot.services import lookup
from bot.storage import chats as chat_store
from handlers.context import BotContext


def chat_of(update: Update) -> TgChat:
    chat = update.effective_chat
    assert chat is not None
    return chat


def thread_of(update: Update) -> int | None:
    message = update.effective_message
    return message.message_thread_id if message and message.is_topic_message else None


async def ensure_chat_row(context: BotContext, update: Update) -> bool:
    """Create or refresh the chat row; return its `stopped` flag."""
    chat, services = chat_of(update), context.services

    def work(session: Session) -> bool:
        row, _ = chat_store.ensure_chat(
            session,
            chat.id,
            chat_type=chat.type,
            title=chat.title or chat.full_name,
            defaults=services.settings.briefing,
            now=services.clock(),
        )
        return row.stopped

    return await services.db(work)


async def may_change(context: BotContext, update: Update) -> bool:
    """In groups only the group's admins may change subscriptions."""
    chat = chat_of(update)
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # anonymous group admin
    user = update.effective_user
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def topic_names(slugs: Sequence[str] | set[str], topics: Sequence[Topic]) -> str:
    by_slug = {t.slug: t.name for t in topics}
    return ", ".join(tghtml.escape(by_slug.get(s, s)) for s in sorted(slugs))


def unknown_topic_text(unknown: lookup.UnknownName, topics: Sequence[Topic]) -> str:
    text = texts.UNKNOWN_TOPIC.format(name=tghtml.escape(unknown.name[:64]))
    if unknown.suggestions:
        text += texts.DID_YOU_MEAN.format(
            suggestions=" or ".join(f"“{tghtml.escape(s)}”" for s in unknown.suggestions)
        )
    return (
        text + "\n" + texts.TOPIC_LIST.format(topics=topic_names([t.slug for t in topics], topics))
    )
