"""Per-build numpy columns: which documents are live, their publication day,
and their facet values.

Read once when a build is opened and shared by the search, the facet counts,
the date sort and the insights. Arrays instead of Python sets: a facet count is
one `bincount`, a date sort one `lexsort`, and a process holds a few bytes per
document instead of a set entry per document and value.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.columns import EmptyColumnReader
from whoosh.reading import TermNotFound

from .schema import FACETS

UNDATED = 0  # day ordinal of an article without a known date
_MICROS_PER_DAY = 86_400_000_000
_INT = struct.Struct("!i")  # Whoosh's StructFile.write_int


class TermBlocks:
    """A term's posting blocks in one segment, read from its extent in the
    postings file in one go. The layout is Whoosh's W3 codec's: a magic tag,
    then per block a signed length (negative for the last), a pickled header
    (count, last document, ...) and the pickled, maybe compressed, data.
    Whoosh's own matcher unpickles each header from the file a few bytes at a
    time and steps through postings one call each."""

    def __init__(self, leaf, fieldname: str, text):
        info = leaf.term_info(fieldname, text)  # TermNotFound if absent
        self._postfile = leaf._terms._postfile
        self._inlined = None
        if info.is_inlined():  # a term so rare Whoosh keeps its postings in the dictionary
            ids, weights, values = info.inlined_postings()
            self._inlined = (np.array(ids, np.int64), weights, values)
            self.lasts = np.array(ids[-1:], np.int64)
            return
        self.offset, length = info.extent()
        if isinstance(length, tuple):  # W3TermInfo.from_bytes forgets to unpack it
            (length,) = length
        self._raw: bytes | None = self._postfile.get(self.offset, length)
        raw = self._raw
        if raw[:4] != WHOOSH3_HEADER_MAGIC:
            raise ValueError(f"not a W3 posting list: {fieldname}:{text!r}")
        stream, pos, rows = BytesIO(raw), 4, []
        while pos < len(raw):
            (size,) = _INT.unpack_from(raw, pos)
            stream.seek(pos + 4)
            _count, last, _maxweight, compression, _minlength, _maxlength = pickle.load(stream)
            end = pos + 4 + abs(size)
            rows.append((last, stream.tell(), end, compression))
            if size < 0:
                break
            pos = end
        table = np.array(rows, np.int64).reshape(-1, 4)
        self.lasts, self._spans = table[:, 0].copy(), table[:, 1:].copy()  # data start, end, compression

    def forget_bytes(self) -> TermBlocks:
        """Keep only the block index; blocks are read again when decoded."""
        self._raw = None
        return self

    def __len__(self) -> int:
        return len(self.lasts)

    def decode(self, b: int) -> tuple[np.ndarray, object, tuple]:
        """(document numbers, weights as stored, values) of block `b`."""
        if self._inlined is not None:
            return self._inlined
        start, end, compressed = self._spans[b].tolist()
        data = self._raw[start:end] if self._raw is not None else self._postfile.get(self.offset + start, end - start)
        ids, weights, values = pickle.loads(zlib.decompress(data) if compressed else data)
        return np.cumsum(np.array(ids, np.int64)), weights, values


def read_postings(leaf, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, term frequencies) of a term in one segment, a block
    at a time; deleted documents are left in (the caller masks them)."""
    id_blocks, weight_blocks = [np.empty(0, np.int64)], [np.empty(0)]
    try:
        blocks = TermBlocks(leaf, fieldname, text)
    except TermNotFound:
        blocks = ()
    for b in range(len(blocks)):
        ids, weights, _values = blocks.decode(b)
        id_blocks.append(ids)
        if weights is None:
            weight_blocks.append(np.ones(len(ids)))
        elif isinstance(weights, float):
            weight_blocks.append(np.full(len(ids), weights))
        else:
            weight_blocks.append(np.array(weights, np.float64))
    return np.concatenate(id_blocks), np.concatenate(weight_blocks)


def block_positions(blocks: TermBlocks, decode_positions, docs: list[int]) -> Iterator[tuple[int, list[int]]]:
    """(document, positions) of the term for those of `docs` (ascending) that
    hold it, decoding only the blocks they fall in."""
    decoded: dict[int, tuple] = {}
    for d, b in zip(docs, np.searchsorted(blocks.lasts, docs).tolist()):
        if b >= len(blocks):
            break
        if b not in decoded:
            decoded[b] = blocks.decode(b)
        ids, _weights, values = decoded[b]
        i = int(np.searchsorted(ids, d))
        if i < len(ids) and ids[i] == d:
            yield d, decode_positions(values[i])


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


def _facet(reader, name: str, live: np.ndarray) -> Facet:
    values = [v if isinstance(v, str) else v.decode("utf-8") for v in reader.field_terms(name)]
    docs_parts, value_parts = [], []
    for v, value in enumerate(values):
        for leaf, base in reader.leaf_readers():
            docs, _tf = read_postings(leaf, name, value)
            docs_parts.append(docs + base)
            value_parts.append(np.full(len(docs), v, np.int64))
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
    facets: dict[str, Facet]

    @property
    def size(self) -> int:
        return len(self.live)

    def mask(self, docs: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, bool)
        out[docs] = True
        return out


def load(reader) -> Columns:
    """The columns of an opened Whoosh reader (all its segments)."""
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
    return Columns(live=live, days=days, facets={name: _facet(reader, name, live) for name in FACETS})
