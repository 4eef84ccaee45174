"""Articles from web archives (.warc, .warc.gz) with warcio.

A crawl keeps every fetched page as a `response` record. Each HTML response
with status 200 goes through `article_from_html` with the record's target URI
as its URL; other responses (images, redirects, 404s) are reported as skipped,
and request, metadata and warcinfo records are ignored: they never were
articles. A truncated or corrupt archive ends with one `Skipped` for the rest.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from searchapp.ingest.corpus import MAX_ARTICLE_BYTES, Article, Skipped
from searchapp.ingest.html import article_from_html, decode_html

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# What a damaged archive raises while being read.
_BROKEN = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error)


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _response(record, path: Path, offset: int) -> Article | Skipped:
    record_id = record.rec_headers.get_header("WARC-Record-ID") or f"offset {offset}"
    source = f"{path}#{record_id.strip('<>')}"
    url = record.rec_headers.get_header("WARC-Target-URI")
    if record.http_headers is None:
        return Skipped(source, f"response without HTTP headers ({url})")
    status = record.http_headers.get_statuscode()
    if status != "200":
        return Skipped(source, f"HTTP status {status} ({url})")
    content_type = record.http_headers.get_header("Content-Type") or ""
    if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
        return Skipped(source, f"not HTML ({content_type or 'no content type'}, {url})")
    data = record.content_stream().read(MAX_ARTICLE_BYTES + 1)
    if len(data) > MAX_ARTICLE_BYTES:
        return Skipped(source, f"too large for one page (> {MAX_ARTICLE_BYTES} bytes, {url})")
    if getattr(record.raw_stream, "limit", 0) > 0:  # warcio reads a cut-off record without complaint
        return Skipped(source, f"truncated record: the archive ends inside it ({url})")
    return article_from_html(decode_html(data, _charset(content_type)), url, source)


def read_warc(path: Path) -> Iterator[Article | Skipped]:
    """Every HTML response of the archive as an Article or Skipped, in archive order."""
    offset = 0
    try:
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                if record.rec_type == "response":
                    yield _response(record, path, offset)
                # Only after the payload is read: asking warcio for the offset reads the record to its end.
                offset = records.get_record_offset() + records.get_record_length()
    except _BROKEN as exc:
        yield Skipped(f"{path}#offset {offset}", f"unreadable WARC from byte {offset} on: {type(exc).__name__}: {exc}")


def count_responses(path: Path) -> int:
    """Response records in the archive (payloads are skipped, not parsed): for progress bars."""
    total = 0
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                total += record.rec_type == "response"
    except _BROKEN:
        total += 1  # the Skipped for the unreadable rest
    return total
