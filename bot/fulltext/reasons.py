"""Why a fetched page gave no article text, in the English words the extractor stores
(pure, no imports; why a page could not be fetched: `bot.ingest.reasons`).

Stored as written and shown through a catalogue: `bot.render.texts` names each one,
so every language translates them (a 📖 tap that fails shows its reason).
"""

from __future__ import annotations

PAGE_EMPTY = "the page is empty"
PAGE_NO_TEXT = "the page has too little text (paywall?)"
PAGE_NOT_ARTICLE = "not an article page"
PAGE_UNREADABLE = "the page could not be parsed as HTML"
PAGE_TOO_LARGE = "the page has too many elements to read"
