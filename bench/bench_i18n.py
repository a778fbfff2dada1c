"""Cost of languages: compiling the .po catalogues, and composing a briefing per language.

Measures (pure, no database, no network):
1. the first use of each catalogue: read the .po and compile it in memory (once per process);
2. one 10-story briefing (header with the local date, ages, "also" lines, one-line
   summaries) composed per language, against the same briefing in English.

Run: python -m bench.bench_i18n [--rounds 2000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bench._common import ensure_repo_on_path, md_table, print_machine

ensure_repo_on_path()

from bot.briefings.compose import briefing_header  # noqa: E402
from bot.briefings.layout import briefing_messages  # noqa: E402
from bot.briefings.prefs import ChatPrefs  # noqa: E402
from bot.render import i18n  # noqa: E402
from bot.render.stories import StoryView  # noqa: E402

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


def stories() -> list[StoryView]:
    return [
        StoryView(
            id=n,
            title=f"Council approves tram line {n} after a long debate",
            link=f"https://news.example/{n}",
            source="Wire",
            published_at=NOW - timedelta(minutes=7 * n + 3),
            other_sources=("Daily", "Herald"),
            summary="Officials said the plan would take effect next spring. " * 2,
        )
        for n in range(10)
    ]


def compose(code: str, views: list[StoryView]) -> None:
    lang = i18n.Lang(code)
    header = briefing_header(["World"], local=NOW, lang=lang)
    prefs = ChatPrefs(language=code, summaries=True, link_preview="small", quiet=True)
    briefing_messages(views, header_html=header, now=NOW, prefs=prefs)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    print_machine()
    rows = []
    for code in i18n.LANGUAGES:
        start = time.perf_counter()
        i18n.Lang(code)  # first use: compiles the catalogue
        rows.append((code, f"{(time.perf_counter() - start) * 1000:.1f}"))
    print("First use of each catalogue (read .po, compile in memory):\n")
    print(md_table(["language", "ms"], rows))
    views = stories()
    spent = dict.fromkeys(i18n.LANGUAGES, 0.0)
    for code in i18n.LANGUAGES:
        compose(code, views)  # warm
    # Interleaved, so load from other jobs on the shared machine falls on every language alike.
    for _ in range(args.rounds):
        for code in i18n.LANGUAGES:
            start = time.perf_counter()
            compose(code, views)
            spent[code] += time.perf_counter() - start
    results = {code: total / args.rounds * 1e6 for code, total in spent.items()}
    base = results["en"]
    table = [(c, f"{us:.0f}", f"{us / base:.2f}") for c, us in results.items()]
    print(f"\nOne 10-story briefing with summaries, {args.rounds} rounds:\n")
    print(md_table(["language", "µs per briefing", "vs en"], table))


if __name__ == "__main__":
    main()
