"""A term's postings straight from Whoosh's W3 posting files, as arrays.

Whoosh's matchers step through postings one Python call each and unpickle
each block header from the file a few bytes at a time; search reads a term's
whole extent in one read instead, decodes a block per 128 postings, and for
positions decodes only the blocks that hold the wanted documents.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Iterator
from io import BytesIO

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.reading import TermNotFound

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
