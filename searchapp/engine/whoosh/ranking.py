"""Matching and BM25F ranking of a query plan over numpy arrays of Whoosh's postings.

Whoosh matches and scores one posting per Python call (about a microsecond
each, and a search walked every posting twice: for the matched set and for the
ranked top). Here a term's postings are read once per build into an array of
documents and one of their BM25 scores, kept in a bounded cache; a query is
then matched and scored for all documents at once. The postings (and
positions) come from the arrays a build writes beside Whoosh's files
(postings.SegmentArrays: sliced, not decoded), else from Whoosh's blocks. The
proximity bonus, which needs positions, is checked last and only for the
documents that could still reach the page; a phrase reads positions only
for the documents holding all its words.

Scores are Whoosh's own: BM25F with its idf, average field lengths and
byte-quantised document lengths, summed over the query tree as its matchers do
(tests compare the two). One Ranker serves every thread of a process: its
caches are guarded by a lock held for their bookkeeping only, never while
postings are read.
"""

from __future__ import annotations

import logging
import math
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query.spans import Span, bisect_spans
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from searchapp.engine import plan
from searchapp.engine.base import TooSlow
from searchapp.engine.whoosh.columns import Columns, column_array
from searchapp.engine.whoosh.postings import SegmentArrays, TermBlocks, block_positions, read_postings, term_info

BLOCK_INDEX_TERMS = 32_768  # (segment, term) block indexes kept for proximity checks (24 bytes a block)
CACHE_TERM_INFOS = 50_000  # terms whose term infos are kept (a few hundred bytes each)
CACHE_POSTINGS = 16_000_000  # postings the term cache may hold (8 bytes each: at most ~128 MB)
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], np.float64)
log = logging.getLogger(__name__)


@dataclass
class Match:
    """Which documents a query matches and their scores (0 where unmatched).

    `near` is the proximity part of a short query, applied by `Ranker.top`.
    """

    mask: np.ndarray
    scores: np.ndarray
    near: plan.Near | None = None


class _Recent:
    """A thread-safe cache of the most recently used values, bounded by the
    sum of their sizes (`size(value)`, 1 each by default)."""

    _MISSING = object()

    def __init__(self, limit: int, size: Callable[[Any], int] = lambda _value: 1):
        self._values: OrderedDict = OrderedDict()
        self._limit, self._size, self._held = limit, size, 0
        self._lock = Lock()

    def get(self, key, make: Callable[[], Any]):
        """The value kept for `key`, else `make()` (outside the lock: a race makes it twice), kept."""
        with self._lock:
            found = self._values.get(key, self._MISSING)
            if found is not self._MISSING:
                self._values.move_to_end(key)
                return found
        value = make()
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._held += self._size(value)
            while self._held > self._limit and len(self._values) > 1:
                _key, old = self._values.popitem(last=False)
                self._held -= self._size(old)
        return value


class Ranker:
    """Matches and ranks queries against one opened build."""

    def __init__(self, searcher, columns: Columns, k1: float, b: float, arrays: list[SegmentArrays | None],
                 build=None):
        """`arrays`: each segment's postings arrays (None for one without);
        `build`, where they were looked for, named in the warning when some
        are missing."""
        self.searcher = searcher
        self.reader = searcher.reader()
        self.columns = columns
        self.k1, self.b = k1, b
        self.arrays = arrays
        missing = sum(a is None for a in arrays)
        if missing:
            log.warning("%s: %d of %d segments have no postings arrays (a build made before them, or not"
                        " rebuilt since): their terms are decoded from Whoosh's blocks", build, missing, len(arrays))
        self._lengths: dict[str, np.ndarray] = {}
        self._terms = _Recent(CACHE_POSTINGS, size=lambda found: len(found[0]))
        self._infos = _Recent(CACHE_TERM_INFOS)
        self._block_index = _Recent(BLOCK_INDEX_TERMS)

    def close(self) -> None:
        for arrays in self.arrays:
            if arrays is not None:
                arrays.close()

    # --- terms ------------------------------------------------------------------

    def _field_lengths(self, fieldname: str) -> np.ndarray:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            parts = []
            for leaf, _base in self.reader.leaf_readers():
                col = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                count = leaf.doc_count_all()
                parts.append(_LENGTH_OF_BYTE[column_array(col, count)] if col is not None else np.ones(count))
            lengths = self._lengths[fieldname] = np.concatenate(parts)
        return lengths

    def term(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(live documents holding the term, their BM25 score for it)."""
        return self._terms.get((fieldname, text), lambda: self._read_term(fieldname, text))

    def _read_term(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        docs_parts, tf_parts = [], []
        for (leaf, base), arrays, info in zip(self.reader.leaf_readers(), self.arrays, self.infos(fieldname, text)):
            if info is None:
                continue
            docs, tf = read_postings(leaf, fieldname, text, arrays, info)
            docs_parts.append(docs + base)
            tf_parts.append(tf)
        docs = np.concatenate([np.empty(0, np.int64), *docs_parts]).astype(np.int32)
        tf = np.concatenate([np.empty(0), *tf_parts])
        keep = self.columns.live[docs]
        if not keep.all():
            docs, tf = docs[keep], tf[keep]
        return docs, self._bm25(fieldname, text, docs, tf).astype(np.float32)

    def infos(self, fieldname: str, text: str) -> list:
        """The term in each segment (None where absent): where its arrays
        hold it (found by the field's words the arrays keep), else Whoosh's
        term info. Cached: postings, positions and the idf each looked the
        term up in every segment."""
        return self._infos.get((fieldname, text), lambda: [
            arrays.lookup(fieldname, text) if arrays is not None and arrays.knows(fieldname)
            else term_info(leaf, fieldname, text)
            for (leaf, _base), arrays in zip(self.reader.leaf_readers(), self.arrays)])

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """Whoosh's doc frequency (postings written, deleted documents too)."""
        return sum(info.doc_frequency() for info in self.infos(fieldname, text) if info is not None)

    def _bm25(self, fieldname: str, text: str, docs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        if not len(docs) or not self.searcher.schema[fieldname].scorable:
            return tf
        idf = math.log(self.reader.doc_count_all() / (self.doc_frequency(fieldname, text) + 1)) + 1  # Whoosh's idf
        avg = self.searcher.avg_field_length(fieldname) or 1
        length = self._field_lengths(fieldname)[docs]
        k1, b = self.k1, self.b
        return idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avg))

    # --- matching ---------------------------------------------------------------

    def match(self, node: plan.Node, deadline: float) -> Match:
        """Match and score a query plan; its proximity part is kept for `top`."""
        if isinstance(node, plan.AndMaybe) and isinstance(node.optional, plan.Near):
            found = self._eval(node.required, deadline)
            found.near = node.optional
            return found
        return self._eval(node, deadline)

    def _empty(self) -> Match:
        n = self.columns.size
        return Match(np.zeros(n, bool), np.zeros(n))

    def _add_terms(self, into: Match, terms, boost: float, deadline: float) -> None:
        for fieldname, text, term_boost in terms:
            if time.monotonic() > deadline:
                raise TooSlow
            docs, scores = self.term(fieldname, text)
            into.mask[docs] = True
            into.scores[docs] += scores * (term_boost * boost)

    def _eval(self, node: plan.Node, deadline: float) -> Match:
        if isinstance(node, plan.Term):
            out = self._empty()
            self._add_terms(out, [(node.field, node.text, node.boost)], 1.0, deadline)
            return out
        if isinstance(node, plan.Or):
            out = self._empty()
            terms = [c for c in node.children if isinstance(c, plan.Term)]
            self._add_terms(out, [(t.field, t.text, t.boost) for t in terms], node.boost, deadline)
            for child in node.children:
                if not isinstance(child, plan.Term):
                    found = self._eval(child, deadline)
                    out.mask |= found.mask
                    out.scores += found.scores * node.boost
            return out
        if isinstance(node, plan.And):
            if not node.children:
                return self._empty()
            out = self._eval(node.children[0], deadline)
            for child in node.children[1:]:
                found = self._eval(child, deadline)
                out.mask &= found.mask
                out.scores += found.scores
            out.scores *= out.mask * node.boost
            return out
        if isinstance(node, plan.AndMaybe):
            a, b = self._eval(node.required, deadline), self._eval(node.optional, deadline)
            return Match(a.mask, a.scores + b.scores * a.mask)
        if isinstance(node, plan.Not):
            found = self._eval(node.child, deadline)
            return Match(self.columns.live & ~found.mask, np.zeros(self.columns.size))
        if isinstance(node, plan.Constant):
            found = self._eval(node.child, deadline)
            return Match(found.mask, found.mask * float(node.score))
        if isinstance(node, plan.Every):
            return Match(self.columns.live.copy(), self.columns.live * 1.0)
        if isinstance(node, plan.Prefix):  # the words it expands to, each scored
            out = self._empty()
            terms = [(node.field, t, 1.0) for t in expand_prefix(self.reader, node.field, node.text)]
            self._add_terms(out, terms, node.boost, deadline)
            return out
        if isinstance(node, plan.Phrase):  # positions: read for the candidates, BM25 scores them
            terms = [(node.field, w, node.boost) for w in node.words]
            docs = self._phrase_docs(node.field, node.words, node.slop, deadline)
            scored = self._empty()
            self._add_terms(scored, terms, 1.0, deadline)
            mask = self.columns.mask(docs)
            return Match(mask, scored.scores * mask)
        if isinstance(node, plan.Nothing):
            return self._empty()
        raise TypeError(f"cannot rank a {type(node).__name__} query")

    def _phrase_docs(self, fieldname: str, words, slop: int, deadline: float) -> np.ndarray:
        """The documents where the words stand in order, each within `slop`
        positions after the one before (Whoosh's Phrase). The documents having
        every word come from the cached postings; positions are read only for
        those (Whoosh walked every posting of every word in Python: an
        abbreviation's full form of four common words cost ~50 ms)."""
        candidates = None
        for word in sorted(set(words), key=lambda w: len(self.term(fieldname, w)[0])):
            docs = self.term(fieldname, word)[0]
            candidates = docs if candidates is None else np.intersect1d(candidates, docs, assume_unique=True)
            if not len(candidates):
                return candidates.astype(np.int64)
        if time.monotonic() > deadline:
            raise TooSlow
        positions = {w: self._positions(fieldname, w, candidates) for w in set(words)}
        return np.array([d for d in candidates.tolist() if _in_order([positions[w].get(d, []) for w in words], slop)],
                        np.int64)

    # --- ranking ----------------------------------------------------------------

    def top(self, found: Match, allowed: np.ndarray, limit: int, deadline: float) -> list[tuple[int, float]]:
        """The best `limit` (document, score) among the allowed matches, best
        first, ties in document order (as Whoosh's collector).

        With a proximity part, a document's bonus is its body terms' score,
        counted when the terms stand near each other; positions are checked
        in order of the best possible score and only until no unchecked
        document could still enter the top.
        """
        docs = np.flatnonzero(found.mask & allowed)
        scores = found.scores[docs]
        if found.near is not None and len(docs):
            scores = self._with_proximity(found.near, docs, scores, limit, deadline)
        if len(docs) > limit:
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= threshold
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((docs, -scores))[:limit]
        return [(int(docs[i]), float(scores[i])) for i in order]

    def _with_proximity(self, near: plan.Near, docs: np.ndarray, scores: np.ndarray, limit: int,
                        deadline: float) -> np.ndarray:
        bonus = self._eval(plan.And(near.terms), deadline).scores[docs]
        final = scores.copy()
        order = np.lexsort((docs, -(scores + bonus)))
        order = order[bonus[order] > 0]
        checked, batch = 0, limit + 10
        while checked < len(order):
            if time.monotonic() > deadline:
                raise TooSlow
            if len(final) > limit:  # unchecked documents count their base score: a lower bound
                kth = np.partition(final, len(final) - limit)[len(final) - limit]
                if scores[order[checked]] + bonus[order[checked]] < kth:
                    break
            chunk = order[checked : checked + batch]
            near_docs = self._near(near, np.sort(docs[chunk]))
            hit = np.isin(docs[chunk], near_docs)
            final[chunk[hit]] += bonus[chunk[hit]]
            checked += len(chunk)
            batch *= 2
        return final

    def _near(self, near: plan.Near, docs: np.ndarray) -> list[int]:
        """The documents among `docs` (sorted) where the terms stand near each
        other, from the positions of its terms in just those documents."""
        positions = [self._positions(t.field, t.text, docs) for t in near.terms]
        return [
            d for d in docs.tolist()
            if all(d in p for p in positions) and _spans_near([p[d] for p in positions], near.slop, 1)
        ]

    def _positions(self, fieldname: str, text: str, docs: np.ndarray) -> dict[int, list[int]]:
        """A term's positions in the given documents (sorted ascending)."""
        out = {}
        for i, (leaf, base) in enumerate(self.reader.leaf_readers()):
            local = docs[(docs >= base) & (docs < base + leaf.doc_count_all())] - base
            if not len(local):
                continue
            arrays = self.arrays[i]
            if arrays is not None:
                info = self.infos(fieldname, text)[i]
                if info is None:
                    continue
                found = arrays.positions(info, local)
                if found is not None:
                    out.update({d + base: p for d, p in found.items()})
                    continue
            blocks = self._term_blocks(i, leaf, fieldname, text)
            if blocks is not None:
                decode = leaf.schema[fieldname].format.decode_positions
                for d, positions in block_positions(blocks, decode, local.tolist()):
                    out[d + base] = positions
        return out

    def _term_blocks(self, i: int, leaf, fieldname: str, text: str) -> TermBlocks | None:
        """The block index of a term in segment i, cached (a few bytes per block)."""

        def read() -> TermBlocks | None:
            try:
                return TermBlocks(leaf, fieldname, text).forget_bytes()
            except TermNotFound:
                return None

        return self._block_index.get((i, fieldname, text), read)


def expand_prefix(reader, field: str, prefix: str) -> list[str]:
    """The indexed words of a field that start with `prefix`."""
    return [t.decode("utf-8") for t in reader.expand_prefix(field, prefix)]


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """Whether a position of each list follows one of the list before it by
    1 to `slop` positions (Whoosh's ordered SpanNear with mindist 1)."""
    ends = positions[0]
    for plist in positions[1:]:
        ends = [p for p in plist if (i := bisect_left(ends, p - slop)) < len(ends) and ends[i] <= p - 1]
        if not ends:
            return False
    return True


def _spans_near(positions: list[list[int]], slop: int, mindist: int) -> bool:
    """Whoosh's unordered SpanNear2 test (SpanNear2Matcher._get_spans) on
    position lists: spans of the first term grown by each next term within
    `slop` positions."""
    spans = [Span(p) for p in positions[0]]
    for plist in positions[1:]:
        others = [Span(p) for p in plist]
        grown = set()
        for a in spans:
            j = bisect_spans(others, max(0, a.start - slop))
            while j < len(others):
                b = others[j]
                j += 1
                if b.end < a.start - slop:
                    continue
                if b.start > a.end + slop:
                    break
                if mindist <= a.distance_to(b) <= slop:
                    grown.add(a.to(b))
        spans = sorted(grown)
        if not spans:
            return False
    return True
