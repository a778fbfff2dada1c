"""The 📖 full text on Mozilla Readability's test pages, through the button's code.

Skips without the data, unless ``REQUIRE_CORPUS=1`` makes absence a failure. The full
comparison with trafilatura, per page and per half, is ``bench/fulltext_eval.py``.
"""

from __future__ import annotations

import os

import pytest

from tests.support.fulltextkit import (
    DEFAULT_DATA,
    Page,
    load_pages,
    production_text,
    score,
    trafilatura_text,
    words,
)

pytestmark = pytest.mark.corpus

# Measured 0.941 over the 130 pages (bench/fulltext_eval.py, BENCHMARKS.md "Full text");
# the floor leaves room for library updates, not for regressions.
MEAN_F1_FLOOR = 0.90


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    if not DEFAULT_DATA.is_dir():
        reason = f"../shared/data/readability-test-pages not found (looked in {DEFAULT_DATA})"
        if os.environ.get("REQUIRE_CORPUS") == "1":
            pytest.fail(f"{reason}; REQUIRE_CORPUS=1 makes this a failure")
        pytest.skip(f"{reason}; set REQUIRE_CORPUS=1 to make absence fail")
    return load_pages(DEFAULT_DATA)


def test_no_page_is_empty_where_trafilatura_finds_text_and_mean_f1_holds(
    pages: list[Page],
) -> None:
    assert len(pages) == 130
    f1s, empty = [], []
    for page in pages:
        got = words(production_text(page))
        f1s.append(score(got, page.expected).f1)
        # trafilatura alone runs only where we found nothing (keeps the test fast).
        if not got and words(trafilatura_text(page)):
            empty.append(page.name)
    assert empty == []
    mean_f1 = sum(f1s) / len(f1s)
    assert mean_f1 >= MEAN_F1_FLOOR, f"mean F1 {mean_f1:.3f}"
