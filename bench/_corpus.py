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
#MIDDLE#


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
