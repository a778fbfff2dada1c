"""Every user-facing text in one place: the English message ids of the catalogues.

Texts are Telegram HTML written by us; placeholders are filled with values
that the caller has already escaped with `bot.render.tghtml.escape`. Each
upper-case `str` here (and each `(singular, plural)` pair) is a message id
that every catalogue in bot/locale must translate (`python -m
bot.render.catalogue check` lists what is missing); render them through a
`bot.render.i18n.Lang`.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.admin.access import is_admin
from bot.fulltext import reasons as page_reasons
from bot.ingest import reasons
from bot.render import commands
from bot.render.i18n import EN, Lang

WELCOME = (
    "👋 <b>Welcome to your news briefing.</b>\n"
    "I collect headlines from many outlets, merge the same story into one item, and send "
    "you a short briefing at the times you choose. Pick your topics below; /latest shows "
    "the newest stories any time, and /help lists everything I can do."
)
RESUMED = "▶️ Deliveries resumed. Your topics are below."
PICKER = "Tap a topic to subscribe or unsubscribe (✅ = subscribed):"
NO_TOPICS_CONFIGURED = "This bot has no topics configured yet. /latest still shows all news."
STOPPED = "⏸ Stopped. You will get no briefings until you send /start again. Your topics are kept."
SUBSCRIBED = "✅ Subscribed to: {names}."
UNSUBSCRIBED = "Unsubscribed from: {names}."
UNSUBSCRIBED_ALL = "Unsubscribed from every topic."
NO_TOPIC_LEFT = (
    "\nWith no topic chosen, your briefings bring every topic. /stop pauses them;"
    " /topics picks topics again."
)
UNKNOWN_TOPIC = 'There is no topic "{name}".'
DID_YOU_MEAN = " Did you mean {suggestions}?"
TOPIC_LIST = "Topics: {topics}."
NOTHING_YET = "No stories yet. Feeds are fetched every few minutes; try again soon."
NOTHING_IN_TOPIC = "No stories in {name} yet."
NOTHING_BUT_MUTED = (
    "Every recent story here mentions one of your mute words. /filters lists them; "
    "/unmute takes one back."
)
LATEST_HEADER = ("Latest {count} story · {scope}", "Latest {count} stories · {scope}")
ALL_TOPICS = "all topics"
TOPICS_TITLE = "Topics"
TOPIC_REMOVED = "Removed {name}"
NOTHING_FOLLOWED = "Nothing changed: you already follow {names}."
NOTHING_UNFOLLOWED = "Nothing changed: you do not follow {names}."
NOTHING_FOLLOWED_AT_ALL = "Nothing changed: you follow no topics. /topics lists them."
OR = " or "
BRIEFING_HEADER = "Your briefing · {scope}"
BRIEFING_ALL_TOPICS = "All topics"
JUST_NOW = "just now"
ALSO = " · also {names}"
MORE = " +{count} more"
MODE_INSTANT = "instant"
MODE_OFF = "off"
USAGE_LINE = "Usage: {usage}"
HELP_TITLE = "<b>Commands</b>"
HELP_ADMIN_TITLE = "<b>Admin commands</b>"
RATE_LIMITED = "You asked for news a lot in the last minute. Please wait {seconds} s and try again."
GROUP_ADMINS_ONLY = "In groups, only the group's admins can change its subscriptions."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
TEXT_NOT_COMMAND = "I only understand commands. /help lists them."
CAPTION_NOT_COMMAND = (
    "A command works as a text message on its own, not as a caption. /help lists them."
)
FULLTEXT_LOADING = "Fetching the article…"
FULLTEXT_FAILED = "Couldn't get the article's text: {reason}. Read it here: {link}"
FULLTEXT_GONE = "That story is no longer available."
FULLTEXT_SOURCE = "{source} · {link}"
FULLTEXT_BUTTON_STALE = "That button has expired; use /latest for fresh stories."
SCHEDULE_SHOW = (
    "<b>Your briefings</b>\nTimes: {times}\nTime zone: {zone}\nNext: {next}\n\n"
    "Change with /schedule 07:30 19:00, /schedule instant or /schedule off; "
    "set your zone with /timezone Europe/Berlin."
)
SCHEDULE_INSTANT = (
    "⚡ Instant mode: new stories from your topics arrive as they are published"
    " (at most one message a minute)."
)
SCHEDULE_OFF = (
    "Scheduled briefings are off. /latest still works; /schedule 08:00 turns them back on."
)
SCHEDULE_SET = "🗓 Briefings at {times} ({zone}). Next: {next}."
SCHEDULE_NOT_A_TIME = '"{item}" is not a time of day: write it as 07:30 (00:00 to 23:59).'
SCHEDULE_TOO_MANY = "That is {count} times; at most {max} briefings a day."
TIMEZONE_SET = "🕰 Time zone set to {zone}. Next briefing: {next}."
TIMEZONE_SET_UNSCHEDULED = "🕰 Time zone set to {zone}."  # instant mode, or briefings off
TIMEZONE_UNKNOWN = 'Unknown time zone "{name}".'
TIMEZONE_HINT = " Use a name like Europe/Berlin or America/New_York."
ERROR_GENERIC = "Sorry, something went wrong on my side. Please try again in a minute."

# Mute words and personal keywords (/mute /follow /unmute /unfollow /filters).
FILTERS_HEADER = "<b>Your filters</b>"
FILTERS_MUTED = "🔇 Muted ({count}): {words}"
FILTERS_FOLLOWED = "➕ Keywords ({count}): {words}"
FILTERS_NONE = (
    "No mute words or keywords yet. /mute football leaves out every story that mentions it; "
    '/follow "open source" brings stories that mention it, from any topic.'
)
FILTERS_TAP = "Tap one to remove it. {count} of {limit} used."
FILTER_MUTED = "🔇 Muted: {words}. Stories that mention them are left out of briefings and /latest."
FILTER_FOLLOWED = "➕ Following: {words}. Stories that mention them come to you from any topic."
FILTER_ALREADY_MUTED = "Already muted: {words}."
FILTER_ALREADY_FOLLOWED = "Already following: {words}."
FILTER_UNMUTED = "🔊 Unmuted: {words}. Recent stories that mention them are back in /latest."
FILTER_UNFOLLOWED = "Stopped following: {words}."
FILTER_NOT_MUTED = "Not muted: {words}."
FILTER_NOT_FOLLOWED = "Not followed: {words}."
FILTER_UNMUTED_ALL = "🔊 Every mute word removed."
FILTER_UNFOLLOWED_ALL = "Every keyword removed."
FILTER_NONE_TO_REMOVE = "There was nothing to remove."
FILTER_TOO_LONG = "Nothing changed: {words} is longer than {limit} characters."
FILTER_NO_WORDS = "Nothing changed: {words} has no letters or digits to match."
FILTER_LIMIT = (
    "Nothing changed: that would make {count} mute words and keywords, and {limit} is the "
    "limit. Remove some with /filters first."
)
FILTER_REMOVED = "Removed {word}"
FILTER_BUTTON_GONE = "That one was already removed."

# Channels managed from a private chat (/manage).
MANAGE_PRIVATE_ONLY = "Please use /manage in a private chat with me."
MANAGE_NOT_FOUND = (
    "I can't find {name}. Add me to the channel as an admin that may post messages, then try again."
)
MANAGE_NOT_CHANNEL = "{name} is not a channel. In groups, use the commands in the group itself."
MANAGE_NOT_ADMIN = "Only the admins of {title} can manage it, and you are not one of them."
MANAGE_BOT_CANNOT_POST = (
    "I can't post in {title}: make me an admin with the right to post messages, then try again."
)
MANAGE_STARTED = (
    "📣 Now managing {title}. /topics, /subscribe, /schedule, /timezone, /mute and the other "
    "subscriber commands here change that channel; /manage off returns to your own chat."
)
MANAGE_OFF = "Back to your own chat; {title} keeps its settings."
MANAGE_OFF_NONE = "You are not managing a channel; commands here change your own chat."
MANAGE_LIST = (
    "<b>Channels you manage</b>\n{lines}\n\n/manage @channel switches to one; "
    "/manage off returns to your own chat."
)
MANAGE_LIST_NONE = (
    "You manage no channels yet. Add me to your channel as an admin that may post messages, "
    "then send /manage @yourchannel here (or forward me one of its posts)."
)
MANAGE_LOST = (
    "You are no longer an admin of {title}, so you can't manage it any more. "
    "Commands here change your own chat again."
)
MANAGE_UNREACHABLE = (
    "I can't reach {title} any more (am I still an admin there?). "
    "Commands here change your own chat again; use /manage once that is fixed."
)
CHANNEL_PAUSED = (
    "⏸ I can no longer post in {title}, so its briefings are paused. Make me an admin "
    "there with the right to post messages, and they resume by themselves."
)
CHANNEL_RESUMED = "▶️ I can post in {title} again; its briefings resume."
MANAGING_PREFIX = "📣 <i>Managing {title}</i>\n"
LANGUAGE_PICKER = "🌐 Choose the language I use in this chat:"
LANGUAGE_SET = "🌐 From now on I speak English in this chat."
LANGUAGE_UNKNOWN = 'There is no language "{code}" here. Available: {codes}.'
SETTINGS_TEXT = (
    "⚙️ <b>Settings for this chat</b>\n"
    "Tap a button to change it; briefings from now on use the new choice."
)
SETTINGS_PREVIEW = "🔗 Link preview: {value}"
SETTINGS_IMAGE = "🖼 Lead image: {value}"
SETTINGS_SUMMARIES = "📝 Summaries: {value}"
SETTINGS_ITEMS = "🔢 Stories per briefing: {count}"
SETTINGS_QUIET = "🔕 Quiet delivery: {value}"
SETTINGS_SAVED = "Saved."
VALUE_ON = "on"
VALUE_OFF = "off"
PREVIEW_SMALL = "small"
PREVIEW_LARGE = "large"
HELP_DEFAULTS = (
    "New chats start with: link preview {preview}, lead image {image}, summaries {summaries},"
    " {items} stories per briefing, quiet delivery {quiet}; /settings changes them here."
)

# Usage lines, menus and /help are generated from the one command list.
USAGE = {c.name: c.usage for c in commands.commands(admin=False)}  # plain text, English
MENU = dict(commands.menu(admin=False))  # setMyCommands: name -> short description
usage_line = commands.usage_line


def help_text(*, admin: bool = False, lang: Lang = EN) -> str:
    return commands.help_text(admin=admin, lang=lang)


def help_for(admins: Collection[int], user_id: int | None, lang: Lang = EN) -> str:
    """/help as the sender should see it: admins get the admin commands too."""
    return commands.help_text(admin=is_admin(admins, user_id), lang=lang)


# ---------------------------------------------------------------- Admin

ADMIN_ONLY = "This command is for the bot's admins."
ADMIN_PRIVATE_ONLY = "Please use /{command} in a private chat with me: it shows admin-only details."
BROADCAST_PREVIEW = (
    "☝️ <b>Preview</b>: this is the message exactly as subscribers will get it.\n"
    "Audience: {audience} ({scope})."
)
BROADCAST_SCOPE_ALL = "every active chat"
BROADCAST_SCOPE_TOPIC = "chats following {topic}"
BROADCAST_SEND_BUTTON = "Send to {audience}"
BROADCAST_CANCEL_BUTTON = "Cancel"
BROADCAST_NOBODY = "Nobody would get this broadcast: the audience ({scope}) is empty."
BROADCAST_TOO_LONG = "That text is too long: {length} characters, Telegram allows {limit}."
BROADCAST_CANCELLED = "✖️ Broadcast #{id} cancelled; nothing was sent."
BROADCAST_ALREADY_SENDING = "Broadcast #{id} is already being sent; this tap sends nothing more."
BROADCAST_ALREADY_SENT = "Broadcast #{id} was already sent; this tap sends nothing more."
BROADCAST_TOO_LATE_TO_CANCEL = (
    "Broadcast #{id} is already being sent; it can no longer be cancelled."
)
BROADCAST_SENT_NOT_CANCELLED = "Broadcast #{id} was already sent; it can no longer be cancelled."
BROADCAST_GONE = "That broadcast no longer exists."
BROADCAST_QUEUED = "Sending broadcast #{id}…"
BROADCAST_PROGRESS = (
    "📣 <b>Broadcast #{id}</b> · sending\n"
    "Sent {sent} / {total} · blocked {blocked} · failed {failed}\n"
    "Time left: {left}"
)
BROADCAST_REPORT = (
    "📣 <b>Broadcast #{id}</b> · done in {took}\n"
    "Sent {sent} / {total} · blocked {blocked} · failed {failed}"
)
BROADCAST_NOT_DELIVERED = "Not delivered, as Telegram answered: {reasons}"
FEEDS_HEADER = "<b>Feeds</b> ({count})"
FEEDS_NONE = "No feeds yet. Add one with /addfeed &lt;url&gt; [topic…]."
FEED_LINE = (
    "<b>#{id}</b> {name}\n{url}\nTopics: {topics} · last fetch: {last} · 24 h: {stories}\n"
    "State: {state}"
)
FEED_STATE_OK = "✅ ok"
FEED_STATE_FAILING = "⚠️ failing since {since} ({reason})"
FEED_STATE_PAUSED = "⏸ paused since {since} ({reason}); /resumefeed {id}"
FEED_STATE_REMOVED = "removed"
FEED_ADDED = "✅ Added feed #{id} “{title}”: {items} now. Topics: {topics}."
FEED_ITEMS = ("{count} item", "{count} items")
FEED_READDED = "✅ Feed #{id} “{title}” is back: {items} now. Topics: {topics}."
FEED_FOUND_ON = "{page} is a web page, not a feed; this is the feed it names: {url}"
FEED_UNUSABLE = "Can't add {url}: {reason}."
FEED_DUPLICATE = "That feed is already there: #{id} {name}."
FEED_DUPLICATE_FINAL = "That URL leads to {final}, which is already feed #{id} {name}."
FEED_DUPLICATE_TOPICS = "\nIts topics: {have}. /feedtopics {id} {asked} files it under {asked}."
FEED_NO_TOPICS_NOTE = (
    "\nWith no topics, its stories reach only chats whose keywords they mention and topics"
    " whose keywords they match; /feedtopics {id} &lt;topic…&gt; files it under topics."
)
FEED_TOPICS_SET = "🏷 Feed #{id} {name} files its stories under: {topics} (before: {old})."
FEED_TOPICS_REFILED = (
    " {count} story of the last 24 hours refiled.",
    " {count} stories of the last 24 hours refiled.",
)
FEED_TOPICS_SHOWN = (
    "Feed #{id} {name} files its stories under: {topics}.\n"
    "/feedtopics {id} &lt;topic…&gt; changes that; /feedtopics {id} none leaves only keywords."
)
FEED_TOPICS_CONFIG = (
    "Feed #{id} {name} is listed in the config file, so its topics are set there (now: {topics})."
)
FEED_NOT_FOUND = "There is no feed #{id}. /feeds lists them."
FEED_REMOVED = "Feed #{id} {name} removed; its stories stay."
FEED_REMOVED_CONFIG = (
    " It is listed in the config file, so it comes back at the next start unless you"
    " delete it there."
)
FEED_ALREADY_REMOVED = "Feed #{id} was already removed."
FEED_RESUME_REMOVED = "Feed #{id} {name} was removed; /addfeed {args} takes it back."
FEED_RESUMED = "▶️ Feed #{id} {name} resumed; it will be fetched within a minute."
FEED_NOT_PAUSED = "Feed #{id} {name} is not paused."
FEED_PAUSED_ALERT = (
    "⏸ Feed #{id} {name} was paused after {count} failed fetch"
    " (failing since {since}): {reason}.\n/resumefeed {id} takes it back.",
    "⏸ Feed #{id} {name} was paused after {count} failed fetches in a row"
    " (failing since {since}): {reason}.\n/resumefeed {id} takes it back.",
)
FEED_PAUSED_MANY_ALERT = (
    "⏸ {count} feed was paused after failing fetches in a row:",
    "⏸ {count} feeds were paused after failing fetches in a row:",
)
FEED_PAUSED_LINE = "#{id} {name}: {reason} (failing since {since}). /resumefeed {id}"
FEED_MOVED_ALERT = (
    "↪️ Feed #{id} {name} moved for good: its server sent it to {url}, and it is read"
    " from there now."
)
FEED_MOVED_KEPT_ALERT = (
    "↪️ Feed #{id} {name} moved for good: its server sends it to {url}. Its old address"
    " stays (the config file names it, or another feed has the new one); please update it."
)
FEED_MOVED_MANY_ALERT = (
    "↪️ {count} feed moved for good (its server sends it to a new address):",
    "↪️ {count} feeds moved for good (their servers send them to new addresses):",
)
FEED_MOVED_LINE = "#{id} {name} → {url}: read from there now."
FEED_MOVED_KEPT_LINE = (
    "#{id} {name} → {url}: its old address stays (the config file names it, or another feed"
    " has the new one); please update it."
)
OPML_IMPORTED = (
    "📥 OPML import. Added: {added}, already there: {present}, skipped as invalid: {invalid}."
)
OPML_REFUSED = "This OPML file was refused: {reason}."
OPML_TOO_LARGE = "This file is too large for an OPML import (over {limit} KB)."
OPML_EXPORT_CAPTION = "Feeds: {count}"
STATS_STORIES = ("{count} story", "{count} stories")
STATS_MERGED = ("{count} merged duplicate", "{count} merged duplicates")
STATS = (
    "📊 <b>Statistics</b>\n"
    "Chats: {active} active, {inactive} inactive ({blocked} unreachable, {stopped} stopped)\n"
    "Subscribers per topic: {topics}\n"
    "Last 24 h: {stories}, {merged}\n"
    "Messages in 24 h: {sent} sent, {failed} failed, {cancelled} blocked\n"
    "Feeds: {feeds} enabled ({fine} fine, {failing} failing, {paused} paused)"
)
STATS_CHART_CAPTION = "Last 14 days: messages sent and new chats per day"
CHART_SENT = "Messages sent per day"  # the /stats chart's titles
CHART_NEW_CHATS = "New chats per day"
AUDIT_HEADER = "<b>Audit log</b> (last {count})"
AUDIT_NONE = "No admin actions recorded yet."
AUDIT_LINE = "{when} · {who} · {action} · {detail}"
ERROR_ALERT = (
    "🐞 <b>{kind}</b> in {where}\n{message}\n"
    "Logged with its traceback; the same kind is reported again after 10 minutes at most."
)

NEVER = "never"
UNKNOWN = "unknown"
UNKNOWN_ERROR = "unknown error"
NONE = "none"
CHATS = ("{count} chat", "{count} chats")
DURATION_S = "{s} s"
DURATION_MIN_S = "{min} min {s} s"
DURATION_H_MIN = "{h} h {min} min"

ADMIN_USAGE = {c.name: c.usage for c in commands.commands(admin=True)}  # plain text
ADMIN_MENU = {c.name: c.menu for c in commands.commands(admin=True)}
admin_usage_line = commands.usage_line


# Per-user limits and full-text bounds (bot/services/ratelimit.py, handlers/limits.py).
SLOW_DOWN = "You're sending commands faster than I can keep up. Please wait {seconds} s."
TAPS_SLOW_DOWN = "Too many taps; please wait {seconds} s."
FULLTEXT_SLOW_DOWN = "You've opened many articles; please wait {seconds} s."
FULLTEXT_BUTTON_BAD = "That button is not valid; use /latest for fresh stories."
FULLTEXT_CONTINUE = "Continue reading: {link}"
FULLTEXT_READ_ON = "📖 Read on ({first}–{last} of {total})"
FULLTEXT_READ_ON_ONE = "📖 Read on ({first} of {total})"  # one message left
FULLTEXT_PARTIAL = "The page shows only this much text (paywall?). Read it there: {link}"
FULLTEXT_TOO_SLOW = "the page took too long"
FULLTEXT_EXTRACT_SLOW = "the page took too long to read"
FULLTEXT_EXTRACT_DIED = "reading the page broke off; please try again"
FULLTEXT_NO_LINK = "(no link)"
FULLTEXT_STORY_NO_LINK = "the story has no link"
FULLTEXT_NOT_LOADED = "the page did not load"
FULLTEXT_UNKNOWN_REASON = "unknown reason"

# Why a page could not be read, as the fetcher and the extractor store it (English);
# a failed 📖 shows it through the catalogue (`FULLTEXT_FAILED`'s {reason}).
REASON_TIMEOUT = reasons.TIMEOUT
REASON_TLS_ERROR = reasons.TLS_ERROR
REASON_DNS_FAILED = reasons.DNS_FAILED
REASON_CONNECTION_REFUSED = reasons.CONNECTION_REFUSED
REASON_CONNECTION_FAILED = reasons.CONNECTION_FAILED
REASON_BAD_ENCODING = reasons.BAD_ENCODING
REASON_PROTOCOL_ERROR = reasons.PROTOCOL_ERROR
REASON_INVALID_URL = reasons.INVALID_URL
REASON_CONNECTION_ERROR = reasons.CONNECTION_ERROR
REASON_FETCH_FAILED = reasons.FETCH_FAILED
REASON_PAGE_EMPTY = page_reasons.PAGE_EMPTY
REASON_PAGE_NO_TEXT = page_reasons.PAGE_NO_TEXT
REASON_PAGE_NOT_ARTICLE = page_reasons.PAGE_NOT_ARTICLE
REASON_PAGE_UNREADABLE = page_reasons.PAGE_UNREADABLE
REASON_PAGE_TOO_LARGE = page_reasons.PAGE_TOO_LARGE
