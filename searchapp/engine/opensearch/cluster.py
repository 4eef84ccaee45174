"""The cluster side of a searchapp index: the client, the alias that names
the live build, the build lock, and the tables each build keeps.

Names, for index name N: the alias `N` points at the live build `N-b<time>`;
each build has a vocabulary index `<build>-vocabulary` (term statistics for
query expansion and spelling); `N-meta` holds the lock, the state (previous
build, next article order, files given to `add`) and each build's tables (the
files `engine/tables.py` reads, as text), and what each part of a build
loaded by several machines learned (counts, story cards) until it is
finished. Nothing lives on a web node but a cache of those tables, so any
number of `serve` processes share one cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, ConnectionError, TransportError

from searchapp.engine.base import EngineUnavailable, IndexBusy, IndexerError, IndexUnreadable, NoIndex

BUILD_MARK = "-b"
STALE_LOCK_SECONDS = 120  # a lock not renewed for this long was left by a killed build
REQUEST_TIMEOUT = 30
MAX_PARTS = 256  # machines loading one build at once


def connect(url: str) -> OpenSearch:
    """A client over every node of the URL (comma-separated URLs spread the load)."""
    hosts = [u.strip() for u in url.split(",") if u.strip()]
    return OpenSearch(hosts=hosts, timeout=REQUEST_TIMEOUT, max_retries=2, retry_on_timeout=True,
                      retry_on_status=(502, 503, 504), http_compress=True)


@contextmanager
def reachable(url: str) -> Iterator[None]:
    """OpenSearch's connection errors as the one error every caller shows (503, a CLI message)."""
    try:
        yield
    except ConnectionError as exc:
        raise EngineUnavailable(f"OpenSearch at {url} cannot be reached "
                                f"({exc.__class__.__name__}: {exc.info or exc.error})") from None
    except TransportError as exc:
        if exc.status_code in (429, 502, 503, 504):
            raise EngineUnavailable(f"OpenSearch at {url} is not answering ({exc.status_code}: {exc.error})") from None
        raise


class PartialAnswer(EngineUnavailable):
    """Some shards of a build failed a search: its counts and lists would be
    silently short (a 503 with a message, not a wrong answer)."""


def complete(found: dict, url: str | None = None) -> dict:
    """A search response, refused when not every shard answered."""
    shards = found.get("_shards") or {}
    if shards.get("failed"):
        reasons = {str((f.get("reason") or {}).get("type") or f.get("reason")) for f in shards.get("failures") or []}
        raise PartialAnswer(f"OpenSearch{f' at {url}' if url else ''} answered from {shards.get('successful', 0)} of "
                            f"{shards.get('total', 0)} shards ({', '.join(sorted(reasons)) or 'no reason given'})")
    return found


def scan(client: OpenSearch, index: str, body: dict, page: int, keep_alive: str = "2m",
         params: dict | None = None) -> Iterator[dict]:
    """Every hit of a search body (query, sort, _source, ...) in its sort
    order, read with a point in time and `search_after`, `page` at a time."""
    pit = client.create_pit(index=index, params={"keep_alive": keep_alive})["pit_id"]
    try:
        after = None
        while True:
            request = {**body, "size": page, "pit": {"id": pit, "keep_alive": keep_alive}, "track_total_hits": False}
            if after:
                request["search_after"] = after
            hits = complete(client.search(body=request, params=params or None))["hits"]["hits"]
            yield from hits
            if len(hits) < page:
                return
            after = hits[-1]["sort"]
    finally:
        try:
            client.delete_pit(body={"pit_id": [pit]}, ignore=404)
        except (ConnectionError, TransportError):  # a node that left holds part of it: it expires by keep_alive
            pass


class Cluster:
    """One searchapp index name on a cluster."""

    def __init__(self, client: OpenSearch, name: str):
        self.client = client
        self.name = name
        self.meta = f"{name}-meta"

    # --- builds -------------------------------------------------------------------

    def new_build(self) -> str:
        return f"{self.name}{BUILD_MARK}{datetime.now(timezone.utc):%Y%m%dt%H%M%S%f}-{os.getpid()}"

    def named_build(self, label: str) -> str:
        """The build a user names (several machines loading one build agree on its name)."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,60}", label):
            raise IndexerError(f"build label {label!r}: use lowercase letters, digits, '-' and '_'")
        return f"{self.name}{BUILD_MARK}{label}"

    @staticmethod
    def vocabulary(build: str) -> str:
        return f"{build}-vocabulary"

    def live(self, current: bool = False) -> tuple[str, int]:
        """(live build, its generation: how many adds it has had), one request;
        `current`: a build this version can search and add to (one made
        before stories were kept is not)."""
        mapping = self.client.indices.get_mapping(index=self.name, ignore=404)
        if mapping.get("status") == 404:
            raise NoIndex(f"no index {self.name!r} on the cluster yet: run 'searchapp rebuild'")
        if len(mapping) != 1:
            raise IndexUnreadable(f"alias {self.name!r} names {len(mapping)} indexes")
        build, body = next(iter(mapping.items()))
        if current and "story" not in body["mappings"].get("properties", {}):
            raise IndexUnreadable(f"build {build} was made by an earlier version (it keeps no stories): "
                                  f"run 'searchapp rebuild'")
        return build, int(body["mappings"].get("_meta", {}).get("generation", 0))

    def exists(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.name))

    def switch(self, build: str) -> str | None:
        """Point the alias at `build` in one atomic request; the build it left."""
        old = self.client.indices.get_alias(name=self.name, ignore=404)
        previous = next((i for i in old if i != "error" and i != "status"), None) if old else None
        actions = [{"add": {"index": build, "alias": self.name}}]
        if previous:
            actions.insert(0, {"remove": {"index": previous, "alias": self.name}})
        self.client.indices.update_aliases(body={"actions": actions})
        return previous

    def builds(self) -> list[str]:
        """Every build index of this name on the cluster (not their vocabularies)."""
        found = self.client.indices.get(index=f"{self.name}{BUILD_MARK}*", ignore=404,
                                        params={"expand_wildcards": "all"})
        return sorted(i for i in found if not i.endswith("-vocabulary") and i not in ("error", "status"))

    def remove_builds(self, keep: set[str]) -> None:
        """Delete builds (and their vocabularies and tables) not in `keep`:
        those a killed rebuild left, and all but the previous build."""
        for build in self.builds():
            if build not in keep:
                self.client.indices.delete(index=f"{build},{self.vocabulary(build)}", ignore=404,
                                           params={"ignore_unavailable": "true"})
                self.client.delete(index=self.meta, id=f"tables:{build}", ignore=404)
                self.delete_parts(build)

    # --- state and tables -----------------------------------------------------------

    def ensure_meta(self) -> None:
        if not self.client.indices.exists(index=self.meta):
            self.client.indices.create(index=self.meta, ignore=400, body={
                "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
                "mappings": {"dynamic": False, "properties": {}},
            })

    def state(self) -> dict:
        found = self.client.get(index=self.meta, id="state", ignore=404)
        return found["_source"] if found.get("found") else {}

    def save_state(self, state: dict) -> None:
        self.client.index(index=self.meta, id="state", body=state, refresh="true")

    def save_tables(self, build: str, directory: Path) -> None:
        files = {str(p.relative_to(directory)): p.read_text("utf-8")
                 for p in sorted(directory.rglob("*")) if p.is_file() and not p.name.startswith(".")}
        self.client.index(index=self.meta, id=f"tables:{build}", body={"files": files}, refresh="true")

    def _part_ids(self, build: str) -> list[str]:
        return [f"part:{build}:{k}" for k in range(1, MAX_PARTS + 1)]

    def save_part(self, build: str, part: int, body: dict) -> None:
        self.client.index(index=self.meta, id=f"part:{build}:{part}", body={"part": part, **body}, refresh="true")

    def parts(self, build: str) -> dict[int, dict]:
        """The parts loaded into a build so far, by number."""
        found = self.client.mget(index=self.meta, body={"ids": self._part_ids(build)})["docs"]
        return {d["_source"]["part"]: d["_source"] for d in found if d.get("found")}

    def delete_parts(self, build: str) -> None:
        for part, body in self.parts(build).items():
            for chunk in range(body.get("cards", 0)):
                self.client.delete(index=self.meta, id=f"cards:{build}:{part}:{chunk}", ignore=404)
            self.client.delete(index=self.meta, id=f"part:{build}:{part}", ignore=404)

    def save_cards(self, build: str, part: int, chunks: list[dict]) -> int:
        """A part's story cards (indexer.pack_cards), waiting for the finish; how many documents."""
        for chunk, body in enumerate(chunks):
            self.client.index(index=self.meta, id=f"cards:{build}:{part}:{chunk}", body=body, request_timeout=120)
        return len(chunks)

    def cards(self, build: str, part: int, chunks: int) -> Iterator[dict]:
        for chunk in range(chunks):
            found = self.client.get(index=self.meta, id=f"cards:{build}:{part}:{chunk}", request_timeout=120)
            yield found["_source"]

    def load_tables(self, build: str, generation: int, directory: Path) -> Path:
        """The build's tables as files in a local cache directory, made once per
        build and generation (an `add` changes them); older generations of
        the build are removed once a newer one is in place."""
        target = directory / f"{build}.{generation}"
        if target.is_dir():
            return target
        found = self.client.get(index=self.meta, id=f"tables:{build}", ignore=404)
        if not found.get("found"):
            raise IndexUnreadable(f"build {build} has no tables in {self.meta}")
        staging = directory / f".{build}.{generation}.{os.getpid()}.tmp"
        for rel, text in found["_source"]["files"].items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        staging.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(target)
        except OSError:  # another process made it first
            shutil.rmtree(staging, ignore_errors=True)
        for old in directory.glob(f"{build}.*"):
            number = old.name.rpartition(".")[2]
            if number.isdigit() and int(number) < generation:
                shutil.rmtree(old, ignore_errors=True)
        return target

    # --- the build lock -----------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator["Lease"]:
        """The index's build lock, held by one rebuild or add on any machine.
        A holder renews it; one not renewed for STALE_LOCK_SECONDS was killed."""
        self.ensure_meta()
        lease = Lease(self)
        lease.take()
        try:
            yield lease
        finally:
            lease.release()


class Lease:
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self.renewed = 0.0

    def _body(self) -> dict:
        return {"owner": self.owner, "renewed": time.time()}

    def take(self) -> None:
        client, meta = self.cluster.client, self.cluster.meta
        try:
            client.create(index=meta, id="lock", body=self._body(), refresh="true")
        except ConflictError:
            held = client.get(index=meta, id="lock", ignore=404)
            if not held.get("found") or time.time() - held["_source"]["renewed"] < STALE_LOCK_SECONDS:
                raise IndexBusy(f"another rebuild or add is running on index {self.cluster.name!r}") from None
            try:  # taken over only if nobody renewed or took it since we read it
                client.index(index=meta, id="lock", body=self._body(), refresh="true",
                             params={"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]})
            except ConflictError:
                raise IndexBusy(f"another rebuild or add is running on index {self.cluster.name!r}") from None
        self.renewed = time.monotonic()

    def renew(self) -> None:
        """Called as work goes on; writes at most every few seconds."""
        if time.monotonic() - self.renewed > STALE_LOCK_SECONDS / 8:
            held = self.cluster.client.get(index=self.cluster.meta, id="lock")
            if held["_source"]["owner"] != self.owner:
                raise IndexerError("the build lock was taken over: this build stopped")
            self.cluster.client.index(index=self.cluster.meta, id="lock", body=self._body(),
                                      params={"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]})
            self.renewed = time.monotonic()

    def release(self) -> None:
        held = self.cluster.client.get(index=self.cluster.meta, id="lock", ignore=404)
        if held.get("found") and held["_source"]["owner"] == self.owner:
            self.cluster.client.delete(index=self.cluster.meta, id="lock", refresh="true", ignore=404,
                                       params={"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"]})
