"""A read-only Whoosh FileStorage whose files many threads can read at once.

Whoosh's FileStorage(supports_mmap=False).open_file wraps one Python file
object in a StructFile, and every read in Whoosh's read path is a seek()
followed by read()s on it (StructFile.get, W3LeafMatcher._goto + read_int +
read_pickle + tell, HashReader, column readers). One shared file position means
two threads interleave seeks and read each other's bytes. A compound segment
(.seg) is no better: CompoundStorage.open_file hands out StructFile.subset()
views, i.e. compound.SubFile objects, whose own `_pos` is shared too.

Here each opened file is a `PreadFile`: a window (offset, length) on an OS file
read with os.pread, which takes the offset as an argument and leaves the kernel
file position alone, so the only state a read depends on is this object's
position, which is kept per thread (threading.local). `subset()` returns
another window on the same OS file, so a compound segment's sub-files are
per-thread too and share one descriptor.

No `fileno` attribute, on purpose: StructFile sets `is_real` (and copies
`fileno`) only when the wrapped object has one, and CompoundStorage only tries
mmap when the StructFile has `fileno`. Without it StructFile.read_array reads
through `read()`, and mmap is never attempted (supports_mmap is also False).

Closing never frees a descriptor under a running read: close() only drops this
window's reference to the io.FileIO; the descriptor is closed by the FileIO
itself once the last window referencing it is closed or collected (each read
holds a reference for its duration). So a descriptor number can't be reused by
another open() while a late read is still using it.

POSIX only (os.pread). Writes are not supported through these files; the
storage is read-only by default (create_file etc. raise ReadOnlyError).
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class PreadFile:
    """A read-only, seekable window on an OS file with a per-thread position.

    Provides what StructFile, pickle.load and CompoundStorage call on a
    wrapped file: read, readinto, readline, seek (whence 0/1/2), tell,
    close, closed, name, and subset."""

    def __init__(self, raw: io.FileIO, offset: int, length: int, name: str | None = None):
        self._raw: io.FileIO | None = raw
        self._offset = offset
        self._length = length
        self._local = threading.local()  # .pos: this thread's position in the window
        self.name = name

    # -- position (per thread) ---------------------------------------------

    def tell(self) -> int:
        return getattr(self._local, "pos", 0)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            pos += self.tell()
        elif whence == os.SEEK_END:
            pos += self._length
        elif whence != os.SEEK_SET:
            raise ValueError(f"invalid whence {whence!r}")
        if pos < 0:
            raise OSError(22, "negative seek position")
        self._local.pos = pos
        return pos

    # -- reading --------------------------------------------------------------

    def pread(self, pos: int, size: int) -> bytes:
        """Up to `size` bytes at `pos` in the window; touches no position."""
        raw = self._raw  # held for the whole read: the descriptor stays open
        if raw is None:
            raise ValueError(f"I/O operation on closed file {self.name!r}")
        size = min(size, self._length - pos)
        if size <= 0:
            return b""
        fd, at = raw.fileno(), self._offset + pos
        data = os.pread(fd, size, at)
        if len(data) < size:  # short read (e.g. signal): collect the rest
            parts = [data]
            got = len(data)
            while got < size:
                more = os.pread(fd, size - got, at + got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        return data

    def read(self, size: int | None = -1) -> bytes:
        pos = self.tell()
        if size is None or size < 0:
            size = self._length - pos
        data = self.pread(pos, size)
        self._local.pos = pos + len(data)
        return data

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        """Needed by pickle.load (Unpickler requires the attribute)."""
        pos = self.tell()
        limit = self._length - pos if size is None or size < 0 else min(size, self._length - pos)
        out = bytearray()
        while len(out) < limit:
            chunk = self.pread(pos + len(out), min(256, limit - len(out)))
            if not chunk:
                break
            nl = chunk.find(b"\n")
            if nl >= 0:
                out += chunk[: nl + 1]
                break
            out += chunk
        self._local.pos = pos + len(out)
        return bytes(out)

    def subset(self, position: int, length: int, name: str | None = None) -> PreadFile:
        """A window on this window's bytes [position, position+length)."""
        if self._raw is None:
            raise ValueError(f"I/O operation on closed file {self.name!r}")
        if position < 0 or length < 0 or position + length > self._length:
            raise ValueError(f"subset {position}+{length} outside a {self._length}-byte file")
        return PreadFile(self._raw, self._offset + position, length, name or self.name)

    # -- file protocol --------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._raw is None

    def close(self) -> None:
        """Drop this window's reference; the FileIO closes its descriptor when
        no window (and no in-flight read) references it any more."""
        self._raw = None

    def __iter__(self):  # lines, like a file (copyfileobj/ChecksumFile use it)
        return iter(lambda: self.readline(), b"")

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"<PreadFile {self.name!r} [{self._offset}:+{self._length}]>"


class PreadStructFile(StructFile):
    """A StructFile over a PreadFile: subset() stays a PreadFile (not a
    compound.SubFile, whose position is shared), and get() reads with one
    pread instead of seek()+read()."""

    def subset(self, offset: int, length: int, name: str | None = None) -> PreadStructFile:
        return PreadStructFile(self.file.subset(offset, length), name=name or self._name)

    def get(self, position: int, length: int) -> bytes:
        # Same end state as StructFile.get (seek then read): position after the bytes.
        data = self.file.pread(position, length)
        self.file._local.pos = position + len(data)
        return data


class ThreadSafeFileStorage(FileStorage):
    """FileStorage for concurrent reading: open_file returns a PreadStructFile.

    mmap is always off (see the module docstring), read-only by default."""

    def __init__(self, path: str, readonly: bool = True, debug: bool = False, **_ignored: Any):
        super().__init__(path, supports_mmap=False, readonly=readonly, debug=debug)

    def open_file(self, name: str, **kwargs: Any) -> PreadStructFile:
        kwargs.pop("mapped", None)  # passed by old filedb code; meaningless here
        raw = io.FileIO(self._fpath(name), "r")
        length = os.fstat(raw.fileno()).st_size
        return PreadStructFile(PreadFile(raw, 0, length, name), name=name, **kwargs)


def warm(searcher: Any) -> None:
    """Build, in the opening thread, the per-segment readers Whoosh otherwise
    builds lazily on first use, unlocked (W3PerDocReader._cached_reader,
    .column_reader's file cache, SegmentReader.deleted_docs_set). Not needed for
    correct answers (a race there builds an equal object twice), but it avoids
    the duplicated reads, a stray open file per race, and first-query latency."""
    for leaf, _base in searcher.reader().leaf_readers():
        perdoc = getattr(leaf, "_perdoc", None)
        if perdoc is None or not hasattr(perdoc, "_cached_reader"):
            continue  # not a W3 segment
        perdoc._cached_reader("_stored", STORED_COLUMN)
        for name, field in leaf.schema.items():
            if field.scorable:
                perdoc._cached_reader(_lenfield(name), LENGTHS_COLUMN)
            if field.column_type and perdoc.has_column(name):
                perdoc.column_reader(name, field.column_type)  # opens and caches the column file
        leaf.deleted_docs_set  # noqa: B018 - cached_property
