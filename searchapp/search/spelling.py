"""Did-you-mean: corrections from the words as written in the corpus.

Candidates come from the words as indexed: roots and names (which are their
own terms) and the derived forms kept as written (so the suggestion is
something a writer actually wrote: "Tajikstan" → "Tajikistan", "pembicaran" →
"pembicaraan"), within two edits, preferring the nearest and then the most
frequent. Typos in the first two letters are rare, so candidates share them:
a sorted word list gives that slice at once, and rapidfuzz's C++ edit
distance ranks it (Whoosh's pure-Python automaton walk took up to 180 ms).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left

from rapidfuzz import process
from rapidfuzz.distance import OSA

from searchapp.engine.base import TermStats

FIELDS = ("body", "body_exact")  # roots and names live in the first, derived forms in the second
MAX_EDITS = 2
RARE = 2  # a query word in fewer articles than this is worth correcting
PREFIX = 2  # letters a candidate shares with the typed word


class Lexicon:
    """The words a correction can come from, read once per build on first use."""

    def __init__(self, terms: TermStats):
        words = {t for f in FIELDS for t in terms.words(f)}
        self.words = sorted(w for w in words if w.isalpha())

    def within(self, word: str, maxdist: int) -> list[str]:
        """Words sharing the first PREFIX letters, at most `maxdist` edits
        away (a transposition is one edit)."""
        head = word[:PREFIX]
        choices = self.words[bisect_left(self.words, head) : bisect_left(self.words, head + "\uffff")]
        found = process.extract(word, choices, scorer=OSA.distance, score_cutoff=maxdist, limit=None)
        return [c for c, _d, _i in found]


def correctable(word: str, terms: TermStats) -> bool:
    """A query word rare enough to look for a correction (two look-ups)."""
    return len(word) >= 4 and word.isalpha() and all(terms.doc_frequency(f, word) < RARE for f in FIELDS)


def _df(word: str, terms: TermStats) -> int:
    return max(terms.doc_frequency(f, word) for f in FIELDS)


def correct(word: str, terms: TermStats, lexicon: Lexicon) -> str | None:
    """The best corpus word for a rare or unknown query word, or None."""
    if not correctable(word, terms):
        return None
    known = _df(word, terms)
    maxdist = 1 if len(word) < 6 else MAX_EDITS
    best, best_score = None, -math.inf
    for candidate in lexicon.within(word, maxdist):
        freq = _df(candidate, terms)
        if candidate == word or freq <= known:
            continue
        distance = OSA.distance(word, candidate)
        score = math.log(freq) - 3.0 * distance
        if score > best_score:
            best, best_score = candidate, score
    return best


def _same_case(typed: str, fix: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return fix.upper()
    return fix.capitalize() if typed[:1].isupper() else fix


def suggest(text: str, words: list[str], terms: TermStats, lexicon) -> str | None:
    """The query with its rare words corrected, or None if nothing changes.

    `lexicon` is called for the Lexicon only when a word is worth correcting.
    """
    changed = text
    for word in dict.fromkeys(words):
        fix = correct(word, terms, lexicon()) if correctable(word, terms) else None
        if fix:
            changed = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", lambda m: _same_case(m.group(), fix), changed, count=1)
    return changed if changed != text else None
