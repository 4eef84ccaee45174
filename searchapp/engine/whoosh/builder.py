"""Writing Whoosh builds: a rebuild that never breaks search, and incremental add.

A rebuild analyses articles in worker processes, each writing its own
segments (segments.py), then lists them all in one table of contents and
switches the live pointer (builds.py) only after a count check. `add` goes
through Whoosh's own writer, replacing articles by id.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from searchapp.engine import stories, tables, workers
from searchapp.engine.base import BuildReport, IndexerError, Progress
from searchapp.engine.document import Preparer
from searchapp.engine.whoosh import builds
from searchapp.engine.whoosh.postings import ARRAYS_DIR, SegmentArrays
from searchapp.engine.whoosh.schema import build_schema
from searchapp.engine.whoosh.segments import SegmentSeries
from searchapp.facets import topics
from searchapp.facets.actors import Gazetteer
from searchapp.ingest import corpus
from searchapp.ingest.corpus import Skipped
from searchapp.text.synonyms import Synonyms

BATCH = 64
DERIVED = ("title_text", "body_text", "published", stories.BANDS_FIELD)  # not Whoosh fields as they stand
CARDS = "story_cards.npz"  # every article's MinHash signature: how `add` finds copies (64 band terms per
# article cost a Whoosh rebuild as much again in per-posting Python)
SEGMENT_BYTES = 160_000_000  # postings a rebuild process holds before it writes a segment


def whoosh_fields(doc: dict) -> dict:
    """The Whoosh fields of an analysed document: the text to store beside
    the indexed terms of title and body (Whoosh's `_stored_` convention), the
    day as a datetime, a `dated` flag that sorts undated articles last, and no
    empty values."""
    fields = {k: v for k, v in doc.items() if k not in DERIVED and v is not None}
    fields["_stored_title"] = doc["title_text"]
    fields["_stored_body"] = doc["body_text"]
    published = doc["published"]
    if published:
        fields["published"] = datetime(published.year, published.month, published.day)
    fields["dated"] = 1 if published else 0
    return fields


def _add(add: Callable[..., None], docs: Iterable[dict | Skipped], report: BuildReport,
         progress: Progress | None, added: list[stories.Copy] | None = None) -> None:
    for doc in docs:
        if isinstance(doc, Skipped):
            report.skipped.append(doc)
        else:
            add(**whoosh_fields(doc))
            report.indexed += 1
            if added is not None:
                added.append(stories.Copy(doc["id"], doc["body_text"], doc["published"], (doc["outlet"] or [None])[0]))
        if progress:
            progress(1)


def _fetcher(searcher) -> stories.Fetch:
    """The stored articles of ids, as the story clustering compares them."""
    def fetch(ids: list[str]) -> dict[str, stories.Copy]:
        out = {}
        for article_id in ids:
            doc = searcher.document_number(id=article_id)
            if doc is not None:
                fields = searcher.stored_fields(doc)
                published = fields.get("published")
                out[article_id] = stories.Copy(article_id, fields.get("body", ""),
                                               published.date() if published else None,
                                               (fields.get("outlet") or [None])[0])
        return out
    return fetch


Cards = tuple[list[str], np.ndarray, np.ndarray]  # ids, MinHash signatures (a row each), shingle counts


def _save_cards(build_dir: Path, cards: Cards) -> None:
    tmp = build_dir / f".{CARDS}.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, ids=np.array(cards[0], dtype=str), signatures=cards[1], sizes=cards[2])
    os.replace(tmp, build_dir / CARDS)


def _load_cards(build_dir: Path, num_perm: int) -> Cards:
    try:
        with np.load(build_dir / CARDS) as saved:
            return saved["ids"].tolist(), saved["signatures"], saved["sizes"]
    except FileNotFoundError:  # a build made before stories: its articles find no copies among them
        return [], np.zeros((0, num_perm), np.uint32), np.zeros(0, np.int64)


def _merged(old: Cards, new: Cards) -> Cards:
    """The cards after an add: replaced articles' rows dropped, the new ones appended."""
    replaced = set(new[0])
    keep = [i for i, article in enumerate(old[0]) if article not in replaced]
    return ([old[0][i] for i in keep] + list(new[0]), np.concatenate([old[1][keep], new[1]]),
            np.concatenate([old[2][keep], new[2]]))


def _cluster(build_dir: Path, fp: stories.Fingerprints, parts: list[Cards], texts: list[tuple]) -> None:
    """Find the stories of a fresh build (before it goes live) from the
    workers' story cards and the texts they kept, and keep the stories and
    the cards in it."""
    cards = ([i for part in parts for i in part[0]], np.concatenate([part[1] for part in parts]),
             np.concatenate([part[2] for part in parts]))
    with builds.open_build(build_dir).searcher() as searcher:
        found = stories.cluster(fp, *cards, _fetcher(searcher), stories.Texts.reader(texts))
    found.save(build_dir)
    _save_cards(build_dir, cards)


def _update_serial(writer, ix, build_dir: Path, items: Iterable, preparer: Preparer, report: BuildReport,
                   progress: Progress | None) -> None:
    """Analyse and add or replace articles with Whoosh's own writer (`add`);
    the stories table is written before the commit (a reader opening between
    the two reads ids it does not find yet as articles without copies)."""
    added: list[stories.Copy] = []
    fp = preparer.fingerprints
    for name, field in build_schema().items():
        if name not in writer.schema:  # a build made before the field was (quotes): its new articles have it
            writer.add_field(name, field)
    try:
        _add(writer.update_document, (preparer.prepare_or_skip(i) for i in items), report, progress, added)
        ids, signatures, _sizes = cards = _load_cards(build_dir, fp.num_perm)
        with ix.searcher() as searcher:  # the build as it was before this add
            joined = stories.join(fp, stories.Stories.load(build_dir), added,
                                  lambda terms: {ids[i] for i in stories.rows_meeting(fp, signatures, terms)},
                                  _fetcher(searcher))
    except BaseException:
        writer.cancel()
        raise
    tables.write_names(build_dir, preparer.names, preparer.forms, report.repaired)
    joined.save(build_dir)
    _save_cards(build_dir, _merged(cards, preparer.story_cards()))
    writer.commit()
    _segment_arrays(ix, build_dir)


def _segment_arrays(ix, build_dir: Path) -> None:
    """Postings arrays for the segments Whoosh's own writer made (an `add`,
    maybe merging older ones), and none left for segments merged away."""
    with ix.reader() as reader:
        leaves = [leaf for leaf, _base in reader.leaf_readers()]
        kept = set()
        for leaf in leaves:
            segid = leaf.segment().segment_id()
            kept |= {p.name for p in SegmentArrays.paths(build_dir, segid).values()}
            found = SegmentArrays.open(build_dir, segid)
            if found is None:
                SegmentArrays.derive(build_dir, leaf)
            else:
                found.close()
    for path in (build_dir / ARRAYS_DIR).iterdir():
        if path.name not in kept:
            path.unlink(missing_ok=True)


def _commit_segments(writer, build_dir: Path, segments: list, names: Counter[str],
                     forms: Counter[tuple[str, str]], repaired: Counter[str]) -> None:
    """List the new segments in the table of contents; `writer` (opened on the
    fresh build) holds the lock and writes nothing of its own."""
    writer._close_segment()
    tables.write_names(build_dir, names, forms, repaired)
    writer._commit_toc(segments)
    writer._finish()


def _rebuild_serial(ix, build_dir: Path, items: Iterable, preparer: Preparer, report: BuildReport,
                    progress: Progress | None) -> None:
    """Analyse and write a rebuild in this process (small corpora)."""
    writer = ix.writer()
    try:
        series = SegmentSeries(ix, SEGMENT_BYTES)
        _add(series.add_document, (preparer.prepare_or_skip(i) for i in items), report, progress)
        _commit_segments(writer, build_dir, series.finish(), preparer.names, preparer.forms, report.repaired)
        _cluster(build_dir, preparer.fingerprints, [preparer.story_cards()], [preparer.texts.packed()])
    except BaseException:
        writer.cancel()
        raise


def _segment_worker(build_dir: str, actor_files: list[str], stems: dict[str, str], fp: stories.Fingerprints,
                    jobs, results) -> None:
    """A worker process: analyse batches and write them into its own segments."""
    workers.die_with_parent()
    try:
        preparer = Preparer(actor_files, stems, keep_texts=True, fingerprints=fp)
        series = SegmentSeries(builds.open_build(build_dir), SEGMENT_BYTES)
        while (batch := jobs.get()) is not None:
            added, skipped = 0, []
            for item in batch:
                if isinstance(item, Skipped):
                    skipped.append(item)
                else:
                    doc = preparer.prepare(item)
                    series.add_document(**whoosh_fields(doc))
                    added += 1
            results.put(("batch", added, skipped))
        results.put(("done", series.finish(), (preparer.names, preparer.forms, preparer.stemmer.export(),
                                               preparer.story_cards(), preparer.texts.packed())))
    except BaseException as exc:  # reported to the parent, which fails the build
        results.put(("error", f"{type(exc).__name__}: {exc}", None))


def _write_parallel(ix, build_dir: Path, items: Iterable, actor_files: list[str], stems_in: dict[str, str],
                    procs: int, report: BuildReport, progress: Progress | None) -> dict[str, str]:
    """Like Whoosh's MpWriter with multisegment=True, but analysis happens in the
    workers too, so both the Sastrawi work and the posting writing use all cores.
    Returns the stems the workers worked out, for the next rebuild."""
    topics.load()  # built once here, inherited by the forked workers (each stemmed ~2,000 topic words)
    fp = stories.Fingerprints()  # inherited too: importing datasketch (SciPy) cost each worker 0.6 s, 35 MB
    writer = ix.writer()  # holds Whoosh's write lock and commits the table of contents
    segments, names, forms, stems = [], Counter(), Counter(), {}
    cards: list[tuple[list[str], np.ndarray, np.ndarray]] = []
    texts: list[tuple] = []

    def on_batch(added: int, skipped: list[Skipped]) -> None:
        report.indexed += added
        report.skipped += skipped
        if progress:
            progress(added + len(skipped))

    def on_done(done_segments: list, learned: tuple) -> None:
        segments.extend(done_segments)
        names.update(learned[0])
        forms.update(learned[1])
        stems.update(learned[2])
        cards.append(learned[3])
        texts.append(learned[4])

    workers.run(_segment_worker, (str(build_dir), actor_files, stems_in, fp), workers.batches(items, BATCH), procs,
                on_batch, on_done, on_failure=writer.cancel)
    _commit_segments(writer, build_dir, segments, names, forms, report.repaired)
    _cluster(build_dir, fp, cards, texts)
    return stems


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
    with builds.locked(index_dir):
        builds.remove_orphans(index_dir)
        added = [Path(p) for p in builds.added_paths(index_dir)]
        files = list(corpus.corpus_files(paths))
        report = BuildReport()
        missing = [p for p in added if not p.exists()]
        report.skipped += [Skipped(str(p), "file given to 'add' no longer exists") for p in missing]
        files += [p for p in added if p.exists() and p not in files]
        build_name = f"{builds.BUILD_PREFIX}{datetime.now():%Y%m%dT%H%M%S%f}-{os.getpid()}"
        build_dir = index_dir / build_name
        try:
            build_dir.mkdir()
            stored_actors = tables.store_files(build_dir, tables.ACTORS_DIR, actor_files, "actor gazetteer")
            Gazetteer.load(stored_actors)  # a bad user file fails here, before any work
            Synonyms.load(tables.store_files(build_dir, tables.SYNONYMS_DIR, synonym_files, "synonym file"))
            ix = whoosh_index.create_in(str(build_dir), build_schema())
            items = corpus.count_repairs(corpus.read_unique(files), report.repaired)
            procs = procs or workers.default_procs(files)
            actors = [str(p) for p in stored_actors]
            stems = tables.load_stems(index_dir)
            if procs > 1:
                learned = _write_parallel(ix, build_dir, items, actors, stems, procs, report, progress)
            else:
                preparer = Preparer(actors, stems, keep_texts=True)
                _rebuild_serial(ix, build_dir, items, preparer, report, progress)
                learned = preparer.stemmer.export()
            if report.indexed == 0:
                raise IndexerError(f"no readable articles in {', '.join(map(str, paths))}")
            if strict and report.skipped:
                raise IndexerError(
                    f"--strict: {len(report.skipped)} skipped, e.g. {report.skipped[0].source}: "
                    f"{report.skipped[0].reason}"
                )
            report.documents = builds.open_build(build_dir).doc_count()
            if report.documents != report.indexed:
                raise IndexerError(
                    f"check failed: build holds {report.documents} documents, expected {report.indexed}"
                )
            old = builds.read_pointer(index_dir, builds.CURRENT)
            if old:
                builds.write_pointer(index_dir, builds.PREVIOUS, old)
            builds.write_pointer(index_dir, builds.CURRENT, build_name)
            tables.save_stems(index_dir, {**stems, **learned})
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise
        builds.remove_orphans(index_dir)
    report.build = build_name
    report.seconds = time.perf_counter() - start
    return report


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
    with builds.locked(index_dir):
        build_dir = builds.live_build(index_dir)
        files = list(corpus.corpus_files(paths))
        actor_files = tables.actor_files(build_dir)
        report = BuildReport(build=build_dir.name)
        stems = tables.load_stems(index_dir)
        preparer = Preparer(actor_files, stems)
        ix = builds.open_build(build_dir)
        writer = ix.writer(limitmb=128)
        items = corpus.count_repairs(corpus.read_unique(files), report.repaired)
        _update_serial(writer, ix, build_dir, items, preparer, report, progress)
        tables.save_stems(index_dir, {**stems, **preparer.stemmer.export()})
        report.documents = ix.doc_count()
        known = builds.added_paths(index_dir)
        known += [str(p) for p in paths if str(p) not in known]
        builds.write_pointer(index_dir, builds.ADDED, json.dumps(known, ensure_ascii=False, indent=1))
    report.seconds = time.perf_counter() - start
    return report
