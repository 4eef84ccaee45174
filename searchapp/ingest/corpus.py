"""Reading articles from .txt, JSON lines, CSV, HTML and WARC files.

Every file (or line) becomes either an `Article` or a `Skipped` with a reason:
nothing is dropped silently. Raw .txt news is cleaned the way a reader sees it:
headline, outlet, publication date, and a body without site boilerplate.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from searchapp.ingest import outlets, repair
from searchapp.errors import SearchappError

MAX_ARTICLE_BYTES = 5 * 1024 * 1024
SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".csv", ".html", ".htm", ".warc", ".warc.gz")
FIELDS = ("id", "title", "outlet", "published", "category", "url", "body")


class CorpusError(SearchappError):
    """A corpus path that cannot be used at all (missing, not a corpus file)."""


@dataclass
class Article:
    id: str
    body: str
    title: str | None = None
    outlet: str | None = None
    published: date | None = None
    category: str | None = None
    url: str | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)
    repaired: tuple[str, ...] = ()  # what reading repaired in its text (ingest.repair.KINDS)


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


# --- dates -----------------------------------------------------------------

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7,
    "jul": 7, "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11, "nopember": 11, "desember": 12, "des": 12, "dec": 12,
}
_DAY = r"(?:Senin|Selasa|Rabu|Kamis|Jumat|Jum'at|Sabtu|Minggu|Ahad)"
_NUMERIC_DATE_RE = re.compile(r"\((\d{1,2})/(\d{1,2})/(\d{4})\)")
_WORD_DATE_RE = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{4})\b",
    re.IGNORECASE,
)
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        d = date(year, month, day)
    except ValueError:
        return None
    return d if 1900 <= d.year <= 2100 else None


def find_date(text: str, within: int = 3000) -> date | None:
    """The publication date written in the text, if any.

    Indonesian outlets write it as "Kamis (21/10/2021)", "(8/7/2021)" or
    "8 Oktober 2021"; the earliest such mention near the top is the dateline.
    Dates without a year ("9 Oktober") say nothing about publication.
    """
    head = text[:within]
    found = []
    for m in _NUMERIC_DATE_RE.finditer(head):
        d = _make_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if d:
            found.append((m.start(), d))
            break
    for m in _WORD_DATE_RE.finditer(head):
        d = _make_date(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        if d:
            found.append((m.start(), d))
            break
    return min(found)[1] if found else None


def parse_date(value) -> date | None:
    """A metadata date: ISO date or datetime, or an Indonesian written date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    m = _ISO_DATE_RE.match(text)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if m:
        return _make_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return find_date(text)


# --- .txt boilerplate ------------------------------------------------------

_CREDIT_WORDS = {"penulis", "editor", "reporter", "pewarta", "penyunting"}
_VIEWS_RE = re.compile(r"^([^\W\d_][^\d]*?)\d*\s+views?$", re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", '"', "”", "’", "'")


def _is_menu_line(line: str) -> bool:
    return len(line.split()) <= 3 and not line.endswith(_SENTENCE_END) and len(line) <= 30


_DASH_RE = re.compile(r"\s+[-–—]+\s*|\s*[-–—]+\s+|[–—]")


def _split_dateline(line: str) -> tuple[str | None, str]:
    """("Warta Ekonomi", rest) for a line opening with an outlet dateline.

    Datelines look like "Inionline.id – Dalam ...", "Warta Ekonomi, Moskow -",
    "JAKARTA, KOMPAS.com - ..." or "Intisari - Online.com -Taliban ...": the
    longest head before a spaced dash that names a known outlet.
    """
    dashes = [m for m in _DASH_RE.finditer(line[:80]) if 2 <= m.start() <= 60]
    for m in reversed(dashes):
        outlet = outlets.detect(line[: m.end()])
        if outlet:
            return outlet, line[m.end():].strip()
    return None, line


def parse_txt(text: str) -> dict:
    """Headline, outlet, date, category and clean body of a raw news page."""
    raw = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while raw and not raw[0]:
        raw.pop(0)
    block = raw.index("") if "" in raw else len(raw)
    if block >= 3 and all(_is_menu_line(ln) for ln in raw[:block]):
        raw = raw[block:]  # a site menu: a leading block of several short lines
    lines = [ln for ln in raw if ln]
    title = None
    category = None
    outlet = None
    body: list[str] = []
    for i, line in enumerate(lines):
        if repair.is_boilerplate(line):
            views = _VIEWS_RE.match(line)
            if views and category is None:
                category = views.group(1).strip()
            continue
        if line.lower() in _CREDIT_WORDS:
            if body and len(body[-1].split()) <= 5 and not body[-1].endswith(_SENTENCE_END):
                body.pop()
            continue
        if outlet is None:
            found, rest = _split_dateline(line)
            if found:
                outlet = found
                if rest:
                    body.append(rest)
                continue
        if title is None and i == 0 and len(line) <= 200 and (
            not line.endswith(".") or line.endswith("...")
        ):
            title = line
            continue
        if title and line.startswith(title):
            continue  # the headline repeated over a photo caption
        body.append(line)
    joined = "\n\n".join(body)
    return {
        "title": title,
        "outlet": outlet or outlets.detect(text),
        "published": find_date(joined),
        "category": category,
        "body": joined,
    }


# --- readers ---------------------------------------------------------------


def stable_id(*parts: str | None) -> str:
    """An id from what identifies an article when its record has none (a page's URL; a record's url, title, body)."""
    digest = hashlib.sha1("\x1f".join(p or "" for p in parts).encode("utf-8"))
    return digest.hexdigest()[:16]


def _clean(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def article_from_record(record: dict, source: str) -> Article | Skipped:
    """An Article from a JSON/CSV record with the standard fields."""
    if not isinstance(record, dict):
        return Skipped(source, "record is not an object")
    body = repair.repair(_clean(record.get("body")) or "")
    title = repair.repair_line(_clean(record.get("title")) or "")
    if not body.text and not title.text:
        return Skipped(source, "no title and no body")
    url = _clean(record.get("url"))
    published_raw = record.get("published")
    published = parse_date(published_raw)
    extra = {k: v for k, v in record.items() if k not in FIELDS}
    if published is None and _clean(published_raw):
        extra["published_raw"] = published_raw
    raw_outlet = _clean(record.get("outlet"))
    outlet = outlets.canonical(raw_outlet) if raw_outlet else outlets.from_url(url)
    return Article(
        id=_clean(record.get("id")) or stable_id(url, _clean(record.get("title")), _clean(record.get("body")) or ""),
        title=title.text or None,
        body=body.text,
        outlet=outlet,
        published=published,
        category=_clean(record.get("category")),
        url=url,
        source=source,
        extra=extra,
        repaired=tuple(k for k in repair.KINDS if k in body.kinds or k in title.kinds),
    )


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (bad byte at offset {exc.start})") from None


def read_txt(path: Path) -> Article | Skipped:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            return Skipped(source, f"too large for one article ({size} bytes > {MAX_ARTICLE_BYTES})")
        text = _decode(path.read_bytes())
    except (OSError, ValueError) as exc:
        return Skipped(source, str(exc))
    if not text.strip():
        return Skipped(source, "empty file")
    fields = parse_txt(text)
    if not fields["body"] and not fields["title"]:
        return Skipped(source, "no article text after removing boilerplate")
    overrides = read_sidecar(path)
    if isinstance(overrides, Skipped):
        return overrides
    return article_from_record({"id": path.stem, **fields, **overrides}, source)


def read_sidecar(path: Path) -> dict | Skipped:
    """The fields a NAME.json beside a one-article file (.txt, .html) overrides, or why it cannot."""
    sidecar = path.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        overrides = json.loads(sidecar.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return Skipped(str(path), f"sidecar {sidecar.name} unreadable: {exc}")
    if not isinstance(overrides, dict):
        return Skipped(str(path), f"sidecar {sidecar.name} is not a JSON object")
    return overrides


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_jsonl(path: Path) -> Iterator[Article | Skipped]:
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                source = f"{path}:{lineno}"
                if not line.strip():
                    continue
                if len(line) > MAX_ARTICLE_BYTES:
                    yield Skipped(source, "line too large for one article")
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    yield Skipped(source, f"invalid JSON: {exc}")
                    continue
                yield article_from_record(record, source)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        yield Skipped(str(path), f"unreadable: {exc}")


def read_csv(path: Path) -> Iterator[Article | Skipped]:
    csv.field_size_limit(MAX_ARTICLE_BYTES)
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"body", "title"} & set(reader.fieldnames):
                yield Skipped(str(path), "CSV has no header with a 'body' or 'title' column")
                return
            for row in reader:
                source = f"{path}:{reader.line_num}"
                row.pop(None, None)
                yield article_from_record(row, source)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        yield Skipped(str(path), f"unreadable: {exc}")


def corpus_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """The corpus files under the given files or folders, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.name.endswith(SUFFIXES) and not child.name.startswith("."):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise CorpusError(f"corpus path not found: {path}")


def read_file(path: Path) -> Iterator[Article | Skipped]:
    name = path.name.lower()
    if name.endswith(".txt"):
        yield read_txt(path)
    elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        yield from read_jsonl(path)
    elif name.endswith((".csv", ".csv.gz")):
        yield from read_csv(path)
    elif name.endswith((".html", ".htm")):
        from searchapp.ingest.html import read_html  # trafilatura and lxml only load when a corpus has pages

        yield from read_html(path)
    elif name.endswith((".warc", ".warc.gz")):
        from searchapp.ingest.warc import read_warc

        yield from read_warc(path)
    else:
        yield Skipped(str(path), "not a corpus file (.txt, .jsonl, .jsonl.gz, .csv, .html, .htm, .warc or .warc.gz)")


def read_corpus(paths: Iterable[str | os.PathLike]) -> Iterator[Article | Skipped]:
    """Every article under the paths, or the reason a file or line was skipped."""
    for path in corpus_files(paths):
        yield from read_file(path)


def unique_ids(items: Iterable[Article | Skipped]) -> Iterator[Article | Skipped]:
    """First article with an id wins; later ones are reported, not dropped silently."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, Article):
            if item.id in seen:
                item = Skipped(item.source, f"duplicate id {item.id!r}, first in {seen[item.id]}")
            else:
                seen[item.id] = item.source
        yield item


def read_unique(files: Iterable[Path]) -> Iterator[Article | Skipped]:
    """Every article of the corpus files, the first of each id (later ones reported): what a build indexes."""
    return unique_ids(item for f in files for item in read_file(f))


def count_repairs(items: Iterable[Article | Skipped], counts: Counter[str]) -> Iterator[Article | Skipped]:
    """The items, counting into `counts` the articles reading repaired, per kind (as a build goes)."""
    for item in items:
        if isinstance(item, Article):
            counts.update(item.repaired)
        yield item


def count_articles(paths: Iterable[str | os.PathLike]) -> int:
    """A quick count of the articles under the paths, for progress bars."""
    total = 0
    for path in corpus_files(paths):
        name = path.name.lower()
        if name.endswith((".txt", ".html", ".htm")):
            total += 1
            continue
        if name.endswith((".warc", ".warc.gz")):
            from searchapp.ingest.warc import count_responses

            total += count_responses(path)
            continue
        opener = gzip.open if name.endswith(".gz") else open
        try:
            with opener(path, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        except OSError:
            total += 1
    return total
