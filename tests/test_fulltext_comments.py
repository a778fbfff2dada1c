"""Readers' comments after an article, told apart by the page's markup.

News templates put the comment thread in the article's container, in an element named
for it (``story-comments``, ``readerComments``, ``YourSayWidget_rptComments``) that
trafilatura's own comment filter, which looks for names *starting* with "comment", does
not see; each comment is a paragraph of prose, so no line rule may drop it
(`bot.fulltext.comments`). What looks like a thread but is the page's own text
stays: a live blog's entries, a match's live feed, a timeline, a forum thread, a column
named "commentary", an article wrapped in an element whose class mentions comments.
"""

from __future__ import annotations

import pytest
import trafilatura

from bot.fulltext.article import Article, extract_article
from bot.fulltext.comments import prune_comments
from tests.support.samples import TRAM_PROSE, TRAM_URL

COMMENTS = [
    "What a waste of money, the buses work fine and nobody asked the people who live on "
    "the route whether they want years of noise outside their windows.",
    "Finally some vision from the council. Every other city of this size has had a tram "
    "for twenty years and we are still arguing about it.",
    "I run a shop on the square and I can tell you that three years of digging will close "
    "half of us down before the first tram ever arrives.",
]


def page(body: str) -> str:
    return (
        "<html><head><title>Tram line approved</title></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/city'>City</a></nav>{body}"
        "<footer><p>© Courier</p></footer></body></html>"
    )


def article(html: str) -> Article:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result


def story(after: str) -> str:
    """The article in its container, `after` inside the same container."""
    prose = "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
    return f'<div class="story"><h1>Tram line approved</h1>{prose}{after}</div>'


def thread(tag: str, name: str, *, signed: str = "Posted by {who} on January 10, 2008") -> str:
    entries = "".join(
        f"<div><p>{text}</p><p>{signed.format(who=who)}</p></div>"
        for who, text in zip(("Idealist", "John", "rupert"), COMMENTS, strict=True)
    )
    return f"<{tag} {name}><h3>Reader views (3)</h3>{entries}</{tag}>"


def text(result: Article) -> str:
    return "\n".join(result.paragraphs)


@pytest.mark.parametrize(
    "name",
    [
        'id="story-comments"',
        'id="readerComments"',
        'class="ArticleCommentsWrapper"',
        'class="article-tools user_comments"',
    ],
)
def test_a_comment_thread_named_so_in_the_markup_is_dropped(name: str) -> None:
    result = article(page(story(thread("div", name))))
    assert list(result.paragraphs) == TRAM_PROSE
    assert not any(comment[:40] in text(result) for comment in COMMENTS)


def test_comments_one_element_each_are_dropped_and_the_article_stays() -> None:
    entries = "".join(
        f'<div id="YourSayWidget_rptComments_ctl0{i}"><p>{c}</p></div>'
        for i, c in enumerate(COMMENTS)
    )
    result = article(page(story(f"<h3>Your say</h3>{entries}")))
    assert list(result.paragraphs) == TRAM_PROSE


LIVE_ENTRIES = [
    (
        "10:32",
        "The council chamber is full and the mayor has opened the debate on the tram "
        "line, which has been postponed four times since the first study.",
    ),
    (
        "10:58",
        "The opposition leader says the cost estimate has risen twice since 2021 and "
        "asks who carries the risk of further overruns on the project.",
    ),
    (
        "11:20",
        "The vote is in: thirty-one councillors for the tram line, eighteen against, "
        "and the construction work is to start in the spring.",
    ),
]


@pytest.mark.parametrize(
    "name", ['class="live-match-comment"', 'class="liveblog-comment"', 'id="LiveComments"']
)
def test_a_live_feed_marked_as_comments_is_the_article(name: str) -> None:
    entries = "".join(
        f"<div {name}><p>Posted on December 7, 2026 at {time}</p><p>{entry}</p></div>"
        for time, entry in LIVE_ENTRIES
    )
    result = article(page(story(entries)))
    for _, entry in LIVE_ENTRIES:
        assert entry in text(result)


def test_a_timeline_and_signed_updates_without_comment_markup_stay() -> None:
    timeline = (
        "<h3>Timeline</h3><ul><li>March 11, 2020 WHO declares a global pandemic</li>"
        "<li>April 2, 2020 Cases pass one million worldwide</li>"
        "<li>May 21, 2020 The council postpones the tram vote</li></ul>"
    )
    updates = "".join(
        f'<div class="update"><p>{entry}</p><p>Posted by Jane Doe on January 10, 2008</p></div>'
        for _, entry in LIVE_ENTRIES
    )
    result = article(page(story(timeline + updates)))
    assert "April 2, 2020 Cases pass one million worldwide" in text(result)
    for _, entry in LIVE_ENTRIES:
        assert entry in text(result)


def test_a_forum_thread_whose_first_post_is_marked_as_the_replies_is_kept() -> None:
    posts = "".join(f'<div class="MtnCommentText"><p>{c}</p></div>' for c in COMMENTS)
    html = page(f'<div class="thread"><h2>Is the tram worth it?</h2>{posts}</div>')
    result = article(html)
    for comment in COMMENTS:
        assert comment in text(result)


@pytest.mark.parametrize(
    "wrapper",
    [
        '<div class="post comments-open">{}</div>',  # a template's state class
        '<div class="commentary">{}</div>',  # an opinion column
    ],
)
def test_an_article_in_an_element_whose_name_mentions_comments_stays(wrapper: str) -> None:
    result = article(page(wrapper.format(story(""))))
    assert list(result.paragraphs) == TRAM_PROSE


def test_comments_that_would_be_most_of_the_page_stay() -> None:
    many = "".join(f'<div class="comment"><p>{c}</p></div>' for c in COMMENTS * 4)
    html = page(f'<p>{TRAM_PROSE[0]}</p><div class="replies">{many}</div>')
    tree = trafilatura.load_html(html)
    assert tree is not None
    assert prune_comments(tree) == 0


def test_comments_in_code_stay() -> None:
    code = (
        '<pre><code><span class="token comment">// add.c</span>\n'
        "int add(int a, int b) { return a + b; }\n"
        '<span class="comment">// main.c</span>\nint main(void) { return add(1, 2); }</code></pre>'
    )
    result = article(page(story(code)))
    assert "// add.c" in text(result)
    assert "// main.c" in text(result)


def test_an_items_own_text_named_as_a_part_called_comment_stays() -> None:
    # A gallery whose items each carry the editor's text in an element named as a part
    # of the item ("block__element" naming): that is the article, not readers' comments.
    items = "".join(
        '<div class="gallery__item"><img src="/p.jpg" alt="">'
        f'<div class="gallery__item__comment"><p>{p}</p></div></div>'
        for p in TRAM_PROSE[1:]
    )
    html = page(
        f'<div class="story"><h1>Tram line approved</h1><p>{TRAM_PROSE[0]}</p>{items}</div>'
    )
    assert list(article(html).paragraphs) == TRAM_PROSE


def unmarked_thread() -> str:
    """Readers' comments as plain paragraphs and signatures: no element names them."""
    return "".join(
        f"<p>{text}</p><p><b>Posted by {who} on January 10, 2008 5:58 PM</b></p>"
        for who, text in zip(("Idealist", "John", "rupert"), COMMENTS, strict=True)
    )


@pytest.mark.parametrize(
    "anchor",
    [
        '<a name="comments"></a>',
        '<a id="readerComments"></a>',
        '<a name="comment-8979602"></a>',
        '<a name="yoursay"></a>',  # "Your say": readers' comments on British templates
    ],
)
def test_comments_after_an_empty_anchor_named_for_them_are_dropped(anchor: str) -> None:
    # The thread's only mark is the empty anchor the page's "Comments (3)" link jumps to;
    # what follows it in the same container is the thread.
    result = article(page(story(f"{anchor}<h3>Comments</h3>{unmarked_thread()}")))
    assert list(result.paragraphs) == TRAM_PROSE


@pytest.mark.parametrize(
    "anchor",
    [
        '<a name="comments"></a>',  # an anchor before the article: nothing precedes it
        '<a name="startofcommented"></a>',  # not a comments anchor ("commented")
        '<a name="commentary"></a>',
        '<a href="#comments" name="comments"></a>',  # a link, not a place
    ],
)
def test_an_anchor_before_the_article_or_not_for_comments_keeps_the_text(anchor: str) -> None:
    prose = "".join(f"<p>{p}</p>" for p in TRAM_PROSE)
    result = article(page(f'<div class="story"><h1>Tram line approved</h1>{anchor}{prose}</div>'))
    assert list(result.paragraphs) == TRAM_PROSE


def test_comments_after_a_heading_that_holds_the_anchor_are_dropped() -> None:
    # The anchor is the heading's: the thread is what follows the heading.
    heading = '<h3><a name="comments"></a>Comments (3)</h3>'
    result = article(page(story(f"{heading}{unmarked_thread()}")))
    assert list(result.paragraphs) == TRAM_PROSE
