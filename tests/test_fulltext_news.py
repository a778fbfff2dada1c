"""Furniture of news pages that reached the 📖 text: what L3S-GN1's news pages showed.

Each case is a small page with a shape seen on many sites of the L3S-GN1 news set
(bench/fulltext_gn1.py, diag half): a menu printed as one line of links between
separators, a copyright notice, a credit or a disclaimer, a dateline in any order.
"""

from __future__ import annotations

import pytest

from bot.fulltext.article import Article, extract_article
from bot.fulltext.body import BodyLine
from bot.fulltext.clean import clean_lines, is_junk_line, is_menu_line
from tests.support.samples import TRAM_PROSE, TRAM_URL


def page(body: str) -> str:
    return (
        "<html><head><title>Tram line approved</title></head>"
        f"<body>{body}<footer><p>© Courier</p></footer></body></html>"
    )


def article(html: str) -> Article:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result


def linked(*items: str, separator: str) -> str:
    return separator.join(f'<a href="/{i}">{item}</a>' for i, item in enumerate(items))


@pytest.mark.parametrize("separator", [" | ", " · ", " - ", " • "])
def test_a_menu_printed_as_one_line_of_links_is_dropped(separator: str) -> None:
    menu = linked("Local News", "Sci. & Tech.", "National News", "Obituaries", separator=separator)
    body = (
        f"<article><h1>Tram line approved</h1><p>{TRAM_PROSE[0]}</p><p>{TRAM_PROSE[1]}</p>"
        f"<p>{menu}</p><p>{TRAM_PROSE[2]}</p></article>"
    )
    result = article(page(body))
    assert list(result.paragraphs) == TRAM_PROSE[:3]


@pytest.mark.parametrize(
    "text",
    [
        # A row of a table of figures, its names linked: data, not a menu.
        "Wellington · 1 · Auckland · Auckland · 1,628,900 · 11 · Whangarei",
        # A sentence with dashes and a linked name or two.
        "The mayor - who opposed the plan - said the vote - held late - settles it.",
        # Three items are a short list of links, left to the other rules.
        "Terms of Use - Privacy Policy - Contact Us",
    ],
)
def test_a_table_row_a_sentence_or_a_short_list_is_not_a_menu_line(text: str) -> None:
    assert not is_menu_line(BodyLine(text, 0, link_share=0.9))


def test_separated_words_that_are_not_links_are_not_a_menu_line() -> None:
    assert not is_menu_line(BodyLine("Red | Green | Blue | Yellow | Black", 0, link_share=0.0))
    assert is_menu_line(BodyLine("Red | Green | Blue | Yellow | Black", 0, link_share=0.9))


@pytest.mark.parametrize(
    "notice",
    [
        "Copyright 2008 by The Associated Press. All rights reserved. This material may not be"
        " published, broadcast, rewritten or redistributed.",
        "(© 2008 The Associated Press. All Rights Reserved. In the interest of timeliness, this"
        " story is fed directly from the newswire.)",
        "Copyright © 2007, The Courier. Republication or redissemination of the contents of this"
        " screen are expressly prohibited without the written consent of The Courier.",
        "The Courier is not responsible for the content of external internet sites",
        "The views expressed in the articles are not necessarily those of courier.example and"
        " we accept no responsibility for them.",
        "Disclaimer: This news article is copyrighted by Associated Press and published by the"
        " Courier. If you have any questions, contact the author.",
        "Courier Online © Courier News and Media Limited 2008",
        "Benni McCarthy © Action Images",
        "Report this comment",
    ],
)
def test_a_long_copyright_notice_or_a_disclaimer_after_the_article_is_dropped(notice: str) -> None:
    body = "<article>" + "".join(f"<p>{p}</p>" for p in [*TRAM_PROSE[:3], notice]) + "</article>"
    result = article(page(body))
    assert list(result.paragraphs) == TRAM_PROSE[:3]


@pytest.mark.parametrize(
    "sentence",
    [
        "Copyright law is changing, the minister said, and some works may not be republished.",
        "He said the report did not necessarily reflect his views on the tram.",
        "The views he expressed at the meeting were his own, the mayor said.",
        "The council said the logo © 2019 belonged to the city, and that the new tram operator"
        " would have to pay a licence fee for using it on its trams and its tickets.",
    ],
)
def test_sentences_about_copyright_or_views_are_the_articles_own(sentence: str) -> None:
    body = "<article>" + "".join(f"<p>{p}</p>" for p in [*TRAM_PROSE[:3], sentence]) + "</article>"
    result = article(page(body))
    assert list(result.paragraphs) == [*TRAM_PROSE[:3], sentence]


@pytest.mark.parametrize(
    "dateline",
    [
        "Last Updated: 11:11am GMT 10/01/2008",
        "7:51pm Tuesday 1st January 2008",
        "04:52 PM PST on Friday, January 18, 2008",
        "[Published: 8-Jan-2008]",
        "Last updated at 8:37 AM on 18/01/08",
        "Time: 10:35AM",
    ],
)
def test_a_dateline_in_any_order_is_dropped(dateline: str) -> None:
    body = "<article>" + "".join(f"<p>{p}</p>" for p in [dateline, *TRAM_PROSE[:3]]) + "</article>"
    result = article(page(body))
    assert list(result.paragraphs) == TRAM_PROSE[:3]


@pytest.mark.parametrize(
    "line",
    ["1994-1999", "2:00 – 7:30 pm", "Sat 12 May", "The vote is on May 5, 2026.", "4.2.34.1.64"],
)
def test_a_year_range_a_time_range_a_listing_date_or_a_version_is_kept(line: str) -> None:
    body = "<article>" + "".join(f"<p>{p}</p>" for p in [*TRAM_PROSE[:3], line]) + "</article>"
    result = article(page(body))
    assert list(result.paragraphs) == [*TRAM_PROSE[:3], line]


CALENDAR = [
    "Tuesday, September 24, 2013 at 2:30 PM (by telephone)",
    "Monday, November 25, 2013 at 3:00 PM",
    "Tuesday, April 22, 2014 at 1:00 PM",
]


@pytest.mark.parametrize("separate", [False, True])
def test_a_list_of_dates_in_the_article_is_kept(separate: bool) -> None:
    # newspaper's wnet.org1: a committee's meeting calendar, a date a line, is the page's
    # content; its bare dates used to go as datelines. In one paragraph (<br>) or a list.
    dates = (
        "<ul>" + "".join(f"<li>{d}</li>" for d in CALENDAR) + "</ul>"
        if separate
        else "<p>" + "<br>".join(CALENDAR) + "</p>"
    )
    body = f"<article><p>{TRAM_PROSE[0]}</p>{dates}<p>{TRAM_PROSE[1]}</p></article>"
    text = "\n".join(article(page(body)).paragraphs)
    assert all(date in text for date in CALENDAR)


@pytest.mark.parametrize(
    "lines",
    [
        # Stamps: the page's own dates, however many.
        ["Posted: January 5, 2014", "Updated: January 6, 2014", "Updated: January 7, 2014"],
        # Two dates are not a list.
        ["January 5, 2014", "January 6, 2014"],
        # The same date again and again: a template's, not a list.
        ["January 5, 2014", "January 5, 2014", "January 5, 2014"],
    ],
)
def test_stamped_or_few_or_repeated_dates_are_still_datelines(lines: list[str]) -> None:
    body = (
        "<article><p>"
        + "<br>".join(lines)
        + "</p>"
        + "".join(f"<p>{p}</p>" for p in TRAM_PROSE[:3])
        + "</article>"
    )
    assert list(article(page(body)).paragraphs) == TRAM_PROSE[:3]


def test_other_furniture_in_a_list_of_dates_still_goes() -> None:
    # Only their datelines are spared: a blog index's "date · reading time" lines are not.
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        *(BodyLine(f"Oct {day}, 2019 · 8 min read", day) for day in (16, 17, 18)),
        BodyLine(TRAM_PROSE[1], 20),
    ]
    assert clean_lines(lines) == TRAM_PROSE[:2]


def test_a_list_of_linked_dates_is_still_dropped() -> None:
    archive = "<br>".join(f'<a href="/2014/{m}">{m} 2014</a>' for m in ("May", "June", "July"))
    body = (
        "<article>" + "".join(f"<p>{p}</p>" for p in TRAM_PROSE[:3]) + f"<p>{archive}</p></article>"
    )
    assert list(article(page(body)).paragraphs) == TRAM_PROSE[:3]


def test_the_authors_own_disclaimer_in_the_first_person_is_kept() -> None:
    # newspaper's youbeauty.com2: a review ends with the writer's disclosure.
    disclosure = "Disclaimer: I received the tram model as a sample from the operator."
    body = (
        "<article>" + "".join(f"<p>{p}</p>" for p in [*TRAM_PROSE[:3], disclosure]) + "</article>"
    )
    assert list(article(page(body)).paragraphs) == [*TRAM_PROSE[:3], disclosure]


def test_lines_without_a_word_are_dropped_and_empty_edge_cells_trimmed() -> None:
    # Layout tables print rows of empty cells and lone arrows (a third of L3S-GN1's
    # diag pages showed such a line); code keeps its braces.
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine("· ·", 1),
        BodyLine("· Harbour news ·", 2),
        BodyLine("»", 3),
        BodyLine("• ", 4),
        BodyLine("-----------------", 5),
        BodyLine("}", 6, verbatim=True),
        BodyLine("Wellington · · 1,628,900", 7),
        BodyLine("=)", 8),
        BodyLine(TRAM_PROSE[1], 9),
    ]
    assert clean_lines(lines) == [
        TRAM_PROSE[0],
        "Harbour news",
        "}",
        "Wellington · · 1,628,900",  # an empty cell inside a row keeps its place
        "=)",  # a blogger's emoticon is not layout
        TRAM_PROSE[1],
    ]


def test_a_layout_table_of_empty_cells_leaves_no_bare_separators() -> None:
    # 2008-style layout: spacer images around a linked cell, rows of separator dots
    spacer = '<td><img src="/s.gif"></td>'
    rows = (
        f'<tr>{spacer}<td><a href="/p">Harbour</a></td>{spacer}</tr><tr><td>·</td><td>·</td></tr>'
    )
    body = (
        f"<table>{rows}<tr><td><h1>Tram line approved</h1>"
        + "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
        + f"</td></tr>{rows}</table>"
    )
    text = "\n".join(article(page(body)).paragraphs)
    assert TRAM_PROSE[0] in text
    assert all(any(c.isalnum() for c in line) for line in text.splitlines() if line.strip())


def test_links_after_the_last_paragraph_of_prose_are_dropped() -> None:
    # A 2008 template: after the article, in its container, a table of headlines each
    # followed by its blurb (so no two links stand together) and a promo linked alone.
    teasers = [
        ("Council agrees to close the harbour baths next year", "Swimmers protest."),
        ("New footbridge over the river opens to walkers", "Four years late."),
    ]
    rows = "".join(
        f'<tr><td><a href="/t{i}">{headline}</a></td></tr><tr><td>{blurb}</td></tr>'
        for i, (headline, blurb) in enumerate(teasers)
    )
    body = (
        "<div class='story'>"
        + "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
        + f"<table>{rows}</table>"
        + '<p><a href="/win">Enter to win this week\'s dream job with the Courier</a></p>'
        + "</div>"
    )
    # The blurbs are not links, so this rule leaves them; the second extractor's vote
    # takes them (readability-lxml drops the table of links: tests/test_fulltext_vote.py).
    assert list(article(page(body)).paragraphs) == TRAM_PROSE


def test_links_before_the_last_paragraph_and_label_links_after_it_stay() -> None:
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        # A linked line between paragraphs: the article's own (a source it cites).
        BodyLine("Read the full report of the transport committee here", 1, link_share=1.0),
        BodyLine(TRAM_PROSE[1], 2),
        # After the last paragraph: a link that shares its block with a label stays ...
        BodyLine("Full text of the decision:", 3),
        BodyLine("Council resolution 2024/17 on the city tram line", 3, link_share=1.0),
        # ... and so does a line of the page's own words, or one that adds them to a link
        # (an item of a post of links with a line on each) ...
        BodyLine("Reporting by Jo Bloggs; editing by Sam Smith", 4),
        BodyLine("• What the papers say about the tram depot: worth reading.", 8, link_share=0.8),
        # ... but a block that is all link goes, one or several.
        BodyLine("Council agrees to close the harbour baths next year", 5, link_share=1.0),
        BodyLine("Transport desk: 01234 567890", 6),
        BodyLine("• Tram operator names its new chief executive today", 7, link_share=0.95),
    ]
    assert clean_lines(lines) == [
        TRAM_PROSE[0],
        "Read the full report of the transport committee here",
        TRAM_PROSE[1],
        "Full text of the decision:\nCouncil resolution 2024/17 on the city tram line",
        "Reporting by Jo Bloggs; editing by Sam Smith",
        "• What the papers say about the tram depot: worth reading.",
        "Transport desk: 01234 567890",
    ]


def test_without_a_paragraph_of_prose_no_link_is_dropped_as_a_tail() -> None:
    # A short text (a brief, a list of links with a line each): nothing marks where an
    # article ends, so the rule leaves it alone.
    lines = [
        BodyLine("Tram vote on Thursday", 0),
        BodyLine("Council agrees to close the harbour baths next year", 1, link_share=1.0),
    ]
    assert clean_lines(lines) == [
        "Tram vote on Thursday",
        "Council agrees to close the harbour baths next year",
    ]


TOOL_ROWS = [
    "Print Email this Comment",
    "Email · · Print · · · Text Size",
    "Print 0 Ratings | Rate It: Send to friend",
    "Add to My News · | · Print this Article · | · Email this Article · | · Leave a Comment",
]


def test_an_articles_tool_rows_are_dropped() -> None:
    body = (
        f"<article><h1>Tram line approved</h1><p>{TOOL_ROWS[0]}</p><p>{TOOL_ROWS[1]}</p>"
        f"<p>{TRAM_PROSE[0]}</p><p>{TRAM_PROSE[1]}</p><p>{TRAM_PROSE[2]}</p>"
        f"<p>{TOOL_ROWS[2]}</p><p>{TOOL_ROWS[3]}</p></article>"
    )
    result = article(page(body))
    assert list(result.paragraphs) == TRAM_PROSE


@pytest.mark.parametrize(
    "line",
    [
        "The council will print the plan and email it to every household.",
        "Print and e-mail ballots",  # a subheading: "and", "ballots" are no tool labels
        "Share your comments with the council",
        "Text size",  # one tool: a label left to the other rules
        "Save the date",
    ],
)
def test_lines_that_mention_printing_or_sharing_are_not_tool_rows(line: str) -> None:
    lines = [BodyLine(TRAM_PROSE[0], 0), BodyLine(line, 1), BodyLine(TRAM_PROSE[1], 2)]
    assert clean_lines(lines) == [TRAM_PROSE[0], line, TRAM_PROSE[1]]


@pytest.mark.parametrize(
    "line",
    [
        "Welcome to NEWS.com.au. Skip to: Search Box Section Navigation Network Navigation Content"
        " View the Sitemap",
        "Skip to: Content · Navigation · Footer",
    ],
)
def test_a_line_of_skip_links_is_dropped(line: str) -> None:
    lines = [BodyLine(line, 0), BodyLine(TRAM_PROSE[0], 1), BodyLine(TRAM_PROSE[1], 2)]
    assert clean_lines(lines) == TRAM_PROSE[:2]


@pytest.mark.parametrize(
    "line",
    [
        "Welcome to the new council website, where residents skip to the end.",
        "Skip to the end of the story",
    ],
)
def test_a_line_that_says_skip_to_is_not_a_skip_link(line: str) -> None:
    lines = [BodyLine(TRAM_PROSE[0], 0), BodyLine(line, 1), BodyLine(TRAM_PROSE[1], 2)]
    assert clean_lines(lines) == [TRAM_PROSE[0], line, TRAM_PROSE[1]]


def test_headlines_with_their_source_and_time_after_the_article_are_dropped() -> None:
    # A list of other stories: each headline linked, its source and time on a line of its
    # own in the same block, so the block is not all link.
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine(TRAM_PROSE[1], 1),
        BodyLine("Council agrees to close the harbour baths next year", 2, link_share=1.0),
        BodyLine("Courier News | Wed, Jan 16 2008, 07:50 GMT", 2),
        BodyLine("New footbridge over the river opens to walkers", 3, link_share=1.0),
        BodyLine("City Wire | Wed, Jan 16 2008, 07:42 GMT", 3),
    ]
    assert clean_lines(lines) == [TRAM_PROSE[0], TRAM_PROSE[1]]


def test_a_link_with_a_sentence_or_after_its_label_stays_after_the_article() -> None:
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine(TRAM_PROSE[1], 1),
        # A headline and a sentence of the page's own words: a blurb, not a label.
        BodyLine("Council agrees to close the harbour baths next year", 2, link_share=1.0),
        BodyLine("Swimmers protest.", 2),
        # A label before its link ("Today's birthday flower" / "Pine"): a box of its own.
        BodyLine("Today's anniversary", 3),
        BodyLine("Celebrations for New Year's Day across the city", 3, link_share=1.0),
    ]
    assert clean_lines(lines) == [
        TRAM_PROSE[0],
        TRAM_PROSE[1],
        "Council agrees to close the harbour baths next year\nSwimmers protest.",
        "Today's anniversary\nCelebrations for New Year's Day across the city",
    ]


def test_a_headline_with_its_label_before_the_last_paragraph_stays() -> None:
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine("Council resolution 2024/17 on the city tram line", 1, link_share=1.0),
        BodyLine("Council minutes, page 4", 1),
        BodyLine(TRAM_PROSE[1], 2),
    ]
    assert clean_lines(lines) == [
        TRAM_PROSE[0],
        "Council resolution 2024/17 on the city tram line\nCouncil minutes, page 4",
        TRAM_PROSE[1],
    ]


@pytest.mark.parametrize(
    "box",
    [
        # A box of pictures that link elsewhere: the extractor leaves the links out.
        "<h3>More on this subject</h3><div>"
        + "".join(f'<a href="/v{i}"><img src="/v{i}.jpg"></a>' for i in range(3))
        + "</div>",
        # A box of links in one paragraph: the cleaning takes the line.
        '<h2>Courier Investigates</h2><p><a href="/a">Harbour baths to close</a> '
        '<a href="/b">Footbridge opens</a></p>',
    ],
)
def test_a_heading_left_at_the_end_of_the_text_is_dropped(box: str) -> None:
    body = "<div class='story'>" + "".join(f"<p>{p}</p>" for p in TRAM_PROSE) + box + "</div>"
    assert list(article(page(body)).paragraphs) == TRAM_PROSE


def test_headings_between_paragraphs_or_alone_stay() -> None:
    lines = [
        BodyLine("The vote", 0, heading=True),
        BodyLine(TRAM_PROSE[0], 1),
        BodyLine("What comes next", 2, heading=True),
        BodyLine(TRAM_PROSE[1], 3),
    ]
    assert clean_lines(lines) == ["The vote", TRAM_PROSE[0], "What comes next", TRAM_PROSE[1]]
    alone = [
        BodyLine("Tram line approved", 0, heading=True),
        BodyLine("Timetable", 1, heading=True),
    ]
    assert clean_lines(alone) == ["Tram line approved", "Timetable"]


def test_teasers_cut_short_after_the_article_are_dropped_with_their_headlines() -> None:
    # A list of other stories past the last paragraph: each a headline and a summary cut
    # off mid-word ("..."), neither linked as trafilatura hands them back.
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine(TRAM_PROSE[1], 1),
        BodyLine("Harbour baths to close next year", 2),
        BodyLine("The council says the baths cost too much to repair and that a new pool a...", 3),
        BodyLine("New footbridge opens to walkers", 4),
        BodyLine("Walkers and cyclists can cross the river at the old mill from Monday, th...", 5),
    ]
    assert clean_lines(lines) == [TRAM_PROSE[0], TRAM_PROSE[1]]


def test_one_line_cut_short_or_a_long_one_after_the_article_stays() -> None:
    # The article's own last words may trail off; one such line is no list, and a
    # paragraph of forty words or more is no teaser.
    trailing = "And so the wait for the tram goes on, as it has for twenty years..."
    long_cut = " ".join(["The council met again"] * 10) + " and then..."
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine(TRAM_PROSE[1], 1),
        BodyLine(trailing, 2),
    ]
    assert clean_lines(lines) == [TRAM_PROSE[0], TRAM_PROSE[1], trailing]
    lines = [*lines, BodyLine(long_cut, 3)]
    assert clean_lines(lines) == [TRAM_PROSE[0], TRAM_PROSE[1], trailing, long_cut]


def test_list_items_that_end_so_on_after_the_article_stay() -> None:
    # A contents box's items end "..." for "and so on": a list, not teasers cut short.
    items = [
        "• Security: Toward secure package downloads; new vulnerabilities in drupal ...",
        "• Distributions: A look at the project leader candidates; Debian, Fedora, ...",
    ]
    lines = [
        BodyLine(TRAM_PROSE[0], 0),
        BodyLine(TRAM_PROSE[1], 1),
        BodyLine("Inside this week's edition", 2),
        *(BodyLine(item, 3 + i) for i, item in enumerate(items)),
    ]
    assert clean_lines(lines) == [
        TRAM_PROSE[0],
        TRAM_PROSE[1],
        "Inside this week's edition",
        *items,
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Previous story: Lindsay off wagon, hops on crazy train with Britney",
        "Next story: 2008: Make-it or break-it",
        "Next post: Ten years of the tram debate",
    ],
)
def test_links_to_the_neighbouring_articles_are_junk(line: str) -> None:
    assert is_junk_line(line)


def test_a_sentence_about_the_next_story_is_not_junk() -> None:
    assert not is_junk_line("The next story in this series looks at the buses.")
    assert not is_junk_line("Next: the council votes on the budget in March.")
