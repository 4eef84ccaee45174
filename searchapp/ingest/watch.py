"""`searchapp watch`: poll feeds, fetch new article pages, add them to the live index.

State lives beside the index, in `<index>.watch/`:

    watch.sqlite   feeds (conditional-GET validators, last error) and every URL
                   seen (new / fetched / added / skipped / failed, attempts, reason)
    spool/*.jsonl  the articles fetched, one corpus file per batch; kept, since
                   the engine indexes its `add`ed files again on a rebuild
    .lock          flock held by the running watcher

The durable path of a batch: the extracted articles are written to a spool
file (temp name, fsync, rename), its URLs are marked `fetched` with the file's
name in one transaction, then `engine.add([file])`, then file and URLs are
marked added in one transaction. A kill at any step loses nothing: a spool
file not marked added is added again at the next start (`add` replaces by id,
so nothing is doubled), and a URL still `new` is fetched again.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.engine.base import Engine
from searchapp.errors import SearchappError
from searchapp.ingest import feeds as feedlib
from searchapp.ingest.corpus import Article, Skipped
from searchapp.ingest.fetcher import Failure, Fetched, Fetcher
from searchapp.ingest.html import article_from_html

STATE_SUFFIX = ".watch"
DB_NAME = "watch.sqlite"
BATCH = 100  # articles per spool file (one `add`: ~0.2 s of its cost is per add, bench/watch.py)
FLUSH_SECONDS = 30.0  # or fewer, when fetching them took this long (a polite delay): searchable sooner
MAX_ATTEMPTS = 3  # polls that try a URL failing transiently
FEED_MAX_BYTES = 50 * 1024 * 1024  # the sitemap protocol's limit
MAX_SITEMAP_DEPTH = 2  # a sitemap index of sitemap indexes, no deeper
HTML_TYPES = ("text/html", "application/xhtml+xml", "")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, parent TEXT, kind TEXT, etag TEXT, last_modified TEXT,
    last_polled REAL, last_error TEXT);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, feed TEXT, title TEXT, published TEXT, first_seen REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'new', attempts INTEGER NOT NULL DEFAULT 0, retry INTEGER NOT NULL DEFAULT 1,
    reason TEXT, article_id TEXT, spool TEXT, updated REAL);
CREATE INDEX IF NOT EXISTS urls_state ON urls (state);
CREATE TABLE IF NOT EXISTS spool (name TEXT PRIMARY KEY, created REAL NOT NULL, articles INTEGER, added REAL);
"""


class WatchError(SearchappError):
    """A feeds file or state folder that cannot be used."""


def state_dir(index_dir: str | os.PathLike) -> Path:
    index_dir = Path(index_dir)
    return index_dir.parent / (index_dir.name + STATE_SUFFIX)


def read_feed_list(path: str | os.PathLike) -> list[str]:
    """The feed and sitemap URLs of a file, one a line (blank lines and # comments ignored)."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise WatchError(f"feeds file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchError(f"cannot read the feeds file {path}: {exc}") from None
    urls, bad = [], []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        (urls if line.startswith(("http://", "https://")) else bad).append(line)
    if bad:
        raise WatchError(f"{path}: not an http(s) URL: {bad[0]!r}")
    if not urls:
        raise WatchError(f"no feed URLs in {path} (one RSS/Atom feed or sitemap URL a line)")
    return list(dict.fromkeys(urls))


@dataclass
class PollReport:
    number: int = 0
    feeds: int = 0
    unchanged: int = 0  # feeds answering 304
    feed_errors: int = 0
    new_urls: int = 0
    fetched: int = 0
    added: int = 0
    skipped: int = 0
    failed: int = 0
    waiting: int = 0  # URLs left for a later poll (transient failures)
    recovered: int = 0  # articles of spool files a previous run had not added
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # the feeds file unreadable, the index busy (the batch waits)

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    def line(self) -> str:
        text = (f"poll {self.number}: {self.feeds} feeds ({self.unchanged} unchanged, {self.feed_errors} failed), "
                f"{self.new_urls} new urls, fetched {self.fetched}, added {self.added}, skipped {self.skipped}, "
                f"failed {self.failed}, {self.waiting} to retry, {self.seconds:.1f} s")
        if self.recovered:
            text += f"; {self.recovered} articles of an interrupted run added"
        return text + (f"; {self.error}" if self.error else "")


def _record(article: Article) -> dict:
    return {"id": article.id, "title": article.title, "outlet": article.outlet,
            "published": article.published.isoformat() if article.published else None,
            "category": article.category, "url": article.url, "body": article.body,
            **{k: v for k, v in (article.extra or {}).items() if isinstance(k, str)}}


class Watcher:
    """Polls the feeds of a file into an engine's live index; state in `state`."""

    def __init__(self, engine: Engine, feeds_file: str | os.PathLike, *, state: str | os.PathLike | None = None,
                 fetcher: Fetcher | None = None, batch: int = BATCH, flush_seconds: float = FLUSH_SECONDS,
                 max_attempts: int = MAX_ATTEMPTS,
                 log: Callable[[str], None] | None = None, stop: threading.Event | None = None):
        self.engine = engine
        self.feeds_file = Path(feeds_file)
        self._feeds = read_feed_list(self.feeds_file)  # a clear message now, not at the first poll
        self.state = Path(state) if state else state_dir(engine.location)
        self.spool = self.state / "spool"
        self.fetcher = fetcher or Fetcher()
        self.batch = batch
        self.flush_seconds = flush_seconds
        self.max_attempts = max_attempts
        self.log = log or (lambda _line: None)
        self.stop = stop or threading.Event()
        self.polls = 0
        self._seq = 0
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.state / ".lock", "a+")
        except OSError as exc:
            raise WatchError(f"cannot use the state folder {self.state}: {exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise WatchError(f"another 'searchapp watch' is using {self.state}") from None
        self.db = sqlite3.connect(self.state / DB_NAME, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a killed process loses no commit
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # --- the loop ---------------------------------------------------------------

    def run(self, interval: float, once: bool = False) -> None:
        """Poll every `interval` seconds (from the start of one poll to the next) until stopped."""
        while not self.stop.is_set():
            started = time.monotonic()
            self.poll()
            if once:
                return
            self.stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def poll(self) -> PollReport:
        """One round: finish an interrupted run's spool, read the feeds, fetch and add what is new."""
        self.polls += 1
        report = PollReport(number=self.polls)
        start = time.monotonic()
        report.recovered = self._recover(report)
        try:  # read at each poll: edits take effect without a restart
            self._feeds = read_feed_list(self.feeds_file)
        except WatchError as exc:
            report.errors.append(f"{exc}; polling the {len(self._feeds)} feeds read before")
        for url in self._feeds:
            if self.stop.is_set():
                break
            self._poll_feed(url, None, 0, report)
        self._fetch_due(report)
        report.waiting = self.db.execute(
            "SELECT count(*) FROM urls WHERE state = 'failed' AND retry = 1 AND attempts < ?",
            (self.max_attempts,)).fetchone()[0]
        report.seconds = time.monotonic() - start
        self.log(report.line())
        return report

    # --- feeds ------------------------------------------------------------------

    def _poll_feed(self, url: str, parent: str | None, depth: int, report: PollReport) -> None:
        report.feeds += 1
        row = self.db.execute("SELECT etag, last_modified FROM feeds WHERE url = ?", (url,)).fetchone()
        etag, modified = row if row else (None, None)
        answer = self.fetcher.get(url, etag=etag, last_modified=modified, max_bytes=FEED_MAX_BYTES)
        now = time.time()
        parsed: feedlib.Feed | feedlib.FeedError | None = None
        warning = None
        if isinstance(answer, Failure):
            error = answer.reason
        elif answer.status == 304:
            report.unchanged += 1
            error = None
        else:
            parsed = feedlib.parse(answer.body, answer.url)
            error = parsed.reason if isinstance(parsed, feedlib.FeedError) else None
            if error is None and parsed.warning:
                warning = parsed.warning
        if error:
            report.feed_errors += 1
        keep = isinstance(parsed, feedlib.Feed)  # validators only of a feed read whole
        with self.db:
            self.db.execute(
                "INSERT INTO feeds (url, parent, kind, etag, last_modified, last_polled, last_error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET last_polled = excluded.last_polled, "
                "last_error = excluded.last_error, parent = excluded.parent, "
                "kind = coalesce(excluded.kind, kind), etag = CASE WHEN ? THEN excluded.etag ELSE etag END, "
                "last_modified = CASE WHEN ? THEN excluded.last_modified ELSE last_modified END",
                (url, parent, parsed.kind if keep else None, answer.etag if keep else None,
                 answer.last_modified if keep else None, now, error or warning, keep, keep))
            if keep:
                for entry in parsed.entries:
                    cur = self.db.execute(
                        "INSERT OR IGNORE INTO urls (url, feed, title, published, first_seen) VALUES (?, ?, ?, ?, ?)",
                        (entry.url, url, entry.title, entry.published.isoformat() if entry.published else None, now))
                    report.new_urls += cur.rowcount
        if keep and depth < MAX_SITEMAP_DEPTH:
            for child in parsed.sitemaps:
                if not self.stop.is_set():
                    self._poll_feed(child, url, depth + 1, report)

    # --- pages ------------------------------------------------------------------

    def _fetch_due(self, report: PollReport) -> None:
        due = [u for (u,) in self.db.execute(
            "SELECT url FROM urls WHERE state = 'new' OR (state = 'failed' AND retry = 1 AND attempts < ?) "
            "ORDER BY first_seen, rowid", (self.max_attempts,))]
        batch: list[tuple[str, Article]] = []
        started = time.monotonic()
        for url in due:
            if self.stop.is_set():
                break
            article = self._fetch_page(url, report)
            if article is not None:
                if not batch:
                    started = time.monotonic()
                batch.append((url, article))
            if batch and (len(batch) >= self.batch or time.monotonic() - started >= self.flush_seconds):
                self._add(batch, report)
                batch = []
        if batch:
            self._add(batch, report)

    def _fetch_page(self, url: str, report: PollReport) -> Article | None:
        answer = self.fetcher.get(url)
        if isinstance(answer, Fetched) and answer.content_type not in HTML_TYPES:
            answer = Skipped(url, f"not an HTML page ({answer.content_type})")
        elif isinstance(answer, Fetched):
            report.fetched += 1
            try:
                answer = article_from_html(answer.body, answer.url, url)
            except Exception as exc:  # a page the extractor chokes on is that page's failure only
                answer = Failure(url, f"extraction failed: {exc.__class__.__name__}: {exc}")
        if isinstance(answer, Article):
            return answer
        if isinstance(answer, Failure) and not answer.robots:
            state, retry, reason = "failed", int(answer.retry), answer.reason
            report.failed += 1
        else:
            state, retry, reason = "skipped", 0, answer.reason
            report.skipped += 1
        with self.db:
            self.db.execute("UPDATE urls SET state = ?, retry = ?, reason = ?, attempts = attempts + 1, updated = ? "
                            "WHERE url = ?", (state, retry, reason, time.time(), url))
        return None

    def _add(self, batch: list[tuple[str, Article]], report: PollReport) -> None:
        """The durable path: spool file, URLs fetched, engine.add, all marked added."""
        self._seq += 1
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{self._seq:05d}.jsonl"
        path = self.spool / name
        tmp = self.spool / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            for _url, article in batch:
                fh.write(json.dumps(_record(article), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.spool)
        now = time.time()
        with self.db:
            self.db.execute("INSERT INTO spool (name, created, articles) VALUES (?, ?, ?)", (name, now, len(batch)))
            self.db.executemany(
                "UPDATE urls SET state = 'fetched', spool = ?, article_id = ?, reason = NULL, "
                "attempts = attempts + 1, updated = ? WHERE url = ?",
                [(name, article.id, now, url) for url, article in batch])
        report.added += self._index(name, report)

    def _index(self, name: str, report: PollReport) -> int:
        """Add a spool file to the live index and mark it added; 0 when the index cannot take it now."""
        path = self.spool / name
        try:
            if not self.engine.exists():  # a watch-only index: its first batch builds it
                self.engine.rebuild([path], procs=1)
            indexed = self.engine.add([path]).indexed  # (also what a later rebuild indexes again)
        except SearchappError as exc:  # busy (another rebuild or add), or the engine refused: next poll
            report.errors.append(f"index not updated ({exc}); the articles wait in {path}")
            return 0
        now = time.time()
        with self.db:
            self.db.execute("INSERT INTO spool (name, created, added) VALUES (?, ?, ?) "
                            "ON CONFLICT (name) DO UPDATE SET added = excluded.added", (name, now, now))
            self.db.execute("UPDATE urls SET state = 'added', updated = ? WHERE spool = ?", (now, name))
        return indexed

    def _recover(self, report: PollReport) -> int:
        """Add the spool files a previous run wrote but had not marked added."""
        for tmp in self.spool.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)  # a batch cut short while written: its URLs are still `new`
        done = {n for (n,) in self.db.execute("SELECT name FROM spool WHERE added IS NOT NULL")}
        recovered = 0
        for path in sorted(self.spool.glob("*.jsonl")):
            if path.name not in done:
                recovered += self._index(path.name, report)
        return recovered

    # --- reading the state -------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, count(*) FROM urls GROUP BY state").fetchall())

    def urls(self, state: str | None = None) -> list[dict]:
        self.db.row_factory = sqlite3.Row
        try:
            rows = self.db.execute("SELECT * FROM urls" + (" WHERE state = ?" if state else "") + " ORDER BY rowid",
                                   (state,) if state else ()).fetchall()
        finally:
            self.db.row_factory = None
        return [dict(r) for r in rows]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
