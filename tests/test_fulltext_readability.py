"""readability-lxml's answer, read from our tree: cheaper, and the same text.

`bot.fulltext.readability_lxml` gives readability-lxml the parsed page instead of its
markup, and skips its cleaner's JavaScript pass (attributes only). These tests hold the
answer's text (the word runs the vote reads) to the library's own on markup, on crafted
pages that touch each step it changed and on Readability's 130 test pages (skipped
visibly without ../shared/data, unless ``REQUIRE_CORPUS=1``).
"""

from __future__ import annotations

import random

import lxml.html
import pytest
import readability.readability
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from readability import Document

from bot.fulltext import vote as article_vote
from bot.fulltext.body import defuse_metadata
from bot.fulltext.prune import prune_hidden
from bot.fulltext.readability_lxml import (
    TreeDocument,
    cleaned_length,
    readability_document,
    round_trips,
)
from bot.fulltext.vote import Gram, _summary_grams, other_extent
from tests.conftest import shared_data
from tests.support.samples import TRAM_PROSE

PROSE = "".join(f"<p>{p}</p>" for p in TRAM_PROSE)


def _libraries(tree: HtmlElement) -> set[Gram] | None:
    """The grams of readability-lxml's own answer, on the page's markup (as before)."""
    markup = etree.tostring(tree, encoding="unicode", method="html")
    return _summary_grams(Document(markup).summary(html_partial=True))


def _ours(tree: HtmlElement) -> set[Gram] | None:
    return _summary_grams(readability_document(tree).summary(html_partial=True))


def _page(body: str, head: str = "<title>Tram line approved</title>") -> HtmlElement:
    tree = trafilatura.load_html(f"<html><head>{head}</head><body>{body}</body></html>")
    assert tree is not None
    return tree


@pytest.mark.parametrize(
    ("head", "body"),
    [
        # a video frame (kept, as "VIDEO"), its address padded: the JavaScript pass strips it
        ("", f"<div class='story'>{PROSE}<iframe src=' https://www.youtube.com/embed/x '>"),
        ("", f"<div class='story'>{PROSE}<iframe src='https://vimeo.com '></iframe></div>"),
        # a script as a frame's address: emptied, so the frame goes
        ("", f"<div class='story'>{PROSE}<iframe src='javascript:alert(1)'></iframe></div>"),
        # a frame's address relative to the page's <base>: resolved, then a video
        (
            "<base href='https://www.youtube.com/'>",
            f"<div class='story'>{PROSE}<iframe src='embed/x'></iframe></div>",
        ),
        # the markup URI-escapes a space (at the end, inside) and a non-ASCII letter
        (
            "<base href='https://www.youtube.com '>",
            f"<div class='story'>{PROSE}<iframe src='em bed/ü'></iframe></div>",
        ),
        ("", f"<div class='story'>{PROSE}<iframe src='\thttps://youtube.com/x\n'></iframe>"),
        # hidden elements, event handlers, inline styles, <image>, <link>, <style>
        (
            "<style>p{}</style>",
            f"<div class='story' onclick='go()' style='color:red'>{PROSE}"
            "<div hidden>Hidden menu</div><div style='display: none'>Popup text</div>"
            "<a href='javascript:void(0)' onmouseover='x()'>Share this story</a>"
            "<div><image src='a.png'>Caption of the depot photo</div>"
            "<link rel='stylesheet' href='a.css'></div>",
        ),
    ],
)
def test_the_answer_is_the_librarys_on_crafted_pages(head: str, body: str) -> None:
    tree = _page(body, head=f"<title>Tram line approved</title>{head}")
    assert round_trips(tree)
    assert _ours(tree) == _libraries(tree)


def test_a_video_frame_is_kept_as_the_library_keeps_it() -> None:
    tree = _page(f"<div class='story'>{PROSE}<iframe src=' https://www.youtube.com/embed/x'>")
    grams = _ours(tree)
    assert grams is not None and ("video",) in grams


def test_the_tree_is_not_changed() -> None:
    tree = _page(f"<div class='story'>{PROSE}<div hidden>Hidden menu</div></div>")
    before = etree.tostring(tree)
    assert _ours(tree) is not None
    assert etree.tostring(tree) == before


def test_a_page_of_the_usual_shape_is_not_written_out_and_parsed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The library's markup parse (and its cleaner's JavaScript pass) no longer run on
    # such a page: with both broken, the vote still has its answer.
    def broken(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr("readability.readability.build_doc", broken)
    monkeypatch.setattr(lxml.html.HtmlMixin, "rewrite_links", broken)
    assert other_extent(_page(f"<div class='story'>{PROSE}</div>")) is not None


def test_a_page_of_another_shape_is_read_from_its_markup() -> None:
    # Text before <html> (a server's warnings) makes the tree's root a <div>; the markup
    # parsed again is another page, and that page is the one the library always read.
    tree = trafilatura.load_html(f"<b>Warning</b>: header sent<html><body>{PROSE}</body></html>")
    assert tree is not None and tree.tag != "html"
    assert not round_trips(tree)
    assert not isinstance(readability_document(tree), TreeDocument)
    after_body = _page("<p>x</p>")
    assert round_trips(after_body)
    after_body.append(lxml.html.fromstring("<p>after the body</p>"))
    assert not round_trips(after_body)


def test_without_the_private_names_it_leans_on_the_page_goes_the_markup_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An update of readability-lxml or lxml_html_clean without `Document._parse` or
    # `_remove_javascript_link`: the vote still gets the library's answer, from markup.
    import bot.fulltext.readability_lxml as module

    assert module.TREE_PATH  # the installed versions have both
    monkeypatch.setattr(module, "TREE_PATH", False)
    tree = _page(f"<div class='story'>{PROSE}</div>")
    assert not isinstance(readability_document(tree), TreeDocument)
    assert other_extent(tree) is not None


def test_a_page_the_library_cannot_read_gives_no_answer() -> None:
    assert other_extent(_page("")) is None
    assert article_vote.other_extent(_page("<div></div>")) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a",
        " a b ",
        "a  b",
        "a\tb",
        "a\t b",  # the tab made a space, then a lone space: two
        "a \tb",  # one stretch of a space and a tab: one
        "a\t\tb",
        "a \xa0 b",  # a no-break space parts two runs of the last step
        "a \r\n  b",
        "a\n\n\nb",
        "a" + " " * 254 + "b",
        "a" + " " * 255 + "b",
        "a" + "\t" * 300 + "b",
        "a" + " \n" * 200 + "b",
        "\u2009a\u3000\u3000b\x0b",
    ],
)
def test_cleaned_length_is_the_length_of_readabilitys_clean(text: str) -> None:
    assert cleaned_length(text) == len(readability.readability.clean(text))


def test_cleaned_length_on_random_texts() -> None:
    rng = random.Random(14)
    alphabet = ["a", ",", " ", " ", "\t", "\n", "\r", "\xa0", "\u2009", "\x0b"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 5, 30])))
        if rng.random() < 0.05:
            text += rng.choice([" ", "\t", "\n", " \t"]) * rng.choice([254, 255, 256]) + "a"
        assert cleaned_length(text) == len(readability.readability.clean(text)), repr(text)


def test_link_density_is_the_librarys_without_its_substitutions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tree = _page(
        f"<div class='story'>{PROSE}<p>Read  more:\n <a href='/a'>Tram\t plans</a></p></div>"
    )
    elements = list(tree.iter("div", "p", "body"))
    expected = [Document(tree).get_link_density(element) for element in elements]

    def broken(text: str) -> str:
        raise AssertionError("clean() ran")

    monkeypatch.setattr(readability.readability, "clean", broken)
    ours = TreeDocument(tree)
    assert [ours.get_link_density(element) for element in elements] == expected


@pytest.mark.corpus
def test_the_answer_is_the_librarys_on_readabilitys_pages() -> None:
    differ = []
    sources = sorted(shared_data("readability-test-pages").glob("*/source.html"))
    for source in sources:
        tree = trafilatura.load_html(source.read_bytes())
        assert tree is not None
        defuse_metadata(tree)
        prune_hidden(tree)  # the page as the vote reads it
        if _ours(tree) != _libraries(tree):
            differ.append(source.parent.name)
    assert len(sources) == 130
    assert differ == []
