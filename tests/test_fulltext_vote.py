"""A second extractor's vote (readability-lxml) on where the article starts and ends.

News templates print short lines inside the article's container around the article (a
kicker, a promo, section links); trafilatura keeps them, readability-lxml's scoring of
the container does not. Where the two agree on most of the text, those lines go; prose,
code and whatever lies between the first and last shared line stay
(`bot.fulltext.vote`, BENCHMARKS.md "Tenth round"). trafilatura's lighter port
of the same algorithm is asked first; readability-lxml only when the port's answer
would change something or disagrees (BENCHMARKS.md, "Thirteenth session").
"""

from __future__ import annotations

import lxml.html
import pytest
from lxml.html import HtmlElement

from bot.fulltext import vote as article_vote
from bot.fulltext.article import VOTE_MAX_ELEMENTS, Article, extract_article
from bot.fulltext.vote import other_extent, quick_extent, takes_nothing, trim_to_agreement
from tests.support.samples import TRAM_PROSE, TRAM_URL

MORE_PROSE = [
    "Officials expect the first trams to run in 2029, after two years of tests on the new "
    "line and its depot.",
    "The city will publish the timetable for the construction work next month, street by "
    "street, on its website.",
]
PROSE = [*TRAM_PROSE, *MORE_PROSE]


def story(inner: str) -> str:
    return (
        "<html><head><title>Tram line approved</title></head><body>"
        f"<div class='story'><h1>Tram line approved</h1>{inner}</div></body></html>"
    )


def paragraphs(html: str) -> list[str]:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return list(result.paragraphs)


def test_short_lines_the_template_prints_around_the_article_are_dropped() -> None:
    # A kicker above the article and two promo labels under it, in the story's own
    # container: neither a link nor furniture by any pattern, so the cleaning kept them;
    # readability-lxml reads their class ("extra") as the template's, not the article's.
    body = "".join(f"<p>{p}</p>" for p in PROSE)
    extra = "".join(
        f"<div class='extra'>{label}</div>" for label in ("Weekend planner", "Reader photos")
    )
    html = story(f"<div class='extra'>City hall</div>{body}{extra}")
    assert paragraphs(html) == PROSE


def test_a_short_line_both_extractors_hold_stays() -> None:
    # A closing line of the article's own: readability-lxml has it too.
    body = "".join(f"<p>{p}</p>" for p in PROSE)
    assert paragraphs(story(f"{body}<p>1994-1999</p>")) == [*PROSE, "1994-1999"]


def test_a_short_line_between_paragraphs_stays() -> None:
    # A subheading inside the article is the article's, whatever the other extractor says.
    body = "".join(f"<p>{p}</p>" for p in PROSE[:3])
    rest = "".join(f"<p>{p}</p>" for p in PROSE[3:])
    assert paragraphs(story(f"{body}<div>What happens next</div>{rest}")) == [
        *PROSE[:3],
        "What happens next",
        *PROSE[3:],
    ]


def grams_of(*texts: str) -> set[tuple[str, ...]]:
    extent = other_extent(lxml.html.fromstring(story("".join(f"<p>{t}</p>" for t in texts))))
    assert extent is not None
    return extent


def test_only_short_lines_at_the_edges_go_and_prose_and_code_stay() -> None:
    other = grams_of(*PROSE[:3])
    ours = [
        "City hall",  # before the first shared line, short: goes
        PROSE[0],
        "Construction\nThree years",  # between shared lines: stays
        PROSE[1],
        PROSE[2],
        MORE_PROSE[0],  # prose after the last shared line: stays
        "    make build",  # code: stays
        "Weekend planner\nReader photos",  # short, after the last shared line: goes
    ]
    assert trim_to_agreement(ours, other, verbatim={"    make build"}) == ours[1:7]


def test_nothing_goes_when_the_two_disagree_on_most_of_the_text() -> None:
    # The other extractor holds one paragraph of four: either may have the wrong block.
    other = grams_of(PROSE[0])
    ours = ["City hall", PROSE[0], PROSE[1], PROSE[2], PROSE[3], "Weekend planner"]
    assert trim_to_agreement(ours, other) == ours


def test_a_page_without_text_gives_no_second_opinion() -> None:
    assert other_extent(lxml.html.fromstring("<html><body><div></div></body></html>")) is None


def test_a_page_of_many_elements_is_not_voted_on() -> None:
    # Past VOTE_MAX_ELEMENTS the second extractor is not run (it would cost as much as
    # our passes again): the kicker and the labels stay, as they did before the vote.
    body = "".join(f"<p>{p}</p>" for p in PROSE)
    extra = "".join(
        f"<div class='extra'>{label}</div>" for label in ("Weekend planner", "Reader photos")
    )
    layout = "<span></span>" * VOTE_MAX_ELEMENTS
    html = story(f"<div class='extra'>City hall</div>{body}{extra}{layout}")
    assert paragraphs(html) == ["City hall", *PROSE, "Weekend planner", "Reader photos"]


def test_a_vote_that_fails_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # readability-lxml is another project's heuristic run on hostile pages: whatever it
    # raises, the text is ours as the cleaning left it, and the reader gets it.
    class Broken:
        def __init__(self, tree: HtmlElement) -> None:
            raise IndexError("list index out of range")

    body = "".join(f"<p>{p}</p>" for p in PROSE)
    html = story(f"<div class='extra'>City hall</div>{body}")
    monkeypatch.setattr(article_vote, "readability_document", Broken)
    assert paragraphs(html) == ["City hall", *PROSE]


class CountedDocument:
    """readability-lxml's Document, counting the pages it is asked to read."""

    calls = 0

    def __init__(self, tree: HtmlElement) -> None:
        type(self).calls += 1
        self._document = ORIGINAL_DOCUMENT(tree)

    def summary(self, html_partial: bool = False) -> str:
        return str(self._document.summary(html_partial=html_partial))


ORIGINAL_DOCUMENT = article_vote.readability_document


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountedDocument]:
    CountedDocument.calls = 0
    monkeypatch.setattr(article_vote, "readability_document", CountedDocument)
    return CountedDocument


def test_readability_lxml_is_not_asked_when_the_quick_reader_takes_nothing(
    counted: type[CountedDocument],
) -> None:
    # A short line between paragraphs could go (so there is a vote), but the port holds
    # the article from its first line to its last: nothing at the edges could go, and
    # readability-lxml, four times slower, is not run.
    body = "".join(f"<p>{p}</p>" for p in PROSE[:3])
    rest = "".join(f"<p>{p}</p>" for p in PROSE[3:])
    assert paragraphs(story(f"{body}<div>What happens next</div>{rest}")) == [
        *PROSE[:3],
        "What happens next",
        *PROSE[3:],
    ]
    assert counted.calls == 0


def test_readability_lxml_decides_when_something_would_go(
    counted: type[CountedDocument],
) -> None:
    # The kicker and the promo labels are outside the port's article too; whether they go
    # is readability-lxml's call, as before the port was asked.
    body = "".join(f"<p>{p}</p>" for p in PROSE)
    extra = "".join(
        f"<div class='extra'>{label}</div>" for label in ("Weekend planner", "Reader photos")
    )
    assert paragraphs(story(f"<div class='extra'>City hall</div>{body}{extra}")) == PROSE
    assert counted.calls == 1


def test_a_quick_reader_that_fails_leaves_the_vote_to_readability_lxml(
    monkeypatch: pytest.MonkeyPatch, counted: type[CountedDocument]
) -> None:
    class Broken:
        def __init__(self, tree: object) -> None:
            raise ValueError("no candidates")

    monkeypatch.setattr(article_vote, "QuickDocument", Broken)
    body = "".join(f"<p>{p}</p>" for p in PROSE)
    html = story(f"<div class='extra'>City hall</div>{body}")
    assert paragraphs(html) == PROSE
    assert counted.calls == 1


def quick_grams_of(*texts: str) -> set[tuple[str, ...]]:
    extent = quick_extent(lxml.html.fromstring(story("".join(f"<p>{t}</p>" for t in texts))))
    assert extent is not None
    return extent


def test_takes_nothing_only_when_most_agrees_and_no_edge_line_could_go() -> None:
    other = quick_grams_of(*PROSE)
    assert takes_nothing([PROSE[0], "Construction", *PROSE[1:]], other)
    assert not takes_nothing(["City hall", *PROSE], other)  # a short line before the first
    assert not takes_nothing([*PROSE, "Reader photos"], other)  # ... or after the last
    assert takes_nothing(["    make build", *PROSE], other, verbatim={"    make build"})
    assert not takes_nothing([PROSE[0], *MORE_PROSE, "Elsewhere"], quick_grams_of(PROSE[0]))
    assert not takes_nothing([], other)


HEADLINES = [
    f"{place} council {verb} its budget for the coming year"
    for place in ("North", "South", "East", "West", "Harbour", "Airport", "Lakeside")
    for verb in ("approves", "delays", "rejects", "debates")
]


def test_short_lines_that_outweigh_the_article_go_when_all_its_prose_is_shared() -> None:
    # A column of headlines under the article, in its container, holds more characters
    # than the article: the two agree on less than half of our text, but every prose line
    # lies within what the other took, and only short lines lie outside it.
    other = grams_of(*PROSE[:3])
    ours = ["City hall", *PROSE[:3], *HEADLINES]
    assert sum(map(len, HEADLINES)) > sum(map(len, PROSE[:3]))
    assert trim_to_agreement(ours, other) == PROSE[:3]


def test_nothing_goes_when_the_other_holds_a_single_line_that_stays() -> None:
    # One shared prose line is too little to say the two took the same article.
    other = grams_of(PROSE[0])
    ours = ["City hall", PROSE[0], *HEADLINES]
    assert trim_to_agreement(ours, other) == ours


def test_nothing_goes_when_prose_lies_outside_what_the_other_took() -> None:
    other = grams_of(*PROSE[:2])
    ours = [*PROSE[:2], *HEADLINES, PROSE[2]]
    assert trim_to_agreement(ours, other) == ours


def test_a_column_of_headlines_longer_than_the_article_is_dropped() -> None:
    body = "".join(f"<p>{p}</p>" for p in PROSE[:3])
    extra = "".join(f"<div class='extra'>{h}</div>" for h in HEADLINES)
    assert paragraphs(story(f"{body}{extra}")) == PROSE[:3]


TEASERS = [
    "The mayor opened the new bridge on Saturday, and thousands of people walked across it.",
    "A storm cut power to two thousand homes in the east of the city overnight, the utility said.",
]


def test_teasers_under_a_heading_after_the_article_go() -> None:
    # After the last shared line, a heading of the template's ("More news") and teasers of
    # a sentence or two each: they go, though each holds a sentence.
    other = grams_of(*PROSE)
    ours = [*PROSE, "More news", *TEASERS]
    assert trim_to_agreement(ours, other) == PROSE


def test_prose_right_after_the_article_stays() -> None:
    # Footnotes or references that follow the article's last line, with no heading
    # between: whatever the other extractor says, prose stays.
    other = grams_of(*PROSE)
    ours = [*PROSE, *TEASERS]
    assert trim_to_agreement(ours, other) == ours


def test_prose_after_a_line_holding_a_sentence_stays() -> None:
    # A short footnote is no heading: the longer ones after it stay.
    other = grams_of(*PROSE)
    ours = [*PROSE, "1 Known as alert spam.", *TEASERS]
    assert trim_to_agreement(ours, other) == [*PROSE, *TEASERS]


def test_a_long_paragraph_after_the_heading_stays() -> None:
    # Forty words or more is a paragraph, not a teaser.
    other = grams_of(*PROSE)
    long = " ".join([TEASERS[0]] * 4)
    ours = [*PROSE, "More news", long]
    assert trim_to_agreement(ours, other) == [*PROSE, long]
