"""A term's postings as arrays: from arrays a build writes beside Whoosh's
files, else straight from Whoosh's W3 posting files.

Whoosh's matchers step through postings one Python call each and unpickle
each block header from the file a few bytes at a time; search reads a term's
whole extent in one read instead, decodes a block per 128 postings, and for
positions decodes only the blocks that hold the wanted documents. Decoding
is still Python (a pickle per block): a cold query for a common word paid it
for every block. So a build also writes each segment's postings as flat
arrays (`SegmentArrays`: document numbers, frequencies and positions, term
after term, where each term starts, and each field's words), which a search
reads a slice at a time: nothing to decode, and serving processes share
the pages through the page cache. Whoosh's files stay the
index of record; a segment without arrays (a build made before them) is read
the old way.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from array import array
from itertools import accumulate, chain, repeat
import struct
import zlib
from collections.abc import Iterator
from typing import NamedTuple
from io import BytesIO
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.reading import TermNotFound

_INT = struct.Struct("!i")  # Whoosh's StructFile.write_int
ARRAYS_DIR = "postings"  # in a build: <segment id>.v<ARRAYS_VERSION>.{index,docs,tf,pos_starts,pos}.npy, .words.json
ARRAYS_VERSION = 2  # raised when what the arrays hold changes: older arrays are then not read
_PARTS = ("index", "docs", "tf", "pos_starts", "pos")
_POSITION_READS = 16  # up to this many wanted postings, their positions are read one by one


class SegmentArrays:
    """One segment's postings as arrays: `docs` (segment document numbers,
    uint32) and `tf` (the weights Whoosh stores, float32), term after term in
    the order the segment's postings file holds them; `index` has a row per
    term, (the offset of its postings in Whoosh's file, where it starts in
    `docs`), and a last row (-1, len(docs)). A term is found by the offset in
    its Whoosh term info, so the terms themselves are not stored twice.
    Positions, for the fields that keep them: `pos` (uint32), each posting's
    from `pos_starts[i]` to `pos_starts[i + 1]` (empty in other fields)."""

    def __init__(self, index: np.ndarray, docs: np.ndarray, tf: np.ndarray, pos_starts: np.ndarray,
                 pos: np.ndarray, words_path: Path):
        self.offsets, self.starts = index[:-1, 0], index[:, 1]
        self.docs, self.tf = docs, tf
        self.pos_starts, self.pos = pos_starts, pos
        self._words_path = words_path
        self._kept: dict[str, _Words] = {}  # by index_words

    @staticmethod
    def paths(build_dir: Path, segid: str) -> dict[str, Path]:
        base = Path(build_dir) / ARRAYS_DIR / f"{segid}.v{ARRAYS_VERSION}"
        paths = {part: base.with_name(f"{base.name}.{part}.npy") for part in _PARTS}
        return {**paths, "words": base.with_name(f"{base.name}.words.json")}

    @classmethod
    def open(cls, build_dir: Path, segid: str) -> SegmentArrays | None:
        """The segment's arrays (the term index memory-mapped, the rest read
        by slices); None when it has none (or they do not fit)."""
        paths = cls.paths(build_dir, segid)
        parts: list = []
        try:
            parts.append(np.load(paths["index"], mmap_mode="r"))
            parts += [_Flat(paths[p]) for p in _PARTS[1:]]
        except (OSError, ValueError):
            for part in parts[1:]:
                part.close()
            return None
        found = cls(*parts, paths["words"])
        n = len(found.docs)
        if len(found.tf) != n or len(found.pos_starts) != n + 1 or int(found.starts[-1]) != n or (
                int(found.pos_starts.read(n, n + 1)[0]) != len(found.pos)):
            found.close()
            return None
        return found

    def close(self) -> None:
        for part in (self.docs, self.tf, self.pos_starts, self.pos):
            part.close()

    def words(self, fieldname: str) -> list[str] | None:
        """The segment's terms of a text field, sorted; None for a field whose
        terms are not text (dates, numbers) or an unreadable list. Made from
        the terms `index_words` keeps (one string a field: every term as a
        string of its own would cost a serving process tens of MB), else
        read from the file."""
        return self.words_of([fieldname])[fieldname]

    def words_of(self, fieldnames: list[str]) -> dict[str, list[str] | None]:
        """`words` of several fields, the file read at most once."""
        found = {f: self._kept[f].list() for f in fieldnames if f in self._kept}
        if len(found) < len(fieldnames):
            joined = self._read_words()
            found.update({f: (joined[f].split("\n") if joined[f] else []) if f in joined else None
                          for f in fieldnames if f not in found})
        return found

    def _read_words(self) -> dict[str, str]:
        try:
            return json.loads(self._words_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def index_words(self, leaf) -> None:
        """Keep each text field's terms, so `lookup` finds a term without
        Whoosh's term dictionary (~20 µs a segment: file reads, unpickling);
        ~2.5 MB a segment of the 2019 corpus. A field whose terms are not
        all in the arrays (inlined by Whoosh's own writer) is left out."""
        self._kept = {}
        for fieldname, joined in self._read_words().items():
            words = _Words(joined)
            first = self._first_row(leaf, fieldname, words) if len(words) else 0
            if first is not None:
                self._kept[fieldname] = words
                words.first_row = first

    def knows(self, fieldname: str) -> bool:
        """Whether `lookup` can tell where a term of the field is."""
        return fieldname in self._kept

    def lookup(self, fieldname: str, text: str) -> ArrayTerm | None:
        """Where a term of a field `knows` lies in the arrays; None when the segment does not hold it."""
        words = self._kept[fieldname]
        row = words.index(text)
        if row is None:
            return None
        row += words.first_row
        return ArrayTerm(int(self.starts[row]), int(self.starts[row + 1]))

    def _first_row(self, leaf, fieldname: str, words) -> int | None:
        """The row of a field's first term, when its terms lie one after
        another in the arrays in the order of `words` (else None)."""
        first, last = (term_info(leaf, fieldname, w) for w in (words[0], words[len(words) - 1]))
        if first is None or last is None:
            return None
        first, last = self._row(first), self._row(last)
        if first is None or last is None or last - first + 1 != len(words):
            return None
        return first

    def field(self, leaf, fieldname: str, words: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """Every posting of a field in one read, given its `words`: (document
        numbers, the index in `words` of each one's term). A field's terms
        lie one after another in the arrays, in the order of `words`; None
        when some are not in them (inlined by Whoosh's own writer)."""
        if not words:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        first = self._first_row(leaf, fieldname, words)
        if first is None:
            return None
        starts = self.starts[first : first + len(words) + 1]
        docs = self.docs.read(int(starts[0]), int(starts[-1])).astype(np.int64)
        return docs, np.repeat(np.arange(len(words)), np.diff(starts))

    @classmethod
    def derive(cls, build_dir: Path, leaf) -> None:
        """Write the arrays of a segment Whoosh's own writer made (an `add`),
        decoding its posting blocks once."""
        rows, terms = [], {}  # an add's segment is small: its rows are put in offset order in memory
        for (fieldname, text), info in leaf._terms.items():
            terms.setdefault(fieldname, []).append(text)
            if info.is_inlined():
                continue  # found by term_info alone: read the old way
            blocks = TermBlocks.from_info(leaf, info)
            ids, weights, values = decode_all(blocks)
            fmt = leaf.schema[fieldname].format
            if fmt.supports("positions"):
                lists = [fmt.decode_positions(v) for v in values]
                rows.append((blocks.offset, ids, weights, np.fromiter(map(len, lists), np.int64, len(lists)),
                             np.fromiter(chain.from_iterable(lists), np.uint32)))
            else:
                rows.append((blocks.offset, ids, weights, None, None))
        rows.sort(key=lambda row: row[0])
        writer = ArraysWriter(build_dir, leaf.segment().segment_id())
        for row in rows:
            writer.add(*row)
        writer.close(text_terms(terms))

    def _row(self, info) -> int | None:
        """The term's row in `index`, or None when these arrays do not hold
        it (inlined in the term dictionary)."""
        if info.is_inlined():
            return None
        offset = info.extent()[0]
        i = int(np.searchsorted(self.offsets, offset))
        if i >= len(self.offsets) or self.offsets[i] != offset:
            return None
        return i

    def _span(self, info) -> tuple[int, int] | None:
        """Where the term with this Whoosh term info (or ArrayTerm) lies in
        `docs`, or None when these arrays do not hold it."""
        if isinstance(info, ArrayTerm):
            return info.start, info.end
        i = self._row(info)
        if i is None:
            return None
        return int(self.starts[i]), int(self.starts[i + 1])

    def postings(self, info) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, term frequencies) of a term, or None when these arrays do not hold it."""
        span = self._span(info)
        if span is None:
            return None
        return self.docs.read(*span).astype(np.int64), self.tf.read(*span).astype(np.float64)

    def positions(self, info, docs: np.ndarray) -> dict[int, list[int]] | None:
        """The term's positions in those of `docs` (segment document numbers,
        ascending) that hold it, or None when these arrays do not hold the term."""
        span = self._span(info)
        if span is None:
            return None
        start, end = span
        held = self.docs.read(start, end)
        at = np.searchsorted(held, docs)
        inside = at < len(held)
        hit = np.zeros(len(docs), bool)
        hit[inside] = held[at[inside]] == docs[inside]
        rows = at[hit]
        if not len(rows):
            return {}
        bounds = self.pos_starts.read(start + int(rows[0]), start + int(rows[-1]) + 2)
        rows -= rows[0]
        firsts, lasts = bounds[rows].tolist(), bounds[rows + 1].tolist()
        if len(rows) <= _POSITION_READS:
            lists = [self.pos.read(a, b).tolist() for a, b in zip(firsts, lasts)]
        else:  # one read of the run from the first wanted posting's positions to the last's
            run, base = self.pos.read(firsts[0], lasts[-1]), firsts[0]
            lists = [run[a - base:b - base].tolist() for a, b in zip(firsts, lasts)]
        return dict(zip(docs[hit].tolist(), lists))


class ArrayTerm(NamedTuple):
    """Where a term's postings lie in a segment's arrays, found by
    `SegmentArrays.lookup`: what the ranker asks of Whoosh's term info."""

    start: int
    end: int

    def doc_frequency(self) -> int:
        """Postings written (deleted documents too), as Whoosh counts."""
        return self.end - self.start


class _Words:
    """A field's terms in one segment as one UTF-8 byte string, in the
    order Whoosh sorts them (by bytes): a term's place by binary search."""

    def __init__(self, joined: str):
        self._blob = joined.encode("utf-8")
        ends = np.flatnonzero(np.frombuffer(self._blob, np.uint8) == 10)
        bounds = np.concatenate(([0], ends + 1, [len(self._blob) + 1])) if joined else np.zeros(1)
        self._bounds = array("q", bounds.astype(np.int64).tobytes())
        self.first_row = 0

    def __len__(self) -> int:
        return len(self._bounds) - 1

    def __getitem__(self, k: int) -> str:
        return self._blob[self._bounds[k] : self._bounds[k + 1] - 1].decode("utf-8")

    def index(self, text: str) -> int | None:
        """The place of a term, or None."""
        key = text.encode("utf-8")
        bounds, blob = self._bounds, self._blob
        lo, hi = 0, len(bounds) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if blob[bounds[mid] : bounds[mid + 1] - 1] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(bounds) - 1 and blob[bounds[lo] : bounds[lo + 1] - 1] == key else None

    def list(self) -> list[str]:
        return self._blob.decode("utf-8").split("\n") if len(self) else []


class _Flat:
    """A one-dimensional .npy read a slice at a time (pread), not mapped:
    mapped pages a process has touched count in its RSS, so each serving
    process grew by every posting it had ever read; read slices are its own
    only while a query uses them, and the file's pages stay shared in the
    page cache."""

    def __init__(self, path: Path):
        self._file = open(path, "rb", buffering=0)
        try:
            version = np.lib.format.read_magic(self._file)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else (
                np.lib.format.read_array_header_2_0)
            shape, fortran, self.dtype = read_header(self._file)
            if len(shape) != 1 or fortran:
                raise ValueError(f"{path}: not a flat array")
            self._start, self._len = self._file.tell(), shape[0]
            if os.fstat(self._file.fileno()).st_size < self._start + self._len * self.dtype.itemsize:
                raise ValueError(f"{path}: shorter than its header says")
        except BaseException:
            self._file.close()
            raise

    def __len__(self) -> int:
        return self._len

    def read(self, start: int, end: int) -> np.ndarray:
        """Items start to end (clipped to the array)."""
        end = min(end, self._len)
        if end <= start:
            return np.empty(0, self.dtype)
        out = np.empty(end - start, self.dtype)
        view, at = memoryview(out).cast("B"), self._start + start * self.dtype.itemsize
        got = 0
        while got < len(view):
            n = os.preadv(self._file.fileno(), [view[got:]], at + got)
            if n == 0:
                raise OSError(f"{self._file.name}: ends before its header says")
            got += n
        return out

    def close(self) -> None:
        self._file.close()


class ArraysWriter:
    """Writes a segment's SegmentArrays term by term, each part gathered in
    a buffer and streamed to a file when it fills: a segment's postings and
    positions (twice the size of Whoosh's compressed blocks) are never all
    in memory at once, and a term costs a few array appends, not file
    writes and numpy calls of its own (72,000 terms in a 3,000-article
    segment)."""

    _RAW = {"docs": "I", "tf": "f", "pos_starts": "q", "pos": "I"}
    _BUFFER = 1 << 16  # items a part gathers before it is written (~1.3 MB for the four)

    def __init__(self, build_dir: Path, segid: str):
        self.paths = SegmentArrays.paths(build_dir, segid)
        self.paths["index"].parent.mkdir(exist_ok=True)
        self._raw = {part: open(self._tmp(part), "wb") for part in self._RAW}
        self._buffers = {part: array(code) for part, code in self._RAW.items()}
        self._index = array("q")
        self._postings = self._positions = 0

    def _tmp(self, part: str) -> Path:
        return self.paths[part].with_name(f".{self.paths[part].name}.tmp")

    def add(self, offset: int, ids, weights, counts=None, flat=None) -> None:
        """A term: its offset in Whoosh's postings file, document numbers,
        weights, and for a field with positions each posting's count of
        positions and all of them."""
        n = len(ids)
        self._index.extend((offset, self._postings))
        buffers = self._buffers
        _append(buffers["docs"], ids)
        _append(buffers["tf"], weights)
        if counts is None:
            buffers["pos_starts"].extend(repeat(self._positions, n))
        else:
            starts = array("q", accumulate(counts, initial=self._positions))
            self._positions = starts.pop()
            buffers["pos_starts"].extend(starts)
            if flat is not None:
                _append(buffers["pos"], flat)
        self._postings += n
        if len(buffers["pos"]) > self._BUFFER or len(buffers["docs"]) > self._BUFFER:
            self._write_buffers()

    def _write_buffers(self) -> None:
        for part, buffer in self._buffers.items():
            buffer.tofile(self._raw[part])
            del buffer[:]

    def close(self, words: dict[str, list[str]]) -> None:
        """Finish the files: each part an .npy of what was streamed, the word
        lists, and the index last (arrays without it are not read)."""
        self._buffers["pos_starts"].append(self._positions)
        self._write_buffers()
        for fh in self._raw.values():
            fh.close()
        tmp = self._tmp("words")  # a field's terms as one string: one object each when read, not one a term
        tmp.write_text(json.dumps({f: "\n".join(ws) for f, ws in words.items()}, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.paths["words"])
        sizes = {"docs": self._postings, "tf": self._postings, "pos_starts": self._postings + 1, "pos": self._positions}
        for part, code in self._RAW.items():
            raw, done = self._tmp(part), self._tmp(part).with_suffix(".npy")
            with open(done, "wb") as out, open(raw, "rb") as src:
                header = {"descr": np.lib.format.dtype_to_descr(np.dtype(code)), "fortran_order": False,
                          "shape": (sizes[part],)}
                np.lib.format.write_array_header_1_0(out, header)
                shutil.copyfileobj(src, out, 1 << 20)
            raw.unlink()
            os.replace(done, self.paths[part])
        self._index.extend((-1, self._postings))
        tmp = self._tmp("index")
        with open(tmp, "wb") as fh:
            np.save(fh, np.frombuffer(self._index, np.int64).reshape(-1, 2))
        os.replace(tmp, self.paths["index"])


def _append(buffer: array, values) -> None:
    """Values (an array of the buffer's kind or another, a list, a numpy array) onto a buffer."""
    if isinstance(values, array) and values.typecode == buffer.typecode:
        buffer.extend(values)
    else:
        buffer.frombytes(np.asarray(values, buffer.typecode).tobytes())


def text_terms(terms: dict[str, list[bytes]]) -> dict[str, list[str]]:
    """Each field's terms as sorted text; fields whose terms are not UTF-8
    (dates, numbers) or hold a line break (an id as given) left out."""
    out = {}
    for fieldname, raw in terms.items():
        try:
            words = sorted(t.decode("utf-8") for t in raw)
        except UnicodeDecodeError:
            continue
        if not any("\n" in w for w in words):
            out[fieldname] = words
    return out


def _weights(weights, n: int) -> np.ndarray:
    """A block's weights as Whoosh stores them (None: all 1, a float: all that) as an array."""
    if weights is None:
        return np.ones(n)
    if isinstance(weights, float):
        return np.full(n, weights)
    return np.array(weights, np.float64)


class TermBlocks:
    """A term's posting blocks in one segment, read from its extent in the
    postings file in one go. The layout is Whoosh's W3 codec's: a magic tag,
    then per block a signed length (negative for the last), a pickled header
    (count, last document, ...) and the pickled, maybe compressed, data.
    Whoosh's own matcher unpickles each header from the file a few bytes at a
    time and steps through postings one call each."""

    def __init__(self, leaf, fieldname: str, text):
        self._read(leaf, leaf.term_info(fieldname, text))  # TermNotFound if absent

    @classmethod
    def from_info(cls, leaf, info) -> TermBlocks:
        blocks = cls.__new__(cls)
        blocks._read(leaf, info)
        return blocks

    def _read(self, leaf, info) -> None:
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
            raise ValueError(f"not a W3 posting list at offset {self.offset}")
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


def term_info(leaf, fieldname: str, text):
    """Whoosh's term info of a term in one segment, or None where it is absent."""
    try:
        return leaf.term_info(fieldname, text)
    except TermNotFound:
        return None


def read_postings(leaf, fieldname: str, text, arrays: SegmentArrays | None = None,
                  info=None) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, term frequencies) of a term in one segment: sliced
    from the segment's arrays when it has them, else decoded a block at a
    time; deleted documents are left in (the caller masks them). `info`:
    the term's Whoosh term info, when the caller has looked it up."""
    if info is None:
        info = term_info(leaf, fieldname, text)
        if info is None:
            return np.empty(0, np.int64), np.empty(0)
    found = arrays.postings(info) if arrays is not None else None
    if found is not None:
        return found
    ids, weights, _values = decode_all(TermBlocks.from_info(leaf, info))
    return ids, weights


def decode_all(blocks: TermBlocks) -> tuple[np.ndarray, np.ndarray, list]:
    """(document numbers, weights, values as stored) of every block of a term."""
    id_blocks, weight_blocks, values = [np.empty(0, np.int64)], [np.empty(0)], []
    for b in range(len(blocks)):
        ids, weights, block_values = blocks.decode(b)
        id_blocks.append(ids)
        weight_blocks.append(_weights(weights, len(ids)))
        values.extend(block_values or ())
    return np.concatenate(id_blocks), np.concatenate(weight_blocks), values


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
