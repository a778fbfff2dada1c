"""Why a feed or page could not be read, in the English words the fetcher and the
article extractor store (pure, no imports).

They are stored as written and shown through a catalogue: `bot.render.texts` names
each one, so every language translates them (a 📖 tap that fails shows its reason).
"""

from __future__ import annotations

TIMEOUT = "timeout"
TLS_ERROR = "TLS error"
DNS_FAILED = "DNS lookup failed"
CONNECTION_REFUSED = "connection refused"
CONNECTION_FAILED = "connection failed"
BAD_ENCODING = "bad content encoding"
PROTOCOL_ERROR = "protocol error"
INVALID_URL = "invalid URL"
CONNECTION_ERROR = "connection error"
FETCH_FAILED = "fetch failed"

PAGE_EMPTY = "the page is empty"
PAGE_NO_TEXT = "the page has too little text (paywall?)"
PAGE_NOT_ARTICLE = "not an article page"
PAGE_UNREADABLE = "the page could not be parsed as HTML"
PAGE_TOO_LARGE = "the page has too many elements to read"
