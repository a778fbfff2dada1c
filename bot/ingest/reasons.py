"""Why a feed or page could not be fetched, in the English words the fetcher stores
(pure, no imports; why a fetched page has no article: `bot.fulltext.reasons`).

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
