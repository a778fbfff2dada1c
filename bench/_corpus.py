"""Deterministic synthetic news: realistic headlines from a vocabulary, RSS 2.0 feeds.

Headlines come from a handful of event kinds (policy, incident, markets, sport, tech),
each with several renderings; a "wire" event appears in several feeds, each outlet
rewording it (another template, synonyms, a prefix or an attribution), so dedup has
near-duplicates to find among many unrelated headlines that share names and places.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

PEOPLE = """Macron Scholz Biden Trump Sunak Starmer Meloni Sanchez Modi Xi Putin Zelensky Erdogan
Lula Milei Albanese Trudeau Kishida Yoon Netanyahu Orban Tusk Rutte Stoltenberg Guterres Lagarde
Powell Yellen Musk Bezos Zuckerberg Altman Nadella Pichai Cook Huang Dimon Buffett Sheinbaum
Ramaphosa Ruto Tinubu Widodo Marcos Shehbaz Khamenei Pezeshkian Mitsotakis Frederiksen Kristersson
Stubb Costa Metsola Leyen Borrell Habeck Lindner Merz Barnier Bayrou Attal Bardella Lammy Reeves
Harris Vance Newsom DeSantis Haley Pelosi Schumer McConnell Johnson Blinken Sullivan Austin Garland
Wray Lagos Kagame Tshisekedi Abiy Sisi Salman Tamim Bin Zayed Aliyev Pashinyan Kurti Vucic Plenkovic
Fico Babis Nehammer Amherd Schoof Carney Poilievre Ardern Luxon Marles Wong Dutton""".split()
COUNTRIES = """France Germany Italy Spain Poland Ukraine Russia China India Japan Brazil Mexico
Canada Australia Turkey Iran Israel Egypt Nigeria Kenya Ethiopia Argentina Chile Colombia Peru
Indonesia Philippines Vietnam Thailand Pakistan Bangladesh Sweden Norway Finland Denmark Greece
Portugal Ireland Austria Hungary Romania Serbia Georgia Armenia Azerbaijan Morocco Algeria Ghana
Senegal Sudan Syria Lebanon Jordan Iraq Qatar Taiwan Korea Britain Scotland Wales Belgium
Netherlands Switzerland Czechia Slovakia Croatia Bulgaria Moldova Belarus Kazakhstan""".split()
CITIES = """Paris Berlin Rome Madrid Warsaw Kyiv Moscow Beijing Shanghai Delhi Mumbai Tokyo Osaka
Seoul Jakarta Manila Bangkok Hanoi Karachi Lahore Dhaka Cairo Lagos Nairobi Johannesburg Accra
Dakar Khartoum Istanbul Ankara Tehran Baghdad Beirut Damascus Amman Doha Dubai Riyadh Jerusalem
London Manchester Glasgow Dublin Lisbon Vienna Budapest Prague Bucharest Belgrade Athens Stockholm
Oslo Helsinki Copenhagen Amsterdam Brussels Geneva Zurich Munich Hamburg Milan Naples Barcelona
Valencia Seville Lyon Marseille Toronto Montreal Vancouver Chicago Houston Phoenix Denver Seattle
Boston Miami Atlanta Dallas Detroit Sydney Melbourne Brisbane Auckland Santiago Lima Bogota Caracas
Quito Havana Kingston Tijuana Monterrey Guadalajara Kolkata Chennai Hyderabad Bangalore""".split()
ORGS = """NATO EU UN WHO IMF OPEC Fed ECB Congress Senate Parliament Bundestag Commission Kremlin
Pentagon Supreme-Court High-Court Treasury Labour Conservatives Democrats Republicans Greens
unions regulators prosecutors police army navy coalition opposition ministers lawmakers""".split()
COMPANIES = """Apple Google Microsoft Amazon Meta Nvidia Tesla OpenAI Samsung Sony Intel AMD TSMC
Huawei Xiaomi Alibaba Tencent Baidu ByteDance TikTok Netflix Disney Boeing Airbus Siemens
Volkswagen BMW Mercedes Stellantis Renault Toyota Honda Nissan Hyundai Ford GM Shell BP Exxon
Chevron TotalEnergies Aramco Unilever Nestle Danone LVMH Kering Adidas Nike Spotify Uber Airbnb
Pfizer Moderna AstraZeneca Novartis Roche Bayer BASF HSBC Barclays UBS Deutsche-Bank BNP Santander
JPMorgan Goldman Citi Visa Mastercard PayPal Ericsson Nokia Vodafone Orange Telefonica""".split()
TEAMS = """Arsenal Chelsea Liverpool Everton Tottenham Newcastle Barcelona Madrid Atletico Sevilla
Juventus Milan Inter Napoli Roma Lazio Bayern Dortmund Leipzig Leverkusen PSG Marseille Lyon Monaco
Ajax PSV Feyenoord Benfica Porto Celtic Rangers Galatasaray Fenerbahce Flamengo Boca River Lakers
Celtics Warriors Knicks Yankees Dodgers Packers Chiefs Eagles Cowboys""".split()
# (present, past participle, base) so templates can inflect.
VERBS = [
    ("approves", "approved", "approve"), ("rejects", "rejected", "reject"),
    ("unveils", "unveiled", "unveil"), ("backs", "backed", "back"),
    ("blocks", "blocked", "block"), ("delays", "delayed", "delay"),
    ("scraps", "scrapped", "scrap"), ("proposes", "proposed", "propose"),
    ("defends", "defended", "defend"), ("signs", "signed", "sign"),
    ("extends", "extended", "extend"), ("suspends", "suspended", "suspend"),
    ("expands", "expanded", "expand"), ("cuts", "cut", "cut"), ("raises", "raised", "raise"),
    ("freezes", "frozen", "freeze"), ("launches", "launched", "launch"),
    ("challenges", "challenged", "challenge"), ("condemns", "condemned", "condemn"),
    ("endorses", "endorsed", "endorse"), ("overhauls", "overhauled", "overhaul"),
    ("probes", "probed", "probe"), ("bans", "banned", "ban"), ("tightens", "tightened", "tighten"),
    ("eases", "eased", "ease"), ("revives", "revived", "revive"), ("secures", "secured", "secure"),
]  # fmt: skip
SYNONYMS = {
    "approves": ["passes", "clears", "greenlights"], "rejects": ["votes down", "throws out"],
    "unveils": ["presents", "announces", "sets out"], "backs": ["supports", "throws weight behind"],
    "blocks": ["halts", "stops"], "delays": ["postpones", "puts off"], "scraps": ["drops", "axes"],
    "proposes": ["floats", "puts forward"], "cuts": ["slashes", "trims"], "raises": ["lifts", "hikes"],
    "launches": ["opens", "starts"], "condemns": ["denounces", "slams"], "bans": ["outlaws"],
    "probes": ["investigates", "opens inquiry into"], "suspends": ["halts", "pauses"],
}  # fmt: skip
OBJECTS = """budget pension-reform tax-plan migration-deal climate-law energy-subsidies rail-strike
minimum-wage housing-plan defence-spending arms-package trade-deal tariffs sanctions ceasefire
peace-plan aid-package border-controls asylum-rules election-law media-law judicial-reform
healthcare-bill school-reform drug-pricing data-rules AI-act chip-subsidies gas-pipeline
nuclear-plant wind-farms coal-exit fuel-duty interest-rates bond-buying debt-ceiling spending-bill
bank-levy windfall-tax farm-subsidies fishing-quotas water-rationing heat-plan flood-defences
vaccine-rollout smoking-ban gambling-rules rent-cap speed-limits car-ban airport-expansion
port-deal mining-licence oil-drilling grain-exports fertiliser-imports steel-tariffs EV-incentives
broadband-rollout satellite-programme space-mission police-powers surveillance-bill
gun-control abortion-law marriage-bill voting-age referendum coalition-talks no-confidence-vote
""".split()
OBJECTS = [o.replace("-", " ") for o in OBJECTS]
CONTEXTS = """protests inflation recession fears strike budget-row corruption-scandal court-ruling
election-defeat market-turmoil border-clashes drought floods wildfires heatwave cyberattack
energy-crisis debt-talks trade-war leadership-contest coalition-crisis""".split()
CONTEXTS = [c.replace("-", " ") for c in CONTEXTS]
INCIDENTS = [
    ("bus crash", "killed"), ("train derailment", "injured"), ("building collapse", "dead"),
    ("earthquake", "dead"), ("floods", "displaced"), ("wildfire", "evacuated"),
    ("landslide", "missing"), ("factory fire", "killed"), ("ferry sinking", "missing"),
    ("storm", "without power"), ("heatwave", "hospitalised"), ("mine blast", "trapped"),
    ("shooting", "wounded"), ("stampede", "injured"), ("gas explosion", "killed"),
]  # fmt: skip
PRODUCTS = """phone chip AI-model headset laptop tablet smartwatch chatbot search-tool robotaxi
battery satellite drone browser streaming-service payment-app cloud-service car""".split()
FEATURES = """longer-battery on-device-AI satellite-messaging faster-charging new-camera
privacy-controls lower-price bigger-screen voice-assistant self-driving""".split()
MARKET_EVENTS = """profit-warning record-earnings job-cuts merger-talks CEO-exit buyback
guidance-cut recall probe-news takeover-bid strike-action price-cuts""".split()
PREFIXES = ["Breaking: ", "Live: ", "Update: ", "Exclusive: ", "Analysis: ", "Watch: ", ""]
ATTRIBUTIONS = ["sources say", "officials say", "report says", "reports", "AP", "Reuters"]
FILLER = """The decision follows weeks of negotiations and is expected to face legal challenges.
Critics said the move would hit low-income households hardest.
Officials declined to comment on the timing of the announcement.
Analysts expect further details to be published later this week.
The opposition called for an urgent debate in parliament.
Markets reacted cautiously to the news in early trading.
Rescue teams were still searching the area on Tuesday evening — officials fear the toll will rise.
The company’s chief executive said there would be an update at its investor day next month.
Supporters welcomed the plan as “overdue”, while business groups urged caution.
It is the third such incident in the region this year.""".split("\n")


def _d(word: str) -> str:
    return word.replace("-", " ")


@dataclass(frozen=True)
class Event:
    """One news event: its kind and the slots every rendering of it shares."""

    kind: str
    slots: tuple[tuple[str, str], ...]
    published_at: datetime

    def get(self, key: str) -> str:
        return dict(self.slots)[key]


def make_event(rng: random.Random, published_at: datetime) -> Event:
    """Draw a random event of a random kind."""
    kind = rng.choices(["policy", "incident", "markets", "sport", "tech"], [5, 2, 2, 1, 2])[0]
    slots: dict[str, str]
    if kind == "policy":
        actor = rng.choice([*PEOPLE, *PEOPLE, *COUNTRIES, *ORGS])
        verb = rng.choice(VERBS)
        slots = {
            "actor": _d(actor),
            "verb": verb[0],
            "pp": verb[1],
            "base": verb[2],
            "object": rng.choice(OBJECTS) + " " + rng.choice(["plan", "bill", "deal", "", ""]),
            "place": rng.choice([*COUNTRIES, *CITIES]),
            "context": rng.choice(CONTEXTS),
        }
    elif kind == "incident":
        what, outcome = rng.choice(INCIDENTS)
        slots = {
            "what": what,
            "outcome": outcome,
            "count": str(rng.choice([rng.randint(2, 40), rng.randint(50, 900), rng.randint(1, 9)])),
            "place": rng.choice(CITIES),
            "country": rng.choice(COUNTRIES),
        }
    elif kind == "markets":
        slots = {
            "company": _d(rng.choice(COMPANIES)),
            "move": rng.choice(["jump", "slump", "rise", "fall", "surge", "tumble"]),
            "pct": str(rng.randint(2, 25)),
            "event": _d(rng.choice(MARKET_EVENTS)),
        }
    elif kind == "sport":
        home, away = rng.sample(TEAMS, 2)
        slots = {
            "home": home,
            "away": away,
            "score": f"{rng.randint(1, 5)}-{rng.randint(0, 3)}",
            "prize": rng.choice(["title race", "cup final", "top four", "semi-final", "lead"]),
        }
    else:
        slots = {
            "company": _d(rng.choice(COMPANIES)),
            "product": _d(rng.choice(PRODUCTS)),
            "feature": _d(rng.choice(FEATURES)),
            "place": rng.choice(CITIES),
        }
    return Event(kind, tuple(slots.items()), published_at)


def _verb(rng: random.Random, verb: str) -> str:
    return rng.choice([verb, verb, *SYNONYMS.get(verb, [])])


def render_headline(event: Event, rng: random.Random, *, variant: int) -> str:
    """Render an event as one outlet would; different variants reword it."""
    s = dict(event.slots)
    if event.kind == "policy":
        forms = [
            f"{s['actor']} {_verb(rng, s['verb'])} {s['object']} amid {s['context']}",
            f"{s['place']}: {s['actor']} {_verb(rng, s['verb'])} {s['object']}",
            f"{s['object'].capitalize()} {s['pp']} by {s['actor']} after {s['context']}",
            f"{s['actor']} to {s['base']} {s['object']} as {s['context']} grow",
            f"{s['actor']} {_verb(rng, s['verb'])} controversial {s['object']} in {s['place']}",
        ]
    elif event.kind == "incident":
        forms = [
            f"{s['count']} {s['outcome']} in {s['place']} {s['what']}",
            f"{s['place']} {s['what']}: at least {s['count']} {s['outcome']}",
            f"At least {s['count']} people {s['outcome']} after {s['what']} in {s['place']}, "
            f"{s['country']}",
            f"{s['what'].capitalize()} leaves {s['count']} {s['outcome']} in {s['place']}",
        ]
    elif event.kind == "markets":
        forms = [
            f"{s['company']} shares {s['move']} {s['pct']}% after {s['event']}",
            f"{s['company']} stock {s['move']}s {s['pct']}% on {s['event']}",
            f"Shares in {s['company']} {s['move']} {s['pct']} per cent following {s['event']}",
        ]
    elif event.kind == "sport":
        forms = [
            f"{s['home']} beat {s['away']} {s['score']} to boost {s['prize']} hopes",
            f"{s['home']} {s['score']} {s['away']}: {s['prize']} hopes boosted",
            f"{s['away']} lose {s['score']} at {s['home']} in {s['prize']} blow",
        ]
    else:
        forms = [
            f"{s['company']} unveils new {s['product']} with {s['feature']}",
            f"{s['company']} launches {s['product']} featuring {s['feature']}",
            f"{s['company']}'s new {s['product']} bets on {s['feature']}",
            f"{s['company']} shows off {s['product']} at {s['place']} event",
        ]
    title = forms[variant % len(forms)]
    if variant and rng.random() < 0.3:
        title = rng.choice(PREFIXES) + title
    if variant and rng.random() < 0.2:
        title += f", {rng.choice(ATTRIBUTIONS)}"
    return title[0].upper() + title[1:]


def render_summary(event: Event, rng: random.Random, title: str) -> str:
    """An HTML description: the headline restated, one filler sentence, sometimes a link."""
    lead = title.split(": ", 1)[-1].rstrip(".")
    day = event.published_at.strftime("%A")
    html = f"<p>{escape(lead)} on {day}. {escape(rng.choice(FILLER))}</p>"
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


TOPIC_CATEGORY = {"policy": "World", "incident": "World", "markets": "Business", "sport": "Sport"}


@dataclass(frozen=True)
class Corpus:
    feeds: tuple[tuple[Item, ...], ...]
    wire_events: int
    duplicate_items: int


def build_corpus(
    *, feeds: int, items: int, now: datetime, dup_share: float = 0.2, seed: int = 1
) -> Corpus:
    """Generate `feeds` feeds of `items` items; `dup_share` of items retell wire events."""
    rng = random.Random(seed)
    copies_total = int(feeds * items * dup_share)
    wire: list[Event] = []
    placements: list[int] = []
    while len(placements) < copies_total:
        event = make_event(rng, now - timedelta(minutes=rng.randint(30, 20 * 60)))
        wire.append(event)
        copies = rng.randint(2, 6)
        placements += [len(wire) - 1] * copies
    placements = placements[:copies_total]
    rng.shuffle(placements)
    slots: list[list[Item]] = [[] for _ in range(feeds)]
    order = [f for f in range(feeds) for _ in range(items)]
    rng.shuffle(order)
    variant_of: dict[int, int] = {}
    for feed_index, event_index in zip(order, placements, strict=False):
        event = wire[event_index]
        variant = variant_of.get(event_index, -1) + 1
        variant_of[event_index] = variant
        slots[feed_index].append(_item(rng, feed_index, len(slots[feed_index]), event, variant))
    for feed_index in range(feeds):
        while len(slots[feed_index]) < items:
            event = make_event(rng, now - timedelta(minutes=rng.randint(5, 22 * 60)))
            slots[feed_index].append(_item(rng, feed_index, len(slots[feed_index]), event, 0))
    ordered = tuple(
        tuple(sorted(feed_items, key=lambda i: i.published_at, reverse=True))
        for feed_items in slots
    )
    return Corpus(ordered, len(wire), copies_total)


def _item(rng: random.Random, feed: int, n: int, event: Event, variant: int) -> Item:
    title = render_headline(event, rng, variant=variant)
    jitter = timedelta(minutes=rng.randint(0, 90)) if variant else timedelta(0)
    slug = "-".join(title.lower().split()[:6]).replace("'", "").replace(":", "").replace(",", "")
    return Item(
        guid=f"outlet{feed:04d}-{n:03d}-{rng.getrandbits(32):08x}",
        link=f"https://outlet{feed:04d}.example/news/{slug}-{n}",
        title=title,
        summary_html=render_summary(event, rng, title),
        published_at=event.published_at + jitter,
        category=TOPIC_CATEGORY.get(event.kind, "Technology"),
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
