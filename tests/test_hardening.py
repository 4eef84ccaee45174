"""Hardening of the core: nothing lost, failures leave the live index, no leaks, kills never break search."""

from __future__ import annotations

import errno
import gc
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from whoosh.writing import SegmentWriter

from searchapp.errors import QueryError
from searchapp.search import search

from tests.conftest import ROOT, SEEDS, copy_seeds, engine_at, rebuild, write_jsonl
from searchapp.engine.base import IndexerError
from searchapp.engine.whoosh import builds


def test_every_file_is_indexed_or_reported(tmp_path):
    corpus = copy_seeds(tmp_path / "corpus")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(os.urandom(2048) + b"\x00")
    (corpus / "latin1.txt").write_bytes("Berita tentang caf\xe9 di Bandung.".encode("latin-1"))
    (corpus / "huge.txt").write_bytes(b"kata " * (2 * 1024 * 1024))  # 10 MB
    write_jsonl(corpus / "lines.jsonl", [{"id": f"j{i}", "title": f"Judul {i}", "body": "Isi."} for i in range(7)])
    with open(corpus / "lines.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"id": "broken"\n["not", "an", "object"]\n')
    report = rebuild([corpus], tmp_path / "index", procs=2)
    assert report.indexed == 5 + 7
    assert len(report.skipped) == 6
    reasons = " | ".join(s.reason for s in report.skipped)
    for word in ("empty", "binary", "not UTF-8", "too large", "invalid JSON", "not an object"):
        assert word in reasons
    assert report.documents == report.indexed
    with pytest.raises(IndexerError, match="--strict"):
        rebuild([corpus], tmp_path / "index", procs=1, strict=True)


@pytest.mark.parametrize("procs", [1, 2])
def test_disk_full_while_writing_fails_cleanly(tmp_path, monkeypatch, procs, clickid_slice):
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    before = sorted(p.name for p in index_dir.iterdir())
    calls = {"n": 0}
    original = SegmentWriter.add_document

    def failing(self, **fields):
        calls["n"] += 1
        if calls["n"] > 50:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, **fields)

    monkeypatch.setattr(SegmentWriter, "add_document", failing)
    with pytest.raises((OSError, IndexerError), match="No space left"):
        rebuild([clickid_slice], index_dir, procs=procs)
    monkeypatch.undo()
    assert sorted(p.name for p in index_dir.iterdir()) == before
    live = engine_at(index_dir)
    assert search(live, "")["total"] == 5
    live.close()


def test_repeated_sigkill_never_breaks_the_live_endpoint(tmp_path, clickid_slice, app_factory):
    """Kill rebuilds at random points while a client searches: every answer is the full old or new count."""
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    client = app_factory(index_dir).test_client()
    seen, errors, stop = set(), [], threading.Event()

    def searching():
        while not stop.is_set():
            resp = client.get("/api/search?q=&per_page=1")
            if resp.status_code != 200:
                errors.append(resp.status_code)
            else:
                seen.add(resp.get_json()["total"])

    reader = threading.Thread(target=searching)
    reader.start()
    rng = random.Random(7)
    try:
        for _ in range(6):
            proc = subprocess.Popen(
                [sys.executable, "-m", "searchapp", "rebuild", "--corpus", str(clickid_slice), "--index", str(index_dir)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.2, 4.0))
            proc.send_signal(signal.SIGKILL)  # the parent only: its workers must die with it
            proc.wait()
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert seen <= {5, 600}
    report = rebuild([SEEDS], index_dir, procs=2)  # no clean-up needed first
    assert report.documents == 5
    assert len([p for p in index_dir.iterdir() if p.name.startswith(builds.BUILD_PREFIX)]) == 2


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


def test_no_leaks_after_many_searches_and_rebuilds(tmp_path):
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    live = engine_at(index_dir)
    queries = ["Taliban", "Rusia Moskow", '"bekerja sama"', "serangan -ISIS", "", "Tajikstan"]
    for q in queries * 20:  # warm caches before the baseline
        search(live, q)
    gc.collect()
    fds, rss = _open_fds(), _rss_kb()
    for cycle in range(5):
        for i in range(2000):
            search(live, queries[i % len(queries)], page=1 + i % 2, per_page=2)
        rebuild([SEEDS], index_dir, procs=1)
        assert search(live, "Taliban")["total"] == 5  # reopened on the new build
    gc.collect()
    assert _open_fds() <= fds
    assert _rss_kb() - rss < 30_000
    live.close()


@pytest.mark.parametrize("q", ["(((((((((a)))))))))", "a " * 200, "*", "?*", "*a*", "x*", "title:*"])
def test_hostile_queries_are_refused_fast(live, q):
    started = time.perf_counter()
    with pytest.raises(QueryError):
        search(live, q)
    assert time.perf_counter() - started < 1.0
