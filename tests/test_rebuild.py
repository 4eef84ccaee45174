"""Rebuilds that never break search: atomic switch, rollback, kill -9, locking, add."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from searchapp.engine import tables
from searchapp.search import search

from tests.conftest import ROOT, SEEDS, add, copy_seeds, engine_at, rebuild, write_jsonl
from searchapp.engine.base import IndexBusy, IndexerError, NoIndex
from searchapp.engine.whoosh import builds

pytestmark = pytest.mark.engines


def build_names(index_dir):
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(builds.BUILD_PREFIX))


@pytest.mark.engine_only("whoosh")  # the OpenSearch way: tests/test_opensearch_engine.py
def test_switch_keeps_previous_and_removes_older(tmp_path):
    index_dir = tmp_path / "index"
    names = [rebuild([SEEDS], index_dir, procs=1).build for _ in range(3)]
    assert build_names(index_dir) == sorted(names[1:])
    assert (index_dir / "CURRENT").read_text().strip() == names[2]
    assert (index_dir / "PREVIOUS").read_text().strip() == names[1]


def test_broken_file_reported_rest_indexed(tmp_path):
    corpus = copy_seeds(tmp_path / "corpus")
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    (corpus / "bad.jsonl").write_text('{"id": "ok", "body": "Isi berita."}\n{oops\n', "utf-8")
    report = rebuild([corpus], tmp_path / "index", procs=1)
    assert report.indexed == 6
    assert report.documents == 6
    reasons = {os.path.basename(s.source): s.reason for s in report.skipped}
    assert set(reasons) == {"broken.txt", "bad.jsonl:2"}
    assert "binary" in reasons["broken.txt"]
    with pytest.raises(IndexerError, match="--strict"):
        rebuild([corpus], tmp_path / "index", procs=1, strict=True)


@pytest.mark.engine_only("whoosh")  # the OpenSearch way: tests/test_opensearch_engine.py
def test_failed_rebuild_leaves_live_index(tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    before = build_names(index_dir)

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(builds, "write_pointer", boom)
    with pytest.raises(OSError):
        rebuild([SEEDS], index_dir, procs=1)
    assert build_names(index_dir) == before
    live = engine_at(index_dir)
    assert search(live, "Taliban")["total"] == 5
    live.close()


def test_empty_corpus_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexerError, match="no readable articles"):
        rebuild([tmp_path / "empty"], tmp_path / "index")


@pytest.mark.engine_only("whoosh")  # the OpenSearch way: tests/test_opensearch_engine.py
def test_second_concurrent_rebuild_is_refused(tmp_path):
    index_dir = tmp_path / "index"
    with builds.locked(index_dir):
        with pytest.raises(IndexBusy, match="another rebuild or add is running"):
            rebuild([SEEDS], index_dir)


def _big_corpus(tmp_path, n=4000):
    body = open(SEEDS / "001_e2a36016ce82df2b.txt", encoding="utf-8").read()
    return write_jsonl(tmp_path / "big.jsonl", [{"id": f"n{i}", "title": f"Berita {i}", "body": body} for i in range(n)])


@pytest.mark.engine_only("whoosh")
@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_sigkill_mid_rebuild_leaves_old_index_searchable(tmp_path, delay):
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    old = build_names(index_dir)
    big = _big_corpus(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "searchapp", "rebuild", "--corpus", str(big), "--index", str(index_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    live = engine_at(index_dir)
    count = search(live, "")["total"]
    assert count in (5, 4000)
    if count == 5:
        assert search(live, "Taliban")["total"] == 5
    live.close()
    report = rebuild([SEEDS], index_dir, procs=1)  # no clean-up needed first
    assert report.documents == 5
    assert len(build_names(index_dir)) == 2
    assert not list(index_dir.glob(".*.tmp"))
    if count == 5:
        assert old[0] in build_names(index_dir)


def test_add_twice_gives_one_document_and_survives_rebuild(tmp_path):
    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    extra = write_jsonl(tmp_path / "extra.jsonl", [{"id": "baru", "title": "Berita Baru", "body": "Kopi Gayo diekspor."}])
    live = engine_at(index_dir)
    assert search(live, "kopi")["total"] == 0
    for _ in range(2):
        report = add([extra], index_dir)
        assert report.indexed == 1
    assert search(live, "kopi")["total"] == 1  # the open engine sees the add
    assert search(live, "")["total"] == 6
    rebuild([SEEDS], index_dir, procs=1)
    assert search(live, "kopi")["total"] == 1  # rebuild re-reads added files
    live.close()


def test_add_without_index_is_an_error(tmp_path):
    extra = write_jsonl(tmp_path / "extra.jsonl", [{"id": "a", "body": "x"}])
    with pytest.raises(NoIndex):
        add([extra], tmp_path / "index")


def test_parallel_rebuild_matches_serial(tmp_path, clickid_slice):
    serial = rebuild([clickid_slice], tmp_path / "a", procs=1)
    parallel = rebuild([clickid_slice], tmp_path / "b", procs=2)
    assert serial.documents == parallel.documents == 600
    a, b = engine_at(tmp_path / "a"), engine_at(tmp_path / "b")
    for q in ["presiden", "banjir jakarta", "sepak bola"]:
        ra, rb = search(a, q), search(b, q)
        assert ra["total"] == rb["total"]
        assert [h["score"] for h in ra["hits"]] == [h["score"] for h in rb["hits"]]  # ties may swap ids
        assert ra["facets"] == rb["facets"]
    a.close()
    b.close()


@pytest.mark.engine_only("whoosh")  # the stems file of an index directory
def test_stem_cache_is_kept_for_the_next_rebuild(tmp_path):
    from searchapp.text import analysis

    index_dir = tmp_path / "index"
    rebuild([SEEDS], index_dir, procs=1)
    lines = (index_dir / tables.STEMS).read_text("utf-8").splitlines()
    assert lines[0] == f"# {analysis.stem_cache_fingerprint()}"
    table = dict(line.split("\t") for line in lines[1:])
    assert table["menyerang"] == "serang"
    assert "taliban" not in table  # protected names are never cached across builds
    (index_dir / tables.STEMS).write_text("# stale\nmenyerang\tSALAH\n", "utf-8")
    rebuild([SEEDS], index_dir, procs=1)  # a stale file is ignored and rewritten
    assert "menyerang\tserang" in (index_dir / tables.STEMS).read_text("utf-8")
