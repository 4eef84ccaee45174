"""Stories: the articles of a build that are copies of one text.

Two articles are copies when their bodies (teasers removed, `text.syndication`)
are versions of one text: most of the shorter body's word 3-grams are in the
other (CONTAINMENT: a trimmed copy, a copy with paragraphs added; more of it
for two articles of one outlet, SAME_OUTLET, which reuses its own background
paragraphs under different news) or the two share much of their 3-grams
overall (JACCARD), and the numbers they both write mostly agree (a daily price
or weather template shares its sentences but not its figures). The thresholds
were chosen on 292 hand-labelled pairs and checked on 120 held-out ones
(bench/stories/, bench/stories.py). A story is a connected group of copies.

Candidates come from MinHash signatures (datasketch) banded for locality-
sensitive hashing, tuned to let through nearly every pair that similar; the
signatures also estimate each candidate pair's overlap, so only plausible
pairs are read back and compared exactly. Every condition is a property of
the pair alone, so the stories are the same whatever order the articles came
in: a rebuild buckets every article by its band keys, and `add` finds an
article's candidates through the band keys the engine indexed (`story_bands`).

A story's canonical article comes first: the wire's own article when a copy
names its wire (dateline, "dikutip dari"), else the earliest, then by id. The
story id is the canonical article's id. A build keeps its stories as a table
(`stories.tsv`, articles of stories with copies only); each engine reads it
into what it collapses and counts on.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from pathlib import Path

import numpy as np

from searchapp.engine.tables import write_table
from searchapp.text import syndication
from searchapp.text.analysis import WORD_RE

STORIES = "stories.tsv"
BANDS_FIELD = "story_bands"  # the indexed field of an article's LSH band keys
SHINGLE_WORDS = 3
NUM_PERM = 128
CONTAINMENT = 0.6  # of the shorter body's 3-grams found in the other: chosen on bench/stories/pairs.tsv
SAME_OUTLET = 0.7  # the containment two articles of one outlet need: an outlet recycles its own background
# blocks under new news (bench/stories/: most non-copies above 0.6 were such pairs, in both labelled sets)
JACCARD = 0.45  # of both bodies' 3-grams together
NUMBERS = 0.6  # of the numbers the shorter body writes (3 or more) that the other writes too
MIN_SHINGLES = 25  # a shorter body is a story of its own (one shared sentence is not a copy)
FETCH_GROUPS = 1000  # stories whose stored articles a build's clustering reads at once, to order them
LSH_THRESHOLD = 0.2  # the Jaccard the bands are tuned for: a trimmed copy's is low
ESTIMATE_MARGIN = 0.2  # how far below a threshold a signature's estimate may be and still be compared
SEED = 1
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_MULTIPLIER = np.uint64(1099511628211)  # FNV prime: mixes hashes in order
_LOW32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class Copy:
    """What deciding a story needs of an article."""

    id: str
    body: str
    published: date | None
    outlet: str | None


@dataclass(frozen=True)
class Text:
    """A body as copies are compared: its 3-gram hashes and the numbers it writes."""

    shingles: np.ndarray
    numbers: frozenset[str]
    outlet: str | None = None


class Fingerprints:
    """Shingles, MinHash signatures, band keys and the copy test, with one
    build's settings. One per build and per worker process: the MinHash
    permutations are made once."""

    def __init__(self, containment: float = CONTAINMENT, jaccard: float = JACCARD, numbers: float = NUMBERS,
                 lsh_threshold: float = LSH_THRESHOLD, num_perm: int = NUM_PERM, same_outlet: float = SAME_OUTLET):
        from datasketch import MinHash, MinHashLSH  # here, not at the top: it imports SciPy (~45 MB a
        # process), which a serving process never needs

        # datasketch picks bands and rows for the threshold; missing a copy
        # weighs 9× a false candidate, which the exact test removes
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm, weights=(0.1, 0.9))
        self.containment, self.jaccard, self.numbers = containment, jaccard, numbers
        self.same_outlet = same_outlet
        self.num_perm = num_perm
        self.bands, self.rows = lsh.b, lsh.r
        self._minhash = MinHash(num_perm=num_perm, seed=SEED, hashfunc=int)  # cleared and reused per body
        self._affine = self._minhash.permutations if self._minhash.scheme == "affine32" else None

    def shingles(self, body: str, words: list[str] | None = None) -> np.ndarray:
        """The body's word 3-grams, hashed, sorted and unique (none for a short
        body). `words`, when given, is `WORD_RE.findall(body)` already made
        (the indexer's tokens): a body without teasers is shingled from them."""
        return self._shingles(body, syndication.comparable(body), words)

    def _shingles(self, body: str, lowered: str, words: list[str] | None) -> np.ndarray:
        if len(lowered) != len(body):  # teasers taken out: the tokens of what is left
            words = WORD_RE.findall(lowered)
        else:
            words = [w.lower() for w in (WORD_RE.findall(body) if words is None else words)]
        n = len(words) - SHINGLE_WORDS + 1
        if n < MIN_SHINGLES:
            return np.empty(0, np.uint64)
        hashes = np.fromiter(map(zlib.crc32, map(str.encode, words)), np.uint64, len(words))
        out = np.zeros(n, np.uint64)
        for j in range(SHINGLE_WORDS):
            out = out * _MULTIPLIER + hashes[j : j + n]
        return np.unique(out & _LOW32)

    def text(self, body: str, outlet: str | None = None, words: list[str] | None = None) -> Text:
        lowered = syndication.comparable(body)
        return Text(self._shingles(body, lowered, words), frozenset(_NUMBER_RE.findall(lowered)), outlet)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        """The MinHash signature (num_perm uint32 values; all 0 for no shingles):
        datasketch's, worked out on the whole array at once for its affine32
        scheme (half the time of feeding it the values one by one)."""
        if not len(shingles):
            return np.zeros(self.num_perm, np.uint32)
        if self._affine is not None:
            a, b = self._affine
            return (_fmix32(shingles.astype(np.uint32))[:, None] * a + b).min(axis=0)
        sig = self._minhash
        sig.clear()
        sig.update_batch(shingles.tolist())
        return sig.hashvalues.astype(np.uint32)

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """Band keys, a row per signature (one uint64 per band; 0 for an empty
        signature): two articles meet in a band when its `rows` values are equal."""
        signatures = np.atleast_2d(signatures)
        rows = signatures[:, : self.bands * self.rows].astype(np.uint64).reshape(len(signatures), self.bands, self.rows)
        keys = np.zeros((len(signatures), self.bands), np.uint64)
        for j in range(self.rows):
            keys = keys * _MULTIPLIER + rows[:, :, j]
        keys[~signatures.any(axis=1)] = 0
        return keys

    def plausible(self, signatures: np.ndarray, sizes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Which candidate pairs (index arrays) the signatures' estimate of
        their overlap leaves worth comparing exactly."""
        j = (signatures[a] == signatures[b]).mean(axis=1)
        shared = j * (sizes[a] + sizes[b]) / (1 + j)
        contained = shared / np.maximum(np.minimum(sizes[a], sizes[b]), 1)
        return (contained >= self.containment - ESTIMATE_MARGIN) | (j >= self.jaccard - ESTIMATE_MARGIN)

    def copies(self, a: Text, b: Text) -> bool:
        """Whether two bodies are copies of one text (exact counts)."""
        if not len(a.shingles) or not len(b.shingles):
            return False
        shared = len(np.intersect1d(a.shingles, b.shingles, assume_unique=True))
        containment = self.same_outlet if a.outlet is not None and a.outlet == b.outlet else self.containment
        similar = (shared >= containment * min(len(a.shingles), len(b.shingles))
                   or shared >= self.jaccard * (len(a.shingles) + len(b.shingles) - shared))
        fewer = min(a.numbers, b.numbers, key=len)
        return similar and (len(fewer) < 3 or len(a.numbers & b.numbers) >= self.numbers * len(fewer))


class Texts:
    """The texts of a build's articles as copies are compared, kept while
    they are indexed, so finding the build's stories reads no body back and
    tokenizes none again: 3-gram hashes (at most 32 bits) end to end with
    each article's count, its numbers and its outlet."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._shingles: list[np.ndarray] = []
        self.sizes: list[int] = []
        self.numbers: list[str] = []  # space-joined: one string an article, not a set of small ones
        self.outlets: list[str | None] = []

    def add(self, article_id: str, text: Text) -> None:
        self.ids.append(article_id)
        self._shingles.append(text.shingles.astype(np.uint32))
        self.sizes.append(len(text.shingles))
        self.numbers.append(" ".join(text.numbers))
        self.outlets.append(text.outlet)

    def packed(self) -> tuple:
        """A compact form to hand to another process."""
        return (self.ids, np.concatenate([np.zeros(0, np.uint32), *self._shingles]), self.sizes, self.numbers,
                self.outlets)

    @staticmethod
    def reader(parts: list[tuple]) -> Callable[[str], Text | None]:
        """An article's Text (None if not kept) from the packed texts of several processes."""
        where = {article_id: (p, i) for p, part in enumerate(parts) for i, article_id in enumerate(part[0])}
        ends = [np.cumsum(part[2], dtype=np.int64) for part in parts]

        def text(article_id: str) -> Text | None:
            if article_id not in where:
                return None
            p, i = where[article_id]
            _ids, shingles, sizes, numbers, outlets = parts[p]
            end = int(ends[p][i])
            return Text(shingles[end - sizes[i] : end], frozenset(numbers[i].split()), outlets[i])  # a view of
            # the packed hashes, not a uint64 copy (a build whose articles all have copies compares them all)
        return text


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch mixes values before its affine32 permutations."""
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return hv


def rows_meeting(fp: Fingerprints, signatures: np.ndarray, terms: Iterable[str]) -> np.ndarray:
    """The rows of `signatures` whose band keys include any of the terms:
    `add`'s candidates for an engine that keeps the signatures, not the terms."""
    keys = fp.band_keys(signatures)
    hit = np.zeros(len(keys), bool)
    for term in terms:
        band, _, key = term.partition("-")
        hit |= keys[:, int(band, 16)] == np.uint64(int(key, 16))
    return np.flatnonzero(hit)


def band_terms(keys: np.ndarray) -> list[str]:
    """One article's band keys as terms (band number, key); none without a fingerprint."""
    if not keys.any():
        return []
    return [f"{i:x}-{k:016x}" for i, k in enumerate(keys.tolist())]


@dataclass
class Stories:
    """A build's stories with copies: article id → (story id, place in the
    story, 0 for the canonical article). Articles not listed are alone."""

    rows: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, build_dir: Path) -> Stories:
        try:
            text = (build_dir / STORIES).read_text("utf-8")
        except FileNotFoundError:
            return cls()
        rows = {}
        for line in text.splitlines():
            article, story, place = line.split("\t")
            rows[article] = (story, int(place))
        return cls(rows)

    def save(self, build_dir: Path) -> None:
        write_table(build_dir / STORIES, ((a, s, p) for a, (s, p) in sorted(self.rows.items())))

    def members(self) -> dict[str, list[str]]:
        """Story id → its articles, canonical first."""
        out: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for article, (story, place) in self.rows.items():
            out[story].append((place, article))
        return {s: [a for _p, a in sorted(m)] for s, m in out.items()}

    def story_of(self, article: str) -> str:
        return self.rows.get(article, (article, 0))[0]


def canonical_order(copies: Iterable[Copy]) -> list[Copy]:
    """A story's articles, canonical first: the article of an outlet another
    copy names as its origin, then the earliest, then by id."""
    copies = list(copies)
    named = set().union(*(syndication.sources(c.body) for c in copies))
    return sorted(copies, key=lambda c: (c.outlet not in named, c.published or date.max, c.id))


def _groups(ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Connected groups of more than one article."""
    parent = {i: i for i in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in parent:
        groups[root(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def candidate_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows (a < b) sharing a band key, each once; rows of 0 keys meet nothing."""
    pairs: set[tuple[int, int]] = set()
    for band in range(keys.shape[1]):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        ends = np.r_[starts[1:], len(ordered)]
        for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist()):
            if ordered[start]:
                pairs.update(combinations(sorted(order[start:end].tolist()), 2))
    if not pairs:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a, b = np.array(sorted(pairs), np.int64).T
    return a, b


Fetch = Callable[[list[str]], dict[str, Copy]]  # the stored articles of ids (those found)


def cluster(fp: Fingerprints, ids: list[str], signatures: np.ndarray, sizes: np.ndarray, fetch: Fetch,
            text_of: Callable[[str], Text | None] | None = None) -> Stories:
    """The stories of a whole build, from every article's signature and
    shingle count (a row per id); only plausible candidate pairs are
    compared, on the texts kept while indexing (`text_of`, Texts.reader) or
    else on the bodies fetched, and the articles of stories are fetched to
    order them."""
    a, b = candidate_pairs(fp.band_keys(signatures)) if len(ids) else (np.empty(0, np.int64),) * 2
    keep = fp.plausible(signatures, sizes, a, b) if len(a) else np.zeros(0, bool)
    pairs = [(ids[x], ids[y]) for x, y in zip(a[keep].tolist(), b[keep].tolist())]
    wanted = sorted({i for pair in pairs for i in pair})
    if text_of is None:
        copies = fetch(wanted)
        compared = {i: fp.text(c.body, c.outlet) for i, c in copies.items()}
    else:
        compared = {i: t for i in wanted if (t := text_of(i)) is not None}
    edges = [(x, y) for x, y in pairs if x in compared and y in compared and fp.copies(compared[x], compared[y])]
    groups = _groups(wanted, edges)
    if text_of is None:
        return _stories(groups, copies)
    rows: dict[str, tuple[str, int]] = {}
    for start in range(0, len(groups), FETCH_GROUPS):  # the stored articles of a few stories at a time
        batch = groups[start : start + FETCH_GROUPS]
        rows.update(_stories(batch, fetch(sorted({i for group in batch for i in group}))).rows)
    return Stories(rows)


def _stories(groups: list[list[str]], copies: Mapping[str, Copy]) -> Stories:
    rows = {}
    for group in groups:
        ordered = canonical_order(copies[a] for a in group)
        for place, c in enumerate(ordered):
            rows[c.id] = (ordered[0].id, place)
    return Stories(rows)


def join(fp: Fingerprints, stories: Stories, new: list[Copy], candidates: Callable[[list[str]], set[str]],
         fetch: Fetch) -> Stories:
    """The stories after `new` articles were added or replaced.

    The affected articles are the new ones, the indexed articles sharing a
    band key with one, and every article of a story either belongs to; their
    groups are worked out again from scratch (a replaced article may split
    its old story), the rest stay as they were.
    """
    new_ids = {c.id for c in new}
    new_texts = {c.id: fp.text(c.body, c.outlet) for c in new}
    terms = {t for text in new_texts.values() for t in band_terms(fp.band_keys(fp.signature(text.shingles))[0])}
    found = candidates(sorted(terms)) - new_ids
    members = stories.members()
    touched = found | new_ids
    affected_stories = {stories.story_of(a) for a in touched if a in stories.rows}
    affected = touched | {a for s in affected_stories for a in members[s]}
    copies = fetch(sorted(affected - new_ids))
    copies.update({c.id: c for c in new})
    ids = sorted(copies)
    texts = {i: new_texts.get(i) or fp.text(copies[i].body, copies[i].outlet) for i in ids}
    signatures = np.array([fp.signature(texts[i].shingles) for i in ids]).reshape(len(ids), fp.num_perm)
    sizes = np.array([len(texts[i].shingles) for i in ids])
    a, b = candidate_pairs(fp.band_keys(signatures)) if ids else (np.empty(0, np.int64),) * 2
    keep = fp.plausible(signatures, sizes, a, b) if len(a) else np.zeros(0, bool)
    edges = [(ids[x], ids[y]) for x, y in zip(a[keep].tolist(), b[keep].tolist())
             if fp.copies(texts[ids[x]], texts[ids[y]])]
    rows = {i: row for i, row in stories.rows.items() if i not in affected}
    rows.update(_stories(_groups(ids, edges), copies).rows)
    return Stories(rows)
