"""Catalogue tooling: which message ids exist, and what each locale's .po file lacks.

    python -m bot.render.catalogue check        # list missing or broken translations; exit 1
    python -m bot.render.catalogue sync [CODE]  # add missing ids (empty) to the .po files

A message id is every upper-case `str` (or `(singular, plural)` pair) in
`bot.render.texts` plus the command list's arguments, help and menu texts. A
translation must keep the id's `{placeholders}` and its HTML tags; `check`
reports a missing, empty or fuzzy entry, a mismatch, and ids no longer used.
"""

from __future__ import annotations

import re
import string
import sys
from collections import Counter
from collections.abc import Iterator

from babel.messages import pofile
from babel.messages.catalog import Catalog

from bot.render import commands, i18n, texts

# Telegram's HTML tags (an argument such as "<topic>" in a usage line is text, escaped later).
_TAG = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|a|code|pre|span|tg-spoiler|blockquote)(?=[\s>])"
)


def msgids() -> dict[str, str | None]:
    """Every message id: singular id → plural id (None for a plain message)."""
    found: dict[str, str | None] = {}
    for name, value in vars(texts).items():
        if not name.isupper():
            continue
        if isinstance(value, str):
            found[value] = None
        elif (
            isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)
        ):
            found[value[0]] = value[1]
    for text in commands.msgids():
        found.setdefault(text, None)
    return found


def placeholders(text: str) -> Counter[str]:
    return Counter(field for _, field, _, _ in string.Formatter().parse(text) if field is not None)


def tags(text: str) -> Counter[str]:
    return Counter(_TAG.findall(text))


def read(code: str) -> Catalog:
    with i18n.po_path(code).open("rb") as fp:
        return pofile.read_po(fp, locale=code)


def _compare(msgid: str, translated: str) -> Iterator[str]:
    if placeholders(translated) != placeholders(msgid):
        yield f"placeholders differ: {sorted(placeholders(translated))} in {translated!r}"
    if tags(translated) != tags(msgid):
        yield f"HTML tags differ: {sorted(tags(translated).elements())} in {translated!r}"
    if msgid.startswith(" ") != translated.startswith(" "):
        yield f"leading space differs (the text is appended to another): {translated!r}"


def problems(code: str, catalog: Catalog | None = None) -> list[str]:
    """What is wrong with one locale's catalogue (its .po unless given), one line each."""
    catalog = read(code) if catalog is None else catalog
    wanted = msgids()
    out: list[str] = []
    for msgid, plural in wanted.items():
        message = catalog.get(msgid)
        if message is None:
            out.append(f"{code}: missing {msgid!r}")
            continue
        if message.fuzzy:
            out.append(f"{code}: fuzzy {msgid!r}")
        forms = (
            tuple(message.string)
            if isinstance(message.string, (tuple, list))
            else (message.string or "",)
        )
        if plural is not None and len(forms) < 2:
            out.append(f"{code}: {msgid!r} needs plural forms")
            continue
        if not all(forms):
            out.append(f"{code}: empty translation of {msgid!r}")
            continue
        for form in forms:
            out.extend(f"{code}: {msgid!r}: {p}" for p in _compare(plural or msgid, form))
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and key not in wanted:
            out.append(f"{code}: unused {key!r}")
    return out


def sync(code: str) -> int:
    """Add every missing id to the locale's .po (untranslated); return how many were added."""
    catalog = read(code)
    added = 0
    for msgid, plural in msgids().items():
        if catalog.get(msgid) is None:
            catalog.add((msgid, plural) if plural else msgid, ("", "") if plural else "")
            added += 1
    if added:
        with i18n.po_path(code).open("wb") as fp:
            pofile.write_po(fp, catalog, width=100)
    return added


def main(argv: list[str]) -> int:
    codes = [c for c in i18n.LANGUAGES if c != i18n.DEFAULT]
    if argv[:1] == ["sync"]:
        for code in argv[1:] or codes:
            print(f"{code}: {sync(code)} ids added")
        return 0
    if argv[:1] == ["check"]:
        found = [line for code in argv[1:] or codes for line in problems(code)]
        print("\n".join(found) or "all catalogues complete")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
