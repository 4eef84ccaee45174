"""Stories: the articles of a build that are copies of one text.

Two articles are copies when their bodies (teasers removed, `text.syndication`)
share at least THRESHOLD of their word 5-grams (Jaccard) and their MinHash
signatures (datasketch) meet in one LSH band; a story is a connected group of
copies. Both conditions are properties of the pair alone, so the stories are
the same whatever order the articles arrived in: a rebuild buckets every
article by its band keys, and `add` finds an article's candidates through the
band keys the engine indexed (`story_bands`).

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
from datasketch import MinHash, MinHashLSH

from searchapp.engine.tables import write_table
from searchapp.text import syndication

STORIES = "stories.tsv"
BANDS_FIELD = "story_bands"  # the indexed field of an article's LSH band keys
SHINGLE_WORDS = 5
NUM_PERM = 64
THRESHOLD = 0.5  # chosen on bench/stories/pairs.tsv (bench/stories.py)
SEED = 1
_WORD_RE = re.compile(r"[^\W_]+")
_MULTIPLIER = np.uint64(1099511628211)  # FNV prime: mixes a shingle's word hashes in order
_LOW32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class Copy:
    """What deciding a story needs of an article."""

    id: str
    body: str
    published: date | None
    outlet: str | None


class Fingerprints:
    """Shingles, MinHash signatures and band keys, with one build's settings.
    One per build and per worker process: the permutations are made once."""

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM):
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)  # datasketch picks the bands for the threshold
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands, self.rows = lsh.b, lsh.r
        seed = MinHash(num_perm=num_perm, seed=SEED)
        self._permutations, self._scheme = seed.permutations, seed.scheme

    def shingles(self, body: str) -> np.ndarray:
        """The body's word 5-grams, hashed, sorted and unique (empty for a short body)."""
        words = _WORD_RE.findall(syndication.strip_teasers(body).lower())
        n = len(words) - SHINGLE_WORDS + 1
        if n < 1:
            return np.empty(0, np.uint64)
        hashes = np.array(list(map(zlib.crc32, map(str.encode, words))), np.uint64)
        out = np.zeros(n, np.uint64)
        for j in range(SHINGLE_WORDS):
            out = out * _MULTIPLIER + hashes[j : j + n]
        return np.unique(out & _LOW32)

    def band_keys(self, shingles: np.ndarray) -> np.ndarray:
        """The article's LSH band keys (one uint64 per band; none for a short
        body): two articles meet in a band when its `rows` MinHash values are equal."""
        if not len(shingles):
            return np.empty(0, np.uint64)
        sig = MinHash(num_perm=self.num_perm, hashfunc=int, permutations=self._permutations, scheme=self._scheme)
        sig.update_batch(shingles.tolist())
        rows = sig.hashvalues[: self.bands * self.rows].astype(np.uint64).reshape(self.bands, self.rows)
        keys = np.zeros(self.bands, np.uint64)
        for j in range(self.rows):
            keys = keys * _MULTIPLIER + rows[:, j]
        return keys


    def copies(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether two shingle sets are copies of one text (exact Jaccard)."""
        if not len(a) or not len(b):
            return False
        shared = len(np.intersect1d(a, b, assume_unique=True))
        return shared >= self.threshold * (len(a) + len(b) - shared)


def band_terms(keys: np.ndarray) -> list[str]:
    """Band keys as the terms an engine indexes (band number, key)."""
    return [f"{i:x}-{k:016x}" for i, k in enumerate(keys.tolist())]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    shared = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


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


def _candidate_pairs(ids: list[str], keys: np.ndarray) -> set[tuple[str, str]]:
    """Pairs of articles sharing a band key; `keys` holds a row of band keys
    per article (rows of an article without a fingerprint are all 0)."""
    pairs = set()
    for band in range(keys.shape[1] if keys.ndim == 2 else 0):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        same = np.flatnonzero((ordered[1:] == ordered[:-1]) & (ordered[1:] != 0))
        if not len(same):
            continue
        starts = same[np.r_[True, np.diff(same) > 1]]
        for start in starts.tolist():
            end = start + 1
            while end < len(ordered) and ordered[end] == ordered[start]:
                end += 1
            members = sorted(ids[i] for i in order[start:end].tolist())
            pairs.update(combinations(members, 2))
    return pairs


def key_rows(fp: Fingerprints, keys: Iterable[np.ndarray]) -> np.ndarray:
    """Articles' band keys as one array, a row per article (0s without a fingerprint)."""
    rows = [k if len(k) else np.zeros(fp.bands, np.uint64) for k in keys]
    return np.vstack(rows) if rows else np.zeros((0, fp.bands), np.uint64)


Fetch = Callable[[list[str]], dict[str, Copy]]  # the stored articles of ids (those found)


def cluster(fp: Fingerprints, ids: list[str], keys: np.ndarray, fetch: Fetch) -> Stories:
    """The stories of a whole build, from every article's band keys (a row
    per id); only the articles of candidate pairs are fetched and compared."""
    pairs = _candidate_pairs(ids, keys)
    wanted = sorted({a for pair in pairs for a in pair})
    copies = fetch(wanted)
    shingles = {a: fp.shingles(c.body) for a, c in copies.items()}
    edges = [(a, b) for a, b in pairs if a in shingles and b in shingles and fp.copies(shingles[a], shingles[b])]
    return _stories(_groups(wanted, edges), copies)


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
    terms = {t for c in new for t in band_terms(fp.band_keys(fp.shingles(c.body)))}
    found = candidates(sorted(terms)) - new_ids
    members = stories.members()
    touched = found | new_ids
    affected_stories = {stories.story_of(a) for a in touched if a in stories.rows}
    affected = touched | {a for s in affected_stories for a in members[s]}
    copies = fetch(sorted(affected - new_ids))
    copies.update({c.id: c for c in new})
    shingles = {a: fp.shingles(c.body) for a, c in copies.items()}
    ids = sorted(copies)
    keys = key_rows(fp, (fp.band_keys(shingles[a]) for a in ids))
    edges = [(a, b) for a, b in _candidate_pairs(ids, keys) if fp.copies(shingles[a], shingles[b])]
    rows = {a: row for a, row in stories.rows.items() if a not in affected}
    rows.update(_stories(_groups(copies, edges), copies).rows)
    return Stories(rows)
