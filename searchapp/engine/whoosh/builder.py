"""Building the index: a rebuild that never breaks search, and incremental add.

Layout of an index directory::

    index/CURRENT          name of the live build (switched with os.replace)
    index/PREVIOUS         name of the build before it, kept for rollback
    index/build-*/         Whoosh indexes, one per rebuild
    index/added.json       files given to `add`, re-read by every rebuild
    index/.lock            flock held by a running rebuild or add

A rebuild writes a new build directory, checks it, then switches CURRENT.
A killed rebuild leaves only an orphan directory, removed by the next one;
the flock dies with its process, so nothing needs cleaning by hand.
"""

from __future__ import annotations

import ctypes
import fcntl
import gzip
import json
import multiprocessing
import os
import queue
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from searchapp.text import analysis
from searchapp.ingest import corpus
from searchapp.facets import topics
from searchapp.facets.actors import Gazetteer
from searchapp.ingest.corpus import Article, Skipped
from searchapp.errors import SearchappError
from searchapp.engine.whoosh.schema import LEAD_TERMS, build_schema
from searchapp.engine.whoosh.segments import SegmentSeries
from searchapp.text.synonyms import Synonyms

CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
ADDED = "added.json"
LOCK = ".lock"
BUILD_PREFIX = "build-"
ACTORS_DIR = "actors"
SYNONYMS_DIR = "synonyms"
NAMES = "names.tsv"
FORMS = "forms.tsv"
STEMS = "stems.tsv"
BATCH = 64
PARALLEL_MIN_FILES_BYTES = 2_000_000
SEGMENT_BYTES = 160_000_000  # postings a rebuild process holds before it writes a segment

Progress = Callable[[int], None]


class IndexerError(SearchappError):
    """A rebuild or add that could not be done; the live index is untouched."""


class IndexBusy(IndexerError):
    """Another rebuild or add holds the index lock."""


class NoIndex(IndexerError):
    """No live index yet."""


@dataclass
class BuildReport:
    indexed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    build: str = ""
    documents: int = 0

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        line = (
            f"indexed {self.indexed} articles in {self.seconds:.1f} s "
            f"({self.docs_per_second:.0f} docs/s), skipped {len(self.skipped)}; "
            f"index holds {self.documents} documents"
        )
        return line


# --- the live pointer --------------------------------------------------------


def _read_pointer(index_dir: Path, name: str) -> str | None:
    try:
        value = (index_dir / name).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def _write_pointer(index_dir: Path, name: str, value: str) -> None:
    tmp = index_dir / f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / name)


def open_build(build_dir: str | os.PathLike, readonly: bool = False):
    """The Whoosh index of a build, read through plain file reads: with mmap,
    Whoosh copies every part of a segment it opens into a BytesIO (the whole
    index in each process: 1.9 GB in a 10x rebuild's final count check)."""
    return FileStorage(str(build_dir), supports_mmap=False, readonly=readonly).open_index()


def live_build(index_dir: str | os.PathLike) -> Path:
    """The directory of the live build, or NoIndex."""
    index_dir = Path(index_dir)
    name = _read_pointer(index_dir, CURRENT)
    if not name or not (index_dir / name).is_dir():
        raise NoIndex(f"no index in {index_dir}: run 'searchapp rebuild' first")
    return index_dir / name


def build_actor_files(build_dir: Path) -> list[str]:
    """The user gazetteer files a build was made with (copied into it)."""
    return sorted(str(p) for p in (build_dir / ACTORS_DIR).glob("*"))


def load_gazetteer(build_dir: Path) -> Gazetteer:
    """The gazetteer a build was made with: packaged plus its user files."""
    return Gazetteer.load(build_actor_files(build_dir))


def load_synonyms(build_dir: Path) -> Synonyms:
    """The abbreviation table a build was made with: packaged plus its user files."""
    return Synonyms.load(sorted(str(p) for p in (build_dir / SYNONYMS_DIR).glob("*")))


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(index_dir / LOCK, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IndexBusy(
                f"another rebuild or add is running on {index_dir} ({holder}); try again when it ends"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield
    finally:
        fh.close()


def _remove_orphans(index_dir: Path) -> None:
    keep = {_read_pointer(index_dir, CURRENT), _read_pointer(index_dir, PREVIOUS)}
    for child in index_dir.iterdir():
        if child.name.startswith(BUILD_PREFIX) and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)
    for tmp in index_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


# --- preparing documents (in worker processes) ------------------------------

def _write_table(path: Path, rows: Iterable[tuple]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join("\t".join(map(str, row)) + "\n" for row in rows), "utf-8")
    os.replace(tmp, path)


def _write_names(build_dir: Path, counts: Counter[str], forms: Counter[tuple[str, str]]) -> None:
    """Words seen written as names, and the written forms of each stem (with
    article counts): the searcher reads both."""
    names = load_names(build_dir) + counts
    _write_table(build_dir / NAMES, sorted(names.items()))
    merged = load_forms(build_dir) + forms
    _write_table(build_dir / FORMS, ((s, w, n) for (s, w), n in sorted(merged.items())))


def load_forms(build_dir: Path) -> Counter[tuple[str, str]]:
    """(stem, written form) → number of articles using that form."""
    try:
        text = (build_dir / FORMS).read_text("utf-8")
    except FileNotFoundError:
        return Counter()
    rows = (line.split("\t") for line in text.splitlines())
    return Counter({(s, w): int(n) for s, w, n in rows})


def _load_stems(index_dir: Path) -> dict[str, str]:
    """The stems earlier builds worked out (word → stem).

    Sastrawi costs ~0.3 ms per new word; a rebuild of the same corpus then
    stems nothing twice. The file is ignored when the exception table changed.
    """
    try:
        with open(index_dir / STEMS, encoding="utf-8") as fh:
            if fh.readline().strip() != f"# {analysis.stem_cache_fingerprint()}":
                return {}
            return dict(line.rstrip("\n").split("\t", 1) for line in fh if "\t" in line)
    except (FileNotFoundError, ValueError):
        return {}


def _save_stems(index_dir: Path, entries: dict[str, str]) -> None:
    tmp = index_dir / f".{STEMS}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"# {analysis.stem_cache_fingerprint()}\n")
        fh.writelines(f"{w}\t{s}\n" for w, s in entries.items() if "\t" not in w and "\n" not in w)
    os.replace(tmp, index_dir / STEMS)


def load_names(build_dir: Path) -> Counter[str]:
    """How often each word Sastrawi would change was written as a name."""
    try:
        text = (build_dir / NAMES).read_text("utf-8")
    except FileNotFoundError:
        return Counter()
    return Counter({w: int(n) for w, _, n in (line.partition("\t") for line in text.splitlines()) if n})


def _topic_label(article: Article) -> str | None:
    """Sections such as "Lifestyle" hide the real beat in the subcategory."""
    sub = article.extra.get("subcategory")
    return str(sub) if sub and topics.from_category(str(sub)) else article.category


class Preparer:
    """Turns a build's articles into Whoosh fields, analysed here so worker
    processes share the CPU, with the build's own gazetteer and stemmer; and
    counts what the searcher reads beside the index (words written as names,
    the written forms of each stem)."""

    def __init__(self, actor_files: list[str], stems: dict[str, str]):
        self.gazetteer = Gazetteer.load(actor_files)
        self.stemmer = analysis.Stemmer(self.gazetteer.protected_words())
        self.stemmer.load(stems)
        self.names: Counter[str] = Counter()
        self.forms: Counter[tuple[str, str]] = Counter()

    def prepare(self, article: Article) -> dict:
        """The Whoosh fields of an article."""
        stem = self.stemmer.stem
        title = article.title or ""
        title_terms, title_exact = self.stemmer.index_terms(title)
        body_terms, body_exact = self.stemmer.index_terms(article.body)
        self.names.update(w for w in analysis.name_mentions(article.body) if stem(w) != w)
        self.forms.update((stem(w), w) for w in set(body_exact + title_exact) if w.isalpha() or not analysis.compound(w, stem))
        published = article.published
        return {
            "id": article.id,
            "title": title_terms,
            "_stored_title": title,
            "body": body_terms,
            "_stored_body": article.body,
            "lead": body_terms[:LEAD_TERMS],
            "title_exact": title_exact,
            "body_exact": body_exact,
            "outlet": [article.outlet] if article.outlet else [],
            "actor": self.gazetteer.find(f"{title}\n{article.body}"),
            "topic": topics.assign(_topic_label(article), title_terms + body_terms),
            "published": datetime(published.year, published.month, published.day) if published else None,
            "dated": 1 if published else 0,
            "category": article.category or "",
            "url": article.url,
            "source": article.source,
            "extra": article.extra,
        }

    def prepare_or_skip(self, item: Article | Skipped) -> dict | Skipped:
        return item if isinstance(item, Skipped) else self.prepare(item)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _corpus_size(paths: list[Path]) -> int:
    """Roughly the bytes of text: gzip'd news shrinks about four times."""
    return sum(p.stat().st_size * (4 if p.name.endswith(".gz") else 1) for p in paths)


def count_articles(paths: Iterable[str | os.PathLike]) -> int:
    """A quick count of the articles under the paths, for progress bars."""
    total = 0
    for path in corpus.corpus_files(paths):
        name = path.name.lower()
        if name.endswith(".txt"):
            total += 1
            continue
        opener = gzip.open if name.endswith(".gz") else open
        try:
            with opener(path, "rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        except OSError:
            total += 1
    return total


def _add(add: Callable[..., None], docs: Iterable[dict | Skipped], report: BuildReport,
         progress: Progress | None) -> None:
    for doc in docs:
        if isinstance(doc, Skipped):
            report.skipped.append(doc)
        else:
            add(**{k: v for k, v in doc.items() if v is not None})
            report.indexed += 1
        if progress:
            progress(1)


def _update_serial(writer, build_dir: Path, items: Iterable, preparer: Preparer, report: BuildReport,
                   progress: Progress | None) -> None:
    """Analyse and add or replace articles with Whoosh's own writer (`add`)."""
    try:
        _add(writer.update_document, (preparer.prepare_or_skip(i) for i in items), report, progress)
    except BaseException:
        writer.cancel()
        raise
    _write_names(build_dir, preparer.names, preparer.forms)
    writer.commit()


def _commit_segments(writer, build_dir: Path, segments: list, names: Counter[str],
                     forms: Counter[tuple[str, str]]) -> None:
    """List the new segments in the table of contents; `writer` (opened on the
    fresh build) holds the lock and writes nothing of its own."""
    writer._close_segment()
    _write_names(build_dir, names, forms)
    writer._commit_toc(segments)
    writer._finish()


def _rebuild_serial(ix, build_dir: Path, items: Iterable, preparer: Preparer, report: BuildReport,
                    progress: Progress | None) -> None:
    """Analyse and write a rebuild in this process (small corpora)."""
    writer = ix.writer()
    try:
        series = SegmentSeries(ix, SEGMENT_BYTES)
        _add(series.add_document, (preparer.prepare_or_skip(i) for i in items), report, progress)
        _commit_segments(writer, build_dir, series.finish(), preparer.names, preparer.forms)
    except BaseException:
        writer.cancel()
        raise


def _dedupe(items: Iterable[Article | Skipped]) -> Iterator[Article | Skipped]:
    """First article with an id wins; later ones are reported, not dropped silently."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, Article):
            if item.id in seen:
                item = Skipped(item.source, f"duplicate id {item.id!r}, first in {seen[item.id]}")
            else:
                seen[item.id] = item.source
        yield item


def _die_with_parent() -> None:
    """A worker must not outlive a killed rebuild (it would hold the lock)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:
        os._exit(1)


def _segment_worker(build_dir: str, actor_files: list[str], stems: dict[str, str], jobs, results) -> None:
    """A worker process: analyse batches and write them into its own segments."""
    _die_with_parent()
    try:
        preparer = Preparer(actor_files, stems)
        series = SegmentSeries(open_build(build_dir), SEGMENT_BYTES)
        while (batch := jobs.get()) is not None:
            added, skipped = 0, []
            for item in batch:
                if isinstance(item, Skipped):
                    skipped.append(item)
                else:
                    doc = preparer.prepare(item)
                    series.add_document(**{k: v for k, v in doc.items() if v is not None})
                    added += 1
            results.put(("batch", added, skipped))
        results.put(("done", series.finish(), (preparer.names, preparer.forms, preparer.stemmer.export())))
    except BaseException as exc:  # reported to the parent, which fails the build
        results.put(("error", f"{type(exc).__name__}: {exc}", None))


def _write_parallel(ix, build_dir: Path, items: Iterable, actor_files: list[str], stems: dict[str, str],
                    procs: int, report: BuildReport, progress: Progress | None) -> dict[str, str]:
    """Like Whoosh's MpWriter with multisegment=True, but analysis happens in the
    workers too, so both the Sastrawi work and the posting writing use all cores.
    Returns the stems the workers worked out, for the next rebuild."""
    topics.load()  # built once here, inherited by the forked workers (each stemmed ~2,000 topic words)
    ctx = multiprocessing.get_context("fork")
    jobs, results = ctx.Queue(procs * 4), ctx.Queue()
    workers = [ctx.Process(target=_segment_worker, args=(str(build_dir), actor_files, stems, jobs, results), daemon=True)
               for _ in range(procs)]
    for w in workers:
        w.start()
    writer = ix.writer()  # holds Whoosh's write lock and commits the table of contents
    feeder_error: list[BaseException] = []
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                jobs.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def feed():
        try:
            for batch in _batches(items, BATCH):
                if not put(batch):
                    return
        except BaseException as exc:
            feeder_error.append(exc)
        finally:
            for _ in workers:
                put(None)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    segments, done, names, forms, stems = [], 0, Counter(), Counter(), {}
    try:
        while done < procs:
            try:
                kind, value, skipped = results.get(timeout=1)
            except queue.Empty:
                dead = [w.exitcode for w in workers if not w.is_alive() and w.exitcode != 0]
                if dead:
                    raise IndexerError(f"an indexing worker process died (exit code {dead[0]})") from None
                continue
            if kind == "error":
                raise IndexerError(f"indexing worker failed: {value}")
            if kind == "done":
                done += 1
                segments += value
                names.update(skipped[0])
                forms.update(skipped[1])
                stems.update(skipped[2])
                continue
            report.indexed += value
            report.skipped += skipped
            if progress:
                progress(value + len(skipped))
        feeder.join()
        if feeder_error:
            raise feeder_error[0]
        _commit_segments(writer, build_dir, segments, names, forms)
        return stems
    except BaseException:
        stop.set()
        for w in workers:
            w.kill()
        for q in (jobs, results):  # nobody will read them: do not wait on them at exit
            q.cancel_join_thread()
        feeder.join()
        writer.cancel()
        raise
    finally:
        for w in workers:
            w.join()


def _default_procs(files: list[Path]) -> int:
    if _corpus_size(files) < PARALLEL_MIN_FILES_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def _added_paths(index_dir: Path) -> list[str]:
    try:
        return json.loads((index_dir / ADDED).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return []


def rebuild(
    corpus_paths: Iterable[str | os.PathLike],
    index_dir: str | os.PathLike,
    *,
    actor_files: Iterable[str | os.PathLike] = (),
    synonym_files: Iterable[str | os.PathLike] = (),
    procs: int | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> BuildReport:
    """Index the corpus into a fresh build and make it live atomically.

    Files earlier given to `add` are indexed again (a missing one is reported
    as skipped), so a rebuild never drops what users added.
    """
    start = time.perf_counter()
    index_dir = Path(index_dir)
    paths = [Path(p) for p in corpus_paths]
    with _locked(index_dir):
        _remove_orphans(index_dir)
        added = [Path(p) for p in _added_paths(index_dir)]
        files = list(corpus.corpus_files(paths))
        report = BuildReport()
        missing = [p for p in added if not p.exists()]
        report.skipped += [Skipped(str(p), "file given to 'add' no longer exists") for p in missing]
        files += [p for p in added if p.exists() and p not in files]
        build_name = f"{BUILD_PREFIX}{datetime.now():%Y%m%dT%H%M%S%f}-{os.getpid()}"
        build_dir = index_dir / build_name
        try:
            build_dir.mkdir()
            stored_actors = _store_files(build_dir, ACTORS_DIR, actor_files, "actor gazetteer")
            Gazetteer.load(stored_actors)  # a bad user file fails here, before any work
            Synonyms.load(_store_files(build_dir, SYNONYMS_DIR, synonym_files, "synonym file"))
            ix = whoosh_index.create_in(str(build_dir), build_schema())
            items = _dedupe(item for f in files for item in corpus.read_file(f))
            procs = procs or _default_procs(files)
            actors = [str(p) for p in stored_actors]
            stems = _load_stems(index_dir)
            if procs > 1:
                learned = _write_parallel(ix, build_dir, items, actors, stems, procs, report, progress)
            else:
                preparer = Preparer(actors, stems)
                _rebuild_serial(ix, build_dir, items, preparer, report, progress)
                learned = preparer.stemmer.export()
            if report.indexed == 0:
                raise IndexerError(f"no readable articles in {', '.join(map(str, paths))}")
            if strict and report.skipped:
                raise IndexerError(
                    f"--strict: {len(report.skipped)} skipped, e.g. {report.skipped[0].source}: "
                    f"{report.skipped[0].reason}"
                )
            report.documents = open_build(build_dir).doc_count()
            if report.documents != report.indexed:
                raise IndexerError(
                    f"check failed: build holds {report.documents} documents, expected {report.indexed}"
                )
            old = _read_pointer(index_dir, CURRENT)
            if old:
                _write_pointer(index_dir, PREVIOUS, old)
            _write_pointer(index_dir, CURRENT, build_name)
            _save_stems(index_dir, {**stems, **learned})
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        _remove_orphans(index_dir)
    report.build = build_name
    report.seconds = time.perf_counter() - start
    return report


def _store_files(build_dir: Path, folder: str, files: Iterable[str | os.PathLike], what: str) -> list[Path]:
    """Copy the user's table files into the build: it keeps what it was made with."""
    stored = []
    for i, src in enumerate(files):
        src = Path(src)
        if not src.is_file():
            raise IndexerError(f"{what} not found: {src}")
        dest = build_dir / folder / f"{i:02d}-{src.name}"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dest)
        stored.append(dest)
    return stored


def add(
    paths: Iterable[str | os.PathLike],
    index_dir: str | os.PathLike,
    *,
    progress: Progress | None = None,
) -> BuildReport:
    """Add or replace articles by id in the live index."""
    start = time.perf_counter()
    index_dir = Path(index_dir)
    paths = [Path(p).resolve() for p in paths]
    with _locked(index_dir):
        build_dir = live_build(index_dir)
        files = list(corpus.corpus_files(paths))
        actor_files = build_actor_files(build_dir)
        report = BuildReport(build=build_dir.name)
        stems = _load_stems(index_dir)
        preparer = Preparer(actor_files, stems)
        ix = open_build(build_dir)
        writer = ix.writer(limitmb=128)
        items = _dedupe(item for f in files for item in corpus.read_file(f))
        _update_serial(writer, build_dir, items, preparer, report, progress)
        _save_stems(index_dir, {**stems, **preparer.stemmer.export()})
        report.documents = ix.doc_count()
        known = _added_paths(index_dir)
        known += [str(p) for p in paths if str(p) not in known]
        _write_pointer(index_dir, ADDED, json.dumps(known, ensure_ascii=False, indent=1))
    report.seconds = time.perf_counter() - start
    return report
