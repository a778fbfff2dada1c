"""Undo HTTP content-codings ourselves, a bounded piece at a time.

httpx decodes a whole network read in one call, so a few hundred bytes of
``Content-Encoding: gzip, gzip`` became hundreds of MiB before any size cap
could look at them. Here every layer inflates at most ``PIECE`` bytes per
step, so the caller sees (and can stop at) each piece as it is produced.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence

#: Largest piece any layer produces in one step; bounds memory per step.
PIECE = 64 * 1024
#: More stacked layers than this is never legitimate and only multiplies work.
MAX_LAYERS = 2
#: The only coding we ask for; anything else a server sends is still decoded if known.
ACCEPT_ENCODING = "gzip"

_GZIP = zlib.MAX_WBITS | 16
_ZLIB_OR_GZIP = zlib.MAX_WBITS | 32  # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2)
_GZIP_MAGIC = b"\x1f\x8b"
_WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": _ZLIB_OR_GZIP}


class DecodeError(ValueError):
    """The body cannot be decoded; the message is a readable reason."""


class _Layer:
    """One content-coding, inflated in pieces of at most PIECE bytes."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._inflater = zlib.decompressobj(wbits)
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._done:
            piece = self._inflate(data)
            if piece:
                yield piece
            if not self._inflater.eof:
                data = self._inflater.unconsumed_tail
                continue
            data = self._inflater.unused_data
            if data and _GZIP_MAGIC.startswith(data[:2]):
                # Concatenated gzip members are one valid stream (RFC 1952 §2.2).
                self._inflater = zlib.decompressobj(self._wbits)
            else:
                # Like httpx, ignore what trails the stream (some servers pad it).
                self._done = True

    def finish(self) -> Iterator[bytes]:
        # Not flush(): its length is only a starting buffer size, not a limit.
        while not self._done and not self._inflater.eof:
            piece = self._inflate(self._inflater.unconsumed_tail)
            if not piece:
                return
            yield piece

    def _inflate(self, data: bytes) -> bytes:
        try:
            return self._inflater.decompress(data, PIECE)
        except zlib.error as exc:
            raise DecodeError("bad content encoding") from exc


class BodyDecoder:
    """Decode a raw body for the given Content-Encoding header value, piece by piece."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = parse_codings(content_encoding)
        if len(codings) > MAX_LAYERS:
            raise DecodeError(f"bad content encoding ({len(codings)} stacked codings)")
        # Codings are listed in the order they were applied: undo the last first.
        self._layers = [_Layer(_WBITS[name]) for name in reversed(codings)]

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """Yield decoded pieces (each at most PIECE bytes) for one raw chunk."""
        return _through(self._layers, raw)

    def finish(self) -> Iterator[bytes]:
        """Yield whatever the layers still hold once the raw stream has ended."""
        for index, layer in enumerate(self._layers):
            for piece in layer.finish():
                yield from _through(self._layers[index + 1 :], piece)


def parse_codings(header: str | None) -> list[str]:
    """Return the content-codings in a header value, refusing ones we cannot undo."""
    codings = [part.strip().lower() for part in (header or "").split(",")]
    codings = [name for name in codings if name and name != "identity"]
    for name in codings:
        if name not in _WBITS:
            raise DecodeError(f'bad content encoding (unsupported "{name[:40]}")')
    return codings


def _through(layers: Sequence[_Layer], data: bytes) -> Iterator[bytes]:
    if not layers:
        if data:
            yield data
        return
    first, rest = layers[0], layers[1:]
    for piece in first.feed(data):
        yield from _through(rest, piece)
