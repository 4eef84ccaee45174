"""One opened Whoosh build: matching, ranking, counting and stored articles.

Opened once per build (and per `add`), then shared by every thread of the
process: the files are read with pread (storage.py), the per-build numpy
columns are read-only, and the ranker's caches keep their own lock. A facet
count is a set operation over the columns, not a walk over stored fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from whoosh import scoring

from searchapp import facets
from searchapp.engine import plan
from searchapp.engine.base import Doc, Filters, ResultSet, Snapshot
from searchapp.engine.tables import BuildTables
from searchapp.engine.whoosh import columns
from searchapp.engine.whoosh.builds import open_build
from searchapp.engine.whoosh.columns import UNDATED
from searchapp.engine.whoosh.ranking import Match, Ranker, expand_prefix
from searchapp.engine.whoosh.storage import warm


@dataclass
class Selection(ResultSet):
    """The masks of a selection over the build's document numbers."""

    found: Match  # the text query: matched documents and their scores
    matched: np.ndarray  # text, dates and required actors, before facet filters
    chosen: dict[str, np.ndarray]  # per facet: mask of the articles having a selected value
    final_mask: np.ndarray  # what the user sees
    _bases: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(self.final_mask.sum())

    @property
    def final(self) -> np.ndarray:
        """The document numbers the user sees, ascending."""
        return np.flatnonzero(self.final_mask)

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
        self.columns = columns.load(self.reader)
        self.ranker = Ranker(self.searcher, self.columns, k1=weights.k1, b=weights.b)

    def close(self) -> None:
        self.searcher.close()

    # --- the indexed words ---------------------------------------------------

    def frequency(self, field: str, text: str) -> int:
        return int(self.reader.frequency(field, text))

    def doc_frequency(self, field: str, text: str) -> int:
        return int(self.reader.doc_frequency(field, text))

    def words(self, field: str):
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
        chosen = {
            name: cols.mask(np.concatenate([cols.facets[name].docs(v) for v in values]))
            for name, values in filters.selected.items()
            if values
        }
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
        return Counter({facet.values[i]: int(counts[i]) for i in np.flatnonzero(counts)})

    def has_value(self, name: str, value: str) -> bool:
        return value in self.columns.facets[name].index

    def ranked(self, rs: Selection, limit: int, deadline: float) -> list[tuple[Doc, float]]:
        return self.ranker.top(rs.found, rs.final_mask, limit, deadline)

    def by_date(self, rs: Selection, newest: bool, limit: int) -> list[Doc]:
        """From the day column: Whoosh's sorting collector read two columns
        per document and took ~120 ms to order the whole corpus. Ties in
        document order."""
        docs = rs.final
        days = self.columns.days[docs].astype(np.int64)
        undated = days == UNDATED
        key = np.where(undated, 1 << 40, -days if newest else days)
        if len(docs) > limit:
            kth = np.partition(key, limit - 1)[limit - 1]
            keep = key <= kth
            docs, key = docs[keep], key[keep]
        return [int(d) for d in docs[np.lexsort((docs, key))][:limit]]

    def days(self, rs: Selection, facet: tuple[str, str] | None = None) -> tuple[Counter[date], int]:
        mask = rs.final_mask
        if facet is not None:
            mask = mask & self.columns.mask(self.columns.facets[facet[0]].docs(facet[1]))
        days = self.columns.days[mask]
        dated = days[days != UNDATED]
        values, counts = np.unique(dated, return_counts=True)
        return Counter({date.fromordinal(int(v)): int(n) for v, n in zip(values, counts)}), len(days) - len(dated)

    def value_lists(self, rs: Selection, name: str) -> list[list[str]]:
        facet = self.columns.facets[name]
        return [facet.values_of(d) for d in rs.final]

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
        }

    @property
    def documents(self) -> int:
        return int(self.columns.live.sum())

    def facet_totals(self, name: str) -> list[tuple[str, int]]:
        facet = self.columns.facets[name]
        return [(v, int(n)) for v, n in zip(facet.values, np.diff(facet.value_ptr)) if n]

    def location(self) -> tuple[str, int]:
        return str(self.build), sum(f.stat().st_size for f in self.build.rglob("*") if f.is_file())
