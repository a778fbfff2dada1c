"""Deterministic synthetic news: realistic headlines from a vocabulary, RSS 2.0 feeds.

An event is an actor (person, country, body, company or club), a verb, a noun phrase,
and sometimes a place, a number or a context, each drawn Zipf-like from word lists of
real news vocabulary, so hot names recur as they do in real feeds. A "wire" event is
retold by several feeds, each outlet rewording it (another template, a synonym, a
dropped detail, a prefix or an attribution): dedup has near-duplicates to find among
many unrelated headlines that share names, places and words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


def _words(text: str) -> list[str]:
    """Split a whitespace-separated word list."""
    return text.split()


PEOPLE = _words(
    """Macron Scholz Biden Trump Sunak Starmer Meloni Sanchez Modi Xi Putin Zelensky Erdogan
Lula Milei Albanese Trudeau Kishida Yoon Netanyahu Orban Tusk Rutte Stoltenberg Guterres Lagarde
Powell Yellen Musk Bezos Zuckerberg Altman Nadella Pichai Cook Huang Dimon Buffett Sheinbaum
Ramaphosa Ruto Tinubu Widodo Marcos Shehbaz Khamenei Pezeshkian Mitsotakis Frederiksen Kristersson
Stubb Costa Metsola Leyen Borrell Habeck Lindner Merz Barnier Bayrou Attal Bardella Lammy Reeves
Harris Vance Newsom DeSantis Haley Pelosi Schumer McConnell Johnson Blinken Sullivan Austin Garland
Wray Lagos Kagame Tshisekedi Abiy Sisi Salman Tamim Bin Zayed Aliyev Pashinyan Kurti Vucic Plenkovic
Fico Babis Nehammer Amherd Schoof Carney Poilievre Ardern Luxon Marles Wong Dutton"""
)
COUNTRIES = _words(
    """France Germany Italy Spain Poland Ukraine Russia China India Japan Brazil Mexico
Canada Australia Turkey Iran Israel Egypt Nigeria Kenya Ethiopia Argentina Chile Colombia Peru
Indonesia Philippines Vietnam Thailand Pakistan Bangladesh Sweden Norway Finland Denmark Greece
Portugal Ireland Austria Hungary Romania Serbia Georgia Armenia Azerbaijan Morocco Algeria Ghana
Senegal Sudan Syria Lebanon Jordan Iraq Qatar Taiwan Korea Britain Scotland Wales Belgium
Netherlands Switzerland Czechia Slovakia Croatia Bulgaria Moldova Belarus Kazakhstan"""
)
CITIES = _words(
    """Paris Berlin Rome Madrid Warsaw Kyiv Moscow Beijing Shanghai Delhi Mumbai Tokyo Osaka
Seoul Jakarta Manila Bangkok Hanoi Karachi Lahore Dhaka Cairo Lagos Nairobi Johannesburg Accra
Dakar Khartoum Istanbul Ankara Tehran Baghdad Beirut Damascus Amman Doha Dubai Riyadh Jerusalem
London Manchester Glasgow Dublin Lisbon Vienna Budapest Prague Bucharest Belgrade Athens Stockholm
Oslo Helsinki Copenhagen Amsterdam Brussels Geneva Zurich Munich Hamburg Milan Naples Barcelona
Valencia Seville Lyon Marseille Toronto Montreal Vancouver Chicago Houston Phoenix Denver Seattle
Boston Miami Atlanta Dallas Detroit Sydney Melbourne Brisbane Auckland Santiago Lima Bogota Caracas
Quito Havana Kingston Tijuana Monterrey Guadalajara Kolkata Chennai Hyderabad Bangalore"""
)
ORGS = _words(
    """NATO EU UN WHO IMF OPEC Fed ECB Congress Senate Parliament Bundestag Commission Kremlin
Pentagon Supreme-Court High-Court Treasury Labour Conservatives Democrats Republicans Greens
unions regulators prosecutors police army navy coalition opposition ministers lawmakers"""
)
COMPANIES = _words(
    """Apple Google Microsoft Amazon Meta Nvidia Tesla OpenAI Samsung Sony Intel AMD TSMC
Huawei Xiaomi Alibaba Tencent Baidu ByteDance TikTok Netflix Disney Boeing Airbus Siemens
Volkswagen BMW Mercedes Stellantis Renault Toyota Honda Nissan Hyundai Ford GM Shell BP Exxon
Chevron TotalEnergies Aramco Unilever Nestle Danone LVMH Kering Adidas Nike Spotify Uber Airbnb
Pfizer Moderna AstraZeneca Novartis Roche Bayer BASF HSBC Barclays UBS Deutsche-Bank BNP Santander
JPMorgan Goldman Citi Visa Mastercard PayPal Ericsson Nokia Vodafone Orange Telefonica"""
)
TEAMS = _words(
    """Arsenal Chelsea Liverpool Everton Tottenham Newcastle Barcelona Madrid Atletico Sevilla
Juventus Milan Inter Napoli Roma Lazio Bayern Dortmund Leipzig Leverkusen PSG Marseille Lyon Monaco
Ajax PSV Feyenoord Benfica Porto Celtic Rangers Galatasaray Fenerbahce Flamengo Boca River Lakers
Celtics Warriors Knicks Yankees Dodgers Packers Chiefs Eagles Cowboys"""
)
# Headline verbs; each has synonyms an outlet may use instead.
VERBS = {
    "approves": ["passes", "clears", "backs"], "rejects": ["votes down", "throws out"],
    "unveils": ["presents", "announces", "sets out"], "backs": ["supports", "endorses"],
    "blocks": ["halts", "stops"], "delays": ["postpones", "puts off"], "scraps": ["drops", "axes"],
    "proposes": ["floats", "puts forward"], "cuts": ["slashes", "trims"],
    "raises": ["lifts", "hikes"], "launches": ["opens", "starts"],
    "condemns": ["denounces", "slams"], "bans": ["outlaws", "prohibits"],
    "probes": ["investigates", "examines"], "suspends": ["halts", "pauses"],
    "defends": ["stands by"], "signs": ["agrees", "seals"], "extends": ["prolongs"],
    "expands": ["widens", "broadens"], "freezes": ["halts"], "challenges": ["contests"],
    "overhauls": ["reforms", "revamps"], "tightens": ["toughens"], "eases": ["relaxes", "loosens"],
    "revives": ["restarts"], "secures": ["wins", "clinches"], "warns": ["cautions"],
    "denies": ["rejects claims of"], "admits": ["acknowledges"], "sues": ["takes to court"],
    "fines": ["penalises"], "buys": ["acquires", "snaps up"], "sells": ["offloads"],
    "sacks": ["fires", "dismisses"], "appoints": ["names", "picks"], "wins": ["takes"],
    "loses": ["drops"], "quits": ["leaves", "exits"], "targets": ["takes aim at"],
    "recalls": ["pulls"], "hits": ["strikes"], "seizes": ["captures"], "pledges": ["promises"],
    "demands": ["calls for"], "resumes": ["restarts"], "reverses": ["U-turns on"],
}  # fmt: skip
# Noun phrases are a modifier and a head: "pension reform", "chip export ban".
MODIFIERS = _words(
    """
pension tax migration climate energy rail housing defence arms trade peace aid border asylum
election media healthcare school drug data chip gas pipeline nuclear wind coal fuel bank farm
fishing water vaccine smoking gambling rent airport port mining oil grain fertiliser steel
broadband satellite space police surveillance gun abortion marriage voting coalition wage
minimum-wage ceasefire hostage prisoner missile drone troop refugee visa citizenship student
university tuition mortgage interest-rate inflation price grocery petrol diesel electricity
heating emissions plastic recycling forest wildlife drought wildfire flood storm earthquake
hospital cancer dementia obesity virus measles cholera antibiotic doping transfer stadium
ticket railway tram metro bridge tunnel motorway traffic parking charging freight shipping
airline pilot flight rocket moon lunar telescope quantum fusion uranium lithium copper
rare-earth semiconductor AI crypto bitcoin stablecoin startup streaming advertising privacy
encryption copyright broadcast newspaper museum festival film music football cricket tennis
rugby olympic marathon cycling chess insurance pharmacy nursing teacher doctor union
"""
)
HEADS = _words(
    """
reform deal plan bill strike talks probe ban cuts tariffs subsidies rules law inquiry exports
imports prices jobs contract merger funding licence programme project sanctions crackdown
protests quota scheme tax budget fees targets shortage row scandal lawsuit verdict trial
review overhaul package summit treaty vote referendum standoff dispute pact levy cap freeze
"""
)
CONTEXTS = _words(
    """protests inflation recession strikes scandal ruling defeat turmoil clashes drought
floods wildfires heatwave cyberattack crisis talks row backlash pressure criticism outcry
shortages losses delays walkout blockade boycott lawsuit leak audit downgrade sell-off
rally stalemate deadlock impasse ultimatum resignation reshuffle landslide upset collapse
outage shutdown slowdown layoffs bankruptcy default bailout windfall surge slump rebound
heat-record cold-snap snowstorm hailstorm typhoon cyclone monsoon eruption tremor"""
)
CONTEXTS = [_c.replace("-", " ") for _c in CONTEXTS]
PREFIXES = ["Breaking: ", "Live: ", "Update: ", "Exclusive: ", "Analysis: ", ""]
ATTRIBUTIONS = ["sources say", "officials say", "report says", "reports", "AP", "Reuters"]
FILLER = [
    "The decision follows weeks of negotiations over the {n} and may face legal challenges.",
    "Critics said the {n} would hit low-income households hardest.",
    "Officials declined to comment on the timing of the {n} announcement.",
    "Analysts expect further details on the {n} to be published later this week.",
    "The opposition called for an urgent debate on the {n}.",
    "Markets reacted cautiously to the {n} news in early trading.",
    "Rescue teams were still at work — officials fear the toll will rise.",
    "The company’s chief executive promised an update on the {n} next month.",
    "Supporters welcomed the {n} as “overdue”, while business groups urged caution.",
    "It is the third such {n} dispute in the region this year.",
]
ACTORS = [*PEOPLE, *COUNTRIES, *ORGS, *COMPANIES, *TEAMS]
PLACES = [*CITIES, *COUNTRIES]


def _d(word: str) -> str:
    return word.replace("-", " ")


def _zipf(count: int, exponent: float = 0.8) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


@dataclass(frozen=True)
class Event:
    """One news event: the slots every outlet's rendering of it shares."""

    actor: str
    verb: str
    nouns: tuple[str, ...]
    place: str | None
    number: str | None
    context: str | None
    published_at: datetime


class Vocabulary:
    """Word lists with Zipf weights, shuffled once per seed so 'hot' words vary."""

    def __init__(self, rng: random.Random) -> None:
        self.actors = rng.sample(ACTORS, len(ACTORS))
        self.modifiers = rng.sample(MODIFIERS, len(MODIFIERS))
        self.heads = rng.sample(HEADS, len(HEADS))
        self.places = rng.sample(PLACES, len(PLACES))
        self.verbs = rng.sample(sorted(VERBS), len(VERBS))
        self.actor_w = _zipf(len(self.actors), 0.6)
        self.modifier_w = _zipf(len(self.modifiers), 0.5)
        self.head_w = _zipf(len(self.heads), 0.5)
        self.place_w = _zipf(len(self.places))

    def event(self, rng: random.Random, published_at: datetime) -> Event:
        modifiers = rng.choices(self.modifiers, self.modifier_w, k=rng.choice([1, 1, 1, 2]))
        nouns = [_d(m) for m in dict.fromkeys(modifiers)]
        nouns.append(rng.choices(self.heads, self.head_w)[0])
        number = None
        if rng.random() < 0.3:
            number = rng.choice(
                [str(rng.randint(2, 900)), f"{rng.randint(2, 60)}%", f"${rng.randint(1, 90)}bn"]
            )
        return Event(
            actor=_d(rng.choices(self.actors, self.actor_w)[0]),
            verb=rng.choice(self.verbs),
            nouns=tuple(nouns),
            place=rng.choices(self.places, self.place_w)[0] if rng.random() < 0.6 else None,
            number=number,
            context=rng.choice(CONTEXTS) if rng.random() < 0.3 else None,
            published_at=published_at,
        )


def render_headline(event: Event, rng: random.Random, *, variant: int) -> str:
    """Render an event as one outlet would; variants > 0 reword it."""
    verb = event.verb if not variant else rng.choice([event.verb, *VERBS[event.verb]])
    phrase = " ".join(event.nouns)
    if event.number:
        phrase = f"{event.number} {phrase}"
    place, context = event.place, event.context
    if variant and rng.random() < 0.25:
        place = None  # an outlet drops a detail
    if variant and rng.random() < 0.25:
        context = None
    forms = [
        f"{event.actor} {verb} {phrase}" + (f" in {place}" if place else ""),
        (f"{place}: " if place else "") + f"{event.actor} {verb} {phrase}",
        f"{event.actor} {verb} {phrase}" + (f" amid {context}" if context else ""),
        f"{event.actor} to {_base(verb)} {phrase}" + (f" after {context}" if context else ""),
    ]
    title = forms[(variant + len(event.nouns)) % len(forms)]
    if variant and rng.random() < 0.3:
        title = rng.choice(PREFIXES) + title
    if variant and rng.random() < 0.2:
        title += f", {rng.choice(ATTRIBUTIONS)}"
    return title[0].upper() + title[1:]


def _base(verb: str) -> str:
    """Turn a headline verb ("approves", "puts off") into its base form."""
    first, _, rest = verb.partition(" ")
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("s", ""),
    ):
        if first.endswith(suffix):
            first = first[: -len(suffix)] + keep
            break
    return f"{first} {rest}".strip()


def render_summary(event: Event, rng: random.Random, title: str) -> str:
    """An HTML description: the headline restated, one filler sentence, sometimes a link."""
    lead = title.split(": ", 1)[-1].rstrip(".")
    day = event.published_at.strftime("%A")
    filler = rng.choice(FILLER).format(n=" ".join(event.nouns))
    html = f"<p>{escape(lead)} on {day}. {escape(filler)}</p>"
    if rng.random() < 0.3:
        html += '<p><a href="https://example.org/more">Read more</a></p>'
    return html


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    title: str
    summary_html: str
    published_at: datetime
    category: str
    event_id: int


CATEGORIES = ("World", "Business", "Sport", "Technology", "Science")


@dataclass(frozen=True)
class Corpus:
    feeds: tuple[tuple[Item, ...], ...]
    events: int
    wire_events: int
    duplicate_items: int


def build_corpus(
    *, feeds: int, items: int, now: datetime, dup_share: float = 0.2, seed: int = 1
) -> Corpus:
    """Generate `feeds` feeds of `items` items; `dup_share` of items retell wire events."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    copies_total = int(feeds * items * dup_share)
    events: list[Event] = []
    placements: list[int] = []
    while len(placements) < copies_total:
        events.append(vocab.event(rng, now - timedelta(minutes=rng.randint(30, 20 * 60))))
        placements += [len(events) - 1] * rng.randint(2, 6)
    placements = placements[:copies_total]
    wire = len(set(placements))
    rng.shuffle(placements)
    slots: list[list[Item]] = [[] for _ in range(feeds)]
    order = [f for f in range(feeds) for _ in range(items)]
    rng.shuffle(order)
    variant_of: dict[int, int] = {}
    for feed_index, event_id in zip(order, placements, strict=False):
        variant = variant_of.get(event_id, -1) + 1
        variant_of[event_id] = variant
        slot = slots[feed_index]
        slot.append(_item(rng, feed_index, len(slot), events[event_id], event_id, variant))
    for feed_index, slot in enumerate(slots):
        while len(slot) < items:
            events.append(vocab.event(rng, now - timedelta(minutes=rng.randint(5, 22 * 60))))
            slot.append(_item(rng, feed_index, len(slot), events[-1], len(events) - 1, 0))
    ordered = tuple(
        tuple(sorted(feed_items, key=lambda i: i.published_at, reverse=True))
        for feed_items in slots
    )
    return Corpus(ordered, len(set(variant_of)) + len(events) - len(variant_of), wire, copies_total)


def _item(rng: random.Random, feed: int, n: int, event: Event, event_id: int, variant: int) -> Item:
    title = render_headline(event, rng, variant=variant)
    jitter = timedelta(minutes=rng.randint(0, 90)) if variant else timedelta(0)
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return Item(
        guid=f"outlet{feed:04d}-{n:03d}-{rng.getrandbits(32):08x}",
        link=f"https://outlet{feed:04d}.example/news/{'-'.join(words[:6])}-{n}",
        title=title,
        summary_html=render_summary(event, rng, title),
        published_at=event.published_at + jitter,
        category=CATEGORIES[event_id % len(CATEGORIES)],
        event_id=event_id,
    )


def rss(feed: int, items: tuple[Item, ...]) -> bytes:
    """Serialise one feed as RSS 2.0 (UTF-8)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>Outlet {feed:04d} News</title><link>https://outlet{feed:04d}.example/</link>",
        f"<description>Headlines from outlet {feed:04d}</description><ttl>15</ttl>",
    ]
    for item in items:
        parts.append(
            "<item>"
            f"<title>{escape(item.title)}</title>"
            f"<link>{escape(item.link)}</link>"
            f'<guid isPermaLink="false">{item.guid}</guid>'
            f"<pubDate>{format_datetime(item.published_at.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<category>{item.category}</category>"
            f"<description>{escape(item.summary_html)}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")
