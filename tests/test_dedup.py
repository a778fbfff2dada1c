"""Tests for dedup: hand-made headline pairs, keys, the ingest lookup, and the dev set.

Pairs are decided by ingest itself (`tests.support.dedupkit.IngestProbe` runs
`bot.ingest.stories.ingest_entries`), so the tests check the code refreshes run.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ingest.dedup import (
    SAME_STORY_THRESHOLD,
    Fingerprint,
    best_match,
    candidate_keys,
    fingerprint,
    match_score,
    similarity,
    similarity_bound,
)
from tests.support.dedupkit import ISSUES, ONE_STORY, T0, WINDOW, IngestProbe, semantic_or_skip

ROOT = Path(__file__).resolve().parents[1]
STS_DIR = ROOT.parent / "shared" / "data" / "sts-headlines-dev"
_SLOTS = itertools.count()


@pytest.fixture(scope="module", params=["lexical", "semantic"])
def probe(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestProbe]:
    """Ingest with each method: the lexical fallback and the semantic one."""
    semantic = semantic_or_skip() if request.param == "semantic" else None
    with IngestProbe(tmp_path_factory.mktemp("dedup") / "stories.db", semantic=semantic) as p:
        yield p


def ingested_together(probe: IngestProbe, a: str, b: str) -> bool:
    """Ingest `a` then `b` from two outlets, apart from other pairs; tell if they merged."""
    at = T0 + next(_SLOTS) * 3 * WINDOW
    first = probe.add(a, published_at=at, feed=0)
    return probe.add(b, published_at=at + timedelta(hours=1), feed=1) == first


SAME = {
    "issue-qamishli": (
        "Kurdish residents in Syria's Qamishli step up patrols as government pressure grows",
        "Kurdish residents in Syria's Qamishli step up patrols as pressure from Damascus grows",
    ),
    "number-word": (
        "Gunman kills 6 in shooting at Wisconsin Sikh temple",
        "Gunman kills six in shooting at Sikh temple in Wisconsin",
    ),
    "us-abbreviation": (
        "U.S. Navy jet crashes into apartment building in Virginia",
        "US Navy Jet Crashes Into Virginia Apartment Building",
    ),
    "demonym": (
        "Two blasts rock Syrian capital Damascus",
        "Two blasts hit Syria capital Damascus",
    ),
    "transliteration": (
        "Mohamed Morsi sworn in as Egypt's president",
        "Mohamed Mursi sworn in as Egyptian president",
    ),
    "accents": (
        "Macron names Lecornu prime minister after Bayrou ousted",
        "Macron names Lécornu as prime minister after Bayrou is ousted",
    ),
    "billions": (
        "AOL to sell 800 patents to Microsoft for $1.0 bn",
        "AOL to sell 800 patents to Microsoft for $1 billion",
    ),
    "title-case": (
        "Capello Resigns As England Manager Over Terry Captaincy",
        "Capello resigns as England manager over Terry captaincy row",
    ),
    "prefix-outlet": (
        "Netanyahu set to call early election in Israel",
        "Israel's Netanyahu set to call early election",
    ),
    "curly-apostrophe": (
        "Schiphol airport partly evacuated after bomb threat",
        "Schiphol airport evacuated after bomb threat’s report",
    ),
    # Rewordings the lexical method missed before round 12 (each below the threshold
    # on the old code, above it now; semantic merges them too).
    "paraphrase-inflected": (  # "saves" folds with "rescues", as "save" did
        "Dog saves owner from house fire",
        "Dog rescues its owner from a burning house",
    ),
    "date-one-side-only": (  # a day only one title gives is not a disagreement
        "Tornado kills 12 in Oklahoma on Sunday",
        "Tornado kills 12 people in Oklahoma town",
    ),
    "figure-magnitude": (  # "$7.5 billion" is "$7.5bn"
        "Microsoft buys game maker for $7.5 billion",
        "Game maker bought by Microsoft in $7.5bn cash deal",
    ),
    "phrase-step-down": (
        "Bank governor steps down amid currency crisis",
        "Central bank governor resigns as currency slides",
    ),
    "phrase-prime-minister": (
        "Prime minister won't call snap election",
        "PM rules out snap election",
    ),
    "adverb-weighs-little": (
        "Senate overwhelmingly passes budget bill",
        "Senate passes budget bill by wide margin",
    ),
    "descriptor-weighs-little": (
        "Legendary broadcaster dies aged 92",
        "Broadcaster dies at 92 after illness",
    ),
}

DIFFERENT = {
    "issue-iran": (
        "Iran rejects US magazine report on January unrest death toll",
        "Iran protest death toll climbs to 6,126, rights group says",
    ),
    "different-numbers": (
        "Car bombing kills 53 in Damascus",
        "Car bombing kills 14 in Damascus",
    ),
    "different-day": (
        "China stocks close lower on Friday",
        "China stocks close lower on Wednesday",
    ),
    "opposite-verbs": (
        "Indian stocks open lower",
        "Indian stocks close lower",
    ),
    "different-country": (
        "7.1 magnitude earthquake hits Taiwan",
        "6.3 magnitude earthquake hits Pakistan",
    ),
    "same-person-different-event": (
        "Nelson Mandela taken to hospital with lung infection",
        "Nelson Mandela released from hospital after lung infection",
    ),
    "same-subject": (
        "Israel strikes Syria as tensions rise on weapons",
        "Air strikes wound civilians in Syria's Deraa",
    ),
    "same-template": (
        "Today in History, April 23",
        "Today in History, Jan. 21",
    ),
    "measure-lifted-or-kept": (  # issue 11's unseen set: both methods merged these
        "FAA continues ban on US flights to Tel Aviv",
        "FAA lifts ban on U.S. flights to Tel Aviv",
    ),
    "rates-up-or-down": (
        "Central bank raises interest rates to curb inflation",
        "Central bank cuts interest rates to curb inflation",
    ),
    "verdicts": (
        "NATO protesters acquitted of terrorism charges",
        "NATO protesters convicted on weapons charges",
    ),
    "unrelated": (
        "Apple unveils new iPhone at Cupertino event",
        "Floods displace thousands in Bangladesh",
    ),
}


def _pair_ids(cases: dict[str, tuple[str, str]]) -> list[str]:
    return list(cases)


@pytest.mark.parametrize("name", _pair_ids(SAME))
def test_same_story_pairs_join(name: str, probe: IngestProbe) -> None:
    a, b = (fingerprint(t) for t in SAME[name])
    assert ingested_together(probe, *SAME[name]), f"{name}: {similarity(a, b):.3f}"
    assert set(candidate_keys(a)) & set(candidate_keys(b)), f"{name}: no shared key"


@pytest.mark.parametrize("name", _pair_ids(DIFFERENT))
def test_different_story_pairs_stay_apart(name: str, probe: IngestProbe) -> None:
    a, b = (fingerprint(t) for t in DIFFERENT[name])
    assert not ingested_together(probe, *DIFFERENT[name]), f"{name}: {similarity(a, b):.3f}"


def test_similarity_is_symmetric_and_bounded() -> None:
    for a_text, b_text in [*SAME.values(), *DIFFERENT.values()]:
        a, b = fingerprint(a_text), fingerprint(b_text)
        assert 0.0 <= similarity(a, b) <= 1.0
        assert similarity(a, b) == pytest.approx(similarity(b, a))
    fp = fingerprint("Capello quits as England manager")
    assert similarity(fp, fp) == pytest.approx(1.0)


def test_fingerprint_normalises_tokens() -> None:
    fp = fingerprint("Iran's protest death toll climbs to 6,126 — Zürich rights group")
    assert "iran" in fp.tokens
    assert "6126" in fp.specifics
    assert "zurich" in fp.tokens
    assert "the" not in fp.tokens
    assert fingerprint("").tokens == ()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Minister can't recall approving contract", "Minister doesn't recall approving contract"),
        ("Airline wins $12 billion order", "Airline wins $12bn order"),
        ("Airline wins $12 million order", "Airline wins $12M order"),
        ("Central bank chief steps down", "Central bank chief resigns"),
        ("Central bank chief stepped down", "Central bank chief quit"),
        ("Bishop to abdicate", "Bishop stands down"),
        ("United Nations envoy visits Gaza", "UN envoy visits Gaza"),
        ("Lifeguard saves swimmer", "Lifeguard rescued swimmer"),
        ("Singer died in crash", "Singer dying in crash"),
        ("Court strikes down gun law", "Court struck down gun law"),
    ],
)
def test_rewordings_have_one_fingerprint(a: str, b: str) -> None:
    # Negated auxiliaries are stop words like "not"; a magnitude goes with its figure;
    # phrases read as one word; a group's words fold in every regular inflection.
    assert fingerprint(a).tokens == fingerprint(b).tokens
    assert fingerprint(a).specifics == fingerprint(b).specifics


def test_descriptors_and_adverbs_weigh_like_generic_words() -> None:
    def full(token: str) -> float:  # a lower-case word's weight by its length
        return 0.4 + 0.15 * len(token)

    weight_of = fingerprint("Veteran guitarist quietly retires from touring").weight_of
    assert weight_of["veteran"] == pytest.approx(0.5 * full("veteran"))
    assert weight_of["quietly"] == pytest.approx(0.5 * full("quietly"))
    assert weight_of["guitarist"] == pytest.approx(full("guitarist"))
    # Words ending in "-ly" that are not adverbs keep their weight, capitals or not.
    names = fingerprint("Rally For Kelly In Italy As Bradley Speaks").weight_of
    assert all(names[t] == pytest.approx(full(t)) for t in ("rally", "kelly", "italy", "bradley"))


def test_inflections_cover_regular_verb_forms() -> None:
    from bot.ingest.lexicon import inflections

    assert {"dies", "died", "dying"} <= set(inflections("die"))
    assert {"saves", "saved", "saving"} <= set(inflections("save"))
    assert {"quits", "quitting"} <= set(inflections("quit"))
    assert {"steps", "stepped", "stepping"} <= set(inflections("step"))
    assert {"marries", "married"} <= set(inflections("marry"))


def test_truncated_summary_supports_match() -> None:
    summary = "Kurdish residents in the north-eastern city organised night patrols after clashes"
    titles = (
        "Qamishli Kurds step up night patrols",
        "Kurdish patrols in Qamishli as tension rises",
    )
    a = fingerprint(titles[0], summary)
    b = fingerprint(titles[1], summary[:40] + "...")
    assert b.summary_tokens < a.summary_tokens
    assert similarity(a, b) > similarity(fingerprint(titles[0]), fingerprint(titles[1]))


def test_summary_and_places_are_derived_only_for_a_full_score() -> None:
    # The bound rejects most candidate pairs; only a full score reads these.
    quake = fingerprint("Quake kills 23 in Chile", "A strong earthquake struck northern Chile...")
    stocks = fingerprint("Stocks close lower on Friday", "Markets in Tokyo fell for a third day")
    assert similarity_bound(quake, stocks, SAME_STORY_THRESHOLD) < SAME_STORY_THRESHOLD
    assert quake._summary_tokens is None and quake._places is None
    assert stocks._summary_tokens is None and stocks._places is None
    other = fingerprint("Chile quake kills 23", "An earthquake struck northern Chile on Monday")
    assert similarity(quake, other) >= SAME_STORY_THRESHOLD
    assert {"chile", "strong", "struck"} <= quake.summary_tokens
    assert quake.places == other.places and quake.places.countries
    title = "Quake kills 23 in Chile"
    assert quake == fingerprint(title, "A strong earthquake struck northern Chile")
    assert quake != fingerprint(title, "A strong earthquake struck Peru")


def test_candidate_keys_are_stable_signed_64_bit_and_few() -> None:
    fp = fingerprint(SAME["issue-qamishli"][0])
    keys = candidate_keys(fp)
    assert 1 <= len(keys) <= 16
    assert all(-(2**63) <= k < 2**63 for k in keys)
    code = (
        "from bot.ingest.dedup import candidate_keys, fingerprint;"
        f"print(candidate_keys(fingerprint({SAME['issue-qamishli'][0]!r})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(keys)


def test_ingest_joins_only_within_the_window(probe: IngestProbe) -> None:
    at = T0 + next(_SLOTS) * 3 * WINDOW
    story = probe.add(SAME["number-word"][0], published_at=at)
    other = probe.add(DIFFERENT["issue-iran"][0], published_at=at)
    assert probe.add(SAME["number-word"][1], published_at=at + timedelta(hours=3), feed=1) == story
    late = probe.add(SAME["number-word"][1], published_at=at + WINDOW + timedelta(hours=1), feed=1)
    assert late not in (story, other)
    assert probe.add(DIFFERENT["issue-iran"][1], published_at=at, feed=1) != other


def test_ingest_picks_best_match(probe: IngestProbe) -> None:
    at = T0 + next(_SLOTS) * 3 * WINDOW
    probe.add("Gunman kills 6 at Wisconsin temple", published_at=at)
    best = probe.add("Gunman kills 6 in shooting at Wisconsin Sikh temple", published_at=at)
    found = probe.add(
        "Gunman kills six in shooting at Sikh temple in Wisconsin", published_at=at, feed=1
    )
    assert found == best


def test_best_match_takes_highest_score_at_or_above_threshold() -> None:
    probe_fp = fingerprint("Gunman kills six in shooting at Sikh temple in Wisconsin")
    weak = fingerprint("Gunman kills 6 at Wisconsin temple")
    strong = fingerprint("Gunman kills 6 in shooting at Wisconsin Sikh temple")
    assert best_match(probe_fp, [(2, strong), (1, weak)]) == 2
    assert best_match(probe_fp, [(1, weak), (2, strong)]) == 2
    assert best_match(probe_fp, [(1, fingerprint(DIFFERENT["issue-iran"][0]))]) is None
    assert best_match(probe_fp, []) is None


# Pairs only a compound or a near match brings together: the bound must allow for both.
COMPOUNDS = (
    ("Horsemeat scandal spreads to Poland", "Horse meat scandal spreads to Poland"),
    ("Obama wins reelection", "Obama wins re-election"),
    ("Syria talks stall in Geneva", "Syrian talks stall in Geneva"),
    ("Morsi supporters clash with police", "Mursi supporters clash with police"),
)
SUMMARY = "Officials said the storm had moved inland overnight, cutting power to thousands"


def _fingerprints() -> list[Fingerprint]:
    pairs = [*SAME.values(), *DIFFERENT.values(), *COMPOUNDS]
    if STS_DIR.is_dir():
        pairs += [(a, b) for _, a, b in _load_sts(STS_DIR / "2013.tsv")[:80]]
    titles = [title for pair in pairs for title in pair]
    # Half with a summary (the bonus), half without.
    return [fingerprint(t, SUMMARY if n % 2 else "") for n, t in enumerate(titles)]


def test_similarity_bound_is_never_below_the_score() -> None:
    fps = _fingerprints()
    rejected = 0
    for a, b in itertools.product(fps, repeat=2):
        bound, score = similarity_bound(a, b), similarity(a, b)
        assert score <= bound, (a.text, b.text)
        rejected += bound < SAME_STORY_THRESHOLD
        # With a floor it may stop early, but only below the floor.
        floored = similarity_bound(a, b, SAME_STORY_THRESHOLD)
        below = score < SAME_STORY_THRESHOLD and floored < SAME_STORY_THRESHOLD
        assert score <= floored or below, (a.text, b.text)
    assert rejected > 0.5 * len(fps) ** 2  # it spares most unrelated pairs their score
    for a, b in COMPOUNDS:  # merged by the compound or near credit, which the bound allows
        assert similarity_bound(fingerprint(a), fingerprint(b)) >= SAME_STORY_THRESHOLD


def test_the_by_letter_bound_is_never_below_the_score_without_a_compound() -> None:
    # similarity_bound's first, cheaper check: without a compound each credit pairs
    # tokens of one first letter, so the lighter side's weight per letter bounds it.
    from bot.ingest.dedup import _by_letter, _compound_possible, _score_bound

    fps = _fingerprints()
    checked = settled = 0
    for a, b in itertools.product(fps, repeat=2):
        if not a.tokens or not b.tokens:
            continue
        if _compound_possible(a, b.weight_of, b.tokens):
            continue
        if _compound_possible(b, a.weight_of, a.tokens):
            continue
        checked += 1
        loose = _score_bound(a, b, _by_letter(a, b))
        assert similarity(a, b) <= loose + 1e-9, (a.text, b.text)
        settled += loose + 1e-9 < SAME_STORY_THRESHOLD
    assert checked > 0.9 * len(fps) ** 2
    assert settled > 0.5 * checked  # it settles most unrelated pairs on its own


def test_best_match_decides_as_scoring_every_candidate_would() -> None:
    fps = _fingerprints()
    for n, fp in enumerate(fps[:120]):
        candidates = [(m % 7, other) for m, other in enumerate(fps) if m != n]
        expected, best = None, 1.0  # every candidate scored, the later one winning ties
        for story_id, other in candidates:
            if match_score(fp, other) >= best:
                expected, best = story_id, match_score(fp, other)
        assert best_match(fp, candidates) == expected


def _load_sts(path: Path) -> list[tuple[bool, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        score, a, b = line.split("\t")[:3]
        if not 2 < float(score) < 4:
            rows.append((float(score) >= 4, a, b))
    return rows


@pytest.mark.corpus
def test_dev_set_precision_at_shipped_threshold(probe: IngestProbe) -> None:
    if not STS_DIR.is_dir():
        if os.environ.get("REQUIRE_CORPUS") == "1":
            pytest.fail("../shared/data/sts-headlines-dev not found and REQUIRE_CORPUS=1")
        pytest.skip("../shared/data/sts-headlines-dev not found")
    rows = [row for year in ("2013", "2014") for row in _load_sts(STS_DIR / f"{year}.tsv")]
    if probe.semantic is not None:
        rows = rows[::4]  # embedding costs ~10 ms a headline: a fixed quarter keeps it quick
    found = [same for same, a, b in rows if ingested_together(probe, a, b)]
    precision = sum(found) / len(found)
    recall = sum(found) / sum(same for same, _, _ in rows)
    method = "semantic" if probe.semantic is not None else "lexical"
    assert precision >= 0.93, f"{method}: precision {precision:.3f}"
    assert recall >= (0.85 if probe.semantic is not None else 0.5), f"{method}: recall {recall:.3f}"


def test_two_outlets_issues_of_one_heading_stay_two_stories(probe: IngestProbe) -> None:
    """Both newsletters called "Morning Briefing" were one story: one outlet's was lost."""
    first, second = (probe.add(t, summary=s, feed=i) for i, (t, s) in enumerate(ISSUES))
    assert first != second


def test_one_short_headline_over_summaries_that_share_words_is_one_story(
    probe: IngestProbe,
) -> None:
    first, second = (probe.add(t, summary=s, feed=i) for i, (t, s) in enumerate(ONE_STORY))
    assert first == second
    # Without a summary to tell by, a short headline two outlets share stays one story.
    assert probe.add(ISSUES[0][0], feed=0) == probe.add(ISSUES[1][0], feed=1)
