"""The intro: prose printed between the headline and the body, outside the body's container.

Templates print it in the article's header or a box of its own (``<p class="lead">``,
``<div class="tb-article-intro">``, an excerpt ``<div>`` of bare text), often reworded
from the page's description, so `article_lead`'s word-for-word match misses it. Seen on
trafilatura's evaluation pages (bench/fulltext_snippets.py, diag half): chemietechnik,
telebasel, solarserver, thelocal, waldwissen, agrarheute and others.
"""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from bot.fulltext.article import Article, extract_article
from bot.fulltext.intro import REACH, intro
from tests.support.samples import TRAM_PROSE, TRAM_URL, tram_page

INTRO = (
    "After ten years of studies the council has backed a tram line through the centre. "
    "The cost has risen twice, and shop owners fear three years of works."
)
# The page's description says something else (a search-engine blurb).
REWORDED = "Why the city chose rails over buses, and who will pay for them in the end."


def page(between: str, *, description: str = REWORDED, before: str = "") -> str:
    head = f'<meta name="description" content="{description}">'
    return tram_page(between, head=head, before=before)


def paragraphs(html: str) -> tuple[str, ...]:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result.paragraphs


@pytest.mark.parametrize(
    "between",
    [
        f'<p class="lead">{INTRO}</p>',
        f'<div class="tb-article-intro">{INTRO}</div>',  # bare text in a <div>
        f'<div class="c-page-intro"><div class="copy">{INTRO}</div></div>',  # a parent's name
        f'<h2 class="ArticleHero__teaser">{INTRO}</h2>',  # a heading, camel-cased names
        f'<p class="text-lg">{INTRO}</p>',  # no name, but it holds the (shorter) description
    ],
)
def test_the_intro_between_headline_and_body_leads_the_text(between: str) -> None:
    description = INTRO.split(". ")[0] if "text-lg" in between else REWORDED
    html = page(between, description=description)
    got = paragraphs(html)
    assert got[0] == INTRO
    assert list(got[1:]) == TRAM_PROSE * 2


@pytest.mark.parametrize(
    "between",
    [
        f"<p>{INTRO}</p>",  # neither named an intro nor the description
        f'<p class="lead-caption">{INTRO}</p>',  # a caption, whatever else its name says
        f'<figure><figcaption class="intro">{INTRO}</figcaption></figure>',
        f'<p class="teaser"><a href="/other">{INTRO}</a></p>',  # a link to another story
        f'<div class="intro">{INTRO.rstrip(".")} and more</div>',  # not a sentence's end
        '<p class="lead">Short lines are labels.</p>',
    ],
)
def test_no_intro_is_made_up(between: str) -> None:
    got = paragraphs(page(between))
    assert list(got) == TRAM_PROSE * 2


def test_an_intro_far_below_the_headline_is_not_one() -> None:
    """An <h1> far above the article (a site's logo) starts no article header."""
    filler = " ".join(["word"] * (REACH + 10))
    html = (
        "<html><body><h1>Courier</h1>"
        f"<div>{filler}</div>"
        f'<p class="lead">{INTRO}</p>'
        + "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
        + "</body></html>"
    )
    assert intro(fromstring(html), TRAM_PROSE) == []
    near = html.replace(f"<div>{filler}</div>", "")
    assert intro(fromstring(near), TRAM_PROSE) == [INTRO]


def test_an_intro_already_in_the_text_is_not_added_again() -> None:
    html = page(f'<p class="lead">{INTRO}</p>')
    tree = fromstring(html)
    assert intro(tree, [INTRO, *TRAM_PROSE]) == []
    assert intro(tree, TRAM_PROSE) == [INTRO]


def test_an_intro_of_two_paragraphs_side_by_side() -> None:
    second = (
        "The first trams are to run in 2029, two years later than first planned, the city said."
    )
    html = page(f'<div class="chapo"><p>{INTRO}</p><p>{second}</p></div>')
    assert paragraphs(html)[:2] == (INTRO, second)
