"""Numbers typed by users or carried in callback data: only ASCII digits count (pure).

`str.isdigit` and `int` accept superscripts and other scripts' digits ("²",
"٣", "１"): `int("²")` raises and `int("٣")` reads 3, so a check with one and
a parse with the other either crashes or accepts what no user meant as a number.
"""

from __future__ import annotations

# Bounds the work and stays below Python's int-from-str digit limit (4300).
MAX_DIGITS = 18


def parse_ascii_int(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as a number if it is 1..max_digits ASCII digits (no sign, space, "_"), else None."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def looks_numeric(text: str) -> bool:
    """True for what a user may have meant as a number, in any script, with an optional sign."""
    return text.lstrip("+-").isdigit()
