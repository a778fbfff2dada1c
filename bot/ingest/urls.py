"""Canonical article URLs: one spelling per page, so dedup can compare links.

Pure string work; no network, no DNS.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

# Query parameters that identify a campaign or a click, never the page.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "mc_cid", "mc_eid",
        "igshid", "_ga", "_gl", "yclid", "ref_src", "ref_url", "ocid", "twclid",
        "wbraid", "gbraid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__hs")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG URL parsing drops ASCII tabs and newlines anywhere in the input.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# ... and percent-encodes the other C0 controls, space and DEL: a NUL left as it was
# made PostgreSQL refuse the whole feed's batch.
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# A lone UTF-16 surrogate (a JSON "\\ud800") is no character: no URL has one.
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_URL_LENGTH = 8192  # of the input; cheap early refusal before any parsing
#: Of the canonical result, in UTF-8 bytes: fits the VARCHAR(2048) link and url
#: columns, and a PostgreSQL btree index entry (at most ~2700 bytes) on Entry.link.
MAX_URL_BYTES = 2048


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Return the canonical absolute http(s) form of ``url``, or None if it has none.

    Resolves against ``base``, lower-cases scheme and host (IDNA-encoded),
    drops default ports, credentials, the fragment and tracking parameters,
    and keeps the remaining query parameters in their original order.
    Links over ``MAX_URL_BYTES`` (UTF-8) have none: they would not fit their column.
    Never raises.
    """
    try:
        return _canonical(url, base)
    except (ValueError, UnicodeError, TypeError, AttributeError):
        return None


def _canonical(url: str, base: str | None) -> str | None:
    url = _TAB_NEWLINE.sub("", url).strip()
    if not url or len(url) > _MAX_URL_LENGTH or _SURROGATE.search(url):
        return None
    if base:
        url = urljoin(_TAB_NEWLINE.sub("", base).strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = _ascii_host(parts.hostname)
    if host is None or _CONTROL.search(host):
        return None
    port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    canonical = urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))
    canonical = _CONTROL.sub(lambda found: f"%{ord(found[0]):02X}", canonical)
    if len(canonical.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES:
        logger.info("dropped a link longer than %d bytes: %.80s...", MAX_URL_BYTES, canonical)
        return None
    return canonical


def feed_key(url: str) -> str:
    """Return what every spelling of one feed address shares, for spotting a feed twice.

    Scheme, host case, a default port, the fragment and a trailing slash do not tell
    two feeds apart ("HTTP://News.example/rss/" is "https://news.example/rss"); the
    query does. Never raises: an address it cannot read is its own key.
    """
    try:
        parts = urlsplit(_TAB_NEWLINE.sub("", url).strip())
        host = _ascii_host(parts.hostname or "") or ""
        port = parts.port
    except (ValueError, UnicodeError):
        return url
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = f"{netloc}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{netloc}{parts.path.rstrip('/')}{query}"


def _ascii_host(hostname: str) -> str | None:
    """Return the lower-case ASCII (IDNA) form of a host name, or None if invalid."""
    host = hostname.lower().rstrip(".")
    if not host or any(c in host for c in " <>\"'`{}|\\^%"):
        return None
    if host.startswith("[") or ":" in host:
        return host  # an IPv6 literal, already validated by urlsplit
    # Per-label encoding: the codec rejects a whole name for one bad label.
    labels = [_idna_label(label) for label in host.split(".")]
    if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        return None  # DNS limits (RFC 1035 2.3.4)
    return ".".join(labels)


def _idna_label(label: str) -> str:
    return label if label.isascii() else label.encode("idna").decode("ascii")


def _clean_query(query: str) -> str:
    """Drop tracking parameters, keeping the others byte-for-byte in order."""
    if not query:
        return ""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def _is_tracking(pair: str) -> bool:
    key = unquote(pair.split("=", 1)[0]).strip().lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)
