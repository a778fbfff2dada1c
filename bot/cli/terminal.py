"""Text bound for a terminal: control characters are shown, never obeyed.

Feed titles, OPML labels and server answers are written by strangers. Printed raw, an
ESC sequence among them can clear the admin's screen, retitle the window or rewrite
what was printed before it; shown as ``\\x1b`` it is just text.
"""

from __future__ import annotations

import re
from typing import TextIO

# C0 controls except tab and newline, DEL, and the C1 range (``\x9b`` starts a CSI
# sequence on terminals that read 8-bit controls).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Return ``text`` with each control character written as a ``\\xNN`` escape."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class PrintableStream:
    """A write-only text stream that passes everything through `printable`."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()
