"""A leaner Whoosh SegmentWriter for rebuilds: no sorting pool, whole-term writes.

Whoosh's SegmentWriter sends every posting as a tuple through a sorting pool
(spilled to temp files and merged back), then writes the postings one call at
a time, reading each posting's field length back from the length column: about
half of a warm rebuild. A rebuild fills empty segments with whole documents,
docnums rising, so here the pool keeps each (field, term)'s postings in arrays,
already in docnum order, and each term's posting blocks are written in one go.
The bytes written are Whoosh's W3 codec's, block for block: a segment from this
writer is read by stock Whoosh and is identical in content to SegmentWriter's.
Beside them it writes the segment's postings as arrays (postings.SegmentArrays),
which search slices instead of decoding blocks.
Documents still go through SegmentWriter.add_document (same terms, weights,
stored fields, lengths, columns); `add` keeps the stock writer.
"""

from __future__ import annotations

import copy
import zlib
from array import array
from collections import Counter
from functools import lru_cache
from itertools import accumulate, chain
from pickle import dumps, loads
from pathlib import Path
from typing import Any

from whoosh import formats
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo, _lenfield
from whoosh.fields import Schema
from whoosh.index import FileIndex
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from searchapp.engine.whoosh.columns import column_array
from searchapp.engine.whoosh.postings import ArraysWriter, text_terms

class JoinedValues:
    """A term's encoded values of variable size (positions), end to end in
    one bytearray with each one's end: ~4 bytes a posting besides the data,
    where a bytes object each cost ~41 (most of a rebuild worker's memory)."""

    __slots__ = ("data", "ends")

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("I")

    def append(self, value: bytes) -> None:
        self.data += value
        self.ends.append(len(self.data))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, span: slice) -> list[bytes]:
        """The values i to j, each a new bytes object (as Whoosh's writer has them)."""
        i, j, _step = span.indices(len(self.ends))
        ends, data = self.ends, self.data
        start = ends[i - 1] if i else 0
        out = []
        for end in ends[i:j]:
            out.append(bytes(data[start:end]))
            start = end
        return out

    def __iter__(self):
        return iter(self[0 : len(self)])


# A term's postings: docnums, weights, and the encoded values (each posting's
# end to end, or all of them joined when the format's values have a fixed size).
Postings = tuple[array, array, "JoinedValues | bytearray"]

_FREQ_BYTES = tuple(pack_uint(n) for n in range(256))


@lru_cache(maxsize=None)
def _length_byte(length: int | None) -> int:
    """length_to_byte (a bisect in Python), memoised: lengths here are few."""
    return length_to_byte(length)


class _PositionCodec:
    """formats.Positions' encode and decode_positions, with the pickle of a
    single position (most postings hold one) memoised both ways; one per
    segment writer."""

    def __init__(self) -> None:
        self._one: dict[int, bytes] = {}
        self._of: dict[bytes, int] = {}

    def encode(self, poslist: list[int]) -> bytes:
        """Always a new bytes object: pickle writes a repeated object as a
        back-reference, and the blocks would no longer be Whoosh's bytes."""
        if len(poslist) == 1:
            pos = poslist[0]
            pickled = self._one.get(pos)
            if pickled is None:
                pickled = self._one[pos] = dumps([pos], 2)
                self._of[pickled] = pos
            return _FREQ_BYTES[1] + pickled
        deltas = [poslist[0]]
        deltas += [b - a for a, b in zip(poslist, poslist[1:])]
        return pack_uint(len(deltas)) + dumps(deltas, 2)

    def decode(self, value: bytes) -> list[int]:
        pos = self._of.get(value[4:]) if value[:4] == _FREQ_BYTES[1] else None
        if pos is not None:
            return [pos]
        return list(accumulate(loads(value[4:])))


class _TermListPositions(formats.Positions):
    """Positions.word_values for a field given as a list of index terms (what
    the indexer passes), without a Token object per word. `codec`: the
    writer's _PositionCodec."""

    codec: _PositionCodec

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, (list, tuple)):
            return super().word_values(value, analyzer, **kwargs)
        poses: dict[str, list[int]] = {}
        for pos, text in enumerate(value):
            lst = poses.get(text)
            if lst is None:
                poses[text] = [pos]
            else:
                lst.append(pos)
        fb = self.field_boost
        encode = self.codec.encode
        return [(w, len(lst), len(lst) * fb, encode(lst)) for w, lst in poses.items()]


class _TermListFrequency(formats.Frequency):
    """Frequency.word_values for a field given as a list of terms."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, (list, tuple)):
            return super().word_values(value, analyzer, **kwargs)
        fb = self.field_boost
        return [(w, n, n * fb, _FREQ_BYTES[n] if n < 256 else pack_uint(n)) for w, n in Counter(value).items()]


_FAST_FORMATS = {formats.Positions: _TermListPositions, formats.Frequency: _TermListFrequency}


class TermPool:
    """Stands in for Whoosh's PostingPool: postings grouped by field and term.

    Accepts SegmentWriter.add_document's (field, term bytes, docnum, weight,
    value) items, which arrive in rising docnum order, one per (doc, term).
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.fields: dict[str, dict[bytes, Postings]] = {}
        self._fixed: dict[str, int | None] = {}  # field → its format's value size
        self.approx_bytes = 0

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self._fixed[fieldname] = self.schema[fieldname].format.fixed_value_size()
        post = terms.get(tbytes)
        if post is None:
            fixed = self._fixed[fieldname]
            post = terms[tbytes] = (array("I"), array("d"), bytearray() if fixed is not None and fixed >= 0
                                    else JoinedValues())
            self.approx_bytes += 300 + len(tbytes)
        post[0].append(docnum)
        post[1].append(weight)
        values = post[2]
        if vbytes:
            if type(values) is bytearray:
                values.extend(vbytes)
                self.approx_bytes += 12 + len(vbytes)
            else:
                values.append(vbytes)
                self.approx_bytes += 16 + len(vbytes)
        elif self._fixed[fieldname] == 0:
            self.approx_bytes += 12
        else:  # W3PostingsWriter would drop it and shift the block's values
            raise ValueError(f"field {fieldname!r}: empty posting value in a format that stores values")

    def cleanup(self) -> None:
        self.fields.clear()


class LeanSegmentWriter(SegmentWriter):
    """SegmentWriter for new documents in a new segment, with TermPool.

    Only add_document is supported (no deletions, add_reader or merges of
    older segments into this one). Vectors and separate spelling fields are
    refused: the schema has none.
    """

    def __init__(self, ix: FileIndex, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        codec = self.codec
        if not isinstance(codec, W3Codec) or codec._inlinelimit > 1:
            raise TypeError(f"LeanSegmentWriter writes the W3 codec without inlined postings, not {codec!r}")
        # Index with a copy of the schema whose list-valued text formats skip
        # Token objects; the table of contents gets the schema as it was.
        self._positions = _PositionCodec()
        self._toc_schema = self.schema
        self.schema = copy.deepcopy(self.schema)
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling fields are not supported")
            if type(field.format) in _FAST_FORMATS:
                field.format.__class__ = _FAST_FORMATS[type(field.format)]
            if isinstance(field.format, _TermListPositions):
                field.format.codec = self._positions
        self.pool = TermPool(self.schema)

    def _commit_toc(self, segments: list[Segment]) -> None:
        self.schema = self._toc_schema
        super()._commit_toc(segments)

    def _flush_segment(self) -> None:
        """What SegmentWriter._flush_segment writes, term by term."""
        self.perdocwriter.close()
        pdr = self.per_document_reader()
        doccount = self.docnum
        # The postings file and term index that W3FieldWriter has open.
        fw = self.fieldwriter
        postfile, tindex = fw._postfile, fw._tindex
        fieldmap = fw._fieldmap
        fields = self.pool.fields
        arrays = ArraysWriter(Path(self.storage.folder), self.newsegment.segment_id())
        words: dict[str, list[bytes]] = {}
        for fieldname in sorted(fields):
            field = self.schema[fieldname]
            fieldid = fieldmap[fieldname] = len(fieldmap)
            prefix = pack_ushort(fieldid)
            lengths = None
            if field.scorable:  # only scorable fields have lengths (add_document)
                lengths = _field_lengths(pdr, fieldname, doccount)
            writer = _TermWriter(postfile, self.codec, field.format.fixed_value_size(), lengths)
            terms = fields.pop(fieldname)
            words[fieldname] = list(terms)
            positioned = type(field.format) in (_TermListPositions, formats.Positions)  # not Characters
            for tbytes in sorted(terms):
                postings = terms.pop(tbytes)
                if positioned:
                    lists = [self._positions.decode(v) for v in postings[2]]
                    arrays.add(writer.offset, postings[0], postings[1], array("I", map(len, lists)),
                               array("I", chain.from_iterable(lists)))
                else:
                    arrays.add(writer.offset, postings[0], postings[1])
                tindex.add(prefix + tbytes, writer.write(*postings))
        fw.close()
        pdr.close()
        arrays.close(text_terms(words))


_LENGTHS = (0, *(byte_to_length(b) for b in range(1, 256)))  # a length byte as W3PerDocReader reads it


def _field_lengths(pdr, fieldname: str, doccount: int) -> list[int]:
    """Each document's length of a field, as `pdr.doc_field_length` gives
    it, from the length column in one read (that was a call a document)."""
    column = pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:  # no document has the field
        return [0] * doccount
    return list(map(_LENGTHS.__getitem__, column_array(column, doccount).tolist()))


class _TermWriter:
    """W3PostingsWriter's blocks and W3TermInfo's bytes for whole posting lists."""

    def __init__(self, postfile, codec: W3Codec, fixed_size: int | None, lengths: list[int | None] | None) -> None:
        self.postfile = postfile
        self.blocklimit = codec._blocklimit
        self.compression = codec._compression
        self.fixed_size = fixed_size
        self.lengths = lengths
        self.offset = postfile.tell()

    def write(self, ids: array, weights: array, values: JoinedValues | bytearray) -> bytes:
        """Write one term's postings; returns its term info bytes."""
        parts = [WHOOSH3_HEADER_MAGIC]
        lengths = self.lengths
        fixed = self.fixed_size
        limit = self.blocklimit
        n = len(ids)
        total_weight = 0
        max_weight = 0
        min_len: int | None = None
        max_len = 0
        for i in range(0, n, limit):
            j = min(i + limit, n)
            block_ids = ids[i:j]
            raw_weights = weights[i:j]
            block_weights = array("f", raw_weights)
            block_max_weight = max(0, max(raw_weights))
            lens = [x for x in map(lengths.__getitem__, block_ids) if x] if lengths is not None else ()
            block_min = min(lens) if lens else None
            block_max = max(lens) if lens else 0
            total_weight += sum(block_weights)
            min_len = block_min if min_len is None else min(min_len, block_min)
            max_len = max(max_len, block_max)
            max_weight = max(max_weight, block_max_weight)

            deltas = [block_ids[0]]
            deltas += [b - a for a, b in zip(block_ids, block_ids[1:])]
            if all(w == 1.0 for w in block_weights):
                mini_weights = None
            elif all(w == block_weights[0] for w in block_weights):
                mini_weights = block_weights[0]
            else:
                mini_weights = tuple(block_weights)
            if fixed is None or fixed < 0:
                mini_values = tuple(values[i:j])
            elif fixed == 0:
                mini_values = None
            else:
                mini_values = bytes(values[i * fixed : j * fixed])
            data = dumps((tuple(deltas), mini_weights, mini_values), 2)
            if self.compression:
                data = zlib.compress(data, self.compression)
            info = dumps((j - i, block_ids[-1], block_max_weight, self.compression,
                          _length_byte(block_min), _length_byte(block_max)), 2)
            size = len(info) + len(data)
            parts += (pack_int(-size if j == n else size), info, data)
        chunk = b"".join(parts)
        self.postfile.write(chunk)
        start = self.offset
        self.offset += len(chunk)
        return W3TermInfo._struct.pack(
            0, total_weight, n, 0 if min_len is None else _length_byte(min_len), _length_byte(max_len),
            max_weight, ids[0], ids[-1],
        ) + pack_long(start) + pack_int(len(chunk))


class SegmentSeries:
    """Documents into as many new segments as the memory budget needs.

    A writer keeps its segment's postings in memory; past `max_bytes` (as
    TermPool estimates them) the segment is written out and the next
    documents go to a new one.
    """

    def __init__(self, ix: FileIndex, max_bytes: int) -> None:
        self.ix = ix
        self.max_bytes = max_bytes
        self.segments: list[Segment] = []
        self._writer: LeanSegmentWriter | None = None

    def add_document(self, **fields: Any) -> None:
        if self._writer is None:
            self._writer = LeanSegmentWriter(self.ix, _lk=False)
        self._writer.add_document(**fields)
        if self._writer.pool.approx_bytes > self.max_bytes:
            self.segments.append(self._writer._finalize_segment())
            self._writer = None

    def finish(self) -> list[Segment]:
        """All the segments written, in document order."""
        if self._writer is not None:
            self.segments.append(self._writer._finalize_segment())
            self._writer = None
        return self.segments
