"""Per-build numpy columns: which documents are live, their publication day,
and their facet values (and the speakers they quote, counted the same way).

Read once when a build is opened and shared by the search, the facet counts,
the date sort and the insights. Arrays instead of Python sets: a facet count is
one `bincount`, a date sort one `lexsort`, and a process holds a few bytes per
document instead of a set entry per document and value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.columns import EmptyColumnReader

from searchapp import facets
from searchapp.engine.document import SPEAKER
from searchapp.engine.whoosh.postings import SegmentArrays, read_postings

UNDATED = 0  # day ordinal of an article without a known date
_MICROS_PER_DAY = 86_400_000_000


def column_array(col, doccount: int) -> np.ndarray:
    """A Whoosh numeric column reader's raw values in one read (its default
    where it holds none)."""
    if isinstance(col, EmptyColumnReader):
        return np.full(doccount, col._default, np.uint64 if col._default > 2**62 else np.int64)
    out = np.full(doccount, col._default, np.dtype(col._typecode))
    raw = col._dbfile.get(col._basepos, col._count * col._fixedlen)
    out[: col._count] = np.frombuffer(raw, ">" + col._typecode)
    return out


@dataclass
class Facet:
    """One facet's values and its (document, value) pairs, twice sorted."""

    values: list[str]
    index: dict[str, int]
    by_value_docs: np.ndarray  # documents, grouped by value
    value_ptr: np.ndarray  # value v's documents: by_value_docs[value_ptr[v]:value_ptr[v+1]]
    by_doc_values: np.ndarray  # value ids, grouped by document
    by_doc_docs: np.ndarray  # the document of each of those
    doc_ptr: np.ndarray  # document d's values: by_doc_values[doc_ptr[d]:doc_ptr[d+1]]

    def docs(self, value: str) -> np.ndarray:
        v = self.index.get(value)
        if v is None:
            return np.empty(0, np.int64)
        return self.by_value_docs[self.value_ptr[v] : self.value_ptr[v + 1]]

    def counts(self, docs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Documents per value among `docs` (sorted, = the True of `mask`).

        Few documents: gather their values; many: filter every pair by the mask.
        """
        if len(docs) * 8 < len(mask):
            starts, ends = self.doc_ptr[docs], self.doc_ptr[docs + 1]
            lengths = ends - starts
            offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            values = self.by_doc_values[offsets + np.arange(offsets.size)]
        else:
            values = self.by_doc_values[mask[self.by_doc_docs]]
        return np.bincount(values, minlength=len(self.values))

    def values_of(self, docnum: int) -> list[str]:
        return [self.values[v] for v in self.by_doc_values[self.doc_ptr[docnum] : self.doc_ptr[docnum + 1]]]


def _facet(reader, name: str, live: np.ndarray, arrays: list[SegmentArrays | None],
           words: list[list[str] | None]) -> Facet:
    """A keyword field's column; empty for a field the build's schema lacks
    (a build made before it was indexed). A segment with postings arrays
    (and `words`, its terms of the field) gives the field's postings in one
    read; another, a term at a time."""
    if name not in reader.schema:
        return _facet_of([], [], [], live)
    if all(w is not None for w in words):
        values = sorted(set().union(*words))
    else:
        values = [v if isinstance(v, str) else v.decode("utf-8") for v in reader.field_terms(name)]
    index = {v: i for i, v in enumerate(values)}
    docs_parts, value_parts = [], []
    for (leaf, base), segment, seg_words in zip(reader.leaf_readers(), arrays, words):
        found = segment.field(leaf, name, seg_words) if segment is not None and seg_words is not None else None
        if found is not None:
            docs, terms = found
            docs_parts.append(docs + base)
            value_parts.append(np.array([index[w] for w in seg_words], np.int64)[terms])
            continue
        for v, value in enumerate(values):
            docs, _tf = read_postings(leaf, name, value, segment)
            docs_parts.append(docs + base)
            value_parts.append(np.full(len(docs), v, np.int64))
    return _facet_of(values, docs_parts, value_parts, live)


def _facet_of(values: list[str], docs_parts: list[np.ndarray], value_parts: list[np.ndarray],
              live: np.ndarray) -> Facet:
    """The Facet of (document, value index) pairs, deleted documents left out."""
    docs = np.concatenate([np.empty(0, np.int64), *docs_parts])
    vals = np.concatenate([np.empty(0, np.int64), *value_parts])
    keep = live[docs]
    docs, vals = docs[keep], vals[keep]
    n = len(live)
    by_value = np.lexsort((docs, vals))
    by_doc = np.lexsort((vals, docs))
    return Facet(
        values=values,
        index={v: i for i, v in enumerate(values)},
        by_value_docs=docs[by_value],
        value_ptr=np.concatenate(([0], np.cumsum(np.bincount(vals, minlength=len(values))))),
        by_doc_values=vals[by_doc],
        by_doc_docs=docs[by_doc],
        doc_ptr=np.concatenate(([0], np.cumsum(np.bincount(docs, minlength=n)))),
    )


@dataclass
class Columns:
    """The per-document arrays of one opened build."""

    live: np.ndarray  # bool per document number: not deleted
    days: np.ndarray  # int32 day ordinal per document, UNDATED if unknown
    facets: dict[str, Facet]  # per facet of the registry, and SPEAKER

    @property
    def size(self) -> int:
        return len(self.live)

    def mask(self, docs: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, bool)
        out[docs] = True
        return out


def load(reader, arrays: list[SegmentArrays | None] | None = None) -> Columns:
    """The columns of an opened Whoosh reader (all its segments), from the
    segments' postings arrays where given (one per segment, None for one without)."""
    if arrays is None:
        arrays = [None] * len(reader.leaf_readers())
    live_parts, day_parts = [], []
    for leaf, _base in reader.leaf_readers():
        live = np.ones(leaf.doc_count_all(), bool)
        deleted = sorted(leaf.deleted_docs_set) if leaf.has_deletions() else []
        live[deleted] = False
        live_parts.append(live)
        count = leaf.doc_count_all()
        micros = column_array(leaf.column_reader("published", translate=False), count)
        flags = column_array(leaf.column_reader("dated", translate=False), count)
        from_column = leaf.schema["dated"].from_column_value  # NUMERIC columns hold shifted values
        dated = np.isin(flags, [f for f in np.unique(flags) if from_column(int(f)) == 1])
        days = micros // _MICROS_PER_DAY + 1  # DATETIME columns hold microseconds from 1 Jan year 1
        day_parts.append(np.where(dated, days, UNDATED).astype(np.int32))
    live = np.concatenate([np.zeros(0, bool), *live_parts])
    days = np.concatenate([np.zeros(0, np.int32), *day_parts])
    keywords = [*facets.names(), SPEAKER]
    words = [a.words_of(keywords) if a is not None else dict.fromkeys(keywords) for a in arrays]
    return Columns(live=live, days=days, facets={
        name: _facet(reader, name, live, arrays, [w[name] for w in words]) for name in keywords})


def id_numbers(reader, arrays: list[SegmentArrays | None], live: np.ndarray) -> dict[str, int] | None:
    """Each live article's document number by its id, the id field read from
    the arrays in one slice a segment; None when a segment cannot be read so."""
    out: dict[str, int] = {}
    for (leaf, base), segment in zip(reader.leaf_readers(), arrays):
        ids = segment.words("id") if segment is not None else None
        found = segment.field(leaf, "id", ids) if ids is not None else None
        if found is None:
            return None
        docs, terms = found
        docs += base
        keep = live[docs]
        out.update(zip((ids[t] for t in terms[keep].tolist()), docs[keep].tolist()))
    return out


@dataclass
class StoryColumns:
    """The build's stories (engine/stories.py) over document numbers: an
    article's story number (its own document number when it has no copies)
    and its place in the story's canonical order."""

    number: np.ndarray  # int64 per document
    place: np.ndarray  # int32 per document, 0 for the canonical article (and an article alone)
    member: np.ndarray  # bool per document: in a story with copies
    names: dict[int, str]  # story number → story id, for stories with copies
    numbers: dict[str, int]  # story id → story number
    docs: dict[int, np.ndarray]  # story number → its documents, canonical first

    @classmethod
    def load(cls, rows: dict[str, tuple[str, int]], doc_number, size: int) -> StoryColumns:
        """From the stories table; `doc_number(id)` is the live document of
        an id or None (an id the build does not hold yet is left out)."""
        number = np.arange(size, dtype=np.int64)
        place = np.zeros(size, np.int32)
        member = np.zeros(size, bool)
        names: dict[int, str] = {}
        numbers: dict[str, int] = {}
        grouped: dict[int, list[tuple[int, int]]] = {}
        for article, (story, at) in rows.items():
            doc = doc_number(article)
            if doc is None:
                continue
            n = numbers.setdefault(story, size + len(numbers))
            names[n] = story
            number[doc], place[doc], member[doc] = n, at, True
            grouped.setdefault(n, []).append((at, doc))
        docs = {n: np.array([d for _at, d in sorted(group)], np.int64) for n, group in grouped.items()}
        return cls(number, place, member, names, numbers, docs)

    def representatives(self, mask: np.ndarray) -> np.ndarray:
        """The mask with one article per story: each story's first in canonical order."""
        multi = np.flatnonzero(mask & self.member)
        if not len(multi):
            return mask
        ordered = multi[np.lexsort((self.place[multi], self.number[multi]))]
        numbers = self.number[ordered]
        out = mask & ~self.member
        out[ordered[np.r_[True, numbers[1:] != numbers[:-1]]]] = True
        return out


def repeats(keys: np.ndarray, numbers: np.ndarray, width: int) -> np.ndarray:
    """Per key (a facet value, a day: 0 to width - 1), how many of the
    (key, story number) pairs given repeat a story already counted for that
    key: what counting stories takes off counting articles."""
    keys = keys.astype(np.int64)
    distinct = np.unique(numbers * width + keys) % width  # each (story, key) once
    return np.bincount(keys, minlength=width) - np.bincount(distinct, minlength=width)
