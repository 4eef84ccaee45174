"""Indonesian text analysis: tokenizing, stop words, Sastrawi stemming.

One pipeline serves indexing, querying, snippets and topic rules, so a word is
always reduced the same way wherever it is seen. Tokenizing is a pure function
(`iter_words`); stemming is a `Stemmer` object per build, holding that build's
protected names and the stems it worked out, so two builds opened in one
process never share them. The Sastrawi stemmer and the word lists are read-only
and loaded once per process: Whoosh pickles the schema (and so the analyzer),
and a stemmer held as an attribute would add ~660 KB to every index open.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache
from itertools import accumulate
from importlib import resources


# A word is runs of letters (with inner apostrophes: "Ma'ruf", "Shi'ite") and
# numbers (with thousands/decimal separators: "1.500", "1,5") joined directly
# ("Rp1,5", "5G", "G20") or by hyphens ("negara-negara", "al-Qaeda", "U-22");
# an abbreviation is single letters joined by dots ("A.S.", "J.K Rowling"). The
# same expression reads articles and queries, so a query word is split exactly
# as the text was.
_PIECE = r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*"
WORD_RE = re.compile(rf"(?:[^\W\d_]\.)+[^\W\d_](?![^\W_])\.?|(?:{_PIECE})+(?:-(?:{_PIECE})+)*")
_PIECE_RE = re.compile(_PIECE)
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
_APOSTROPHES = str.maketrans("", "", "'’")


def trie_pattern(words: Iterable[str]) -> str:
    """A regex alternation of the words, factored as a trie, preferring longer:
    a flat alternation of many words is tried word by word at every position
    of a text; a trie gives up at the first letter no word starts with."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        group = "(?:" + "|".join(branches) + ")"
        return group + "?" if "" in node else group

    return build(trie)


def read_lines(name: str) -> Iterator[str]:
    text = resources.files("searchapp.data").joinpath(name).read_text("utf-8")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


@cache
def stop_words() -> frozenset[str]:
    """The reviewed stop-word list (data/stopwords.txt)."""
    return frozenset(w.lower() for w in read_lines("stopwords.txt"))


@cache
def stem_exceptions() -> dict[str, str]:
    """Words whose stem we fix by hand because Sastrawi gets them wrong."""
    table = {}
    for line in read_lines("stem_exceptions.tsv"):
        word, _, stem = line.partition("\t")
        table[word.strip().lower()] = stem.strip().lower()
    return table


_REGEX_SPECIAL = re.compile(r"[.^$*+?{}\[\]\\|()]")


class _SastrawiRe:
    """The two `re` functions Sastrawi calls, with the same results, faster.

    Sastrawi calls re.match/re.sub with ~80 fixed patterns, and re.sub with
    each candidate stem as a pattern (to cut it out of the word). Those
    one-off patterns flush the fixed ones out of re's 512-entry cache, so
    Sastrawi spent much of its ~0.3 ms a word recompiling regexes. Here the
    fixed patterns are compiled once, and a pattern without regex syntax (a
    stem: letters and hyphens) is cut with str.replace, which does the same.
    """

    _pattern = staticmethod(cache(re.compile))  # unbounded: only the fixed patterns reach it

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match | None:
        return self._pattern(pattern, flags).match(string)

    def sub(self, pattern: str, repl: str, string: str, count: int = 0, flags: int = 0) -> str:
        if not flags and "\\" not in repl and not _REGEX_SPECIAL.search(pattern):
            return string.replace(pattern, repl, count or -1)
        return self._pattern(pattern, flags).sub(repl, string, count)

    def __getattr__(self, name: str):
        return getattr(re, name)  # flags and anything else: the real module's


_CONSONANTS = "bcdfghjklmnpqrstvwxyz"

# The first two letters a word needs for each of Sastrawi's prefix rules
# (Morphology/Disambiguator/DisambiguatorPrefixRuleN): the fixed head of the
# rule's regex ("^ber..." for 1-3, "^me..." for 10-19), or for the infix rules
# 37-40 ("^Cer", "^Cel", "^Cem", "^Cin") a consonant then "e" or "i".
_PREFIX_RULE_STARTS: dict[int, tuple[str, ...]] = {
    **dict.fromkeys((1, 2, 3, 4, 5), ("be",)),
    **dict.fromkeys((6, 7, 8, 9, 35), ("te",)),
    **dict.fromkeys(range(10, 20), ("me",)),
    **dict.fromkeys((20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 36), ("pe",)),
    **dict.fromkeys((37, 38, 39), tuple(c + "e" for c in _CONSONANTS)),
    40: tuple(c + "i" for c in _CONSONANTS),
    41: ("ku",),
    42: ("ka",),
}
_PREFIX_RULE_NAME = re.compile(r"DisambiguatorPrefixRule(\d+)[a-z]?")


class _PrefixVisitors:
    """Sastrawi's 41 prefix visitors as one that tries only those the word's
    first two letters allow.

    Sastrawi tries every prefix rule at each prefix step of a word (~32
    visits a step, most of its time), though each rule needs the word to
    start with its own prefix. A rule that cannot match leaves the context as
    it was, so skipping it changes nothing: `visit` is Sastrawi's
    `Context.accept_prefix_visitors` over the rules that can match. The first
    visitor (di-/ke-/se-) and any that is not a known numbered rule are always
    tried: Sastrawi stops after the first when the word is a root already.
    """

    def __init__(self, visitors: list, words: dict[str, str]):
        self._words = words
        starts = [None, *map(self._starts, visitors[1:])]
        keys = {key for s in starts if s is not None for key in s}
        self._always = tuple(v for v, s in zip(visitors, starts) if s is None)
        self._by_start = {key: tuple(v for v, s in zip(visitors, starts) if s is None or key in s) for key in keys}

    @staticmethod
    def _starts(visitor) -> frozenset[str] | None:
        """The first two letters a visitor needs, None if it is not made of known rules."""
        rules = [_PREFIX_RULE_NAME.fullmatch(type(d).__name__) for d in getattr(visitor, "disambiguators", ())]
        if not rules or not all(m and int(m[1]) in _PREFIX_RULE_STARTS for m in rules):
            return None
        return frozenset(key for m in rules for key in _PREFIX_RULE_STARTS[int(m[1])])

    def visit(self, context) -> None:
        removals = len(context.removals)
        for visitor in self._by_start.get(context.current_word[:2], self._always):
            visitor.visit(context)
            if context.current_word in self._words or context.process_is_stopped or len(context.removals) > removals:
                return


def _speed_up_sastrawi(stemmer) -> None:
    """Same stems, about a seventh of the time: the regex shim above in every
    Sastrawi module, the dictionary lookup (~4 per visitor step) as a bare
    dict membership test, and only the prefix rules a word can match tried
    (in this stemmer only)."""
    import sys

    fast_re = _SastrawiRe()
    for name, module in list(sys.modules.items()):
        if name.startswith("Sastrawi.") and getattr(module, "re", None) is re:
            module.re = fast_re
    stemmer.dictionary.contains = stemmer.dictionary.words.__contains__
    provider = stemmer.visitor_provider
    provider.prefix_visitors = [_PrefixVisitors(provider.prefix_visitors, stemmer.dictionary.words)]


@cache
def _sastrawi():
    """The uncached inner Sastrawi stemmer: each `Stemmer` caches in front of it."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer = StemmerFactory().create_stemmer().delegatedStemmer
    _speed_up_sastrawi(stemmer)
    return stemmer


def sastrawi_root(word: str) -> bool:
    """Whether a lowercase word is one of Sastrawi's root words."""
    return _sastrawi().dictionary.contains(word)


def sastrawi_stem(word: str) -> str:
    """Sastrawi's own stem of a lowercase word: no exception table, no cache."""
    return _sastrawi().stem(word)


@lru_cache(maxsize=16_384)
def common_word(word: str) -> bool:
    """Whether a lower-case word is common Indonesian: one of Sastrawi's root
    words or derived from one ("perhubungan" from "hubung"). Some given names
    are root words too, so a name-finder uses it only where a miss is cheap."""
    stemmer = _sastrawi()
    return stemmer.dictionary.contains(word) or stemmer.dictionary.contains(stemmer.stem(word))


STEMMING_RULES = 2  # raised when `Stemmer.stem` changes what it makes of a word


def stem_cache_fingerprint() -> str:
    """Changes when the exception table or the rules do: a saved cache is then stale."""
    import hashlib

    table = repr((STEMMING_RULES, sorted(stem_exceptions().items())))
    return hashlib.sha1(table.encode()).hexdigest()[:12]


def unprotected_stem(word: str) -> str:
    """Sastrawi with the exception table: the stem of a word no build protects."""
    exceptions = stem_exceptions()
    if word in exceptions:
        return exceptions[word]
    if not word.replace("-", "").isalpha():
        return word
    return _sastrawi().stem_word(word) or word


@lru_cache(maxsize=65_536)
def _is_one_word(hyphenated: str) -> bool:
    """Whether a hyphenated word is one word to the stemmer ("berlari-lari" →
    "lari"); a compound ("al-qaeda") keeps its hyphen. Names never change this
    (Sastrawi keeps a non-reduplicated compound whole), so tokenizing stays a
    pure function of the text."""
    return hyphenated in stem_exceptions() or "-" not in unprotected_stem(hyphenated)


class StemTable:
    """Stems worked out before ("word<TAB>stem" lines sorted by word, as
    tables.save_stems writes them), looked up by binary search in the bytes
    as read: a tenth of the memory of a dict of them."""

    def __init__(self, data: bytes):
        lines = [line for line in data.split(b"\n") if line]
        if any(a > b for a, b in zip(lines, lines[1:])):
            lines.sort()  # written unsorted by an older version
        self._data = b"\n".join(lines)
        self._starts = array("q", accumulate((len(line) + 1 for line in lines[:-1]), initial=0) if lines else ())

    def _key(self, i: int) -> bytes:
        start = self._starts[i]
        return self._data[start:self._data.index(b"\t", start)]

    def get(self, word: str) -> str | None:
        key = word.encode("utf-8")
        i = bisect_left(range(len(self._starts)), key, key=self._key)
        if i == len(self._starts) or self._key(i) != key:
            return None
        start = self._starts[i] + len(key) + 1
        end = self._data.find(b"\n", start)
        return self._data[start:end if end >= 0 else len(self._data)].decode("utf-8")


class Stemmer:
    """A build's stemming: Sastrawi with the exception table, the build's
    protected names passed through as written, and the stems worked out so far.

    Sastrawi turns "Taliban" into "talib" and "Bekasi" into "bekas"; a
    protected word is indexed and searched as its lowercase self. Sastrawi
    costs ~0.02 ms a new word even sped up, hence the cache, which a rebuild
    saves and the next one loads (`export`, `load`).
    """

    def __init__(self, protected: Iterable[str] = (), table: StemTable | None = None):
        self.protected = frozenset(w.lower() for w in protected)
        self._cache: dict[str, str] = {}
        self._table = table

    def stem(self, word: str) -> str:
        """The index term of one lowercase word."""
        try:
            return self._cache[word]
        except KeyError:
            pass
        left, hyphen, right = word.partition("-")
        if word in self.protected:
            stem = word
        elif hyphen and left == right and word not in stem_exceptions():
            stem = self.stem(left)  # "ormas-ormas": Sastrawi reduces only roots in its dictionary
        else:
            stem = (self._table.get(word) if self._table is not None else None) or unprotected_stem(word)
        self._cache[word] = stem
        return stem

    def export(self) -> dict[str, str]:
        """What Sastrawi worked out (protected names left out)."""
        return {w: s for w, s in self._cache.items() if w not in self.protected}

    def load(self, entries: dict[str, str]) -> None:
        """Start from stems worked out before, e.g. by an earlier rebuild."""
        for word, stem in entries.items():
            if word not in self.protected:
                self._cache.setdefault(word, stem)

    def analyze(self, text: str) -> list[tuple[str, str, int, int]]:
        """(stem, word, start, end) for every indexed word, stop words dropped."""
        stops = stop_words()
        return [(self.stem(w), w, s, e) for w, s, e in iter_words(text) if w not in stops]

    def index_terms(self, text: str, words: list[str] | None = None) -> tuple[list[str], list[str]]:
        """(stemmed terms, derived forms and compounds as written) of a text.

        The second list holds the words whose written form differs from their
        index term ("serangan", not "banjir"): it ranks an article that uses
        the query's own form above one that uses another form of the same
        stem, lets a name that Sastrawi mangles be searched as written
        ("bekasi", whose stem is "bekas"), and a root word would only repeat
        its stem posting. It also holds each compound whole ("e-ktp", see
        `compound`). `words`, when given, is `WORD_RE.findall(text)` already made.
        """
        stops = stop_words()
        cache = self._cache
        stems: list[str] = []
        exact: list[str] = []
        for word in WORD_RE.findall(text) if words is None else words:
            if word.isalpha():
                pieces = (word.lower(),)
            elif word.isdigit():
                pieces = (word,)
            else:
                pieces = [w for w, _s, _e in _parts(word, 0, self.stem)]
                if len(pieces) > 1:
                    exact.append(word.lower().translate(_APOSTROPHES))
            for w in pieces:
                if w not in stops:
                    stem = cache.get(w)
                    if stem is None:
                        stem = self.stem(w)
                    stems.append(stem)
                    if stem != w:
                        exact.append(w)
        return stems, exact

    def terms(self, text: str) -> list[str]:
        """The stemmed index terms of a text in order, as the indexer stores them."""
        return self.index_terms(text)[0]


def _piece(raw: str) -> str:
    """One piece normalised: lowercase, no apostrophes, no thousands dots."""
    if raw[0].isdigit():
        return raw.replace(".", "") if _THOUSANDS_RE.fullmatch(raw) else raw
    return raw.lower().translate(_APOSTROPHES)


def _parts(word: str, start: int, stem: Callable[[str], str] | None = None) -> Iterator[tuple[str, int, int]]:
    """Split a raw word match into (normalised text, start, end) pieces.

    Reduplications ("negara-negara") stay whole so Sastrawi reduces them to
    one root; other compounds ("al-Qaeda", "ISIS-K", "Covid-19", "Rp1,5",
    "G20") are indexed as their parts in order, so "al Qaeda" and "al-Qaeda",
    "G20" and "G-20" meet, and a query compound is the phrase of its parts.
    `stem`, a build's, answers from the stems a rebuild saved (the same
    answer as the process-wide memo, without asking Sastrawi again).
    """
    if word.isdigit():
        yield word, start, start + len(word)
        return
    if "." in word and not word[0].isdigit() and not any(c.isdigit() for c in word):
        yield word.replace(".", "").lower(), start, start + len(word)
        return
    pieces = list(_PIECE_RE.finditer(word))
    if len(pieces) == 1:
        yield _piece(word), start, start + len(word)
        return
    if all(p.group()[0].isalpha() for p in pieces) and all(word[p.end()] == "-" for p in pieces[:-1]):
        lower = word.lower().translate(_APOSTROPHES)
        if len({_piece(p.group()) for p in pieces}) == 1 or (
            _is_one_word(lower) if stem is None else lower in stem_exceptions() or "-" not in stem(lower)
        ):
            yield lower, start, start + len(word)
            return
    for p in pieces:
        yield _piece(p.group()), start + p.start(), start + p.end()


def iter_words(text: str) -> Iterator[tuple[str, int, int]]:
    """Lowercased words of the text with their character spans, stop words kept."""
    for m in WORD_RE.finditer(text):
        word = m.group()
        if word.isalpha():  # the common case, kept fast
            yield word.lower(), m.start(), m.end()
        else:
            yield from _parts(word, m.start())


_NAME_RE = re.compile(r"\b[a-z][^\W\d_]*[ \t]+([A-Z][^\W\d_]{2,})\b")


def name_mentions(text: str) -> Iterator[str]:
    """Lowercased words written capitalised right after a lowercase word.

    "warga Bekasi", "pejabat Taliban": in running text that marks a name.
    Title Case headlines and sentence starts never count.
    """
    for m in _NAME_RE.finditer(text):
        word = m.group(1)
        if not word.isupper():
            yield word.lower()


def compound(word: str, stem: Callable[[str], str] | None = None) -> str | None:
    """The whole written form of a word the analysis splits into parts
    ("Jakarta-Bekasi" → "jakarta-bekasi", "ke-33", "128gb"), else None.

    Indexed beside the parts, it ranks an article that writes the compound
    above one where its parts merely stand side by side ("Jakarta, Bekasi").
    """
    if word.isalpha():
        return None
    parts = list(_parts(word, 0, stem))
    return word.lower().translate(_APOSTROPHES) if len(parts) > 1 else None


def compounds(text: str) -> list[str]:
    """The compounds (see `compound`) written in a text, in order."""
    return [c for c in map(compound, WORD_RE.findall(text)) if c]
