"""Where a query's words stand in an article: highlights and snippets.

Engine-neutral: the words come from the query plan (`wanted`), their written
forms from the build's tables, and the marking is done on the stored text as
written, so every engine's hits are marked the same way.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from searchapp.engine import plan
from searchapp.engine.base import TermStats
from searchapp.engine.document import EXACT
from searchapp.text import analysis

SNIPPET_CHARS = 240
_NUMBER_TERM = re.compile(r"\d+(?:,\d+)*")  # an index term of a number: thousands dots dropped, decimals kept


@dataclass(frozen=True)
class Wanted:
    """What a query's highlights look for: its index terms, and the phrases
    whose words are marked only where they stand together ("PDI-P" marks
    "PDI-P", not every "P")."""

    terms: frozenset[str]
    phrases: frozenset[tuple[str, ...]] = frozenset()
    phrase_only: frozenset[str] = frozenset()


def wanted(query: plan.Node, terms: TermStats) -> Wanted:
    """The index terms the query looks for (prefixes expanded), minus NOT
    parts and the proximity bonus (its words are the query's own)."""
    found: set[str] = set()
    alone: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    exact = set(EXACT) | set(EXACT.values())

    def walk(node):
        if isinstance(node, (plan.Not, plan.Near)):
            return
        if isinstance(node, plan.Phrase):
            phrases.add(tuple(node.words))
            found.update(node.words)
            return
        if isinstance(node, plan.Term):  # no look-up: a term the index lacks marks nothing anyway
            if analysis.compound(node.text):
                return  # the bonus of a compound written whole: its phrase marks it
            if node.field in exact:
                found.add(node.text)
                alone.add(node.text)
            return
        if isinstance(node, plan.Prefix):
            if node.field in exact:
                words = terms.expand_prefix(node.field, node.text)
                found.update(words)
                alone.update(words)
            return
        if isinstance(node, (plan.Or, plan.And)):
            for child in node.children:
                walk(child)
        elif isinstance(node, plan.AndMaybe):
            walk(node.required)
            walk(node.optional)
        elif isinstance(node, plan.Constant):
            walk(node.child)

    walk(query)
    return Wanted(frozenset(found), frozenset(phrases), frozenset(found - alone))


class Highlighter:
    """Where a query's words stand in a text, as written.

    Analysing a whole article (every token tokenised and stemmed) took ~1 ms
    per hit; one regex of every written form of the wanted terms (the build's
    forms table) finds the same words in C. A number ("2019", "1.500",
    "1,5") is found by its digits, and a word with an apostrophe ("d'Or")
    by the mark; the run of text around it (up to spaces) is then analysed,
    as the indexer read it ("Rp1,5", "Covid-19"). Other terms (none a query
    makes today) fall back to analysing the whole text.
    A word wanted only as part of a phrase is marked where the phrase
    stands, and the parts of a compound are marked as one span ("PDI-P").
    """

    def __init__(self, wanted: Wanted, forms=lambda stem: (), stemmer: analysis.Stemmer | None = None):
        self.wanted = wanted
        self.stemmer = stemmer or analysis.Stemmer()
        self.terms = terms = set(wanted.terms)
        self._regex = self._caseless = None
        words = {t for t in terms if t.replace("-", "").isalpha()}
        numbers = {t for t in terms if _NUMBER_TERM.fullmatch(t)}
        if terms and len(words) + len(numbers) == len(terms):
            written = {w.lower() for w in words | {w for t in words for w in forms(t)}}  # the trie prefers longer
            # a word glued to another ("KPK" of "@KPK_RI", "X" of "X1") is not marked
            branches = [r"(?P<word>(?<!\w)(?:" + analysis.trie_pattern(written) + r")(?!\w))"] if written else []
            if numbers:  # the digits in order, thousands dots allowed between: "1500" is also written "1.500"
                digits = (r"\.?".join(map(re.escape, n)) for n in sorted(numbers, key=len, reverse=True))
                branches.append("(?P<number>" + "|".join(digits) + ")")
            self._regex = re.compile("|".join(branches))  # run on the lowercased text: twice as fast as
            # IGNORECASE on the text as written

    def _matches(self, text: str):
        lowered = text.lower()
        if len(lowered) == len(text):
            return self._regex.finditer(lowered)
        if self._caseless is None:  # a letter whose lowercase is longer ("İ"): the text as written, case ignored
            self._caseless = re.compile(self._regex.pattern, re.IGNORECASE)
        return self._caseless.finditer(text)

    def _all(self, text: str) -> list[tuple[int, int, str]]:
        terms = self.terms
        if self._regex is None:
            return self._analysed(text, 0)
        found: list[tuple[int, int, str]] = []
        runs = _marked_runs(text)
        for m in self._matches(text):
            if m.lastgroup == "number":
                runs.append(_run_around(text, *m.span()))
                continue
            word = m.group().lower()
            term = self.stemmer.stem(word)
            if term in terms or word in terms:
                found.append((m.start(), m.end(), term))
        if not runs:
            return found
        runs.sort()
        starts = [a for a, _b in runs]
        kept = [f for f in found if not _inside(runs, starts, f[0])]  # each run's words as its analysis finds them
        done = 0
        for a, b in runs:
            if a >= done:  # a run holding two numbers, or a number and a mark, is read once
                kept += self._analysed(text[a:b], a)
                done = b
        return sorted(kept)

    def _analysed(self, text: str, offset: int) -> list[tuple[int, int, str]]:
        """The wanted words of a text by the indexer's own analysis (spaces
        never stand inside a word, so a run between spaces reads as in the
        whole text)."""
        terms = self.terms
        return [(s + offset, e + offset, t) for t, w, s, e in self.stemmer.analyze(text) if t in terms or w in terms]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of each wanted word in the text."""
        if not self.terms:
            return []
        found = self._all(text)
        if not self.wanted.phrase_only:
            return found
        keep = [t not in self.wanted.phrase_only for _s, _e, t in found]
        for phrase in self.wanted.phrases:
            n = len(phrase)
            for i in range(len(found) - n + 1):
                run = found[i : i + n]
                if tuple(t for _s, _e, t in run) == phrase and all(
                    _adjacent(text[a[1] : b[0]]) for a, b in zip(run, run[1:])
                ):
                    keep[i : i + n] = [True] * n
        return [m for m, k in zip(found, keep) if k]

    def spans(self, text: str) -> list[list[int]]:
        return _joined([[s, e] for s, e, _t in self.find(text)], text)


def _run_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The run of text between spaces holding start..end."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _marked_runs(text: str) -> list[tuple[int, int]]:
    """The runs holding a word with an apostrophe between letters ("d'Or", "Ma'ruf")."""
    runs = []
    for mark in "'’":
        i = text.find(mark)
        while i >= 0:
            if 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
                runs.append(_run_around(text, i, i + 1))
            i = text.find(mark, i + 1)
    return runs


def _inside(runs: list[tuple[int, int]], starts: list[int], at: int) -> bool:
    """Whether `at` falls in one of the sorted runs."""
    i = bisect_right(starts, at) - 1
    return i >= 0 and at < runs[i][1]


def _adjacent(gap: str) -> bool:
    """Whether two words with this text between them stand together, as the
    index sees it: nothing but punctuation and stop words between."""
    stops = analysis.stop_words()
    return all(w in stops for w, _s, _e in analysis.iter_words(gap))


def _joined(spans: list[list[int]], text: str) -> list[list[int]]:
    """Spans of a compound's parts ("PDI", "P") merged into one ("PDI-P")."""
    out: list[list[int]] = []
    for s, e in spans:
        if out and text[out[-1][1] : s] in ("", "-"):
            out[-1][1] = e
        else:
            out.append([s, e])
    return out



def make_snippet(text: str, words: Highlighter, size: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    """The passage of about `size` characters with the most distinct matched
    words, and the spans of the matched words inside it (as written)."""
    matches = words.find(text)
    if not matches:
        start, end = 0, min(len(text), size)
    else:
        best, best_score = 0, -1
        for i, (s, _e, _t) in enumerate(matches):
            window = {t for ms, me, t in matches[i:] if me <= s + size}
            score = len(window) * 1000 + sum(1 for ms, me, _t in matches[i:] if me <= s + size)
            if score > best_score:
                best, best_score = i, score
        first = matches[best][0]
        sentence = max(text.rfind(". ", 0, first), text.rfind("\n", 0, first))
        start = sentence + 1 if sentence >= 0 and first - sentence < 80 else max(0, first - 60)
        end = min(len(text), start + size)
    while start > 0 and start < len(text) and not text[start - 1].isspace():
        start += 1
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    while start < end and text[start].isspace():
        start += 1
    piece = text[start:end].replace("\n", " ")
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    marks = [[s - start + len(prefix), e - start + len(prefix)] for s, e, _t in matches if s >= start and e <= end]
    return prefix + piece + suffix, _joined(marks, prefix + piece + suffix)


def mark(text: str, marks: Sequence[Sequence[int]], before: str, after: str, escape=lambda s: s) -> str:
    """Text with the marked spans wrapped, the rest passed through `escape`."""
    out, pos = [], 0
    for s, e in marks:
        out += [escape(text[pos:s]), before, escape(text[s:e]), after]
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)
