"""Topic facet: a fixed Indonesian taxonomy over messy outlet categories.

Outlets label the same beat a dozen ways ("Selebriti", "SELEBRITI", "seleb",
"Celebrity"), and raw articles have no label at all. A label that names a topic
is mapped through data/topics.json; otherwise weighted keyword rules over the
stemmed text decide. Rules are stemmed with the indexer's own stemmer so they
meet the article's terms exactly.

Rule weights come from two data files, summed per (stem, topic):

* data/topics.json: hand-written words (0.25-3) for every topic. They alone
  speak for topics no outlet labels in our corpus (Keamanan & Terorisme,
  Kemanusiaan, Bencana & Lingkungan).
* data/topic_weights.tsv: smoothed log-ratio weights (-3..3) learned from the
  category-labelled half of a corpus by bench/train_topics.py. Negative weights
  are evidence against a topic ("gol" for Hiburan), which keeps the learned
  topics' large vocabularies from out-shouting the hand-only ones.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

# A category-given topic is joined by a rule topic only when the text argues
# for it this many times more strongly than the plain rule threshold.
_STRONG = 2.0
# Length in tokens at which the score is neither boosted nor damped.
_REFERENCE_LENGTH = 100
# Brings scores of typical articles to the 0-10 range the data thresholds use.
_SCORE_UNIT = 10.0
# Weights learned from labelled articles by bench/train_topics.py.
_LEARNED_FILE = "topic_weights.tsv"


class TopicDataError(ValueError):
    """The packaged topic table is malformed."""


@dataclass(frozen=True)
class _Rules:
    names: tuple[str, ...]
    by_category: dict[str, tuple[str, ...]]
    by_stem: dict[str, tuple[tuple[int, float], ...]]
    threshold: float
    relative: float


def _label_key(label: str) -> str:
    return re.sub(r"[^0-9a-z]", "", label.casefold())


def _read_learned() -> dict[str, dict[str, float]]:
    """data/topic_weights.tsv: topic -> {stem: weight}, written by bench/train_topics.py."""
    path = resources.files("searchapp.data").joinpath(_LEARNED_FILE)
    if not path.is_file():
        return {}
    learned: dict[str, dict[str, float]] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise TopicDataError(f"{_LEARNED_FILE}:{number}: expected topic, stem, weight")
        topic, stem, weight = parts
        learned.setdefault(topic, {})[stem] = float(weight)
    return learned


def _build(raw: dict, learned: dict[str, dict[str, float]]) -> _Rules:
    from searchapp.text.analysis import Stemmer

    stem_word = Stemmer().stem  # topic words are common words: no names to protect

    names, by_category = [], {}
    by_stem: dict[str, dict[int, float]] = {}
    index_of = {topic["name"]: i for i, topic in enumerate(raw["topics"])}
    for topic in learned:
        if topic not in index_of:
            raise TopicDataError(f"{_LEARNED_FILE}: unknown topic {topic!r}")
    for index, topic in enumerate(raw["topics"]):
        name = topic["name"]
        names.append(name)
        for label in topic.get("categories", ()):
            key = _label_key(label)
            if key in by_category and by_category[key] != (name,):
                raise TopicDataError(f"category {label!r} maps to two topics")
            by_category[key] = (name,)
        hand: dict[str, float] = {}
        for word, weight in topic["words"].items():
            if " " in word.strip():
                raise TopicDataError(f"{name}: rule word {word!r} must be one word")
            word = word.strip().lower()
            # The surface form too: names such as "taliban" are indexed unstemmed
            # once protected, whenever that protection was switched on.
            for key in {word, stem_word(word)}:
                hand[key] = max(hand.get(key, 0.0), float(weight))
        # A learned weight adds to a hand one: both are evidence for the topic,
        # and the hand words keep topics without labelled data in the running.
        merged = dict(hand)
        for stem, weight in learned.get(name, {}).items():
            merged[stem] = merged.get(stem, 0.0) + weight
        for stem, weight in merged.items():
            by_stem.setdefault(stem, {})[index] = weight
    for label in raw.get("generic", ()):
        by_category.setdefault(_label_key(label), ())
    return _Rules(
        tuple(names),
        by_category,
        {stem: tuple(w.items()) for stem, w in by_stem.items()},
        float(raw["threshold"]),
        float(raw["relative"]),
    )


def _raw() -> dict:
    return json.loads(resources.files("searchapp.data").joinpath("topics.json").read_text("utf-8"))


@cache
def _rules() -> _Rules:
    return _build(_raw(), _read_learned())


def load() -> None:
    """Read and stem the rules now (a parent process, before it forks workers)."""
    _rules()


def names() -> list[str]:
    """All topic display names, in taxonomy order."""
    return list(_rules().names)


def from_category(category: str | None) -> list[str]:
    """The topic a source category (or subcategory) label names, if any.

    Generic labels ("News", "Nasional", "Daerah", "Metro") and unknown ones
    give [] on purpose: they say where a story ran, not what it is about, so
    the text rules decide.
    """
    if not category:
        return []
    return list(_rules().by_category.get(_label_key(category), ()))


def scores(stems: Iterable[str]) -> dict[str, float]:
    """Rule score per topic (only topics whose evidence sums above zero).

    Each matching stem adds weight x (1 + ln tf), so one repeated word cannot
    carry a topic; the sum is scaled by sqrt(reference length / length) so long
    articles need proportionally more evidence.
    """
    return _scores_with(_rules(), stems)


def _scores_with(rules: _Rules, stems: Iterable[str]) -> dict[str, float]:
    counts = Counter(stems)
    total = sum(counts.values())
    if not total:
        return {}
    raw: dict[int, float] = {}
    by_stem = rules.by_stem
    # Most stems carry no evidence: filter them out in C, keeping text order
    # (the order of the float sums).
    for stem in filter(by_stem.__contains__, counts):
        boost = 1.0 + math.log(counts[stem])
        for index, weight in by_stem[stem]:
            raw[index] = raw.get(index, 0.0) + weight * boost
    scale = math.sqrt(_REFERENCE_LENGTH / max(total, _REFERENCE_LENGTH / 4))
    return {rules.names[i]: s * scale / _SCORE_UNIT for i, s in raw.items() if s > 0}


def _ranked(topic_scores: dict[str, float], floor: float) -> list[str]:
    if not topic_scores:
        return []
    best = max(topic_scores.values())
    cut = max(floor, best * _rules().relative)
    ranked = sorted(topic_scores.items(), key=lambda kv: -kv[1])
    return [name for name, score in ranked if score >= cut]


def from_stems(stems: Iterable[str]) -> list[str]:
    """Topics the stemmed title+body argues for, best first; [] if none clears the bar."""
    return _ranked(scores(stems), _rules().threshold)


def assign(category: str | None, stems: Iterable[str]) -> list[str]:
    """Topics of an article: its category's topic first, else the text rules.

    A category topic is trusted and kept first; a rule topic joins it only when
    the text makes a strong case of its own (a "Bola" story on a match-fixing
    trial is also Hukum & Kriminal).
    """
    given = from_category(category)
    topic_scores = scores(stems)
    if not given:
        return _ranked(topic_scores, _rules().threshold)
    extra = _ranked(topic_scores, _rules().threshold * _STRONG)
    return given + [t for t in extra if t not in given]
