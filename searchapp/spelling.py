"""Did-you-mean: corrections from the words as written in the corpus.

Candidates come from the words as indexed: roots and names (which are their
own terms) and the derived forms kept as written (so the suggestion is
something a writer actually wrote: "Tajikstan" → "Tajikistan", "pembicaran" →
"pembicaraan"), within two edits, preferring the nearest and then the most
frequent. Typos in the first two letters are rare, so candidates share them:
that keeps Whoosh's automaton walk over the lexicon short.
"""

from __future__ import annotations

import math
import re

FIELDS = ("body", "body_exact")  # roots and names live in the first, derived forms in the second
MAX_EDITS = 2
RARE = 2  # a query word in fewer articles than this is worth correcting
PREFIX = 2  # letters a candidate shares with the typed word


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def correctable(word: str, reader) -> bool:
    """A query word rare enough to look for a correction (two look-ups)."""
    return len(word) >= 4 and word.isalpha() and all(reader.doc_frequency(f, word) < RARE for f in FIELDS)


def _df(word: str, reader) -> int:
    return max(reader.doc_frequency(f, word) for f in FIELDS)


def correct(word: str, reader) -> str | None:
    """The best corpus word for a rare or unknown query word, or None."""
    if not correctable(word, reader):
        return None
    known = _df(word, reader)
    maxdist = 1 if len(word) < 6 else MAX_EDITS
    best, best_score = None, -math.inf
    candidates = {c for f in FIELDS for c in reader.terms_within(f, word, maxdist, prefix=PREFIX)}
    for candidate in candidates:
        if not candidate.isalpha():
            continue
        freq = _df(candidate, reader)
        if candidate == word or freq <= known:
            continue
        distance = _distance(word, candidate)
        if distance > maxdist:
            continue
        score = math.log(freq) - 3.0 * distance
        if score > best_score:
            best, best_score = candidate, score
    return best


def _same_case(typed: str, fix: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return fix.upper()
    return fix.capitalize() if typed[:1].isupper() else fix


def suggest(text: str, words: list[str], reader) -> str | None:
    """The query with its rare words corrected, or None if nothing changes."""
    changed = text
    for word in dict.fromkeys(words):
        fix = correct(word, reader)
        if fix:
            changed = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", lambda m: _same_case(m.group(), fix), changed, count=1)
    return changed if changed != text else None
