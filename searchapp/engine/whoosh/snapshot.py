"""One opened Whoosh build: matching, ranking, counting and stored articles.

Opened once per build (and per `add`), then shared by every thread of the
process: the files are read with pread (storage.py), the per-build numpy
columns are read-only, and the ranker's caches keep their own lock. A facet
count is a set operation over the columns, not a walk over stored fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
from whoosh import scoring

from searchapp import facets
from searchapp.engine import plan
from searchapp.engine.base import Doc, Filters, ResultSet, Snapshot
from searchapp.engine.document import QUOTES, SPEAKER
from searchapp.engine.stories import Stories
from searchapp.engine.tables import BuildTables
from searchapp.engine.whoosh import columns
from searchapp.engine.whoosh.builds import open_build
from searchapp.engine.whoosh.columns import UNDATED, StoryColumns, repeats
from searchapp.engine.whoosh.postings import SegmentArrays
from searchapp.engine.whoosh.ranking import Match, Ranker, expand_prefix
from searchapp.engine.whoosh.storage import warm


_YEAR_ONE = np.datetime64("0001-01-01", "D")  # day ordinal 1


def period_starts(days: np.ndarray, interval: str) -> np.ndarray:
    """Day ordinals moved to the first day of their week (Monday) or month; UNDATED stays."""
    if interval == "day":
        return days
    days = days.astype(np.int64)
    if interval == "week":
        starts = days - (days - 1) % 7
    else:
        months = (_YEAR_ONE + (days - 1)).astype("datetime64[M]").astype("datetime64[D]")
        starts = (months - _YEAR_ONE).astype(np.int64) + 1
    return np.where(days == UNDATED, UNDATED, starts)


@dataclass
class Selection(ResultSet):
    """The masks of a selection over the build's document numbers."""

    found: Match  # the text query: matched documents and their scores
    matched: np.ndarray  # text, dates and required actors, before facet filters
    chosen: dict[str, np.ndarray]  # per facet (and SPEAKER): mask of the articles having a selected value
    final_mask: np.ndarray  # what the user sees
    shown_mask: np.ndarray | None = None  # collapsed: one article per story of final_mask
    _bases: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @cached_property
    def total(self) -> int:
        return int(self.shown.sum())

    @cached_property
    def total_articles(self) -> int:
        return int(self.final_mask.sum())

    @property
    def shown(self) -> np.ndarray:
        return self.final_mask if self.shown_mask is None else self.shown_mask

    @property
    def final(self) -> np.ndarray:
        """The document numbers the user sees (one per story when collapsed), ascending."""
        return np.flatnonzero(self.shown)

    def base(self, facet: str) -> tuple[np.ndarray, np.ndarray]:
        """(documents, mask) a facet counts in: every selection but its own."""
        others = tuple(o for o in self.chosen if o != facet)
        if others not in self._bases:
            mask = self.matched
            for other in others:
                mask = mask & self.chosen[other]
            self._bases[others] = np.flatnonzero(mask), mask
        return self._bases[others]


class WhooshSnapshot(Snapshot):
    def __init__(self, key: tuple, build: Path, weights: plan.Weights):
        super().__init__()
        self.key = key
        self.build = build
        self.tables = BuildTables.load(build)
        ix = open_build(build, readonly=True)  # 124 MB less per serving process than with mmap
        self.searcher = ix.searcher(weighting=scoring.BM25F(B=weights.b, K1=weights.k1))
        self.reader = self.searcher.reader()
        warm(self.searcher)
        self.fields = frozenset(self.reader.schema.names())
        arrays = [SegmentArrays.open(build, leaf.segment().segment_id()) for leaf, _base in self.reader.leaf_readers()]
        for (leaf, _base), segment in zip(self.reader.leaf_readers(), arrays):
            if segment is not None:
                segment.index_words(leaf)
        self.columns = columns.load(self.reader, arrays)  # the words of each field from what index_words kept
        numbers = columns.id_numbers(self.reader, arrays, self.columns.live)
        live_doc = numbers.get if numbers is not None else self._live_doc
        self.stories = StoryColumns.load(Stories.load(build).rows, live_doc, self.columns.size)
        # per facet, the (document, value, story) of articles with copies: all counting stories adds
        self._copied: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, f in self.columns.facets.items():
            pairs = np.flatnonzero(self.stories.member[f.by_doc_docs])
            docs = f.by_doc_docs[pairs]
            self._copied[name] = (docs, f.by_doc_values[pairs].astype(np.int64), self.stories.number[docs])
        self.ranker = Ranker(self.searcher, self.columns, k1=weights.k1, b=weights.b, arrays=arrays, build=build)

    def close(self) -> None:
        self.ranker.close()
        self.searcher.close()

    def _live_doc(self, article_id: str) -> int | None:
        return self.searcher.document_number(id=article_id)

    # --- the indexed words ---------------------------------------------------

    def frequency(self, field: str, text: str) -> int:
        return int(self.reader.frequency(field, text))

    def doc_frequency(self, field: str, text: str) -> int:
        return self.ranker.doc_frequency(field, text)

    def words(self, field: str):
        arrays = self.ranker.arrays
        lists = [a.words(field) for a in arrays if a is not None]
        if arrays and len(lists) == len(arrays) and all(w is not None for w in lists):
            return iter(sorted(set().union(*lists)))  # the segments' word lists: no walk of Whoosh's terms
        return (t.decode("utf-8") for t in self.reader.lexicon(field))

    def expand_prefix(self, field: str, prefix: str) -> list[str]:
        return expand_prefix(self.reader, field, prefix)

    # --- result sets -----------------------------------------------------------

    def select(self, query: plan.Node, filters: Filters, deadline: float) -> Selection:
        found = self.ranker.match(query, deadline)
        cols = self.columns
        matched = found.mask
        if filters.date_from or filters.date_to:
            first = filters.date_from.toordinal() if filters.date_from else 1
            last = filters.date_to.toordinal() if filters.date_to else date.max.toordinal()
            matched = matched & (cols.days >= first) & (cols.days <= last) & (cols.days != UNDATED)
        for actor in filters.required:
            matched = matched & cols.mask(cols.facets["actor"].docs(actor))
        if filters.story is not None:
            matched = matched & cols.mask(self._story_docs(filters.story))
        chosen = {
            name: cols.mask(np.concatenate([cols.facets[name].docs(v) for v in values]))
            for name, values in filters.selected.items()
            if values
        }
        if filters.speakers:
            chosen[SPEAKER] = cols.mask(np.concatenate([cols.facets[SPEAKER].docs(v) for v in filters.speakers]))
        final = matched
        for mask in chosen.values():
            final = final & mask
        return Selection(found, matched, chosen, final)

    def docs(self, rs: Selection) -> list[Doc]:
        return rs.final.tolist()

    def facet_counts(self, rs: Selection, name: str) -> Counter[str]:
        docs, mask = rs.base(name)
        facet = self.columns.facets[name]
        counts = facet.counts(docs, mask)
        if rs.shown_mask is not None and (rs.chosen or rs.total_articles > rs.total):  # else no story repeats
            docs, values, numbers = self._copied[name]
            keep = mask[docs]
            if keep.any():
                counts -= repeats(values[keep], numbers[keep], len(counts))
        return Counter({facet.values[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def speaker_counts(self, rs: Selection) -> Counter[str]:
        return self.facet_counts(rs, SPEAKER)

    def has_value(self, name: str, value: str) -> bool:
        return value in self.columns.facets[name].index

    def ranked(self, rs: Selection, limit: int, deadline: float) -> list[tuple[Doc, float]]:
        if rs.shown_mask is None:
            return self.ranker.top(rs.found, rs.final_mask, limit, deadline)
        repeats = self._repeats(rs)
        # a page's first articles seldom hold many copies: look a little past
        # the limit first (ranking more costs proximity checks), further when it must
        extra = min(repeats, 2 + limit // 4)
        while True:
            shown = self._per_story(rs, self.ranker.top(rs.found, rs.final_mask, limit + extra, deadline),
                                    limit, canonical=True)
            if len(shown) == limit or extra == repeats:
                return shown
            extra = min(repeats, 4 * extra + limit)

    def _repeats(self, rs: Selection) -> int:
        """How many articles of the selection are not their story's shown one:
        the most a list of the first N articles must go past to hold N stories."""
        return rs.total_articles - rs.total

    def _per_story(self, rs: Selection, ordered: list, limit: int, canonical: bool) -> list:
        """The first `limit` stories of a list of (document, ...) tuples, each
        at its first place, given as its shown article (`canonical`) or as
        the article at that place."""
        out, seen = [], set()
        number = self.stories.number
        for item in ordered:
            story = int(number[item[0]])
            if story not in seen:
                seen.add(story)
                shown = self._shown_of(rs, story) if canonical and story >= self.columns.size else item[0]
                out.append((shown, *item[1:]))
                if len(out) == limit:
                    break
        return out

    def _shown_of(self, rs: Selection, story: int) -> int:
        docs = self.stories.docs[story]
        return int(docs[rs.final_mask[docs]][0])

    def by_date(self, rs: Selection, newest: bool, limit: int) -> list[Doc]:
        if rs.shown_mask is None:
            return self._by_date(rs.final, newest, limit)
        ordered = self._by_date(np.flatnonzero(rs.final_mask), newest, limit + self._repeats(rs))
        return [d for (d,) in self._per_story(rs, [(d,) for d in ordered], limit, canonical=False)]

    def _by_date(self, docs: np.ndarray, newest: bool, limit: int) -> list[Doc]:
        """From the day column: Whoosh's sorting collector read two columns
        per document and took ~120 ms to order the whole corpus. Ties in
        document order."""
        days = self.columns.days[docs].astype(np.int64)
        undated = days == UNDATED
        key = np.where(undated, 1 << 40, -days if newest else days)
        if len(docs) > limit:
            kth = np.partition(key, limit - 1)[limit - 1]
            keep = key <= kth
            docs, key = docs[keep], key[keep]
        return [int(d) for d in docs[np.lexsort((docs, key))][:limit]]

    def days(self, rs: Selection, facet: tuple[str, str] | None = None,
             interval: str = "day") -> tuple[Counter[date], int]:
        mask = rs.final_mask
        if facet is not None:
            mask = mask & self.columns.mask(self.columns.facets[facet[0]].docs(facet[1]))
        docs = np.flatnonzero(mask)
        days = period_starts(self.columns.days[docs], interval)
        values, counts = np.unique(days, return_counts=True)
        if rs.shown_mask is not None and rs.total_articles > rs.total:
            multi = self.stories.member[docs]
            counts -= repeats(np.searchsorted(values, days[multi]), self.stories.number[docs[multi]], len(counts))
        found = Counter({date.fromordinal(int(v)): int(n) for v, n in zip(values, counts) if v != UNDATED and n})
        return found, int(counts[values == UNDATED].sum())

    def value_lists(self, rs: Selection, name: str) -> list[list[str]]:
        return self.values_of(rs.final.tolist(), name)

    def values_of(self, docs: list[Doc], name: str) -> list[list[str]]:
        facet = self.columns.facets[name]
        return [facet.values_of(d) for d in docs]

    # --- stories -------------------------------------------------------------------

    def collapse(self, rs: Selection) -> Selection:
        if rs.shown_mask is not None:
            return rs
        return replace(rs, shown_mask=self.stories.representatives(rs.final_mask))

    def story_keys(self, rs: Selection) -> list[int]:
        return self.stories.number[rs.final].tolist()

    def copies(self, rs: Selection, docs: list[Doc]) -> dict[Doc, list[Doc]]:
        out = {}
        for doc in docs:
            story = int(self.stories.number[doc])
            members = self.stories.docs.get(story, np.empty(0, np.int64))
            out[doc] = [int(d) for d in members if d != doc and rs.final_mask[d]]
        return out

    def story(self, doc: Doc) -> tuple[str, list[Doc]]:
        story = int(self.stories.number[doc])
        if story < self.columns.size:
            return self.searcher.stored_fields(doc)["id"], [doc]
        return self.stories.names[story], self.stories.docs[story].tolist()

    def _story_docs(self, story_id: str) -> np.ndarray:
        number = self.stories.numbers.get(story_id)
        if number is not None:
            return self.stories.docs[number]
        doc = self._live_doc(story_id)
        return np.array([doc] if doc is not None and not self.stories.member[doc] else [], np.int64)

    def similar(self, doc: Doc, terms: str, top: int) -> list[tuple[Doc, float]]:
        hits = self.searcher.more_like(doc, "body", text=terms, top=top, numterms=20)
        return [(hit.docnum, hit.score) for hit in hits]

    # --- articles and the build ------------------------------------------------

    def find(self, article_id: str) -> Doc | None:
        return self.searcher.document_number(id=article_id)

    def article(self, doc: Doc) -> dict:
        fields = self.searcher.stored_fields(doc)
        published = fields.get("published")
        return {
            "id": fields["id"],
            "title": fields.get("title") or "",
            "body": fields.get("body", ""),
            "published": published.date() if published else None,
            "url": fields.get("url"),
            "category": fields.get("category") or "",
            **{name: list(fields.get(name) or []) for name in facets.names()},
            "source": fields.get("source"),
            "extra": fields.get("extra") or {},
            "story": self.stories.names.get(int(self.stories.number[doc]), fields["id"]),
        }

    def quotes(self, docs: list[Doc]) -> list[list[dict]]:
        return [list(self.searcher.stored_fields(d).get(QUOTES) or []) for d in docs]

    @property
    def documents(self) -> int:
        return int(self.columns.live.sum())

    def facet_totals(self, name: str) -> list[tuple[str, int]]:
        facet = self.columns.facets[name]
        return [(v, int(n)) for v, n in zip(facet.values, np.diff(facet.value_ptr)) if n]

    def location(self) -> tuple[str, int]:
        return str(self.build), sum(f.stat().st_size for f in self.build.rglob("*") if f.is_file())
