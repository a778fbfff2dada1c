"""A small gazetteer: which countries, states and cities a headline names.

Dedup uses it twice: demonyms fold into their country for the lexical score
("Afghan"/"Afghanistan", "Dutch"/"Netherlands"), and two headlines that each
name a place the other does not ("… visit UK" / "… visit Australia") are
vetoed as different stories. Cities and US states count under their country
too, so "Greek mall" / "Athens mall" agree while "Indiana" / "Florida" differ.
Pure data and pure functions; names are matched on accent-folded lower-case
words, longest first (at most three words).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# One place a line: "canonical: other names and demonyms" (country level).
_COUNTRIES = """
afghanistan: afghan, afghans, afghani
albania: albanian
algeria: algerian
angola: angolan
argentina: argentine, argentinian
armenia: armenian
australia: australian, australians, aust, aussie
austria: austrian
azerbaijan: azerbaijani
bahrain: bahraini
bangladesh: bangladeshi
belarus: belarusian
belgium: belgian
bolivia: bolivian
bosnia: bosnian
brazil: brazilian
bulgaria: bulgarian
burma: myanmar, burmese
cambodia: cambodian
cameroon: cameroonian
canada: canadian, canadians
chile: chilean
china: chinese
colombia: colombian
congo: congolese, drc
costa rica: costa rican
croatia: croatian
cuba: cuban, cubans
cyprus: cypriot
czech republic: czech, czechs
denmark: danish, dane, danes
ecuador: ecuadorian, ecuadorean
egypt: egyptian, egyptians
el salvador: salvadoran
estonia: estonian
ethiopia: ethiopian
finland: finnish, finn
france: french, frenchman
georgia: georgian
germany: german, germans
ghana: ghanaian
greece: greek, greeks
guatemala: guatemalan
haiti: haitian
honduras: honduran
hungary: hungarian
iceland: icelandic
india: indian, indians
indonesia: indonesian
iran: iranian, iranians
iraq: iraqi, iraqis
ireland: irish
israel: israeli, israelis
italy: italian, italians
ivory coast: ivorian
jamaica: jamaican
japan: japanese
jordan: jordanian
kazakhstan: kazakh
kenya: kenyan
kosovo: kosovar
kuwait: kuwaiti
kyrgyzstan: kyrgyz
laos: laotian
latvia: latvian
lebanon: lebanese
libya: libyan, libyans
lithuania: lithuanian
malaysia: malaysian
mali: malian
mexico: mexican, mexicans
moldova: moldovan
mongolia: mongolian
morocco: moroccan
mozambique: mozambican
nepal: nepalese, nepali
netherlands: dutch, holland
new zealand: nz
nicaragua: nicaraguan
niger: nigerien
nigeria: nigerian
north korea: n korea, nkorea, north korean, n korean, pyongyang, dprk
norway: norwegian
oman: omani
pakistan: pakistani, pakistanis, pak
palestine: palestinian, palestinians, gaza, west bank, w bank
panama: panamanian
paraguay: paraguayan
peru: peruvian
philippines: philippine, filipino
poland: polish, pole, poles
portugal: portuguese
qatar: qatari
romania: romanian
russia: russian, russians, moscow, kremlin
rwanda: rwandan
saudi arabia: saudi, saudis
senegal: senegalese
serbia: serbian, serb, serbs
singapore: singaporean
slovakia: slovak
slovenia: slovenian
somalia: somali, somalis
south africa: south african, s africa, s african
south korea: s korea, skorea, south korean, s korean, seoul
south sudan: s sudan, south sudanese
spain: spanish, spaniard
sri lanka: sri lankan
sudan: sudanese
sweden: swedish, swede, swedes
switzerland: swiss
syria: syrian, syrians
taiwan: taiwanese
tajikistan: tajik
tanzania: tanzanian
thailand: thai
tunisia: tunisian
turkey: turkish, turk, turks
uganda: ugandan
ukraine: ukrainian, ukrainians
united arab emirates: uae, emirati
united kingdom: uk, britain, british, briton, britons, great britain
united kingdom: england, english, scotland, scottish, wales, welsh
united states: usa, us, america, american, americans, united states of america
uruguay: uruguayan
uzbekistan: uzbek
venezuela: venezuelan
vietnam: vietnamese
yemen: yemeni, yemenis
zambia: zambian
zimbabwe: zimbabwean
"""

# "place: country" — states and cities, counted under their country as well.
_LOCAL = """
alabama: united states
alaska: united states
arizona: united states
arkansas: united states
california: united states
colorado: united states
connecticut: united states
delaware: united states
florida: united states
hawaii: united states
idaho: united states
illinois: united states
indiana: united states
iowa: united states
kansas: united states
kentucky: united states
louisiana: united states
maine: united states
maryland: united states
massachusetts: united states
michigan: united states
minnesota: united states
mississippi: united states
missouri: united states
montana: united states
nebraska: united states
nevada: united states
new hampshire: united states
new jersey: united states
new mexico: united states
north carolina: united states
north dakota: united states
ohio: united states
oklahoma: united states
oregon: united states
pennsylvania: united states
rhode island: united states
south carolina: united states
south dakota: united states
tennessee: united states
texas: united states
utah: united states
vermont: united states
virginia: united states
washington: united states
west virginia: united states
wisconsin: united states
wyoming: united states
new york: united states
chicago: united states
los angeles: united states
san francisco: united states
boston: united states
new orleans: united states
miami: united states
detroit: united states
london: united kingdom
manchester: united kingdom
paris: france
berlin: germany
madrid: spain
rome: italy
athens: greece
ankara: turkey
istanbul: turkey
cairo: egypt
baghdad: iraq
damascus: syria
aleppo: syria
homs: syria
beirut: lebanon
tehran: iran
kabul: afghanistan
islamabad: pakistan
karachi: pakistan
lahore: pakistan
delhi: india
new delhi: india
mumbai: india
beijing: china
shanghai: china
hong kong: china
tokyo: japan
sydney: australia
melbourne: australia
canberra: australia
toronto: canada
ottawa: canada
mexico city: mexico
tripoli: libya
benghazi: libya
jerusalem: israel
tel aviv: israel
kiev: ukraine
kyiv: ukraine
nairobi: kenya
lagos: nigeria
johannesburg: south africa
bangkok: thailand
manila: philippines
jakarta: indonesia
caracas: venezuela
havana: cuba
brussels: belgium
amsterdam: netherlands
stockholm: sweden
geneva: switzerland
"""


@dataclass(frozen=True, slots=True)
class Places:
    """The places a headline names: countries, and the states/cities below them."""

    countries: frozenset[str] = frozenset()
    local: frozenset[str] = frozenset()


NO_PLACES = Places()


def _fold(text: str) -> str:
    text = text.replace("’", "'")
    if text.isascii():  # NFKD changes nothing and there is no combining mark to drop
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=1)
def _table() -> dict[tuple[str, ...], tuple[str, str | None]]:
    """Map a word sequence to (country, local place or None)."""
    table: dict[tuple[str, ...], tuple[str, str | None]] = {}
    for line in _COUNTRIES.strip().splitlines():
        country, _, aliases = line.partition(":")
        for name in [country, *aliases.split(",")]:
            table[tuple(name.split())] = (country.strip(), None)
    for line in _LOCAL.strip().splitlines():
        place, _, country = line.partition(":")
        table[tuple(place.split())] = (country.strip(), place.strip())
    return table


@lru_cache(maxsize=1)
def _multi_word_starts() -> frozenset[str]:
    """The first words of the names of more than one word ("new" of "new york")."""
    return frozenset(name[0] for name in _table() if len(name) > 1)


_WORD = re.compile(r"[a-z]+")


def demonym_country(word: str) -> str | None:
    """Return the country a single lower-case word names ("afghan" -> "afghanistan")."""
    found = _table().get((word,))
    return found[0].replace(" ", "") if found and found[1] is None else None


def places_in(text: str) -> Places:
    """Return the places `text` names; "U.S." and "US" count, lower-case "us" does not."""
    raw = re.sub(r"\b(?:U\.S\.A?\.?|US|USA)\b", " usa ", text)
    raw = re.sub(r"\bU\.K\.|\bUK\b", " uk ", raw)
    words = _WORD.findall(_fold(raw).replace("'s", ""))
    words = [w for w in words if w != "us"]  # the pronoun; the country became "usa"
    table, starts = _table(), _multi_word_starts()
    countries: set[str] = set()
    local: set[str] = set()
    i = 0
    while i < len(words):
        # Only a first word of a multi-word name can begin a longer match.
        for size in (3, 2, 1) if words[i] in starts else (1,):
            found = table.get(tuple(words[i : i + size]))
            if found is not None:
                countries.add(found[0])
                if found[1] is not None:
                    local.add(found[1])
                i += size
                break
        else:
            i += 1
    return Places(frozenset(countries), frozenset(local))


def places_conflict(a: Places, b: Places) -> bool:
    """Tell whether each headline names a place the other does not, at one level."""
    if (a.countries - b.countries) and (b.countries - a.countries):
        return True
    return bool((a.local - b.local) and (b.local - a.local))
