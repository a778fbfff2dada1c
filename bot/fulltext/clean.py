"""Article cleaning: drop page furniture from extracted body lines, keep the article's text.

Pure. Anchored line patterns for furniture (app and newsletter prompts, comment
prompts, share buttons...), plus layout rules that use each line's link share: runs of
short linked lines are menus and link lists; short lines that are not links (list
items, subheadings, code) are the article's own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

from bot.fulltext.body import BULLET, CELL_SEPARATOR, BodyLine
from bot.render.plain import fold


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


# One breadcrumb: one to four words without separators or sentence punctuation.
_CRUMB = r"([^\s<>»›|/.!?]+( [^\s<>»›|/.!?]+){0,3})"
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = rf"(\d{{1,2}}\.?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}})"
_DATE = rf"({_DATE}|\d{{4}}-\d{{2}}-\d{{2}})"
_STAMP = r"((posted|published|updated|last updated)( on| at)?:?\s*)"
_WEEKDAY = r"((mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s*)"
_TIME = r"\d{1,2}[:.]\d{2}(\s*[ap]\.?\s?m\.?)?(\s*[a-z]{2,4})?"
_SOCIAL = r"(facebook|twitter|x|linkedin|whatsapp|telegram|e-?mail|reddit|pinterest|messenger)"

# Lines that are page furniture, never article text. Each matches a whole line.
_JUNK_LINES = _compile(
    # Comment prompts: "What is your opinion on this topic?", "Leave the first comment",
    # "Join the conversation", "Comments (12)", "Show 5 comments".
    r"^(what is|what's|what are) your (opinion|view|views|thoughts|take)\b.{0,80}$",
    r"^(be the first to )?(leave|post|write|add)( the first| a| your)? comments?\b.{0,40}$",
    r"^be the first to comment\b.{0,40}$",
    r"^(join|start) the (conversation|discussion|debate)\b.{0,60}$",
    r"^(show|view|read|load|hide|see)( all| more)?( \d+)? comments?\b.{0,20}$",
    r"^(\d+ )?comments?\s*(\(\d+\)|:?\s*\d+)?$",
    # App promotion: "Download our app for breaking news alerts", "Get the app".
    r"^(download|get|install|try) (our|the)( free| new)?( [\w-]+){0,3} apps?\b.{0,80}$",
    # Newsletter sign-up boxes.
    r"^(sign up|subscribe|register)\b.{0,100}\bnewsletters?\b.{0,100}$",
    r"^.{0,80}\bnewsletters?\b.{0,80}\b(sign up|subscribe|inbox)\b.{0,80}$",
    r"^(enter your e-?mail( address)?|thanks? (you )?for (signing up|subscribing))\b.{0,60}$",
    # Topic tags: "Tags: tram, council, transport", "Filed under: Politics".
    r"^(tags|tagged( with)?|filed under|topics)\s*:.{0,200}$",
    # Comment widgets: "Loading comments...", "Sort by: Newest".
    r"^loading comments\b.{0,10}$",
    r"^(report|flag)( this)? (comment|abuse|post)$",
    r"^sort by:?\s*(newest|oldest|best|top|most recent|popular)$",
    # Cookie notices and consent buttons.
    r"^(we|this (web)?site|our (web)?site) uses? cookies\b.*$",
    r"^(accept|allow|reject|decline|manage)( all)? cookies\b.{0,40}$",
    r"^.{0,100}\bcookie (policy|settings|preferences|consent)\b.{0,100}$",
    # Navigation crumbs: "Home > World > Europe", "News | Local", "Home / City".
    rf"^{_CRUMB}((\s*[>»›|]\s*|\s/\s){_CRUMB})+$",
    # Share buttons: "Share on Facebook", "Share this article", "Facebook Twitter Email".
    r"^(share|tweet|pin|send)( this)?( article| story| page| link)?"
    rf"(( on| via| to| with)? {_SOCIAL})?:?$",
    r"^(print|save|bookmark|e-?mail)( this)? (article|story|page)$",
    rf"^(({_SOCIAL}|print|copy link|share)[\s,|·•/]*){{1,10}}$",
    r"^follow us (on|at)\b.{0,80}$",
    # Links to the neighbouring articles: "Previous story: <headline>", "Next post: ...".
    r"^(previous|next|prev|older|newer) (story|article|post|entry)\s*[:»›]\s*.{0,150}$",
    # Advertising labels: "Advertisement", "Sponsored content", "Story continues below".
    r"^(advertisement|advertising|ad|sponsored( content)?|paid content|anzeige|werbung)"
    r"(\s*[-–—:]?\s*((story|article) continues|continue reading)"
    r" (below|after (the )?(ad|advertisement))\.?)?$",
    r"^(story|article) continues below( advertisement)?\.?$",
    r"^continue reading below\.?$",
    # Skip links for keyboards and screen readers: "Skip to main content".
    r"^skip to (the )?(main )?(content|navigation|article)$",
    # Several skip links in one line, maybe after the site's greeting: "Welcome to
    # NEWS.com.au. Skip to: Search Box Section Navigation Network Navigation Content".
    r"^(welcome to [^!?]{1,60}?[.!]\s*)?skip to\s*:?(\s*[·|•,/]?\s+(the|main|content"
    r"|navigation|nav|search|box|section|network|site|sitemap|map|menu|article|footer|header"
    r"|top|view|links?))+$",
    # Reading aids: "4 min read", "Listen to this article".
    r"^(\d+\s*(min|mins|minutes?)( read| reading time)|reading time:?\s*\d+.{0,12})$",
    # A dateline with the reading time: "Oct 18, 2019 · 8 min read".
    rf"^{_DATE}\s*[·|•–—-]\s*\d+\s*(min|mins|minutes?)( read)?$",
    r"^listen to (this )?(article|story)\b.{0,30}$",
    # Paywall prompts.
    r"^(subscribe|sign in|log in|register)( now)? to (continue|keep) reading\b.{0,80}$",
    r"^already (a subscriber|have an account)\b.{0,60}$",
    r"^this (article|story|content|page) is (only )?(for|available (only )?to|reserved for)"
    r"( our)?( paying)? (subscribers|members)\b.{0,60}$",
    # Photo credits and bare bylines: "Photo: Reuters", "By Jane Doe · 14 March 2024".
    r"^(photo|image|foto|picture|illustration|video)( credit)?\s*[:©/].{0,80}$",
    r"^\((photo|image|picture|illustration)( credit)?( by|:)\s[^()]{0,80}\)$",
    r"^(by|written by)\s+[^\s.!?]+(\s+[^\s.!?]+){0,3}(\s*[·|,–—-]\s*[^.!?]{0,60})?$",
    # A file photo's caption with its agency's credit: "File photo of Xi Jinping. (Reuters)".
    r"^(a )?file (photo|picture|image)\b.{0,200}\(\s*[^()]{1,40}\)\.?$",
    # An image's file name shown for its missing caption: "seized cash and cards.jpg".
    r"^[\w\s.,'’()&+-]{1,120}\.(jpe?g|png|gif|webp|tiff?|bmp)$",
    # Affiliate-link notices: "This article contains affiliate links to products selected by
    # our editors. <Site> may receive a commission for purchases made through these links."
    r"^(this|the|our) (article|post|page|story|site|content)\b.{0,40}\b(contains?|includes?"
    r"|may (contain|include)) affiliate links?\b.{0,250}$",
    # Copyright footers: "Copyright © 1998 - 2016 Tencent. All Rights Reserved".
    r"^(copyright\s*)?(©|\(c\)|copyright\s+\d{4}).{0,120}$",
    r"^.{0,120}\ball rights reserved\.?$",
    # Longer notices, a year in their first words: "Copyright 2008 by The Associated Press.
    # All rights reserved. This material may not be published, broadcast, rewritten or
    # redistributed.", "Copyright © 2007, The Hindu. Republication ... prohibited ...".
    r"^\(?\s*(copyright\b|©|\(c\))[^.!?]{0,60}\b(19|20)\d\d\b.{0,300}\b(rights reserved"
    r"|prohibited|redistribut\w*|republication|may not be (re)?published)\b.{0,400}$",
    # Disclaimers: "The BBC is not responsible for the content of external internet sites",
    # "The views expressed in the articles are not necessarily those of ...".
    # Not the author's own disclosure, in the first person singular ("Disclaimer: I received
    # this powder as a sample", "Disclaimer: my own views"): that is the article's.
    r"^disclaimer\s*:(?!.{0,400}?(?-i:\bI\b)|.{0,400}?\b(my|me|mine|myself)\b).{0,400}$",
    r"^.{0,100}\b(is|are) not responsible for the content of"
    r" (external|other|third|linked)\b.{0,200}$",
    r"^.{0,80}\b(views|opinions)\b.{0,80}\bexpressed\b.{0,200}"
    r"\b(not necessarily|responsib\w+)\b.{0,300}$",
)
# Bare datelines, furniture too but for a list of dates (`_date_lists`): "April 26, 2018",
# "Posted on April 21, 2015, at 11:29 a.m.", "Updated 14 March 2024 10:05", and with the
# time first, "Updated 3:45 PM ET, Mon March 2, 2020".
_DATE_LINES = _compile(
    rf"^{_STAMP}?{_WEEKDAY}?{_DATE}(,?\s*(at\s*)?{_TIME})?$",
    rf"^{_STAMP}?{_TIME},?\s*{_WEEKDAY}?{_DATE}$",
)
# Datelines in any order (`is_dateline`): a numeric date, a year beside a month's or a
# day's name, or a clock time beside a stamp word ("Updated", "Time"), and only the words
# below around it. A year range ("1994-1999") or a time range ("2:00 - 7:30 pm") alone
# is a table's or a listing's, and "Sat 12 May" alone may head an item of a listing.
_DATELINE_MAX_CHARS = 80
_CREDIT_MAX_WORDS = 20  # a line this short with a "©" is a credit or a site's footer
# One separator, and no digits run on (a version number "4.2.34.1.64" is not a date); the
# year first in Japanese and Chinese datelines ("2019.03.08", "2019/03/08").
_NUMERIC_DATE = re.compile(
    r"(?<![\d./-])(\d{1,2}([/.-])\d{1,2}\2\d{2,4}|\d{4}-\d{2}-\d{2}|\d{4}([/.])\d{2}\3\d{2})"
    r"(?![\d/-]|\.\d)"
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}")
_MONTH_OR_DAY = re.compile(rf"\b({_MONTH}|{_WEEKDAY})", re.IGNORECASE)
_STAMP_WORD = re.compile(r"\b(posted|published|updated|date|time)\b", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+")
_DATE_WORDS = frozenset(
    word
    for group in (
        "january february march april may june july august september october november december",
        "jan feb mar apr jun jul aug sep sept oct nov dec",
        "monday tuesday wednesday thursday friday saturday sunday",
        "mon tue tues wed thu thur thurs fri sat sun",
        "am pm a m p st nd rd th",  # "a.m.", "1st"
        "gmt utc bst cet cest et est edt ct cst cdt mt mst mdt pt pst pdt ist aest aedt sast hrs",
        "posted published updated last on at date time page site article first modified created",
    )
    for word in group.split()
)
# Headings of related-content lists ("Read more:", "Most read", "Related: <headline>"):
# the heading goes, and so do the headline-like lines that follow it.
_LIST_HEADING = re.compile(
    r"^(read more|read also|also read|related( stories| articles| coverage| content)?|see also"
    r"|more on this( story| topic)?|more from [\w ]{1,30}|recommended( for you| stories)?"
    r"|you (may|might) also like|most (read|popular|viewed|shared)|trending( now)?|top stories"
    r"|latest news)(\s*[:\-–—»›]?\s*$|\s*[:\-–—»›]\s*.{0,200}$)",
    re.IGNORECASE,
)
# A photographer's credit alone on a line, the name then a news or picture agency:
# "Chuck Burton/AP", "Jane Doe / Getty Images", "John Smith/AFP via Getty Images", or
# the photographer's address: "(Mike Cason/mcason@al.com)". Case
# counts: a name of one to four capitalized words, the agency as it writes itself.
_AGENCY = (
    r"(AP|AFP|Reuters|EPA|EPA-EFE|Getty Images|Shutterstock|Bloomberg|Xinhua|Sipa|Alamy"
    r"|AP Photo|AP Images|Reuters Photo|PA|PA Images|PA Wire|ANP|dpa|DPA|Zuma Press"
    r"|ZUMA Press|Redux|Polaris|Corbis|NurPhoto|SOPA Images|Anadolu|Anadolu Agency)"
)
_AGENCY_CREDIT = re.compile(
    r"^\(?(([Pp]hoto|[Ii]mage|[Pp]icture)s?:\s*)?[A-Z][\w'’.-]*( [A-Z][\w'’.-]*){0,3}\s*/\s*"
    rf"({_AGENCY}( via {_AGENCY})?|[\w.+-]+@[\w-]+(\.[\w-]+)+)\)?$"
)
_WORDS = re.compile(r"\w+")
_ENDS_SENTENCE = re.compile(r"[.!?…:;。！？：；]['\"”’»)\]」』）]*$")
# Chinese, Japanese and Korean script: no spaces between words, so such characters are
# counted (two to a word) where lines are measured in words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_BULLET = BULLET
_HEADLINE_MAX_WORDS = 20
_STUB_MAX_WORDS = 5
_ALL_LINKS = 0.9  # a line with this share of link text is a link, not prose
_LABEL_MAX_WORDS = 12  # a headline's label after the article: its source and time
_PROSE_MIN_WORDS = 15  # a paragraph of prose: a sentence of at least this many words
_TEASER_MAX_WORDS = 40  # a summary cut short ("...") under this many words is a teaser
_MIN_TEASERS = 2  # ... and a list of other stories has at least this many
# A menu printed as one line: "Home | News | Sport | Weather", "Home · Weather · News"
# (a table row of links), "Terms of Use - Privacy Policy - Contact Us". Items are cut at
# runs of separators with space around them ("|" also without).
_MENU_SEPARATOR = re.compile(r"\s*\|+\s*|\s+[·•\-–—»/]+(?:\s+[·•\-–—»/|]+)*\s+")
_MENU_ITEMS = 4  # at least this many items ...
_MENU_ITEM_WORDS = 3  # ... of at most this many words on average, and none a number
# (a row of a table of figures, "Wellington · 1 · Auckland · 1,628,900", is data).
_NUMBER = re.compile(r"[\d.,:;%+\-–—()]*\d[\d.,:;%+\-–—()]*")


def is_junk_line(line: str) -> bool:
    """Tell whether a line is page furniture matched by one of the documented patterns."""
    return _is_furniture(line) or _is_date_only(line)


def _is_furniture(line: str) -> bool:
    """Furniture other than a bare dateline (`_is_date_only`)."""
    line = line.removeprefix(_BULLET)
    if "©" in line and len(_WORDS.findall(line)) <= _CREDIT_MAX_WORDS:
        return True  # "Guardian Unlimited © Guardian News and Media 2008", "Jo Bloggs © Reuters"
    return (
        any(pattern.match(line) for pattern in _JUNK_LINES)
        or _AGENCY_CREDIT.match(line) is not None
        or is_tool_row(line)
    )


def _is_date_only(line: str) -> bool:
    """A bare dateline: a date or time, and stamp words at most."""
    line = line.removeprefix(_BULLET)
    return any(pattern.match(line) for pattern in _DATE_LINES) or is_dateline(line)


# An article's tool row: "Print Email this Comment", "Email · · Print · · · Text Size",
# "Print 0 Ratings | Rate It: Send to friend", "• Email article: Email". Its words are
# tools (two at least) and the few words that label them; counts are left out.
_TOOLS = frozenset(
    word
    for group in (
        "print email share comment comments save bookmark rate rating ratings send",
        "digg reprint reprints permalink trackback recommend tweet size",
    )
    for word in group.split()
)
_TOOL_LABELS = frozenset(
    word
    for group in (
        "this article story page to a friend your my news it the",
        "submit add leave post text font larger smaller version friendly",
    )
    for word in group.split()
)
_TOOL_ROW_MAX_WORDS = 16
_TOOL_SPLIT = re.compile(r"[^\w]+|\d+")


def is_tool_row(line: str) -> bool:
    """A line of an article's tools only (print, e-mail, share, comment, rate, text size)."""
    if len(line) > 120:
        return False
    words = [w for w in _TOOL_SPLIT.split(line.casefold().replace("e-mail", "email")) if w]
    return (
        2 <= len(words) <= _TOOL_ROW_MAX_WORDS
        and sum(word in _TOOLS for word in words) >= 2
        and all(word in _TOOLS or word in _TOOL_LABELS for word in words)
    )


def is_dateline(line: str) -> bool:
    """A line of a date or time and nothing else but stamp words and separators.

    "Last Updated: 11:11am GMT 10/01/2008", "7:51pm Tuesday 1st January 2008",
    "04:52 PM PST on Friday, January 18, 2008", "[Published: 8-Jan-2008]": templates write
    the date in many orders; a line whose every word is part of one is furniture.
    """
    if len(line) > _DATELINE_MAX_CHARS:
        return False
    dated = bool(_NUMERIC_DATE.search(line)) or bool(
        _YEAR.search(line) and _MONTH_OR_DAY.search(line)
    )
    if not dated and not (_CLOCK.search(line) and _STAMP_WORD.search(line)):
        return False
    return all(token in _DATE_WORDS for token in _LETTERS.findall(line.casefold()))


# A list of dates is content (a meeting calendar, a schedule, a timeline): this many
# lines in a row or more that each open with a date, none of them a link or a stamp
# ("Posted", "Updated"), and no two alike. The page's own dateline comes alone, or as a
# pair with stamps ("Published ...", "Updated ...").
_DATE_LIST_MIN = 3
_LEADING_DATE = re.compile(rf"{_WEEKDAY}?{_DATE}\b", re.IGNORECASE)


def _opens_list_date(line: BodyLine) -> bool:
    """A line that may be an entry of a list of dates: it opens with one, and is no link."""
    text = line.text.removeprefix(_BULLET)
    return (
        not line.linked
        and not line.verbatim
        and not line.heading
        and (_LEADING_DATE.match(text) or _NUMERIC_DATE.match(text)) is not None
        and _STAMP_WORD.search(text) is None
    )


def _date_lists(lines: Sequence[BodyLine]) -> set[int]:
    """Positions of the lines that are entries of a list of dates (`_DATE_LIST_MIN`).

    Their datelines are the article's own, not furniture. One pass over the lines.
    """
    listed: set[int] = set()
    start = 0
    for end in range(len(lines) + 1):
        if end < len(lines) and _opens_list_date(lines[end]):
            continue
        run = lines[start:end]
        if len(run) >= _DATE_LIST_MIN and len({line.text for line in run}) == len(run):
            listed.update(range(start, end))
        start = end + 1
    return listed


def _ends_sentence(line: str) -> bool:
    return _ENDS_SENTENCE.search(line) is not None


def word_count(line: str) -> int:
    """Words in a line; CJK characters count two to a word."""
    cjk = len(_CJK.findall(line))
    return len(_CJK.sub(" ", line).split()) + (cjk + 1) // 2


def _is_stub(line: str) -> bool:
    """A few words without sentence punctuation: a menu entry, link or label."""
    return word_count(line) <= _STUB_MAX_WORDS and not _ends_sentence(line)


def _drop_list_blocks(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop related-content headings and the linked headline-like lines after them."""
    kept: list[BodyLine] = []
    in_list = False
    for line in lines:
        text = line.text.removeprefix(_BULLET)
        if line.verbatim:
            in_list = False
        elif _LIST_HEADING.match(text):
            in_list = True
            continue
        elif (
            in_list
            and line.linked
            and not _ends_sentence(text)
            and word_count(text) <= _HEADLINE_MAX_WORDS
        ):
            continue
        in_list = False
        kept.append(line)
    return kept


def _drop_stubs(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop linked short unpunctuated lines at the edges or next to another such line.

    Those are link lists (menus, tags, related links). A lone one between real
    paragraphs is kept: it is most likely a subheading. Lines that are not links
    (list items, numbered subheadings, code) are the article's own and stay.
    """
    stub = [
        line.linked and not line.verbatim and _is_stub(line.text.removeprefix(_BULLET))
        for line in lines
    ]
    last = len(lines) - 1
    return [
        line
        for i, line in enumerate(lines)
        if not stub[i]
        or not (i in (0, last) or (i > 0 and stub[i - 1]) or (i < last and stub[i + 1]))
    ]


def _is_link_line(line: BodyLine) -> bool:
    """A line of more than a stub's words, all links and no sentence: a headline elsewhere."""
    return (
        not line.verbatim
        and line.link_share >= _ALL_LINKS
        and not _ends_sentence(line.text)
        and word_count(line.text) > _STUB_MAX_WORDS  # shorter ones: `_drop_stubs`
    )


def is_menu_line(line: BodyLine) -> bool:
    """A line of several short linked items between separators: a site's menu, not prose."""
    if line.verbatim or not line.linked or _ends_sentence(line.text):
        return False
    items = [item for item in _MENU_SEPARATOR.split(line.text.strip(" |·•-–—»/")) if item]
    words = len(_WORDS.findall(line.text))
    return (
        len(items) >= _MENU_ITEMS
        and words <= _MENU_ITEM_WORDS * len(items)
        and not any(_NUMBER.fullmatch(item) for item in items)
    )


def _drop_link_runs(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop all-link lines that come two or more together: a menu or a list of headlines.

    A lone one between paragraphs is the article's own (a linked subheading, "Read the
    full report", a source it cites), as a lone short stub is.
    """
    link = [_is_link_line(line) for line in lines]
    last = len(lines) - 1
    return [
        line
        for i, line in enumerate(lines)
        if not link[i] or not ((i > 0 and link[i - 1]) or (i < last and link[i + 1]))
    ]


def _is_prose(line: BodyLine) -> bool:
    """A paragraph of the article's prose: a long sentence, not a teaser cut short ("...")."""
    text = line.text.removeprefix(_BULLET).rstrip()
    return (
        _ends_sentence(text)
        and not text.endswith(("...", "…"))
        and word_count(text) >= _PROSE_MIN_WORDS
    )


def _drop_linked_tail(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop the links that follow the article's last paragraph of prose.

    News templates print related headlines, promos ("Enter to win this week's dream
    job"), job ads and section links after the article, inside the same container, one
    link a block and often between short blurbs, so neither the link-run nor the stub rule
    sees two in a row. Past the last paragraph of prose a block that is all link is not
    the article's, and neither is a block that opens with a link line and adds only short
    lines holding no sentence (a headline with its source and time, `_is_link_item`). A
    block that mixes its own words with a link (a label and its link, an item of a post of
    links with a line on each) and lines that are not links (a closing credit, a list
    item) stay, and so does text whose links are unknown.
    """
    # Looked for from the end: the tail is short, the article long.
    last = next((i for i in range(len(lines) - 1, -1, -1) if _is_prose(lines[i])), None)
    if last is None:
        return list(lines)
    tail = lines[last + 1 :]
    blocks: dict[int, list[BodyLine]] = {}
    for line in tail:
        blocks.setdefault(line.block, []).append(line)
    items = {block for block, members in blocks.items() if _is_link_item(members)}
    return [*lines[: last + 1], *(line for line in tail if line.block not in items)]


def _is_cut_teaser(line: BodyLine) -> bool:
    """A short summary cut off by the template ("... a new pool a...", "… th…").

    Not a list item: a list's "..." says "and so on" ("Debian, Fedora, ...", a weekly
    edition's contents), and a list is the article's own as often as not.
    """
    text = line.text.rstrip()
    return (
        not line.verbatim
        and not text.startswith(_BULLET)
        and text.endswith(("...", "…"))
        and word_count(text) < _TEASER_MAX_WORDS
    )


def _drop_cut_teasers(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop the teasers cut short after the article's last paragraph of prose.

    Lists of other stories (and of readers' latest comments) print each headline with
    the first words of its text, cut at a set length and ended with "...": past the last
    paragraph of prose, two or more such blocks are that list, and go, each with the
    short line of its own just before it (its headline: no prose, twenty words at most).
    One line that trails off is the article's own, and so is a long one.
    """
    last = next((i for i in range(len(lines) - 1, -1, -1) if _is_prose(lines[i])), None)
    if last is None:
        return list(lines)
    tail = lines[last + 1 :]
    cut = {line.block for line in tail if _is_cut_teaser(line)}
    if len(cut) < _MIN_TEASERS:
        return list(lines)
    sizes = Counter(line.block for line in tail)
    gone = set(cut)
    for before, line in pairwise(tail):
        if (
            line.block in cut
            and before.block not in cut
            and sizes[before.block] == 1  # a headline is a block of its own
            and not before.verbatim
            and word_count(before.text) <= _HEADLINE_MAX_WORDS
        ):
            gone.add(before.block)
    return [*lines[: last + 1], *(line for line in tail if line.block not in gone)]


def _is_link_item(block: Sequence[BodyLine]) -> bool:
    """A block that is a link to elsewhere: all link, or a linked headline with its labels.

    Lists of other stories print each headline with its source and time on a line of
    its own ("Thomson Financial News | Wed, Jan 16 2008, 07:50 GMT"): short lines that
    hold no sentence. A block with a sentence of its own, or code, is not one.
    """
    if any(line.verbatim for line in block) or block[0].link_share < _ALL_LINKS:
        return False
    return all(
        line.link_share >= _ALL_LINKS
        or (word_count(line.text) <= _LABEL_MAX_WORDS and not _ends_sentence(line.text))
        for line in block[1:]
    )


def _words_key(text: str) -> str:
    """The text's words, casefolded: quotes, dashes and pilcrows do not count."""
    return " ".join(_WORDS.findall(text.casefold()))


def _drop_repeats(lines: Sequence[BodyLine], *, titles: Iterable[str]) -> list[BodyLine]:
    """Drop a line that is one of the page's titles, or equal to the line kept before it."""
    titles = [title for title in titles if title]
    headlines = {_words_key(title) for title in titles} - {""}
    # Only lines about a title's length are compared word by word (paragraphs are long).
    longest = 2 * max((len(title) for title in titles), default=0)
    kept: list[BodyLine] = []
    for line in lines:
        text = line.text
        previous = kept[-1].text if kept else ""
        if not line.verbatim and (
            (len(text) <= longest and _words_key(text) in headlines)
            or (
                abs(len(text) - len(previous)) <= len(previous) // 4
                and fold(text) == fold(previous)
            )
        ):
            continue
        kept.append(line)
    return kept


def _drop_trailing_headings(lines: Sequence[BodyLine]) -> list[BodyLine]:
    """Drop the headings that end the text: they head nothing left in it.

    A box after the article keeps its heading ("You might also like", "More on this
    topic:", "Audio and video on this subject") when its links are gone, taken by the
    rules above or left out by the extractor; with nothing after it, it tells the
    reader nothing.
    """
    end = len(lines)
    while end and lines[end - 1].heading and not lines[end - 1].verbatim:
        end -= 1
    return list(lines[:end] if end else lines)  # headings alone: the text is theirs


def clean_lines(
    lines: Iterable[BodyLine], *, title: str = "", headlines: Iterable[str] = ()
) -> list[str]:
    """Remove page furniture from body lines; return the kept text as paragraphs.

    The headline is shown above the text, so a line repeating `title` or one of the
    page's other `headlines` (its <title>, og:title) goes.
    """
    lines = list(lines)
    listed = _date_lists(lines)  # their datelines are the article's
    kept = [
        line
        for i, line in enumerate(lines)
        if line.verbatim
        or not (_is_furniture(line.text) or (i not in listed and _is_date_only(line.text)))
    ]
    kept = _drop_stubs(_drop_link_runs(_drop_list_blocks(kept)))
    # After the layout rules, which read a menu line as a neighbour of the links around it.
    kept = [line for line in kept if not is_menu_line(line)]
    kept = _drop_cut_teasers(_drop_linked_tail(kept))
    kept = _drop_repeats(kept, titles=[title, *headlines])
    kept = _drop_trailing_headings(kept)
    grouped: dict[int, list[str]] = {}
    for line in kept:
        text = line.text if line.verbatim else _without_bare_marks(line.text)
        if text:
            grouped.setdefault(line.block, []).append(text)
    return ["\n".join(texts) for texts in grouped.values()]


_CELL_MARK = CELL_SEPARATOR.strip()
# What layout prints between things: separators, bullets, arrows, rules, brackets.
# A line of these alone says nothing; an emoticon ("=)", ":-)") or an emoji is kept.
_LAYOUT_MARKS = frozenset(f" {_CELL_MARK}•»«›‹|/\\<>-–—_=*#~[]")


def _without_bare_marks(text: str) -> str:
    """The line without the empty cells at its ends, or "" when only layout marks are left.

    Layout tables print rows of empty cells ("· ·") and lone arrows, bullets or rules
    ("»", "•", "-----"); they hold no word, so dropping them last changes no other
    rule's decision and no word of the text.
    """
    text = text.strip(f" {_CELL_MARK}")
    return "" if set(text) <= _LAYOUT_MARKS else text


def clean_paragraphs(paragraphs: Iterable[str], *, title: str = "") -> list[str]:
    """Clean plain-text paragraphs whose links are unknown: any line may be a link."""
    lines = [
        BodyLine(" ".join(raw.split()), index, link_share=0.5)
        for index, paragraph in enumerate(paragraphs)
        for raw in paragraph.split("\n")
        if raw.strip()
    ]
    return clean_lines(lines, title=title)
