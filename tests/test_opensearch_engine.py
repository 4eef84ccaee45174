"""The OpenSearch engine's own ways, on a real 3-node cluster: indexes of 3
shards and 1 replica, the alias moved atomically, the previous build kept for
rollback, the lease lock, killed rebuilds, searches during a rebuild and with
a node down, an unreachable cluster, and the same answers as Whoosh.

The engine-neutral suite runs against this engine too (pytest.mark.engines);
these tests are the ones only a cluster has. Skipped, with the reason, where
Java 17 or Maven cannot be had.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from opensearchpy import OpenSearch, helpers

from searchapp import facets
from searchapp.cli import main
from searchapp.engine import open_engine
from searchapp.engine.base import EngineUnavailable, IndexBusy, IndexerError
from searchapp.engine.opensearch import cluster as clusters
from searchapp.engine.opensearch.cluster import Cluster
from searchapp.search import search
from searchapp.search.request import Request
from searchapp.search.service import select
from searchapp.web import create_app

from tests.conftest import ROOT, SEEDS, app_config, cli_index, engine_at, write_jsonl

pytestmark = [pytest.mark.engines, pytest.mark.engine_only("opensearch")]

# Queries drawn the way readers type them, over the 600-article slice (names,
# abbreviations with hyphens, reduplication, phrases, prefixes, negation).
QUERIES = ["", "presiden", "Jokowi", "banjir jakarta", "PDI-P", "negara-negara", '"sepak bola"', "pemilu 2019",
           "korupsi -KPK", "polis*", "Prabowo Sandiaga", "harga cabai", "gempa", "Liga 1", "title:jokowi"]
FILTERS = [{}, {"outlet": ["Fimela"]}, {"date_from": "2019-09-01"}, {"topic": ["Politik"]}]


def cluster_engine(index_dir: Path, **options):
    """An engine on an index of 3 shards and 1 replica, as a user's cluster has."""
    return engine_at(index_dir, shards=3, replicas=1, **options)


def facet_counts(engine, q: str, filters: dict) -> dict:
    """Every value's count of every facet (not only the values a page shows)."""
    sel = select(engine, Request.make(q, **filters))
    return {name: sel.snapshot.facet_counts(sel.rs, name) for name in facets.names()}


@pytest.fixture(scope="module")
def both(clickid_slice, tmp_path_factory, engine_name):
    """The 600-article slice in Whoosh and in a 3-shard, 1-replica OpenSearch index."""
    base = tmp_path_factory.mktemp("both")
    whoosh = open_engine(base / "whoosh", "whoosh")
    whoosh.rebuild([clickid_slice])
    cluster = cluster_engine(base / "opensearch")
    cluster.rebuild([clickid_slice], procs=2)
    yield whoosh, cluster
    whoosh.close()
    cluster.close()


def test_the_index_has_3_shards_and_1_replica_on_3_nodes(both):
    _whoosh, cluster = both
    build = cluster.cluster.live()[0]
    settings = cluster.client.indices.get_settings(index=build)[build]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("3", "1")
    shards = cluster.client.cat.shards(index=build, format="json")
    assert len(shards) == 6 and {s["state"] for s in shards} == {"STARTED"}
    assert len({s["node"] for s in shards}) == 3


@pytest.mark.parametrize("filters", FILTERS)
def test_same_totals_and_facet_counts_as_whoosh(both, filters):
    whoosh, cluster = both
    for q in QUERIES:
        a, b = search(whoosh, q, **filters), search(cluster, q, **filters)
        assert a["total"] == b["total"], q
        assert a["facets"] == b["facets"], q
        assert facet_counts(whoosh, q, filters) == facet_counts(cluster, q, filters), q


def test_same_days_cooccurrence_ids_and_similar_articles(both):
    whoosh, cluster = both
    for q in ["presiden", "banjir"]:
        sa, sb = select(whoosh, Request.make(q)), select(cluster, Request.make(q))
        assert sa.snapshot.days(sa.rs) == sb.snapshot.days(sb.rs)
        assert sorted(map(sorted, sa.snapshot.value_lists(sa.rs, "actor"))) == \
            sorted(map(sorted, sb.snapshot.value_lists(sb.rs, "actor")))
        assert sorted(sa.snapshot.ids(sa.snapshot.docs(sa.rs))) == sorted(sb.snapshot.ids(sb.snapshot.docs(sb.rs)))
    first = search(whoosh, "presiden")["hits"][0]["id"]
    for engine in (whoosh, cluster):
        snap = engine.snapshot()
        body = snap.article(snap.find(first))["body"]
        similar = snap.similar(snap.find(first), snap.tables.stemmer.terms(body), 5)
        assert len(similar) == 5 and first not in snap.ids([d for d, _s in similar])


def story_groups(engine) -> dict[str, tuple[str, list[str]]]:
    """Each article of a story with copies: (story id, the story's articles in canonical order)."""
    sel = select(engine, Request.make(collapse="off"))
    snap = sel.snapshot
    ids, keys = snap.ids(snap.docs(sel.rs)), snap.story_keys(sel.rs)
    members: dict = {}
    for article_id, key in zip(ids, keys):
        members.setdefault(key, []).append(article_id)
    out = {}
    for group in (g for g in members.values() if len(g) > 1):
        story, ordered = snap.story(snap.find(group[0]))
        out.update({a: (story, snap.ids(ordered)) for a in group})
    return out


def test_the_same_stories_as_whoosh_and_copies_keep_their_words(both):
    """The cluster finds Whoosh's stories; an article written into its story
    is analysed again and indexed whole (an update would drop the term
    fields `_source` leaves out), so it is still found by its words."""
    whoosh, cluster = both
    kept = story_groups(cluster)
    assert kept and kept == story_groups(whoosh)
    build = cluster.cluster.live()[0]
    copied = {"term": {"copied": True}}
    assert cluster.client.count(index=build, body={"query": copied})["count"] == len(kept)
    for field in ("title", "body", "lead", "body_exact"):
        with_words = {"bool": {"filter": [copied, {"exists": {"field": field}}]}}
        assert cluster.client.count(index=build, body={"query": with_words})["count"] == len(kept), field


def test_a_collapsed_search_is_one_request_and_one_more_for_copies(both):
    """Counts of articles and stories and the first page of stories come in
    one search of the build; a page showing a story with copies reads their
    articles in one more."""
    _whoosh, cluster = both
    snap = cluster.snapshot()
    sent: list[str] = []
    transport = cluster.client.transport
    real = transport.perform_request

    def counting(method, url, *args, **kwargs):
        if url.startswith(f"/{snap.build}/"):
            sent.append(url.split("?")[0].rsplit("/", 1)[-1])
        return real(method, url, *args, **kwargs)

    copy = snap.article(snap.find(sorted(story_groups(cluster))[0]))
    seen = set()
    for q in [q for q in QUERIES if q] + [" ".join(re.findall(r"[^\W\d_]+", copy["title"])[:6])]:
        transport.perform_request = counting
        sent.clear()
        try:
            result = search(cluster, q)
        finally:
            transport.perform_request = real
        copied = any(len(snap.story(snap.find(h["id"]))[1]) > 1 for h in result["hits"])
        seen.add(copied)
        assert sent == ["_search", *(["_search"] if copied else [])], q
    assert seen == {False, True}


def test_long_ranked_lists_keep_the_first_pages_order_and_scores(both, monkeypatch):
    """Past one page (an export), hits are read with a point in time, still
    with cluster-wide term statistics: the first page is the same."""
    from searchapp.engine.opensearch import snapshot

    _whoosh, cluster = both
    monkeypatch.setattr(snapshot, "PAGE", 8)
    sel = select(cluster, Request.make("presiden"))
    assert sel.rs.total > 30
    first = sel.snapshot.ranked(sel.rs, 10, math.inf)
    scanned = sel.snapshot.ranked(sel.rs, 30, math.inf)
    assert [(h.id, round(s, 4)) for h, s in scanned[:10]] == [(h.id, round(s, 4)) for h, s in first]
    scores = [s for _h, s in scanned]
    assert len(scanned) == 30 and scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_a_rebuild_moves_the_alias_keeps_the_previous_build_and_can_roll_back(tmp_path):
    engine = cluster_engine(tmp_path / "index")
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": "satu", "title": "Satu", "body": "Kopi Gayo diekspor."}])
    names = [engine.rebuild([SEEDS], procs=1).build, engine.rebuild([SEEDS], procs=1).build,
             engine.rebuild([one], procs=1).build]
    assert engine.cluster.builds() == sorted(names[1:])
    assert engine.cluster.live()[0] == names[2]
    assert search(engine, "")["total"] == 1
    assert engine.rollback() == names[1]
    assert search(engine, "")["total"] == 5
    assert engine.rollback() == names[2]  # and forward again
    engine.close()


def test_a_failed_rebuild_leaves_the_alias_and_no_index_behind(tmp_path, monkeypatch):
    engine = cluster_engine(tmp_path / "index")
    engine.rebuild([SEEDS], procs=1)
    before = engine.cluster.builds()

    def refused(self, build):
        raise IndexerError("the cluster refused the alias move")

    monkeypatch.setattr(Cluster, "switch", refused)
    with pytest.raises(IndexerError, match="alias move"):
        engine.rebuild([SEEDS], procs=1)
    assert engine.cluster.builds() == before
    assert search(engine, "Taliban")["total"] == 5
    engine.close()


def test_a_second_rebuild_is_refused_and_a_dead_holders_lock_is_taken_over(tmp_path, monkeypatch):
    engine = cluster_engine(tmp_path / "index")
    engine.rebuild([SEEDS], procs=1)
    with engine.cluster.locked():
        with pytest.raises(IndexBusy, match="another rebuild or add is running"):
            engine.rebuild([SEEDS], procs=1)
        monkeypatch.setattr(clusters, "STALE_LOCK_SECONDS", 0)  # as if the holder was killed long ago
        assert engine.rebuild([SEEDS], procs=1).documents == 5
    engine.close()


@pytest.mark.parametrize("delay", [1.0, 3.0])
def test_sigkill_mid_rebuild_leaves_the_alias_on_the_old_build(tmp_path, monkeypatch, delay):
    engine = cluster_engine(tmp_path / "index")
    old = engine.rebuild([SEEDS], procs=1).build
    body = (SEEDS / "001_e2a36016ce82df2b.txt").read_text("utf-8")
    big = write_jsonl(tmp_path / "big.jsonl", [{"id": f"n{i}", "title": f"Berita {i}", "body": body}
                                               for i in range(4000)])
    proc = subprocess.Popen([sys.executable, "-m", "searchapp", "rebuild", "--corpus", str(big),
                             *cli_index(tmp_path / "index")], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    count = search(engine, "")["total"]
    assert count in (5, 4000)
    if count == 5:
        assert engine.cluster.live()[0] == old
    monkeypatch.setattr(clusters, "STALE_LOCK_SECONDS", 0)  # the killed build's lease
    assert engine.rebuild([SEEDS], procs=1).documents == 5
    assert len(engine.cluster.builds()) == 2  # what the killed build left is gone
    engine.close()


def test_searches_during_a_rebuild_never_fail(tmp_path, clickid_slice):
    engine = cluster_engine(tmp_path / "index")
    engine.rebuild([SEEDS], procs=1)
    reader = cluster_engine(tmp_path / "index")  # another web node on the same cluster
    totals, errors, stop = [], [], threading.Event()

    def searching():
        while not stop.is_set():
            try:
                totals.append(search(reader, "")["total"])
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                errors.append(exc)

    threads = [threading.Thread(target=searching) for _ in range(3)]
    for t in threads:
        t.start()
    engine.rebuild([clickid_slice], procs=2)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert set(totals) == {5, 600} and totals[-1] == 600
    engine.close()
    reader.close()


def test_add_upserts_by_id_and_the_vocabulary_follows(tmp_path):
    engine = cluster_engine(tmp_path / "index")
    engine.rebuild([SEEDS], procs=1)
    first = write_jsonl(tmp_path / "a.jsonl", [{"id": "baru", "title": "Kopi", "body": "Kopi Gayo diekspor ke Jerman."}])
    second = write_jsonl(tmp_path / "b.jsonl", [{"id": "baru", "title": "Teh", "body": "Teh Kayu Aro dipanen."}])
    engine.add([first])
    snap = engine.snapshot()
    assert snap.doc_frequency("body", "kopi") == 1 and "kopi" in snap.expand_prefix("body", "kop")
    assert search(engine, "kopi")["total"] == 1
    engine.add([second])  # the same id: replaced, not doubled
    snap = engine.snapshot()
    assert search(engine, "")["total"] == 6
    assert search(engine, "kopi")["total"] == 0 and search(engine, "teh")["total"] == 1
    assert snap.doc_frequency("body", "kopi") == 0 and "kopi" not in snap.expand_prefix("body", "kop")
    assert snap.doc_frequency("body", "teh") == 1
    assert "dipanen" in snap.tables.forms("panen")  # the tables of the new generation, not a stale cache
    engine.close()


def test_bulk_refusals_are_retried_then_a_clear_error(tmp_path, monkeypatch):
    engine = cluster_engine(tmp_path / "index")
    seen = {}

    def too_many(client, actions, **options):
        seen.update(options)
        raise helpers.BulkIndexError("1 document(s) failed to index.",
                                     [{"index": {"_id": "x", "status": 429, "error": {"type": "es_rejected"}}}])

    monkeypatch.setattr(helpers, "bulk", too_many)
    with pytest.raises(IndexerError, match="429 Too Many Requests"):
        engine.rebuild([SEEDS], procs=1)
    assert seen["max_retries"] >= 3
    assert not engine.exists()
    engine.close()


def test_an_unreachable_cluster_is_a_503_and_a_cli_message(tmp_path, seed_index, runner, monkeypatch):
    monkeypatch.setenv("SEARCHAPP_OPENSEARCH_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    app = create_app(app_config(seed_index))
    client = app.test_client()
    page = client.get("/?q=taliban")
    assert page.status_code == 503 and "Mesin pencari tidak dapat dihubungi" in page.get_data(as_text=True)
    api = client.get("/api/search?q=taliban", headers={"Accept-Language": "en"})
    assert api.status_code == 503
    assert api.get_json()["error"] == {"code": "index_unavailable",
                                       "message": "the search engine cannot be reached; try again in a moment"}
    assert "Traceback" not in page.get_data(as_text=True)
    out = runner.invoke(main, ["search", "taliban", *cli_index(seed_index)])
    assert out.exit_code == 1 and "cannot be reached" in out.output and "Traceback" not in out.output
    with pytest.raises(EngineUnavailable):
        engine_at(seed_index).snapshot()


def test_a_search_some_shards_failed_is_asked_again_then_a_503(tmp_path, seed_index, monkeypatch):
    """OpenSearch answers 200 with the shards that did answer: counts would be
    silently short, so a partial answer is asked again, then refused."""
    app = create_app(app_config(seed_index))
    client = app.test_client()
    assert client.get("/api/search?q=taliban").status_code == 200
    calls = []
    real = OpenSearch.search

    def partial(self, *args, **kwargs):
        calls.append(1)
        found = real(self, *args, **kwargs)
        failure = {"shard": 0, "index": "x", "reason": {"type": "node_not_connected_exception"}}
        return {**found, "_shards": {"total": 3, "successful": 2, "skipped": 0, "failed": 1, "failures": [failure]}}

    monkeypatch.setattr(OpenSearch, "search", partial)
    api = client.get("/api/search?q=perdamaian", headers={"Accept-Language": "en"})
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "index_unavailable"
    assert len(calls) == 1 + 2  # the first request, asked again twice
    page = client.get("/?q=perdamaian")
    assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
    with pytest.raises(clusters.PartialAnswer, match="answered from 2 of 3 shards .node_not_connected_exception."):
        select(engine_at(seed_index), Request.make("perdamaian"))


def test_web_nodes_hold_no_state(tmp_path):
    """Two apps on one cluster index: a rebuild through either shows in both."""
    engine = cluster_engine(tmp_path / "index")
    engine.rebuild([SEEDS], procs=1)
    apps = [create_app(app_config(tmp_path / "index")) for _ in range(2)]
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": "satu", "title": "Satu", "body": "Kopi Gayo diekspor."}])
    engine.rebuild([one], procs=1)
    for app in apps:
        assert app.test_client().get("/api/search?q=kopi").get_json()["total"] == 1
        app.extensions["searchapp.engine"].close()
    engine.close()


def test_searches_keep_answering_with_a_node_stopped(tmp_path_factory, clickid_slice, engine_name):
    """A node killed while searches run: its shards' replicas answer, no search fails."""
    from searchapp.engine.opensearch.devcluster import DevCluster

    with DevCluster(nodes=3, workdir=tmp_path_factory.mktemp("faulty")) as faulty:
        index_dir = tmp_path_factory.mktemp("faulty-index")
        engine = open_engine(index_dir, "opensearch", url=",".join(faulty.urls), index="faults", shards=3,
                             replicas=1)
        engine.rebuild([clickid_slice], procs=2)
        expected = {q: search(engine, q)["total"] for q in QUERIES}
        results, errors, stop = [], [], threading.Event()

        def searching():
            while not stop.is_set():
                for q in QUERIES:
                    try:
                        results.append((q, search(engine, q)["total"]))
                    except Exception as exc:  # noqa: BLE001 - every failure is the finding
                        errors.append(exc)

        threads = [threading.Thread(target=searching) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1)
        faulty.stop_node(2)
        time.sleep(5)
        stop.set()
        for t in threads:
            t.join()
        client = OpenSearch(faulty.urls[0])
        assert client.cluster.health()["number_of_nodes"] == 2
        assert errors == []
        assert all(total == expected[q] for q, total in results)
        assert len(results) > 3 * len(QUERIES)
        engine.close()



def test_several_machines_load_one_build_in_parts(tmp_path, clickid_records, runner):
    """Two 'machines' (two engines, two processes' worth of state) each load a
    disjoint slice into one build; the alias moves only at --finish, and the
    build answers as a one-machine rebuild of the same files."""
    first = write_jsonl(tmp_path / "first.jsonl", clickid_records[:150])
    second = write_jsonl(tmp_path / "second.jsonl", clickid_records[150:300])
    whole = cluster_engine(tmp_path / "whole")
    whole.rebuild([first, second], procs=1)
    machines = [cluster_engine(tmp_path / "index"), cluster_engine(tmp_path / "index-other-machine",
                                                                   index=cluster_engine(tmp_path / "index").index)]
    machines[0].rebuild([SEEDS], procs=1)
    machines[0].load_part([first], "2019", 1, 2, procs=1)
    with pytest.raises(IndexerError, match=r"part\(s\) 2 of 2 have not finished loading"):
        machines[0].finish_parts("2019")
    assert search(machines[0], "")["total"] == 5  # the alias has not moved
    out = runner.invoke(main, ["rebuild", "--corpus", str(second), "--part", "2/2", "--build", "2019",
                               *cli_index(tmp_path / "index-other-machine"),
                               "--opensearch-index", machines[0].index])
    assert out.exit_code == 0, out.output
    with pytest.raises(IndexerError, match="other --actors/--synonyms files"):
        machines[0].finish_parts("2019", synonym_files=[ROOT / "searchapp" / "data" / "abbreviations.tsv"])
    report = machines[0].finish_parts("2019")
    assert report.indexed == report.documents == 300
    for q in ["presiden", "banjir jakarta", "", "pemilu 2019"]:
        a, b = search(whole, q), search(machines[1], q)
        assert (a["total"], a["facets"]) == (b["total"], b["facets"]), q
        assert [h["id"] for h in a["hits"]] == [h["id"] for h in b["hits"]], q
    extra = write_jsonl(tmp_path / "extra.jsonl", [{"id": "baru", "title": "Kopi", "body": "Kopi Gayo diekspor."}])
    machines[1].add([extra])
    assert search(machines[0], "kopi gayo")["hits"][0]["id"] == "baru"
    assert machines[0].rollback() and search(machines[0], "")["total"] == 5
    for engine in (whole, *machines):
        engine.close()


def test_parts_need_a_build_label_and_one_of_part_or_finish(runner, tmp_path):
    for args in (["--part", "1/2"], ["--build", "x"], ["--build", "x", "--part", "1/2", "--finish"]):
        out = runner.invoke(main, ["rebuild", *cli_index(tmp_path / "index"), *args])
        assert out.exit_code == 2 and "--build LABEL and either --part K/N" in out.output
    out = runner.invoke(main, ["rebuild", *cli_index(tmp_path / "index"), "--build", "x", "--part", "two"])
    assert out.exit_code == 2 and "is not K/N" in out.output
    out = runner.invoke(main, ["rebuild", *cli_index(tmp_path / "index"), "--build", "X Y", "--part", "1/2"])
    assert out.exit_code == 1 and "build label" in out.output


@pytest.mark.parametrize("args, message", [
    (["--opensearch-index", "my index"], "index name 'my index'"),
    (["--opensearch-index", "_hidden"], "index name '_hidden'"),
    (["--opensearch", "http://127.0.0.1:9"], "cannot be reached"),
])
def test_bad_cluster_options_are_one_line_messages(runner, tmp_path, args, message):
    out = runner.invoke(main, ["search", "x", "--engine", "opensearch", "--index", str(tmp_path), *args])
    assert out.exit_code == 1 and message in out.output and "Traceback" not in out.output


def test_no_cluster_named_is_a_message(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("SEARCHAPP_OPENSEARCH_URL")
    out = runner.invoke(main, ["stats", "--engine", "opensearch", "--index", str(tmp_path)])
    assert out.exit_code == 1 and "no OpenSearch cluster given: pass --opensearch URL" in out.output
