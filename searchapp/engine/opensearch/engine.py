"""The OpenSearch engine: a searchapp index on a cluster, named by an alias.

Web nodes hold no state: `snapshot()` asks the cluster which build is live
(one request) and reopens when a rebuild moved the alias or an `add` bumped
the build's generation. The build tables are cached on this machine under
the engine's location (a directory: `--index`), as are the learned stems;
both are only caches.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from searchapp.engine.base import BuildReport, Engine, EngineUnavailable, IndexerError, OpenSnapshot, Progress
from searchapp.engine.opensearch import cluster as clusters
from searchapp.engine.opensearch import indexer
from searchapp.engine.opensearch.cluster import Cluster
from searchapp.engine.opensearch.snapshot import OpenSearchSnapshot
from searchapp.engine.plan import Weights
from searchapp.engine.tables import BuildTables

DEFAULT_INDEX = "searchapp"
INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # what OpenSearch accepts, leaving room for our suffixes


def _setting(name: str, default: int, least: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < least:
        raise IndexerError(f"{name}={value!r}: a whole number of at least {least}")
    return int(value)


class OpenSearchEngine(Engine):
    name = "opensearch"
    search_slots = 8  # the work is the cluster's: a serving process waits on it, several searches at once

    def __init__(self, location: str | os.PathLike, *, url: str | None = None, index: str | None = None,
                 shards: int | None = None, replicas: int | None = None, weights: Weights = Weights()):
        self.url = url or os.environ.get("SEARCHAPP_OPENSEARCH_URL") or ""
        if not self.url:
            raise EngineUnavailable("no OpenSearch cluster given: pass --opensearch URL "
                                    "or set SEARCHAPP_OPENSEARCH_URL")
        self.index = (index or os.environ.get("SEARCHAPP_OPENSEARCH_INDEX") or DEFAULT_INDEX).lower()
        if not INDEX_NAME.fullmatch(self.index):
            raise IndexerError(f"index name {self.index!r}: use letters, digits, '.', '-' and '_', "
                               f"starting with a letter or digit (at most 100)")
        self.shards = shards or _setting("SEARCHAPP_OPENSEARCH_SHARDS", 3, 1)
        self.replicas = replicas if replicas is not None else _setting("SEARCHAPP_OPENSEARCH_REPLICAS", 1, 0)
        self.index_dir = Path(location)  # --index: where this machine caches the tables
        self.cache = self.index_dir / "opensearch" / self.index
        self.weights = weights
        self.client = clusters.connect(self.url)
        self.cluster = Cluster(self.client, self.index)
        self._open = OpenSnapshot()

    @property
    def location(self) -> str:
        return f"{self.url} (index {self.index})"

    def rebuild(self, corpus_paths: Iterable[str | os.PathLike], *, actor_files: Iterable[str | os.PathLike] = (),
                synonym_files: Iterable[str | os.PathLike] = (), procs: int | None = None,
                progress: Progress | None = None, strict: bool = False) -> BuildReport:
        return indexer.rebuild(self.url, self.index, self.cache, corpus_paths, actor_files=actor_files,
                               synonym_files=synonym_files, procs=procs, progress=progress, strict=strict,
                               shards=self.shards, replicas=self.replicas, weights=self.weights)

    def load_part(self, corpus_paths: Iterable[str | os.PathLike], label: str, part: int, parts: int, *,
                  actor_files: Iterable[str | os.PathLike] = (), synonym_files: Iterable[str | os.PathLike] = (),
                  procs: int | None = None, progress: Progress | None = None) -> BuildReport:
        """One machine's share of a build several machines load (see `finish_parts`)."""
        return indexer.load_part(self.url, self.index, self.cache, corpus_paths, label, part, parts,
                                 actor_files=actor_files, synonym_files=synonym_files, procs=procs,
                                 progress=progress, shards=self.shards, replicas=self.replicas, weights=self.weights)

    def finish_parts(self, label: str, *, actor_files: Iterable[str | os.PathLike] = (),
                     synonym_files: Iterable[str | os.PathLike] = ()) -> BuildReport:
        """Check and publish a build whose parts are all loaded."""
        return indexer.finish_parts(self.url, self.index, self.cache, label, actor_files=actor_files,
                                    synonym_files=synonym_files)

    def add(self, paths: Iterable[str | os.PathLike], *, progress: Progress | None = None) -> BuildReport:
        return indexer.add(self.url, self.index, self.cache, paths, progress=progress)

    def rollback(self) -> str:
        """Move the alias back to the previous build; the build it left becomes the previous one."""
        with clusters.reachable(self.url), self.cluster.locked():
            return indexer.rollback(self.cluster)

    def exists(self) -> bool:
        with clusters.reachable(self.url):
            return self.cluster.exists()

    def snapshot(self) -> OpenSearchSnapshot:
        with clusters.reachable(self.url):
            key = self.cluster.live(current=True)

            def make() -> OpenSearchSnapshot:
                tables = BuildTables.load(self.cluster.load_tables(*key, self.cache / "tables"))
                return OpenSearchSnapshot(self.client, self.url, self.cluster, key, tables)

            return self._open.get(key, make)

    def close(self) -> None:
        self._open.drop()
        self.client.close()
