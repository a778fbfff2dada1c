"""Loose article text beside blocks is read whole (`bot.fulltext.runs`).

Older news templates put the article's text straight into a container that also holds
blocks (a photo box, share buttons, an ad slot). trafilatura dropped the text after such
a block, and with links kept it dropped a link in such text with everything after it up
to the next line break (L3S-GN1: a games site kept "Apparently" and "The latest issue
of" of two paragraphs, a sports site lost its first paragraph).
"""

from __future__ import annotations

import lxml.html

from bot.fulltext.article import Article, extract_article
from bot.fulltext.runs import wrap_loose_text
from tests.support.tghtml_check import squash

URL = "https://news.example/games/goldeneye"
FILLER = (
    "The studio declined to comment on the report when asked on Saturday morning, "
    "and a spokesperson for the publisher said only that it does not discuss rumours."
)


def page(body: str) -> str:
    return (
        "<html><head><title>GoldenEye port canned?</title></head><body>"
        '<div class="nav"><a href="/">Home</a> <a href="/news">News</a> '
        '<a href="/reviews">Reviews</a></div>'
        f"{body}"
        '<div class="footer"><a href="/about">About</a> <a href="/contact">Contact</a></div>'
        "</body></html>"
    )


def text_of(html: str) -> str:
    result = extract_article(html, url=URL)
    assert isinstance(result, Article), result
    return squash(" ".join(result.paragraphs))


def test_linked_words_in_loose_text_beside_blocks_are_kept() -> None:
    body = (
        '<div class="story"><h1>GoldenEye port canned?</h1>'
        '<span class="body"><div class="comments"><a href="/forum/1">53 Comments</a></div>'
        '<div class="digg"><script>digg_url = "x";</script></div>'
        " The long rumoured port of the classic shooter has been canned after months of work,"
        " according to a report this week.<br><br>"
        'Apparently <a href="/news/1">the game was to feature</a> updated graphics and an'
        " all-new online multiplayer mode, and it was tipped to launch this spring.<br><br>"
        ' The latest issue of <a href="https://mag.example/">a US magazine</a> says the'
        " port was in development for several months before a dispute over money.<br><br>"
        '<div class="ad"><div>Advertisement:</div></div>'
        " A source close to the studio told the magazine that the conversion was two months"
        f" from completion when the work stopped.<br><br> {FILLER}</span></div>"
    )
    text = text_of(page(body))
    for words in (
        "Apparently the game was to feature updated graphics",
        "The latest issue of a US magazine says the port",
        "A source close to the studio told the magazine",
        "when the work stopped.",
    ):
        assert squash(words) in text


def test_a_first_paragraph_after_a_photo_box_is_kept() -> None:
    paragraphs = [
        "Phiri sought a meeting with the coach, saying he was not happy sitting on the bench.",
        "No official word has come from the club, but it is an open secret that the coach "
        "is not an admirer of the veteran.",
        "Another midfielder is likely to be put on the transfer market as well.",
        FILLER,
    ]
    body = (
        '<table><tr><td class="content"><div class="photo"><table><tr><td>'
        '<img src="/p.jpg"></td></tr><tr><td>Maimane Phiri</td></tr></table></div>'
        "Three United players will be off-loaded during the January transfer window and "
        "the veteran will be among the trio after speaking out about warming the bench. "
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</td></tr></table>"
    )
    text = text_of(page(body))
    assert squash("Three United players will be off-loaded during the January") in text
    for paragraph in paragraphs:
        assert squash(paragraph) in text


def wrapped(body: str) -> str:
    tree = lxml.html.fromstring(f"<html><body>{body}</body></html>")
    wrap_loose_text(tree)
    return lxml.html.tostring(tree.find("body"), encoding="unicode")


def test_runs_beside_blocks_become_paragraphs() -> None:
    assert wrapped(
        "<div><div>Photo</div>First run <a href='/x'>link</a> tail<br>more<p>P</p></div>"
    ) == (
        '<body><div><div>Photo</div><p>First run <a href="/x">link</a> tail<br>more</p>'
        "<p>P</p></div></body>"
    )


def test_what_is_read_well_already_is_left_as_it_is() -> None:
    for body in (
        # text and inline elements alone, with line breaks
        "<div>One <a href='/x'>two</a><br><br>three</div>",
        # links alone beside a list ("Learn more")
        "<div><ul><li>Item</li></ul> <a href='/a'>Learn more</a><br><a href='/b'>Help</a></div>",
        # loose text beside layout blocks, no paragraph or line break: not laid out as text
        "<div><div>Menu</div>leftover of a broken script</div>",
        # loose text in the body itself
        "<div>Block</div>loose<br>text",
        # a list item holding a block
        "<ul><li>Item text <div>note</div> more<br>text</li></ul>",
    ):
        assert wrapped(body) == f"<body>{body}</body>".replace("'", '"')


def test_scripts_stay_in_place_between_runs() -> None:
    result = wrapped("<div><div>Box</div>Before<script>var a = 1;</script>after<br>x</div>")
    assert result == (
        "<body><div><div>Box</div><p>Before</p><script>var a = 1;</script>"
        "<p>after<br>x</p></div></body>"
    )


def test_a_page_that_would_get_too_many_paragraphs_is_left_as_it_is() -> None:
    body = "<div>loose<br>" + "<div>x</div>word " * 20 + "</div>"
    tree = lxml.html.fromstring(f"<html><body>{body}</body></html>")
    assert wrap_loose_text(tree, limit=20) == 0
    assert lxml.html.tostring(tree.find("body"), encoding="unicode") == f"<body>{body}</body>"
    assert wrap_loose_text(tree, limit=21) == 21
