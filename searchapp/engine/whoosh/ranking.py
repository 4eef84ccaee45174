"""Matching and BM25F ranking over numpy arrays of Whoosh's postings.

Whoosh matches and scores one posting per Python call (about a microsecond
each, and a search walked every posting twice: for the matched set and for the
ranked top). Here a term's postings are read once per build, block by block,
into an array of documents and one of their BM25 scores, kept in a bounded
cache; a query is then matched and scored for all documents at once. The
proximity bonus, which needs positions, is checked last and only for the
documents that could still reach the page; quoted phrases are left to
Whoosh's phrase matcher for which documents match.

Scores are Whoosh's own: BM25F with its idf, average field lengths and
byte-quantised document lengths, summed over the query tree as its matchers do
(tests compare the two).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query.spans import Span, SpanNear2, bisect_spans
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from searchapp.engine.whoosh.columns import UNDATED, Columns, column_array
from searchapp.engine.whoosh.postings import TermBlocks, block_positions, read_postings

BLOCK_INDEX_TERMS = 32_768  # (segment, term) block indexes kept for proximity checks (24 bytes a block)
CACHE_POSTINGS = 16_000_000  # postings the term cache may hold (8 bytes each: at most ~128 MB)
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], np.float64)


class TooSlow(Exception):
    """The query ran past its deadline."""


@dataclass
class Match:
    """Which documents a query matches and their scores (0 where unmatched).

    `near` is the proximity part of a short query, applied by `Ranker.top`.
    """

    mask: np.ndarray
    scores: np.ndarray
    near: SpanNear2 | None = None


class Ranker:
    """Matches and ranks queries against one opened build."""

    def __init__(self, searcher, columns: Columns, k1: float, b: float):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.columns = columns
        self.k1, self.b = k1, b
        self._lengths: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached = 0
        self._block_index: OrderedDict[tuple[int, str, str], TermBlocks | None] = OrderedDict()

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
        key = (fieldname, text)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        docs_parts, tf_parts = [], []
        for leaf, base in self.reader.leaf_readers():
            docs, tf = read_postings(leaf, fieldname, text)
            docs_parts.append(docs + base)
            tf_parts.append(tf)
        docs = np.concatenate([np.empty(0, np.int64), *docs_parts]).astype(np.int32)
        tf = np.concatenate([np.empty(0), *tf_parts])
        keep = self.columns.live[docs]
        if not keep.all():
            docs, tf = docs[keep], tf[keep]
        found = docs, self._bm25(fieldname, text, docs, tf).astype(np.float32)
        self._cache[key] = found
        self._cached += len(docs)
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            _key, (old, _s) = self._cache.popitem(last=False)
            self._cached -= len(old)
        return found

    def _bm25(self, fieldname: str, text: str, docs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        if not len(docs) or not self.searcher.schema[fieldname].scorable:
            return tf
        idf = self.searcher.idf(fieldname, text)
        avg = self.searcher.avg_field_length(fieldname) or 1
        length = self._field_lengths(fieldname)[docs]
        k1, b = self.k1, self.b
        return idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avg))

    # --- matching ---------------------------------------------------------------

    def match(self, node: wq.Query, deadline: float) -> Match:
        """Match and score a parsed query; its proximity part is kept for `top`."""
        if isinstance(node, wq.AndMaybe) and isinstance(node.b, SpanNear2):
            found = self._eval(node.a, deadline)
            found.near = node.b
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

    def _eval(self, node: wq.Query, deadline: float) -> Match:
        if isinstance(node, wq.Term):
            out = self._empty()
            self._add_terms(out, [(node.fieldname, node.text, node.boost)], 1.0, deadline)
            return out
        if isinstance(node, wq.Or):
            out = self._empty()
            terms = [c for c in node.subqueries if isinstance(c, wq.Term)]
            self._add_terms(out, [(t.fieldname, t.text, t.boost) for t in terms], node.boost, deadline)
            for child in node.subqueries:
                if not isinstance(child, wq.Term):
                    found = self._eval(child, deadline)
                    out.mask |= found.mask
                    out.scores += found.scores * node.boost
            return out
        if isinstance(node, wq.And):
            if not node.subqueries:
                return self._empty()
            out = self._eval(node.subqueries[0], deadline)
            for child in node.subqueries[1:]:
                found = self._eval(child, deadline)
                out.mask &= found.mask
                out.scores += found.scores
            out.scores *= out.mask * node.boost
            return out
        if isinstance(node, wq.AndMaybe):
            a, b = self._eval(node.a, deadline), self._eval(node.b, deadline)
            return Match(a.mask, a.scores + b.scores * a.mask)
        if isinstance(node, wq.AndNot):
            a, b = self._eval(node.a, deadline), self._eval(node.b, deadline)
            mask = a.mask & ~b.mask
            return Match(mask, a.scores * mask)
        if isinstance(node, wq.Not):
            found = self._eval(node.query, deadline)
            return Match(self.columns.live & ~found.mask, np.zeros(self.columns.size))
        if isinstance(node, wq.ConstantScoreQuery):
            found = self._eval(node.child, deadline)
            return Match(found.mask, found.mask * float(node.score))
        if isinstance(node, wq.Every):
            return Match(self.columns.live.copy(), self.columns.live * float(node.boost))
        if isinstance(node, wq.DateRange) and node.fieldname == "published":
            days = self.columns.days
            mask = days != UNDATED
            if node.startdate:
                mask &= days >= node.startdate.toordinal()
            if node.enddate:
                mask &= days <= node.enddate.toordinal()
            return Match(mask, np.zeros(self.columns.size))
        if isinstance(node, wq.PatternQuery):  # the words it expands to, each scored
            out = self._empty()
            field = self.reader.schema[node.fieldname]
            terms = [(node.fieldname, field.from_bytes(t), 1.0) for t in node._btexts(self.reader)]
            self._add_terms(out, terms, node.boost, deadline)
            return out
        if isinstance(node, (wq.Phrase, SpanNear2)):  # positions: Whoosh finds them, BM25 scores them
            return self._positional(node, deadline)
        if node is wq.NullQuery or isinstance(node, type(wq.NullQuery)):
            return self._empty()
        raise TypeError(f"cannot rank a {type(node).__name__} query")

    def _positional(self, node, deadline: float) -> Match:
        if isinstance(node, wq.Phrase):
            terms = [(node.fieldname, w, node.boost) for w in node.words]
            docs = self._phrase_docs(node.fieldname, node.words, node.slop, deadline)
        else:
            terms = [(t.fieldname, t.text, t.boost) for t in node.qs]
            docs = np.fromiter(self.searcher.docs_for_query(node), np.int64)
        scored = self._empty()
        self._add_terms(scored, terms, 1.0, deadline)
        mask = self.columns.mask(docs)
        return Match(mask, scored.scores * mask)

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

    def _with_proximity(self, near: SpanNear2, docs: np.ndarray, scores: np.ndarray, limit: int,
                        deadline: float) -> np.ndarray:
        bonus = self._eval(wq.And(near.qs), deadline).scores[docs]
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

    def _near(self, near: SpanNear2, docs: np.ndarray) -> list[int]:
        """The documents among `docs` (sorted) where the span query matches,
        from the positions of its terms in just those documents."""
        positions = [self._positions(t.fieldname, t.text, docs) for t in near.qs]
        return [
            d for d in docs.tolist()
            if all(d in p for p in positions) and _spans_near([p[d] for p in positions], near.slop, near.mindist)
        ]

    def _positions(self, fieldname: str, text: str, docs: np.ndarray) -> dict[int, list[int]]:
        """A term's positions in the given documents (sorted ascending)."""
        out = {}
        for i, (leaf, base) in enumerate(self.reader.leaf_readers()):
            local = docs[(docs >= base) & (docs < base + leaf.doc_count_all())] - base
            blocks = self._term_blocks(i, leaf, fieldname, text) if len(local) else None
            if blocks is not None:
                decode = leaf.schema[fieldname].format.decode_positions
                for d, positions in block_positions(blocks, decode, local.tolist()):
                    out[d + base] = positions
        return out

    def _term_blocks(self, i: int, leaf, fieldname: str, text: str) -> TermBlocks | None:
        """The block index of a term in segment i, cached (a few bytes per block)."""
        key = (i, fieldname, text)
        if key not in self._block_index:
            try:
                self._block_index[key] = TermBlocks(leaf, fieldname, text).forget_bytes()
            except TermNotFound:
                self._block_index[key] = None
            if len(self._block_index) > BLOCK_INDEX_TERMS:
                self._block_index.popitem(last=False)
        self._block_index.move_to_end(key)
        return self._block_index[key]


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
