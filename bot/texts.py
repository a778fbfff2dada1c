"""Every user-facing text in one place, English first, ready for translation.

Texts are Telegram HTML written by us; placeholders are filled with values
that the caller has already escaped with `bot.tghtml.escape`.
"""

from __future__ import annotations

from bot.tghtml import escape

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
ALREADY = "Nothing changed: {names} {verb} already as you asked."
UNKNOWN_TOPIC = 'There is no topic "{name}".'
DID_YOU_MEAN = " Did you mean {suggestions}?"
TOPIC_LIST = "Topics: {topics}."
NOTHING_YET = "No stories yet. Feeds are fetched every few minutes; try again soon."
NOTHING_IN_TOPIC = "No stories in {name} yet."
LATEST_HEADER = "Latest {count} {noun} · {scope}"
RATE_LIMITED = "You asked for news a lot in the last minute. Please wait {seconds} s and try again."
GROUP_ADMINS_ONLY = "In groups, only the group's admins can change its subscriptions."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
TEXT_NOT_COMMAND = "I only understand commands. /help lists them."
FULLTEXT_LOADING = "Fetching the article…"
FULLTEXT_FAILED = "Couldn't get the article's text ({reason}). Read it here: {link}"
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
MODE_INSTANT = "instant"
MODE_OFF = "off"
TIMEZONE_SET = "🕰 Time zone set to {zone}. Next briefing: {next}."
TIMEZONE_UNKNOWN = 'Unknown time zone "{name}".'
TIMEZONE_HINT = " Use a name like Europe/Berlin or America/New_York."
ERROR_GENERIC = "Sorry, something went wrong on my side. Please try again in a minute."

# Plain text (escaped when used).
USAGE = {
    "start": "/start: subscribe and pick topics",
    "topics": "/topics: pick the topics you follow",
    "subscribe": "/subscribe <topic> [topic…]: follow topics by name",
    "unsubscribe": "/unsubscribe <topic…|all>: stop following topics",
    "latest": "/latest [topic] [n]: the newest n stories (1–20, default 5)",
    "schedule": "/schedule [HH:MM…|instant|off]: show or set your briefing times",
    "timezone": "/timezone <Area/City>: set your time zone, e.g. Europe/Berlin",
    "stop": "/stop: pause all deliveries",
    "help": "/help: this list",
}

# Command menu (setMyCommands): name -> short description.
MENU = {
    "latest": "Newest stories from your topics",
    "topics": "Choose your topics",
    "subscribe": "Follow topics by name",
    "unsubscribe": "Stop following topics",
    "schedule": "Show or set briefing times",
    "timezone": "Set your time zone",
    "start": "Subscribe and pick topics",
    "stop": "Pause all deliveries",
    "help": "All commands",
}


def usage_line(command: str) -> str:
    return "Usage: " + escape(USAGE[command])


def help_text() -> str:
    return "<b>Commands</b>\n" + "\n".join(escape(line) for line in USAGE.values())
