"""Word folding for the lexical dedup score: news paraphrases and British spellings.

Outlets reword the same event with a small set of news verbs and nouns
("quits"/"resigns", "quake"/"earthquake", "jail"/"prison"). Each group below
folds to its first word; `bot.ingest.dedup` applies it after stemming, so both
headlines land on the same token. Groups hold only words that report the same
fact whichever is used: opposites ("open"/"close") are vetoed elsewhere and
never share a group. Pure data and one lookup.
"""

from __future__ import annotations

from collections.abc import Callable

# One group a line; the first word is the canonical form.
_GROUPS = """
resign quit resignation
retire retirement
die dead death
quake earthquake tremor
blast explosion explode
injure hurt wound injury
visit travel
fall tumble drop slide slump plunge sink
rise climb jump surge soar
win victory won triumph
election elections
marry wed wedding married
arrest detain nab
seize capture
prison jail
inmate prisoner
premier pm
chief chairman chair
truce ceasefire
rescue save
observer monitor
pledge promise vow
stance position
hail welcome praise
gop republican
probe investigate investigation inquiry
deal agreement accord pact
talk negotiation
plane jet aircraft airliner
soldier troop
protest protester demonstration demonstrator unrest
fire blaze ablaze afire
firm company
football soccer
film movie
child children kid
cancel scrap
free release freed
warn warning
sue lawsuit
ban prohibit
launch unveil
sack dismiss oust
"""

# British spellings to American, before stemming.
_SPELLINGS = {
    "defence": "defense",
    "offence": "offense",
    "labour": "labor",
    "favour": "favor",
    "honour": "honor",
    "centre": "center",
    "theatre": "theater",
    "programme": "program",
    "recognise": "recognize",
    "recognised": "recognized",
    "recognises": "recognizes",
    "criticise": "criticize",
    "criticised": "criticized",
    "criticises": "criticizes",
    "organise": "organize",
    "organised": "organized",
    "apologise": "apologize",
    "apologises": "apologizes",
    "authorise": "authorize",
    "authorised": "authorized",
    "legalise": "legalize",
    "legalised": "legalized",
}


def build_folding(stem: Callable[[str], str]) -> dict[str, str]:
    """Map each stemmed word of a group to the group's stemmed canonical word."""
    folding: dict[str, str] = {}
    for line in _GROUPS.strip().splitlines():
        words = [stem(w) for w in line.split()]
        for word in words[1:]:
            folding.setdefault(word, words[0])
    return folding


def spelling(word: str) -> str:
    """Return the American spelling of a lower-case word, if it has a British one."""
    return _SPELLINGS.get(word, word)
