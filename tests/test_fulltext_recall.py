"""Full text that misses nothing: pages the cleaning or a single extraction pass used to empty.

Each case is a small page with the quirk seen on real sites (Readability's test pages,
bench/fulltext_eval.py): CJK text without spaces, a layout table, lists and code in
the article, a JSON-LD articleBody, a long article sent whole.
"""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.etree
import lxml.html
import pytest
import trafilatura

from bot.fulltext.article import Article, extract_article
from bot.fulltext.body import body_lines, declared_body
from bot.fulltext.clean import clean_lines
from bot.render.tghtml import plain_text
from bot.services.articles import StoryRef, first_tap_messages
from bot.settings import FulltextSettings
from tests.support.samples import ARTICLES, TRAM_PROSE, TRAM_URL
from tests.support.tghtml_check import check_message, squash

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NAV = '<nav><a href="/">Home</a> <a href="/city">City</a> <a href="/sport">Sport</a></nav>'


def page(body: str, head: str = "") -> str:
    return (
        f"<html><head><title>Tram line approved</title>{head}</head>"
        f"<body><header>{NAV}</header>{body}<footer><p>© Courier</p></footer></body></html>"
    )


def article(html: str) -> Article:
    result = extract_article(html, url=TRAM_URL)
    assert isinstance(result, Article), result
    return result


def text_of(result: Article) -> str:
    return "\n".join(result.paragraphs)


def test_chinese_article_is_not_taken_for_menu_entries() -> None:
    lines = [
        "市议会周四投票决定修建一条穿过市中心的新有轨电车线路，结束了十多年的研究。",
        "反对派表示，自二零二一年以来，成本估算已经两次上调。",
        "市场广场周围的店主对三年的施工意见不一。",
        "自行车团体欢迎这项计划，但批评取消自行车道的决定。",
        "第一段工程预计明年春天开工，连接港口和中央车站。",
    ] * 3
    body = "<article><h1>电车</h1>" + "".join(f"<p>{line}</p>" for line in lines) + "</article>"
    result = article(page(body))
    assert squash(text_of(result)) == squash("".join(lines))


def test_unlinked_list_items_are_kept_and_linked_runs_dropped() -> None:
    items = ["Cloche", "Floral foam", "Ruler", "Spoon", "Moss"]
    related = "".join(f'<li><a href="/r{i}">Bus fares {i}</a></li>' for i in range(4))
    body = (
        f"<article><h1>Tram line approved</h1><p>{TRAM_PROSE[0]}</p><p>You will need:</p>"
        f"<ul>{''.join(f'<li>{item}</li>' for item in items)}</ul>"
        f"<p>{TRAM_PROSE[1]}</p><p>{TRAM_PROSE[2]}</p><ul>{related}</ul></article>"
    )
    text = text_of(article(page(body)))
    for item in items:
        assert f"• {item}" in text
    assert "Bus fares" not in text


def test_a_lone_linked_line_is_the_articles_own_and_a_run_of_them_is_not() -> None:
    # A whole-link line between paragraphs (the report the story cites) is article text;
    # two or more together are a list of headlines pointing elsewhere.
    cited = "Read the council's full transport report on the new tram line"
    related = [
        "Bus fares rise again in the northern districts this spring",
        "Harbour authority names a new chief executive after long search",
    ]
    body = (
        f"<article><h1>Tram line approved</h1><p>{TRAM_PROSE[0]}</p>"
        f"<p><a href='/docs/transport-report'>{cited}</a></p>"
        f"<p>{TRAM_PROSE[1]}</p><p>{TRAM_PROSE[2]}</p>"
        + "".join(f"<p><a href='/story/{i}'>{text}</a></p>" for i, text in enumerate(related))
        + "</article>"
    )
    result = article(page(body))
    assert list(result.paragraphs) == [TRAM_PROSE[0], cited, TRAM_PROSE[1], TRAM_PROSE[2]]


def test_self_linked_subheadings_are_the_articles_own() -> None:
    # Blog and documentation generators link each heading to itself ("#part"); such a
    # heading is a subheading, not a link away, even when long or next to another.
    heads = ["What the new line will cost and who pays", "When the first trams will run"]
    body = (
        f"<article><h1>Tram line approved</h1><p>{TRAM_PROSE[0]}</p>"
        f"<h2><a href='#cost'>{heads[0]}</a></h2><p>{TRAM_PROSE[1]}</p>"
        f"<h2><a href='{TRAM_URL}#when'>{heads[1]}</a></h2><p>{TRAM_PROSE[2]}</p>"
        f"<h2><a href='/other-story'>Bus fares rise again in the northern districts</a></h2>"
        f"<h2><a href='/third-story'>Harbour authority names a new chief executive</a></h2>"
        "</article>"
    )
    result = article(page(body))
    assert list(result.paragraphs) == [
        TRAM_PROSE[0],
        heads[0],
        TRAM_PROSE[1],
        heads[1],
        TRAM_PROSE[2],
    ]


@pytest.mark.parametrize(
    ("href", "linked"),
    [
        ("#when", False),
        ("/#when", False),  # against the site's root, as trafilatura resolves links
        (f"{TRAM_URL}#when", False),
        ("https://site.example/#when", False),
        ("/other-story#when", True),
        ("https://elsewhere.example/a#when", True),
    ],
)
def test_heading_self_links_are_resolved_from_the_pages_own_hrefs(
    href: str, *, linked: bool
) -> None:
    # trafilatura is not given the page's address (it would resolve every link on every
    # pass): body_lines gets the href as the page wrote it and resolves it as trafilatura
    # would, against the site's root.
    body = lxml.etree.fromstring(
        f"<body><head rend='h2'><ref target='{href}'>When the first trams will run</ref></head>"
        f"<p>{TRAM_PROSE[0]}</p></body>"
    )
    heading = body_lines(body, TRAM_URL)[0]
    assert heading.text == "When the first trams will run"
    assert heading.linked is linked


@pytest.mark.parametrize(
    ("head", "h1"),
    [
        # The <title> adds a section and the site after separators; og:title differs.
        (
            "<title>Council approves the new tram line - Local - The Courier</title>"
            "<meta property='og:title' content='Tram: a vote at last'>",
            "Council approves the new tram line",
        ),
        # Only the quotes differ, and a pilcrow (a heading's permalink) follows the h1.
        (
            "<title>Council approves the 'tram' line | The Courier</title>"
            "<meta property='og:title' content=\"Council approves the 'tram' line\">",
            "Council approves the “tram” line¶",
        ),
    ],
)
def test_a_headline_repeating_one_of_the_pages_titles_is_not_body_text(head: str, h1: str) -> None:
    body = f"<article><h1>{h1}</h1>" + "".join(f"<p>{p}</p>" for p in TRAM_PROSE) + "</article>"
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    assert list(article(html).paragraphs) == TRAM_PROSE


def test_article_laid_out_in_a_table_is_read() -> None:
    cells = "".join(f"<p>{p}</p>" for p in TRAM_PROSE * 2)
    body = f'<table><tr><td width="20%">{NAV}</td><td>{cells}</td></tr></table>'
    text = text_of(article(page(body)))
    for paragraph in TRAM_PROSE:
        assert paragraph in text


def test_html_article_body_is_read_as_text_when_the_page_has_none() -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in TRAM_PROSE).replace('"', '\\"')
    ld = f'<script type="application/ld+json">{{"articleBody": "{paragraphs}"}}</script>'
    result = article(page("<div id='app'></div>", head=ld))
    assert squash(text_of(result)) == squash("".join(TRAM_PROSE))


def test_code_lines_are_kept_as_they_are() -> None:
    code = "def f(x):\n    return {\n    }\n"
    first, second = TRAM_PROSE[:2]
    body = f"<article><p>{first}</p><pre><code>{code}</code></pre><p>{second}</p></article>"
    lines = body_lines_of(page(body))
    assert "    return {" in lines and "    }" in lines


def body_lines_of(html: str) -> list[str]:
    document = trafilatura.bare_extraction(
        trafilatura.load_html(html), favor_precision=True, include_links=True
    )
    assert document is not None and document.body is not None
    return [t for p in clean_lines(body_lines(document.body)) for t in p.split("\n")]


def test_json_ld_article_body_stands_in_for_a_script_rendered_page() -> None:
    ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "NewsArticle", "headline": "Tram line approved", '
        f'"articleBody": "{TRAM_PROSE[0]}\\n\\n{TRAM_PROSE[1]}\\n\\n{TRAM_PROSE[2]}"}}</script>'
    )
    body = '<div id="app"><p>Loading…</p></div>'
    result = article(page(body, head=ld))
    assert squash(text_of(result)) == squash("".join(TRAM_PROSE))
    assert not result.partial


def test_a_long_article_arrives_whole_over_several_messages() -> None:
    result = extract_article((ARTICLES / "long_article.html").read_bytes(), url=TRAM_URL)
    assert isinstance(result, Article)
    ref = StoryRef(id=1, title="Night train", link=TRAM_URL, source="Coastal Weekly")
    messages = first_tap_messages(ref, result, FulltextSettings(), now=NOW)
    assert len(messages) >= 4  # more than the three messages that used to be the cap
    shown = "".join(plain_text(m) for m in messages)
    assert squash("".join(result.paragraphs)) in squash(shown)
    assert "Continue reading" not in shown


def test_past_max_messages_the_cut_is_said_with_a_link() -> None:
    result = extract_article((ARTICLES / "long_article.html").read_bytes(), url=TRAM_URL)
    assert isinstance(result, Article)
    ref = StoryRef(id=1, title="Night train", link=TRAM_URL, source="Coastal Weekly")
    messages = first_tap_messages(ref, result, FulltextSettings(max_messages=2), now=NOW)
    assert len(messages) <= 3
    assert plain_text(messages[-1]).endswith(f"Continue reading: {TRAM_URL}")


def tram_report(count: int) -> tuple[tuple[str, ...], list[str]]:
    """`count` paragraphs of ~2,900 characters, and the messages a first tap sends (cap 10)."""
    paragraphs = tuple(
        " ".join(f"Sentence {i}.{j} of the report on the tram line." for j in range(60))
        for i in range(count)
    )
    result = Article("Tram report", paragraphs, "Courier", TRAM_URL)
    ref = StoryRef(id=1, title="Tram report", link=TRAM_URL, source="Courier")
    return paragraphs, first_tap_messages(ref, result, FulltextSettings(max_messages=10), now=NOW)


def test_long_paragraphs_fill_each_message_so_a_long_article_fits_the_cap() -> None:
    # Twelve paragraphs of ~2,900 characters: two never fit one message, so one message a
    # paragraph used to take 12 messages, past the cap of 10; filled, they take 9.
    paragraphs, messages = tram_report(12)
    assert len(messages) <= 10
    for message in messages:
        check_message(message)
    shown = "".join(plain_text(m) for m in messages)
    assert squash("".join(paragraphs)) in squash(shown)
    assert "Continue reading" not in shown


def test_under_the_cap_messages_still_end_between_paragraphs() -> None:
    paragraphs, messages = tram_report(3)
    blocks = [b for m in messages for b in plain_text(m).split("\n\n")][1:]  # no header
    assert blocks == list(paragraphs)


def test_declared_body_is_the_longest_article_body_in_any_json_ld_block() -> None:
    tree = lxml.html.fromstring(
        "<html><head>"
        '<script type="application/ld+json">{not json, "articleBody": "x"}</script>'
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage"},'
        ' {"@type": "NewsArticle", "articleBody": " Long body. "}]}</script>'
        '<script type="application/ld+json">[{"articleBody": "Short."}]</script>'
        '<script type="text/javascript">var articleBody = "not this one, much longer";</script>'
        "</head><body><p>x</p></body></html>"
    )
    assert declared_body(tree) == "Long body."
    assert declared_body(lxml.html.fromstring("<html><body><p>x</p></body></html>")) == ""


def test_hostile_json_ld_is_ignored() -> None:
    deep = "[" * 200_000 + '"articleBody"' + "]" * 200_000
    html = page(
        f"<article><p>{TRAM_PROSE[0]}</p><p>{TRAM_PROSE[1]}</p></article>",
        head=f'<script type="application/ld+json">{deep}</script>',
    )
    assert TRAM_PROSE[0] in text_of(article(html))


def test_a_table_from_trafilaturas_readability_fallback_is_read() -> None:
    # When trafilatura takes its readability fallback (a works list, a results page), the
    # body it hands back keeps the page's HTML table (<tr>/<td>/<th>, maybe in <tbody>)
    # instead of its own <row>/<cell>; those rows were dropped, the list lost.
    rows = "".join(
        f"<tr><td>{n}</td><td>A rider hands a cloth to a kneeling figure, plate {n}</td></tr>"
        for n in range(1, 4)
    )
    nested = "<table><tr><td>inner cell</td></tr></table>"
    body = lxml.etree.fromstring(
        "<body><p>Works list<table><tr><th>No.</th><th>Motif</th></tr>"
        f"<tbody>{rows}<tr><td><p>Plate 4, two states:</p>{nested}</td></tr></tbody>"
        "</table></p><p>Appendix: sizes are those of the plate.</p></body>"
    )
    lines = [line.text for line in body_lines(body)]
    assert lines == [
        "Works list",
        "No. · Motif",
        "1 · A rider hands a cloth to a kneeling figure, plate 1",
        "2 · A rider hands a cloth to a kneeling figure, plate 2",
        "3 · A rider hands a cloth to a kneeling figure, plate 3",
        "Plate 4, two states:",
        "inner cell",
        "Appendix: sizes are those of the plate.",
    ]


def test_the_second_pass_is_trafilaturas_balanced_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recall pass, then (text too short) trafilatura's default: it weighs its result
    against its fallback extractors and retries a short one, which `favor_recall` skips and
    `favor_precision` narrows (trafilatura's evaluation pages, BENCHMARKS.md, "links14")."""
    calls: list[tuple[bool, bool]] = []
    real = trafilatura.bare_extraction

    def recording(*args: object, **kwargs: object) -> object:
        focus = getattr(kwargs["options"], "focus", None)  # the settings, made once (article)
        calls.append((focus == "recall", focus == "precision"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trafilatura, "bare_extraction", recording)
    extract_article(page(f"<article><p>{TRAM_PROSE[0][:120]}</p></article>"), url=TRAM_URL)
    assert calls[:2] == [(True, False), (False, False)]
