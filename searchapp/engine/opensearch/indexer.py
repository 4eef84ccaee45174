"""Writing OpenSearch builds: analysis on every core feeding the bulk API.

A rebuild writes a new build index (and its vocabulary), checks its count,
then moves the alias in one atomic request; a rebuild killed at any point
leaves the alias on the old build, and the next one deletes what it left.
The previous build is kept for `rollback`. `add` upserts articles by id into
the live build and keeps its vocabulary and tables in step.

Worker processes analyse batches with the build's `Preparer` and send them
to the bulk API themselves; the bounded job queue is the back-pressure, and
a bulk refused with 429 is retried with back-off, then fails the build with
a clear error. Several machines can load one new build at once: each runs
`load_slice` on a disjoint part of the input files (see the README).

Stories (engine/stories.py): once a new build is loaded, and before its
alias moves, its stories are found from the story cards (MinHash signatures)
its loaders made — a part's wait in the meta index for `finish_parts` — and
kept with its tables (`_find_stories`); `add` joins the new articles to the
live build's stories, and loads them in theirs. An existing article whose
story or place changes is analysed again from its stored text and indexed
whole (`_restory`): an update would rebuild it from `_source`, which leaves
out the term fields.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path

import numpy as np
from opensearchpy import helpers

from searchapp.engine import stories, tables, workers
from searchapp.engine.base import BuildReport, IndexerError, Progress
from searchapp.engine.document import Preparer
from searchapp.engine.opensearch import cluster as clusters
from searchapp.engine.opensearch.cluster import MAX_PARTS, Cluster
from searchapp.engine.opensearch.mapping import (VOCABULARY, VOCABULARY_FIELDS, doc_id, index_body, quote_properties,
                                                 source, source_fields, stored_article, vocabulary_id)
from searchapp.engine.plan import Weights
from searchapp.facets import topics
from searchapp.facets.actors import Gazetteer
from searchapp.ingest import corpus
from searchapp.ingest.corpus import Article, Skipped
from searchapp.text.synonyms import Synonyms

BATCH = 200  # articles per job and per bulk request
BULK_RETRIES = 6  # a 429 is retried with back-off (1, 2, 4 … s) this many times
PART_ORDER_BITS = 40  # part K numbers its articles from K << 40: index order is part by part
STORY_PAGE = 5_000  # hits per request when finding the articles having band keys
CARDS_CHUNK = 5_000  # story cards per document of the meta index (a part's wait there for the finish)
FETCH_BATCH = 500  # articles per mget when comparing or re-analysing copies
RESTORY_PARALLEL_MIN = 2_000  # articles to analyse again before worker processes pay off

Placed = Mapping[str, tuple[str, int]]  # article id → (story id, place): a stories table's rows


class Loader:
    """Analyses articles and bulk-loads them into one build, counting its
    vocabulary (per field: documents and occurrences of each term)."""

    def __init__(self, url: str, build: str, actor_files: list[str], stems: dict[str, str],
                 placed: Placed | None = None):
        self.client = clusters.connect(url)
        self.url = url
        self.build = build
        self.placed = placed or {}  # the articles' stories (an article not listed is alone)
        self.preparer = Preparer(actor_files, stems)
        self.df: Counter[tuple[str, str]] = Counter()
        self.cf: Counter[tuple[str, str]] = Counter()

    def count(self, doc: dict) -> None:
        for name in VOCABULARY_FIELDS:
            terms = doc[name]
            self.cf.update((name, t) for t in terms)
            self.df.update((name, t) for t in set(terms))

    def load(self, batch: list[tuple[int, Article | Skipped]]) -> tuple[int, list[Skipped]]:
        """Analyse and bulk-index one batch of (order, article)."""
        actions, skipped = [], []
        for order, item in batch:
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            doc = self.preparer.prepare(item)
            self.count(doc)
            story, canon = self.placed.get(doc["id"], (None, 0))
            actions.append({"_index": self.build, "_id": doc_id(doc["id"]),
                            "_source": source(doc, order, story, canon)})
        bulk(self.client, self.url, actions)
        return len(actions), skipped


def bulk(client, url: str, actions: list[dict]) -> None:
    """Send actions with the bulk API; 429s are retried, then a clear error."""
    if not actions:
        return
    with clusters.reachable(url):
        try:
            helpers.bulk(client, actions, chunk_size=BATCH, max_chunk_bytes=50_000_000, max_retries=BULK_RETRIES,
                         initial_backoff=1, max_backoff=30, request_timeout=120)
        except helpers.BulkIndexError as exc:
            first = exc.errors[0] if exc.errors else {}
            status = next(iter(first.values()), {}).get("status") if first else None
            if status == 429:
                raise IndexerError(f"the cluster kept refusing bulk requests (429 Too Many Requests) after "
                                   f"{BULK_RETRIES} retries: give it more heap or nodes, or index with fewer "
                                   f"--procs") from None
            raise IndexerError(f"{len(exc.errors)} articles were refused by the cluster, e.g. {first}") from None


def _worker(url: str, build: str, actor_files: list[str], stems: dict[str, str], placed: Placed | None, jobs,
            results) -> None:
    """A worker process: analyse and load batches until told to stop."""
    workers.die_with_parent()
    try:
        loader = Loader(url, build, actor_files, stems, placed)
        while (batch := jobs.get()) is not None:
            results.put(("batch", *loader.load(batch)))
        results.put(("done", (loader.df, loader.cf, loader.preparer.names, loader.preparer.forms,
                              loader.preparer.story_cards()), loader.preparer.stemmer.export()))
    except BaseException as exc:  # reported to the parent, which fails the build
        results.put(("error", f"{type(exc).__name__}: {exc}", None))


Cards = tuple[list[str], np.ndarray, np.ndarray]  # ids, MinHash signatures (a row each), shingle counts


def _merged_cards(parts: list[Cards]) -> Cards:
    if not parts:
        return [], np.zeros((0, stories.Fingerprints().num_perm), np.uint32), np.zeros(0, np.int64)
    return ([i for p in parts for i in p[0]], np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def pack_cards(cards: Cards) -> list[dict]:
    """Story cards as documents of the meta index, CARDS_CHUNK articles each."""
    ids, signatures, sizes = cards
    out = []
    for start in range(0, len(ids), CARDS_CHUNK):
        arrays = io.BytesIO()
        np.savez(arrays, signatures=signatures[start:start + CARDS_CHUNK], sizes=sizes[start:start + CARDS_CHUNK])
        out.append({"ids": ids[start:start + CARDS_CHUNK],
                    "arrays": base64.b64encode(gzip.compress(arrays.getvalue(), 1)).decode()})
    return out


def unpack_cards(doc: dict) -> Cards:
    arrays = np.load(io.BytesIO(gzip.decompress(base64.b64decode(doc["arrays"]))))
    return list(doc["ids"]), arrays["signatures"], arrays["sizes"]


class Counts:
    """What the loaders of one build learned: vocabulary, names, forms,
    stems, and the story cards of its articles."""

    def pack(self) -> str:
        """As text for the meta index (a part's counts wait there for the finish)."""
        table = {"vocabulary": [[f, t, n, self.cf[f, t]] for (f, t), n in self.df.items() if n],
                 "names": list(self.names.items()), "forms": [[s, w, n] for (s, w), n in self.forms.items()],
                 "stems": self.stems, "repaired": dict(self.repaired)}
        return base64.b64encode(gzip.compress(json.dumps(table, ensure_ascii=False).encode("utf-8"))).decode()

    @staticmethod
    def unpack(text: str) -> tuple:
        table = json.loads(gzip.decompress(base64.b64decode(text)))
        df = Counter({(f, t): n for f, t, n, _c in table["vocabulary"]})
        cf = Counter({(f, t): c for f, t, _n, c in table["vocabulary"]})
        forms = Counter({(s, w): n for s, w, n in table["forms"]})
        return df, cf, Counter(dict(table["names"])), forms, table["stems"], Counter(table.get("repaired", {}))

    def __init__(self):
        self.df: Counter[tuple[str, str]] = Counter()
        self.cf: Counter[tuple[str, str]] = Counter()
        self.names: Counter[str] = Counter()
        self.forms: Counter[tuple[str, str]] = Counter()
        self.stems: dict[str, str] = {}
        self.repaired: Counter[str] = Counter()  # articles whose text reading repaired, per kind
        self.cards: list[Cards] = []

    def story_cards(self) -> Cards:
        return _merged_cards(self.cards)

    def merge(self, df, cf, names, forms, stems, repaired=()) -> None:
        self.df.update(df)
        self.cf.update(cf)
        self.names.update(names)
        self.forms.update(forms)
        self.stems.update(stems)
        self.repaired.update(repaired)


def load(url: str, build: str, items: Iterable[Article | Skipped], actor_files: list[str], stems: dict[str, str],
         procs: int, report: BuildReport, progress: Progress | None, first_order: int = 0,
         renew=lambda: None, placed: Placed | None = None) -> Counts:
    """Analyse and bulk-load articles into a build, on `procs` processes;
    those `placed` in a story go in at their place, the others alone."""
    repaired: Counter[str] = Counter()
    counts = _load_numbered(url, build, enumerate(corpus.count_repairs(items, repaired), first_order), actor_files,
                            stems, procs, report, progress, renew, placed)
    counts.repaired.update(repaired)
    report.repaired.update(repaired)
    return counts


def _load_numbered(url: str, build: str, items: Iterable[tuple[int, Article | Skipped]], actor_files: list[str],
                   stems: dict[str, str], procs: int, report: BuildReport, progress: Progress | None,
                   renew=lambda: None, placed: Placed | None = None) -> Counts:
    """`load`, of (order, article) pairs."""
    counts = Counts()
    numbered = workers.batches(items, BATCH)

    def on_batch(added: int, skipped: list[Skipped]) -> None:
        report.indexed += added
        report.skipped += skipped
        renew()
        if progress:
            progress(added + len(skipped))

    def on_done(learned: tuple, new_stems: dict[str, str]) -> None:
        counts.merge(*learned[:4], new_stems)
        counts.cards.append(learned[4])

    if procs > 1:
        topics.load()  # built once here, inherited by the forked workers
        workers.run(_worker, (url, build, actor_files, stems, placed), numbered, procs, on_batch, on_done)
    else:
        loader = Loader(url, build, actor_files, stems, placed)
        for batch in numbered:
            on_batch(*loader.load(batch))
        counts.merge(loader.df, loader.cf, loader.preparer.names, loader.preparer.forms,
                     loader.preparer.stemmer.export())
        counts.cards.append(loader.preparer.story_cards())
    return counts


# --- stories ------------------------------------------------------------------------------

def _fetcher(client, index: str, renew=lambda: None) -> stories.Fetch:
    """The stored articles of ids, as the story clustering compares them."""
    def fetch(ids: list[str]) -> dict[str, stories.Copy]:
        out = {}
        for batch in workers.batches(ids, FETCH_BATCH):
            found = client.mget(index=index, body={"ids": [doc_id(i) for i in batch]},
                                params={"_source": "id,body_text,published,outlet"})
            for d in found["docs"]:
                if d.get("found"):
                    src = d["_source"]
                    published = src.get("published")
                    out[src["id"]] = stories.Copy(src["id"], src.get("body_text") or "",
                                                  date.fromisoformat(published) if published else None,
                                                  (src.get("outlet") or [None])[0])
            renew()
        return out
    return fetch


def _with_bands(client, index: str, renew=lambda: None) -> Callable[[list[str]], set[str]]:
    """The ids of the articles having any of the band terms."""
    def candidates(terms: list[str]) -> set[str]:
        out: set[str] = set()
        for batch in workers.batches(terms, 10_000):
            body = {"query": {"terms": {stories.BANDS_FIELD: batch}}, "sort": [{"order": "asc"}], "_source": False,
                    "docvalue_fields": ["id"]}
            out.update(h["fields"]["id"][0] for h in clusters.scan(client, index, body, STORY_PAGE))
            renew()
        return out
    return candidates


def _restory(client, url: str, build: str, placed: Placed, ids: Iterable[str], actor_files: list[str],
             stems: dict[str, str], procs: int | None, renew=lambda: None) -> int:
    """Index stored articles again, each in its story and place as `placed`
    says (alone when not listed): analysed again from the text they keep,
    since an update would lose the term fields `_source` leaves out. Their
    words are the same, so the vocabulary is untouched. Returns how many."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    fields = ",".join([*source_fields(), "order"])

    def stored() -> Iterator[tuple[int, Article]]:
        for batch in workers.batches(ids, FETCH_BATCH):
            with clusters.reachable(url):
                found = client.mget(index=build, body={"ids": [doc_id(i) for i in batch]}, params={"_source": fields})
            for d in found["docs"]:
                if d.get("found"):
                    yield d["_source"]["order"], stored_article(d["_source"])

    procs = 1 if len(ids) < RESTORY_PARALLEL_MIN else procs or max(1, min(os.cpu_count() or 1, 4))
    report = BuildReport()
    _load_numbered(url, build, stored(), actor_files, stems, procs, report, None, renew, placed)
    return report.indexed


def _find_stories(client, url: str, build: str, staging: Path, cards: Cards, actor_files: list[str],
                  stems: dict[str, str], procs: int | None, renew=lambda: None) -> stories.Stories:
    """The stories of a loaded build (before it goes live): found from every
    article's story card, kept in its tables (`staging`), and written into
    the articles of stories with copies."""
    with clusters.reachable(url):
        found = stories.cluster(stories.Fingerprints(), *cards, _fetcher(client, build, renew))
    found.save(staging)
    _restory(client, url, build, found.rows, found.rows, actor_files, stems, procs, renew)
    return found


def _vocabulary_actions(index: str, df: Counter, cf: Counter) -> Iterator[dict]:
    for (field, term), n in df.items():
        if n > 0:
            yield {"_index": index, "_id": vocabulary_id(field, term),
                   "_source": {"field": field, "term": term, "df": n, "cf": cf[field, term]}}
        else:
            yield {"_op_type": "delete", "_index": index, "_id": vocabulary_id(field, term)}


def _ready(client, url: str, index: str, replicas: int) -> None:
    """Refresh on, replicas on, and wait until every copy is allocated."""
    with clusters.reachable(url):
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s",
                                                                 "number_of_replicas": replicas}})
        client.indices.refresh(index=index)
        health = client.cluster.health(index=index, request_timeout=130, params={
            "wait_for_status": "green" if replicas else "yellow", "wait_for_no_initializing_shards": "true",
            "timeout": "120s"})
        if health.get("timed_out"):
            raise IndexerError(f"the cluster did not allocate every copy of {index} in 120 s "
                               f"(status {health.get('status')}): are there {replicas + 1} data nodes?")


def _publish(client, url: str, cl: Cluster, lease, build: str, staging: Path, counts: Counts, replicas: int,
             expected: int, state: dict, next_order: int) -> tuple[str | None, int]:
    """Finish a loaded build — its vocabulary and tables, replicas on, the
    count checked — and move the alias to it. Returns (the build it left,
    the documents the build holds)."""
    bulk(client, url, list(_vocabulary_actions(Cluster.vocabulary(build), counts.df, counts.cf)))
    tables.write_names(staging, counts.names, counts.forms, counts.repaired)
    cl.save_tables(build, staging)
    _ready(client, url, Cluster.vocabulary(build), replicas)
    _ready(client, url, build, replicas)
    documents = int(client.count(index=build)["count"])
    if documents != expected:
        raise IndexerError(f"check failed: build holds {documents} documents, expected {expected}")
    lease.renew()
    previous = cl.switch(build)
    cl.save_state({**state, "previous": previous, "next_order": next_order})
    return previous, documents


def _store_user_tables(staging: Path, actor_files, synonym_files) -> list[str]:
    """Copy the user's gazetteer and abbreviation files into the build's tables
    (a bad file fails here, before any work); the gazetteer files to analyse with."""
    stored = tables.store_files(staging, tables.ACTORS_DIR, actor_files, "actor gazetteer")
    Gazetteer.load(stored)
    Synonyms.load(tables.store_files(staging, tables.SYNONYMS_DIR, synonym_files, "synonym file"))
    return [str(p) for p in stored]


def rebuild(url: str, name: str, cache: Path, corpus_paths: Iterable[str | os.PathLike], *,
            actor_files: Iterable[str | os.PathLike] = (), synonym_files: Iterable[str | os.PathLike] = (),
            procs: int | None = None, progress: Progress | None = None, strict: bool = False,
            shards: int = 3, replicas: int = 1, weights: Weights = Weights()) -> BuildReport:
    """Load the corpus into a new build and move the alias to it atomically.
    Files earlier given to `add` are loaded again (a missing one is reported)."""
    start = time.perf_counter()
    client = clusters.connect(url)
    cl = Cluster(client, name)
    paths = [Path(p) for p in corpus_paths]
    report = BuildReport()
    with clusters.reachable(url), cl.locked() as lease:
        state = cl.state()
        live = cl.live()[0] if cl.exists() else None
        cl.remove_builds({b for b in (live, state.get("previous")) if b})
        added = [Path(p) for p in state.get("added", [])]
        files = list(corpus.corpus_files(paths))
        report.skipped += [Skipped(str(p), "file given to 'add' no longer exists") for p in added if not p.exists()]
        files += [p for p in added if p.exists() and p not in files]
        build = cl.new_build()
        staging = Path(tempfile.mkdtemp(prefix=".build-", dir=_made(cache)))
        try:
            stored = _store_user_tables(staging, actor_files, synonym_files)
            client.indices.create(index=build, body=index_body(shards, replicas, weights))
            client.indices.create(index=Cluster.vocabulary(build), body=VOCABULARY)
            stems = tables.load_stems(cache)
            procs = procs or workers.default_procs(files)
            counts = load(url, build, corpus.read_unique(files), stored, stems, procs, report, progress,
                          renew=lease.renew)
            if report.indexed == 0:
                raise IndexerError(f"no readable articles in {', '.join(map(str, paths))}")
            if strict and report.skipped:
                raise IndexerError(f"--strict: {len(report.skipped)} skipped, e.g. {report.skipped[0].source}: "
                                   f"{report.skipped[0].reason}")
            _find_stories(client, url, build, staging, counts.story_cards(), stored, {**stems, **counts.stems},
                          procs, lease.renew)
            previous, report.documents = _publish(client, url, cl, lease, build, staging, counts, replicas,
                                                  report.indexed, state, report.indexed + len(report.skipped))
            tables.save_stems(cache, {**stems, **counts.stems})
        except BaseException:
            with clusters.reachable(url):
                cl.remove_builds({b for b in (live, state.get("previous")) if b})
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        cl.remove_builds({build, *([previous] if previous else [])})
    report.build = build
    report.seconds = time.perf_counter() - start
    return report


# --- one corpus loaded by several machines ------------------------------------------------

def _files_digest(files: Iterable[str | os.PathLike]) -> str:
    """What every part must agree on: the user's gazetteer and abbreviation files."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def load_part(url: str, name: str, cache: Path, corpus_paths: Iterable[str | os.PathLike], label: str, part: int,
              parts: int, *, actor_files: Iterable[str | os.PathLike] = (),
              synonym_files: Iterable[str | os.PathLike] = (), procs: int | None = None,
              progress: Progress | None = None, shards: int = 3, replicas: int = 1,
              weights: Weights = Weights()) -> BuildReport:
    """Load one machine's slice of the input files into the build named
    `label` (made by the first part to come). What the part learned waits in
    the meta index for `finish_parts`; the alias does not move."""
    if not 1 <= part <= parts <= MAX_PARTS:
        raise IndexerError(f"part {part} of {parts}: parts are numbered 1 to N, N at most {MAX_PARTS}")
    start = time.perf_counter()
    client = clusters.connect(url)
    cl = Cluster(client, name)
    build = cl.named_build(label)
    report = BuildReport(build=build)
    actor_files, synonym_files = list(actor_files), list(synonym_files)
    with clusters.reachable(url):
        cl.ensure_meta()
        if cl.parts(build).get(part):
            raise IndexerError(f"part {part} of build {build} is already loaded")
        staging = Path(tempfile.mkdtemp(prefix=".part-", dir=_made(cache)))
        try:
            stored = _store_user_tables(staging, actor_files, synonym_files)
            client.indices.create(index=build, body=index_body(shards, replicas, weights), ignore=400)
            client.indices.create(index=Cluster.vocabulary(build), body=VOCABULARY, ignore=400)
            files = list(corpus.corpus_files([Path(p) for p in corpus_paths]))
            stems = tables.load_stems(cache)
            counts = load(url, build, corpus.read_unique(files), stored, stems,
                          procs or workers.default_procs(files), report, progress,
                          first_order=part << PART_ORDER_BITS)
            chunks = cl.save_cards(build, part, pack_cards(counts.story_cards()))
            cl.save_part(build, part, {"parts": parts, "indexed": report.indexed, "replicas": replicas,
                                       "tables": _files_digest([*actor_files, *synonym_files]),
                                       "counts": counts.pack(), "cards": chunks})
            tables.save_stems(cache, {**stems, **counts.stems})
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    report.seconds = time.perf_counter() - start
    return report


def finish_parts(url: str, name: str, cache: Path, label: str, *, actor_files: Iterable[str | os.PathLike] = (),
                 synonym_files: Iterable[str | os.PathLike] = ()) -> BuildReport:
    """Once every part is loaded: merge what they learned, check the count
    and move the alias to the build, as a one-machine rebuild does."""
    start = time.perf_counter()
    client = clusters.connect(url)
    cl = Cluster(client, name)
    build = cl.named_build(label)
    actor_files, synonym_files = list(actor_files), list(synonym_files)
    with clusters.reachable(url), cl.locked() as lease:
        loaded = cl.parts(build)
        if not loaded:
            raise IndexerError(f"no part of build {build} has been loaded")
        parts = next(iter(loaded.values()))["parts"]
        missing = [k for k in range(1, parts + 1) if k not in loaded]
        if missing:
            raise IndexerError(f"part(s) {', '.join(map(str, missing))} of {parts} have not finished loading "
                               f"into {build}")
        digest = _files_digest([*actor_files, *synonym_files])
        other = [k for k, d in sorted(loaded.items()) if d["tables"] != digest]
        if other:
            raise IndexerError(f"part {other[0]} was loaded with other --actors/--synonyms files than given here")
        counts = Counts()
        for k, d in sorted(loaded.items()):
            counts.merge(*Counts.unpack(d["counts"]))
            counts.cards += [unpack_cards(c) for c in cl.cards(build, k, d.get("cards", 0))]
            lease.renew()
        report = BuildReport(build=build, indexed=sum(d["indexed"] for d in loaded.values()),
                             repaired=Counter(counts.repaired))
        state = cl.state()
        staging = Path(tempfile.mkdtemp(prefix=".finish-", dir=_made(cache)))
        try:
            stored = _store_user_tables(staging, actor_files, synonym_files)
            _find_stories(client, url, build, staging, counts.story_cards(), stored,
                          {**tables.load_stems(cache), **counts.stems}, None, lease.renew)
            replicas = max(d["replicas"] for d in loaded.values())
            previous, report.documents = _publish(client, url, cl, lease, build, staging, counts, replicas,
                                                  report.indexed, state, (parts + 1) << PART_ORDER_BITS)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        cl.delete_parts(build)
        cl.remove_builds({build, *([previous] if previous else [])})
    report.seconds = time.perf_counter() - start
    return report


def _made(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _old_documents(client, build: str, ids: list[str]) -> list[Article]:
    """The stored articles `add` is about to replace, to take their words out of the vocabulary."""
    found = client.mget(index=build, body={"ids": [doc_id(i) for i in ids]}, params={"_source": ",".join(
        ["id", "title_text", "body_text"])})
    return [Article(id=d["_source"]["id"], body=d["_source"].get("body_text") or "",
                    title=d["_source"].get("title_text")) for d in found["docs"] if d.get("found")]


def add(url: str, name: str, cache: Path, paths: Iterable[str | os.PathLike], *,
        progress: Progress | None = None) -> BuildReport:
    """Upsert articles by id into the live build; its vocabulary and tables follow."""
    start = time.perf_counter()
    client = clusters.connect(url)
    cl = Cluster(client, name)
    paths = [Path(p).resolve() for p in paths]
    with clusters.reachable(url), cl.locked() as lease:
        build, generation = cl.live(current=True)
        report = BuildReport(build=build)
        state = cl.state()
        directory = cl.load_tables(build, generation, _made(cache / "tables"))
        actor_files = tables.actor_files(directory)
        stems = tables.load_stems(cache)
        items = list(corpus.read_unique(corpus.corpus_files(paths)))
        articles = [i for i in items if isinstance(i, Article)]
        removed = Loader(url, build, actor_files, stems)  # the replaced articles' words, counted out
        for batch in workers.batches([a.id for a in articles], 500):
            for old in _old_documents(client, build, batch):
                removed.count(removed.preparer.prepare(old))
        order = int(state.get("next_order", client.count(index=build)["count"]))
        # a build made before quotes were kept maps them now (adding fields is allowed): its new articles have them
        client.indices.put_mapping(index=build, body={"properties": quote_properties()})
        before = stories.Stories.load(directory)
        new_ids = {a.id for a in articles}
        joined = stories.join(stories.Fingerprints(), before,
                              [stories.Copy(a.id, a.body, a.published, a.outlet or None) for a in articles],
                              _with_bands(client, build, lease.renew), _fetcher(client, build, lease.renew))
        counts = load(url, build, items, actor_files, stems, 1, report, progress, first_order=order,
                      renew=lease.renew, placed=joined.rows)
        moved = {a for a in before.rows.keys() | joined.rows.keys()
                 if a not in new_ids and before.rows.get(a) != joined.rows.get(a)}
        _restory(client, url, build, joined.rows, moved, actor_files, stems, 1, lease.renew)
        df, cf = counts.df, counts.cf
        df.subtract(removed.df)
        cf.subtract(removed.cf)
        vocabulary = Cluster.vocabulary(build)
        changed = [k for k in df if df[k] or cf[k]]
        current = _vocabulary_counts(client, vocabulary, changed)
        for key in changed:
            before = current.get(key, (0, 0))
            df[key] += before[0]
            cf[key] += before[1]
        bulk(client, url, list(_vocabulary_actions(vocabulary, Counter({k: df[k] for k in changed}), cf)))
        staging = Path(tempfile.mkdtemp(prefix=".add-", dir=cache))
        try:
            shutil.copytree(directory, staging, dirs_exist_ok=True)
            tables.write_names(staging, counts.names, counts.forms, counts.repaired)
            joined.save(staging)
            cl.save_tables(build, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        client.indices.refresh(index=f"{build},{vocabulary}")
        client.indices.put_mapping(index=build, body={"_meta": {"generation": generation + 1}})
        tables.save_stems(cache, {**stems, **counts.stems})
        known = state.get("added", [])
        known += [str(p) for p in paths if str(p) not in known]
        cl.save_state({**state, "added": known, "next_order": order + report.indexed})
        report.documents = int(client.count(index=build)["count"])
    report.seconds = time.perf_counter() - start
    return report


def _vocabulary_counts(client, index: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for batch in workers.batches(keys, 1000):
        found = client.mget(index=index, body={"ids": [vocabulary_id(*k) for k in batch]})
        for key, d in zip(batch, found["docs"]):
            if d.get("found"):
                out[key] = (d["_source"]["df"], d["_source"]["cf"])
    return out


def rollback(cl: Cluster) -> str:
    """Point the alias at the previous build (kept by the last rebuild)."""
    state = cl.state()
    previous = state.get("previous")
    if not previous or previous not in cl.builds():
        raise IndexerError(f"index {cl.name!r} has no previous build to go back to")
    left = cl.switch(previous)
    cl.save_state({**state, "previous": left})
    return previous
