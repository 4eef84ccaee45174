"""Did-you-mean: corrections from the words as written in the corpus.

Candidates come from the words as indexed: roots and names (which are their
own terms) and the derived forms kept as written, never a stem alone (so the
suggestion is something a writer actually wrote: "Tajikstan" → "Tajikistan",
"pembicaran" → "pembicaraan"), within two edits, preferring the nearest and
then the most frequent.
"""

from __future__ import annotations

import math
import re

from . import analysis

FIELDS = ("body", "body_exact")  # roots and names live in the first, derived forms in the second
MAX_EDITS = 2
RARE = 2  # a query word in fewer articles than this is worth correcting


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


def _written(term: str, reader) -> bool:
    """A stem-field term is a written word only if it stems to itself."""
    return reader.doc_frequency("body_exact", term) > 0 or analysis.stem_word(term) == term


def correct(word: str, reader) -> str | None:
    """The best corpus word for a rare or unknown query word, or None."""
    if len(word) < 4 or not word.isalpha():
        return None
    known = max(reader.doc_frequency(f, word) for f in FIELDS)
    if known >= RARE:
        return None
    best, best_score = None, -math.inf
    maxdist = 1 if len(word) < 6 else MAX_EDITS
    candidates = {c for f in FIELDS for c in reader.terms_within(f, word, maxdist, prefix=1)}
    for candidate in candidates:
        if candidate == word or not _written(candidate, reader):
            continue
        freq = max(reader.doc_frequency(f, candidate) for f in FIELDS)
        if freq <= known:
            continue
        score = math.log(freq) - 3.0 * _distance(word, candidate)
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
