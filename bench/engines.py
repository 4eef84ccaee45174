"""The OpenSearch engine beside the Whoosh engine, in one run, on the same corpus.

    .venv/bin/python bench/engines.py --limit 1500 --http-seconds 3     # quick check (≈ 6 min)
    .venv/bin/python bench/engines.py --json bench/engines.json          # whole corpus
    .venv/bin/python bench/engines.py --scale 10 --no-http               # also the 10× corpus
    .venv/bin/python bench/engines.py --opensearch http://127.0.0.1:9200 # a cluster already running

What is measured (each engine opened with searchapp.engine.open_engine, in this process):

* indexing — `Engine.rebuild(corpus, procs=P)` of both engines: Whoosh into a
  fresh directory, OpenSearch into a 3-node local cluster (DevCluster, started
  here unless --opensearch is given), 3 shards, 1 replica, a fresh stem cache
  for both (cold). Docs/s is the BuildReport's. Our analysis alone
  (`Preparer(actor_files=[], stems={}).prepare` over the same articles read with
  `read_file`) is timed in a fresh single process and divided by P: its share of
  the OpenSearch rebuild's seconds is what our Python costs, the rest is bulk
  requests, the cluster's indexing, refresh and replica allocation.
* same answers — the 300 queries of bench/perf.py (bench/common.py:make_queries,
  the same seed, facet values read back from the Whoosh build) through
  `search()` on both: equal `total`, equal facet counts (every facet's shown
  {value: count} map), the same top hit and the overlap of the 10 hits; the first
  mismatches in detail. Relevance: bench/quality.py's title/keyword/variant
  known-item sets (made from the same articles), MRR@10, S@1 and S@10 through
  `search()` on both engines, with the default weights and with the lead
  feature off (Weights(lead=0), as quality.py --tune does).
* query latency — `search()` (page 1: facets, 10 hits, snippets): the first
  pass (engine freshly opened, its snapshot opened before the clock starts; the
  cluster's caches of the index cleared) and a warm second pass; p50/p90/p99.
* HTTP — `searchapp serve --workers 2` per engine (its output to a file under
  --workdir), 8 client threads of bench/perf.py's load client over the same
  queries as /api/search URLs, after a warm-up; req/s, latency, errors.
* cluster — heap per node (GET /_nodes/stats/jvm), the build's store size
  (primaries and total with replicas), docs count, bytes per article, shards per node.
* --scale K — the articles repeated K times with new ids (as bench/perf.py's 10×),
  rebuilt into both engines (stems known from the 1× builds), docs/s and
  first-pass p50/p99 at that size.

Three nodes on one small machine prove the distributed path (shards, replicas,
the coordinating node's merge of their answers) and show how cost grows, not
absolute speed: every node, the Python side and the load client share its cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import ROOT, fmt  # noqa: E402

NOTE = ("Note: 3 OpenSearch nodes on a {cpus}-core machine (sharing it with the Python side and the load "
        "client) prove the distributed path — shards, replicas, the coordinating node's merge — and show how "
        "cost grows; they do not measure absolute speed.")
DEFAULT_INDEX = "bench-engines"
SHARDS, REPLICAS = 3, 1
CLIENTS = 8
SERVE_WORKERS = 2
MISMATCHES_KEPT = 20


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pcts(values_s: list[float]) -> dict:
    """p50/p90/p99 (and mean, max) in ms of durations in seconds."""
    ms = [v * 1000 for v in values_s]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(common.percentile(ms, 50), 2), "p90_ms": round(common.percentile(ms, 90), 2),
            "p99_ms": round(common.percentile(ms, 99), 2), "mean_ms": round(statistics.fmean(ms), 2),
            "max_ms": round(max(ms), 2)}


# --- engines -------------------------------------------------------------------


class Setup:
    """Where each engine's index lives in this run."""

    def __init__(self, workdir: Path, url: str, index: str):
        self.workdir = workdir
        self.url = url
        self.index = index
        self.whoosh_dir = workdir / "whoosh-1x"
        self.cache_dir = workdir / "opensearch-cache"  # the opensearch engine's --index: build tables, stems

    def open(self, engine: str, *, whoosh_dir: Path | None = None, index: str | None = None, weights=None):
        from searchapp.engine import open_engine

        extra = {"weights": weights} if weights is not None else {}
        if engine == "whoosh":
            return open_engine(whoosh_dir or self.whoosh_dir, "whoosh", **extra)
        return open_engine(self.cache_dir, "opensearch", url=self.url, index=index or self.index,
                           shards=SHARDS, replicas=REPLICAS, **extra)

    def serve_args(self, engine: str) -> list[str]:
        if engine == "whoosh":
            return ["--index", str(self.whoosh_dir)]
        return ["--engine", "opensearch", "--opensearch", self.url, "--opensearch-index", self.index,
                "--index", str(self.cache_dir)]


def client_for(url: str):
    from searchapp.engine.opensearch import cluster as clusters

    return clusters.connect(url)


def live_build(url: str, index: str) -> str:
    from searchapp.engine.opensearch.cluster import Cluster

    return Cluster(client_for(url), index).live()[0]


def delete_index_name(url: str, name: str) -> list[str]:
    """Every index a searchapp index name made on the cluster: its builds,
    their vocabularies and `<name>-meta` (exact names, no wildcard delete)."""
    client = client_for(url)
    try:
        rows = client.cat.indices(index=f"{name}-*", format="json", params={"expand_wildcards": "all"})
    except Exception:  # noqa: BLE001 — nothing of that name
        return []
    names = sorted(r["index"] for r in rows if r["index"] == f"{name}-meta" or r["index"].startswith(f"{name}-b"))
    for n in names:
        client.indices.delete(index=n, ignore=404)
    client.close()
    return names


def rebuild(setup: Setup, engine: str, corpus: Path, procs: int, **where) -> dict:
    eng = setup.open(engine, **where)
    try:
        t0 = time.perf_counter()
        report = eng.rebuild([corpus], procs=procs)
        wall = time.perf_counter() - t0
    finally:
        eng.close()
    return {"indexed": report.indexed, "seconds": round(report.seconds, 2), "wall_s": round(wall, 2),
            "docs_per_s": round(report.docs_per_second, 1), "skipped": len(report.skipped),
            "documents": report.documents, "build": report.build, "summary": report.summary(), "procs": procs}


def analysis_child(corpus: str) -> None:
    """In a fresh process (no stem or word caches yet, as a rebuild worker
    starts): our analysis alone over the corpus, one process; prints JSON."""
    from searchapp.engine.document import Preparer
    from searchapp.facets import topics
    from searchapp.ingest.corpus import Article, read_file

    t0 = time.perf_counter()
    articles = [a for a in read_file(Path(corpus)) if isinstance(a, Article)]
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    topics.load()  # the rebuild's parent does this before forking its workers
    preparer = Preparer(actor_files=[], stems={})
    init_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for a in articles:
        preparer.prepare(a)
    prepare_s = time.perf_counter() - t0
    print(json.dumps({"articles": len(articles), "read_s": round(read_s, 3), "init_s": round(init_s, 3),
                      "prepare_s": round(prepare_s, 3)}))


def measure_analysis(corpus: Path, procs: int, rebuild_s: float) -> dict:
    done = subprocess.run([common.PYTHON, str(Path(__file__).resolve()), "--analysis-child", str(corpus)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"analysis measurement failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    scaled = out["prepare_s"] / procs
    return {**out, "procs": procs, "docs_per_s_one_process": round(out["articles"] / out["prepare_s"], 1),
            "prepare_s_scaled": round(scaled, 3), "rebuild_s": rebuild_s,
            "share_of_rebuild": round(scaled / rebuild_s, 3) if rebuild_s else None}


# --- search() over the queries ------------------------------------------------


def run_search(eng, q: str, **kwargs) -> tuple[dict | None, float, str | None]:
    from searchapp.errors import SearchappError
    from searchapp.search import search

    t0 = time.perf_counter()
    try:
        result = search(eng, q, **kwargs)
        err = None
    except SearchappError as exc:  # QueryError (time limit), EngineUnavailable: counted, not fatal
        result, err = None, f"{type(exc).__name__}: {exc}"
    return result, time.perf_counter() - t0, err


def brief(result: dict | None) -> dict | None:
    """What the comparison keeps of a search() answer."""
    if result is None:
        return None
    return {"total": result["total"],
            "facets": {name: {r["value"]: r["count"] for r in f["results"]} for name, f in result["facets"].items()},
            "truncated": {name: f["truncated"] for name, f in result["facets"].items()},
            "hits": [h["id"] for h in result["hits"]],
            "scores": [h["score"] for h in result["hits"]]}


def clear_cluster_caches(setup: Setup, index: str | None = None) -> None:
    client = client_for(setup.url)
    client.indices.clear_cache(index=live_build(setup.url, index or setup.index))
    client.close()


def warm_up(setup: Setup, engine: str, queries: list[dict], **where) -> None:
    """Run other queries first: a freshly started JVM interprets before it
    compiles, which is not what a reader of a running cluster meets. The
    first pass then clears the cluster's caches and opens a new engine."""
    eng = setup.open(engine, **where)
    try:
        for q in queries:
            run_search(eng, q["q"], **common.search_kwargs(q))
    finally:
        eng.close()


def latency_passes(setup: Setup, engine: str, queries: list[dict], **where) -> dict:
    """First pass (engine freshly opened) and a warm second pass; the first
    pass's answers are kept for the comparison."""
    if engine == "opensearch":
        clear_cluster_caches(setup, where.get("index"))
    eng = setup.open(engine, **where)
    try:
        t0 = time.perf_counter()
        eng.snapshot()
        open_s = time.perf_counter() - t0
        answers, first, second, errors = [], [], [], []
        for q in queries:
            result, seconds, err = run_search(eng, q["q"], **common.search_kwargs(q))
            answers.append(brief(result))
            first.append(seconds)
            if err:
                errors.append(f"{q['q']!r}: {err}")
        for q in queries:
            _result, seconds, err = run_search(eng, q["q"], **common.search_kwargs(q))
            second.append(seconds)
            if err:
                errors.append(f"{q['q']!r}: {err}")
    finally:
        eng.close()
    return {"open_s": round(open_s, 3), "first_pass": pcts(first), "warm": pcts(second), "errors": len(errors),
            "error_examples": errors[:5], "answers": answers,
            "first_pass_ms": [round(s * 1000, 2) for s in first]}


def compare_answers(queries: list[dict], whoosh: list[dict | None], opensearch: list[dict | None]) -> dict:
    equal_total = equal_facets = same_top = both_ok = zero_both = with_values = 0
    overlaps = []
    mismatches, top_differences = [], []
    for q, w, o in zip(queries, whoosh, opensearch):
        if w is None or o is None:
            mismatches.append({"i": q["i"], "q": q["q"], "filters": common.search_kwargs(q), "kind": q["kind"],
                               "error": {"whoosh": w is None, "opensearch": o is None}})
            continue
        both_ok += 1
        total_ok = w["total"] == o["total"]
        equal_total += total_ok
        zero_both += w["total"] == o["total"] == 0
        with_values += any(w["facets"].values())
        facet_diff = {}
        for name in sorted(set(w["facets"]) | set(o["facets"])):
            wf, of = w["facets"].get(name, {}), o["facets"].get(name, {})
            if wf != of or w["truncated"].get(name) != o["truncated"].get(name):
                facet_diff[name] = [(v, wf.get(v), of.get(v)) for v in sorted(set(wf) | set(of))
                                    if wf.get(v) != of.get(v)]
        equal_facets += not facet_diff
        if w["hits"] and o["hits"]:
            same_top += w["hits"][0] == o["hits"][0]
            if w["hits"][0] != o["hits"][0] and len(top_differences) < MISMATCHES_KEPT:
                top_differences.append({"i": q["i"], "q": q["q"], "total": w["total"],
                                        "whoosh": list(zip(w["hits"][:3], w["scores"][:3])),
                                        "opensearch": list(zip(o["hits"][:3], o["scores"][:3]))})
            overlaps.append(len(set(w["hits"]) & set(o["hits"])) / max(len(w["hits"]), len(o["hits"])))
        if not total_ok or facet_diff:
            mismatches.append({
                "i": q["i"], "q": q["q"], "kind": q["kind"],
                "filters": {k: v for k, v in common.search_kwargs(q).items() if v},
                "total": {"whoosh": w["total"], "opensearch": o["total"]},
                "facet_differences": {name: [{"value": v, "whoosh": a, "opensearch": b} for v, a, b in diff]
                                      for name, diff in facet_diff.items()},
                "hits": {"whoosh": w["hits"][:3], "opensearch": o["hits"][:3]},
            })
    with_hits = sum(1 for w, o in zip(whoosh, opensearch) if w and o and w["hits"] and o["hits"])
    return {"queries": len(queries), "answered_by_both": both_ok, "equal_total": equal_total,
            "zero_total_on_both": zero_both, "with_facet_values": with_values,
            "equal_facets": equal_facets, "top_hit_differences": top_differences, "with_hits_on_both": with_hits, "same_top_hit": same_top,
            "mean_top10_overlap": round(statistics.fmean(overlaps), 3) if overlaps else None,
            "mismatch_count": len(mismatches), "mismatches": mismatches[:MISMATCHES_KEPT]}


# --- relevance (bench/quality.py's sets, through search()) -------------------------


def quality_sets(records: list[dict], sample: int) -> tuple[dict, str]:
    import quality

    candidates = sum(1 for r in records if r.get("title") and len(r.get("body") or "") >= 300)
    sample = min(sample, candidates)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # quality.make_queries prints how many words the variant set replaced
        sets = quality.make_queries(records, sample)
    return sets, out.getvalue().strip()


def mrr_through_search(eng, sets: dict) -> dict:
    """quality.py's metrics (MRR@10, S@1, S@10) of each known-item set, each
    query's one relevant article looked for in search()'s 10 hits."""
    import quality

    out = {}
    for name, items in sets.items():
        ranks, errors = [], 0
        for text, want in items:
            result, _seconds, err = run_search(eng, quality.clean_query(text), per_page=10)
            errors += err is not None
            ids = [h["id"] for h in result["hits"]] if result else []
            ranks.append(ids.index(want) + 1 if want in ids else None)
        out[name] = {k: round(v, 4) for k, v in quality.metrics(ranks).items()} | {"queries": len(items),
                                                                                  "errors": errors}
    return out


def measure_quality(setup: Setup, sets: dict) -> dict:
    from searchapp.engine.plan import Weights

    variants = {"default weights": Weights(), "lead off (Weights(lead=0))": replace(Weights(), lead=0.0)}
    out: dict = {}
    for label, weights in variants.items():
        out[label] = {}
        for engine in ("whoosh", "opensearch"):
            log(f"  MRR through search(): {engine}, {label}")
            eng = setup.open(engine, weights=weights)
            try:
                out[label][engine] = mrr_through_search(eng, sets)
            finally:
                eng.close()
        out[label]["difference (opensearch − whoosh)"] = {
            name: {m: round(out[label]["opensearch"][name][m] - out[label]["whoosh"][name][m], 4)
                   for m in ("MRR@10", "S@1", "S@10")} for name in sets}
    return out


# --- HTTP ----------------------------------------------------------------------


def start_serve(args: list[str], log_path: Path) -> tuple[subprocess.Popen, int]:
    port = common.free_port()
    cmd = [common.PYTHON, "-m", "searchapp", "serve", *args, "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(SERVE_WORKERS)]
    # the server's output to a file, never an unread pipe (a full pipe froze a benchmarked server)
    out = open(log_path, "w")
    out.write(" ".join(cmd) + "\n")
    out.flush()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    try:
        common.wait_for_server(proc, port, log_path.read_text)
    except RuntimeError:
        stop_serve(proc)
        raise
    return proc, port


def stop_serve(proc: subprocess.Popen) -> None:
    proc.terminate()  # the parent passes SIGTERM on to its --workers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure_http(setup: Setup, engine: str, queries: list[dict], seconds: float) -> dict:
    import perf

    paths = [perf.api_path(q) for q in queries]
    log_path = setup.workdir / f"serve-{engine}.log"
    proc, port = start_serve(setup.serve_args(engine), log_path)
    try:
        perf.load(port, paths, CLIENTS, min(3.0, seconds))  # warm-up: every worker opens its engine
        result = perf.load(port, paths, CLIENTS, seconds)
        result["serve_memory_after_load"] = common.tree_rss_mb(proc.pid)
    finally:
        stop_serve(proc)
    result["server_workers"] = SERVE_WORKERS
    result["server_log"] = str(log_path)
    return result


# --- the cluster ---------------------------------------------------------------------


def cluster_figures(url: str, index: str, articles: int) -> dict:
    client = client_for(url)
    try:
        build = live_build(url, index)
        vocabulary = f"{build}-vocabulary"
        client.indices.refresh(index=build)
        nodes = client.nodes.stats(metric="jvm")["nodes"]
        heap = sorted(({"node": n["name"], "heap_used_mb": round(n["jvm"]["mem"]["heap_used_in_bytes"] / 2**20, 1),
                        "heap_max_mb": round(n["jvm"]["mem"]["heap_max_in_bytes"] / 2**20, 1),
                        "heap_used_percent": n["jvm"]["mem"]["heap_used_percent"]} for n in nodes.values()),
                      key=lambda r: r["node"])
        stats = client.indices.stats(index=f"{build},{vocabulary}", metric="store,docs")["indices"]
        main, vocab = stats[build], stats.get(vocabulary, {})
        shards = client.cat.shards(index=build, format="json")
        per_node: dict[str, dict[str, int]] = {}
        for s in shards:
            node = s.get("node") or "unassigned"
            kind = "primaries" if s["prirep"] == "p" else "replicas"
            per_node.setdefault(node, {"primaries": 0, "replicas": 0})[kind] += 1
        prim = main["primaries"]["store"]["size_in_bytes"]
        total = main["total"]["store"]["size_in_bytes"]
        count = int(client.count(index=build)["count"])
        return {
            "nodes": heap,
            "heap_used_mb_total": round(sum(r["heap_used_mb"] for r in heap), 1),
            "heap_max_mb_total": round(sum(r["heap_max_mb"] for r in heap), 1),
            "build": build,
            "docs_count": count,
            "lucene_docs_primaries": main["primaries"]["docs"]["count"],
            "store_primaries_bytes": prim,
            "store_total_bytes": total,
            "bytes_per_article_primaries": round(prim / articles) if articles else None,
            "bytes_per_article_total": round(total / articles) if articles else None,
            "vocabulary_store_total_bytes": vocab.get("total", {}).get("store", {}).get("size_in_bytes"),
            "vocabulary_docs": vocab.get("primaries", {}).get("docs", {}).get("count"),
            "shards_per_node": dict(sorted(per_node.items())),
            "shards": len(shards),
        }
    finally:
        client.close()


def whoosh_size(index_dir: Path) -> int:
    from searchapp.engine.whoosh.builds import live_build as whoosh_live

    return common.dir_size(whoosh_live(index_dir))


# --- the report ----------------------------------------------------------------------


def three(s: dict, keys=("p50_ms", "p90_ms", "p99_ms")) -> str:
    return " / ".join(fmt(s.get(k)) for k in keys) + " ms"


def mb(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:,.1f} MB"


def report_text(data: dict) -> str:
    env = data["environment"]
    lines = ["# searchapp engines: Whoosh and OpenSearch, one run", "",
             f"`{env['command']}` — {env['date']} (UTC), commit {env['git_commit']}"
             f"{' (dirty tree, diff ' + env['git_diff_sha1'] + ')' if env['git_dirty'] else ''}, "
             f"{env['cpus']} CPUs, load avg at start {env['loadavg_start'][0]:.2f}"
             + (f", at end {env['loadavg_end'][0]:.2f}" if env.get("loadavg_end") else ""),
             "",
             f"Corpus {data['corpus']} — {fmt(data['articles'])} articles"
             f"{' (first ' + fmt(data['limit']) + ')' if data['limit'] else ''}; rebuilds with procs={data['procs']}. "
             f"OpenSearch: {data['cluster_origin']}, index `{data['opensearch_index']}`, {SHARDS} shards, "
             f"{REPLICAS} replica.", "", NOTE.format(cpus=env["cpus"]), ""]

    w, o = data["indexing"]["whoosh"], data["indexing"]["opensearch"]
    a = data["indexing"]["analysis"]
    c = data.get("cluster") or {}
    lines += ["## Indexing", "", "| | Whoosh | OpenSearch |", "| --- | --- | --- |",
              f"| articles indexed | {fmt(w['indexed'])} | {fmt(o['indexed'])} (cluster count {fmt(o['documents'])}) |",
              f"| rebuild seconds | {fmt(w['seconds'])} s | {fmt(o['seconds'])} s |",
              f"| docs/s | {fmt(w['docs_per_s'], 0)} | {fmt(o['docs_per_s'], 0)} |",
              f"| index size | {mb(data['indexing'].get('whoosh_index_bytes'))} | "
              f"{mb(c.get('store_primaries_bytes'))} primaries, {mb(c.get('store_total_bytes'))} with replicas |",
              "",
              f"Our analysis alone (Preparer.prepare, one fresh process, cold stems): {fmt(a['prepare_s'], 2)} s for "
              f"{fmt(a['articles'])} articles ({fmt(a['docs_per_s_one_process'], 0)} docs/s; reading "
              f"{fmt(a['read_s'], 2)} s, set-up {fmt(a['init_s'], 2)} s apart); ÷ {a['procs']} procs = "
              f"{fmt(a['prepare_s_scaled'], 2)} s = **{a['share_of_rebuild']:.0%}** of the OpenSearch rebuild's "
              f"{fmt(a['rebuild_s'], 2)} s; the rest is the bulk requests, the cluster's indexing, refresh, replica "
              f"allocation and the vocabulary index.", ""]

    s = data["answers"]
    lines += [f"## Same answers: the {s['queries']} queries of bench/perf.py through search()", "",
              f"* answered by both (no error): {s['answered_by_both']}/{s['queries']}",
              f"* equal `total`: **{s['equal_total']}/{s['queries']}** ({s['zero_total_on_both']} of them 0 on both)",
              f"* equal facet counts (every facet's shown {{value: count}}): **{s['equal_facets']}/{s['queries']}** "
              f"({s['with_facet_values']} with facet values)",
              f"* same top hit: {s['same_top_hit']}/{s['with_hits_on_both']} queries with hits on both; "
              f"mean overlap of the 10 hits {fmt(s['mean_top10_overlap'], 3)} (ranking: Lucene's BM25 idf and norms "
              f"per shard, not Whoosh's)",
              f"* queries that differ in total or facets: {s['mismatch_count']}"]
    for m in s["mismatches"][: data["show_mismatches"]]:
        if "error" in m:
            lines.append(f"  * #{m['i']} {m['q']!r} {m['filters']}: error on {m['error']}")
            continue
        diffs = "; ".join(f"{name}: " + ", ".join(f"{d['value']!r} {d['whoosh']} vs {d['opensearch']}"
                                                  for d in diff[:6]) + (" …" if len(diff) > 6 else "")
                          for name, diff in m["facet_differences"].items())
        lines.append(f"  * #{m['i']} ({m['kind']}) q={m['q']!r} {m['filters'] or ''}: total whoosh "
                     f"{m['total']['whoosh']} vs opensearch {m['total']['opensearch']}"
                     + (f"; facets (whoosh vs opensearch) {diffs}" if diffs else "; facets equal"))
    lines.append("")

    q = data.get("quality")
    if q:
        lines += [f"## Relevance: bench/quality.py's known-item sets through search() "
                  f"({data['quality_sample']} articles; {data['quality_note']})", "",
                  "| weights | set | Whoosh MRR@10 | OpenSearch MRR@10 | difference | Whoosh S@1 / S@10 | "
                  "OpenSearch S@1 / S@10 |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for label, res in q.items():
            for name in res["whoosh"]:
                ww, oo, dd = res["whoosh"][name], res["opensearch"][name], res["difference (opensearch − whoosh)"][name]
                errs = ww["errors"] + oo["errors"]
                lines.append(f"| {label} | {name} | {ww['MRR@10']:.3f} | {oo['MRR@10']:.3f} | {dd['MRR@10']:+.3f} | "
                             f"{ww['S@1']:.3f} / {ww['S@10']:.3f} | {oo['S@1']:.3f} / {oo['S@10']:.3f}"
                             f"{f' ({errs} errors)' if errs else ''} |")
        lines.append("")

    lw, lo = data["latency"]["whoosh"], data["latency"]["opensearch"]
    lines += ["## Query latency through search() (p50 / p90 / p99)", "", "| | Whoosh | OpenSearch |",
              "| --- | --- | --- |",
              f"| opening the snapshot (not in the passes) | {fmt(lw['open_s'] * 1000)} ms | {fmt(lo['open_s'] * 1000)} ms |",
              f"| first pass (engine freshly opened; cluster caches cleared; JIT warmed on other queries) | {three(lw['first_pass'])} | "
              f"{three(lo['first_pass'])} |",
              f"| warm (second pass) | {three(lw['warm'])} | {three(lo['warm'])} |",
              f"| errors (QueryError, engine unavailable) | {lw['errors']} | {lo['errors']} |", ""]

    h = data.get("http")
    if h:
        hw, ho = h["whoosh"], h["opensearch"]
        lines += [f"## HTTP /api/search: `searchapp serve --workers {SERVE_WORKERS}`, {CLIENTS} client threads, "
                  f"{fmt(hw['seconds'])} s after a warm-up", "", "| | Whoosh | OpenSearch |", "| --- | --- | --- |",
                  f"| req/s | {fmt(hw['requests_per_s'])} | {fmt(ho['requests_per_s'])} |",
                  f"| latency p50 / p95 / p99 | {three(hw, ('p50_ms', 'p95_ms', 'p99_ms'))} | "
                  f"{three(ho, ('p50_ms', 'p95_ms', 'p99_ms'))} |",
                  f"| errors (of requests) | {hw['errors']} ({fmt(hw['requests'])}) | {ho['errors']} ({fmt(ho['requests'])}) |",
                  f"| serve processes' RSS / PSS after load | {fmt(hw['serve_memory_after_load']['rss_mb'], 0)} / "
                  f"{fmt(hw['serve_memory_after_load']['pss_mb'], 0)} MB | "
                  f"{fmt(ho['serve_memory_after_load']['rss_mb'], 0)} / {fmt(ho['serve_memory_after_load']['pss_mb'], 0)} MB"
                  " (plus the cluster) |",
                  f"| server log | {hw['server_log']} | {ho['server_log']} |", ""]

    if c:
        lines += ["## Cluster", "", "| node | heap used | heap max |", "| --- | --- | --- |"]
        lines += [f"| {n['node']} | {fmt(n['heap_used_mb'], 0)} MB ({n['heap_used_percent']}%) | "
                  f"{fmt(n['heap_max_mb'], 0)} MB |" for n in c["nodes"]]
        lines += [f"| total | {fmt(c['heap_used_mb_total'], 0)} MB | {fmt(c['heap_max_mb_total'], 0)} MB |", "",
                  f"Build `{c['build']}`: {fmt(c['docs_count'])} docs (Lucene docs in primaries "
                  f"{fmt(c['lucene_docs_primaries'])}); store {mb(c['store_primaries_bytes'])} primaries, "
                  f"{mb(c['store_total_bytes'])} total; **{fmt(c['bytes_per_article_primaries'])} bytes per article** "
                  f"(primaries; {fmt(c['bytes_per_article_total'])} with the replica); vocabulary index "
                  f"{mb(c['vocabulary_store_total_bytes'])} total ({fmt(c['vocabulary_docs'])} terms). "
                  "Shards per node: " + ", ".join(f"{n} {v['primaries']}p+{v['replicas']}r"
                                                   for n, v in c["shards_per_node"].items()) + ".",
                  "(Heap read at the end of the 1× measurements; store size as merged so far — a shard of ~10–50 GB is the usual "
                  "target, so articles per shard ≈ target ÷ bytes per article.)", ""]

    sc = data.get("scale")
    if sc:
        k = sc["factor"]
        lines += [f"## {k}× corpus ({fmt(sc['articles'])} articles, new ids; stems known from the 1× builds)", "",
                  "| | Whoosh | OpenSearch |", "| --- | --- | --- |",
                  f"| rebuild | {fmt(sc['whoosh']['rebuild']['seconds'])} s, {fmt(sc['whoosh']['rebuild']['docs_per_s'], 0)}"
                  f" docs/s | {fmt(sc['opensearch']['rebuild']['seconds'])} s, "
                  f"{fmt(sc['opensearch']['rebuild']['docs_per_s'], 0)} docs/s |",
                  f"| first pass p50 / p99 | {three(sc['whoosh']['first_pass'], ('p50_ms', 'p99_ms'))} | "
                  f"{three(sc['opensearch']['first_pass'], ('p50_ms', 'p99_ms'))} |",
                  f"| first pass p50 ratio to 1× | {sc['whoosh']['p50_ratio']:.2f}× | {sc['opensearch']['p50_ratio']:.2f}× |",
                  f"| index size | {mb(sc['whoosh']['index_bytes'])} | "
                  f"{mb(sc['opensearch']['cluster']['store_primaries_bytes'])} primaries, "
                  f"{fmt(sc['opensearch']['cluster']['bytes_per_article_primaries'])} B/article; heap used "
                  f"{fmt(sc['opensearch']['cluster']['heap_used_mb_total'], 0)} MB |", ""]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def run(args, setup: Setup, data: dict, records: list[dict], corpus: Path) -> None:
    procs = data["procs"]
    workdir = setup.workdir

    log(f"Whoosh rebuild of {len(records)} articles into {setup.whoosh_dir} (procs={procs})")
    shutil.rmtree(setup.whoosh_dir, ignore_errors=True)
    data["indexing"] = {"whoosh": rebuild(setup, "whoosh", corpus, procs)}
    data["indexing"]["whoosh_index_bytes"] = whoosh_size(setup.whoosh_dir)
    log(f"  {data['indexing']['whoosh']['summary']}")
    log(f"OpenSearch rebuild into index {setup.index} ({SHARDS} shards, {REPLICAS} replica)")
    shutil.rmtree(setup.cache_dir / "opensearch" / setup.index, ignore_errors=True)  # cold stems, as Whoosh's
    data["indexing"]["opensearch"] = rebuild(setup, "opensearch", corpus, procs)
    log(f"  {data['indexing']['opensearch']['summary']}")
    log("our analysis alone, one fresh process")
    data["indexing"]["analysis"] = measure_analysis(corpus, procs, data["indexing"]["opensearch"]["seconds"])
    log(f"  {data['indexing']['analysis']['prepare_s']} s; share {data['indexing']['analysis']['share_of_rebuild']}")

    queries = common.make_queries(records, common.index_facets(setup.whoosh_dir))
    data["queries"] = queries
    data["latency"] = {}
    warmup = common.make_queries(records, common.index_facets(setup.whoosh_dir), seed=common.SEED + 1)
    log(f"warming both engines up with {len(warmup)} other queries (the cluster's JIT, not our caches)")
    for engine in ("whoosh", "opensearch"):
        warm_up(setup, engine, warmup)
    for engine in ("whoosh", "opensearch"):
        log(f"search() over {len(queries)} queries on {engine}: first pass, then warm")
        data["latency"][engine] = latency_passes(setup, engine, queries)
        lat = data["latency"][engine]
        log(f"  first p50 {lat['first_pass']['p50_ms']} ms, warm p50 {lat['warm']['p50_ms']} ms, "
            f"{lat['errors']} errors")
    data["answers"] = compare_answers(queries, data["latency"]["whoosh"]["answers"],
                                      data["latency"]["opensearch"]["answers"])
    log(f"  equal totals {data['answers']['equal_total']}, equal facets {data['answers']['equal_facets']}")

    if args.quality_sample:
        sets, note = quality_sets(records, args.quality_sample)
        data["quality_sample"] = len(sets["title"])
        data["quality_note"] = note
        log(f"relevance: bench/quality.py's sets of {data['quality_sample']} articles ({note})")
        data["quality"] = measure_quality(setup, sets)

    if not args.no_http:
        data["http"] = {}
        for engine in ("whoosh", "opensearch"):
            log(f"HTTP: serve --workers {SERVE_WORKERS} on {engine}, {CLIENTS} clients for {args.http_seconds:g} s")
            data["http"][engine] = measure_http(setup, engine, queries, args.http_seconds)
            log(f"  {data['http'][engine]['requests_per_s']} req/s, {data['http'][engine]['errors']} errors")

    log("cluster figures")
    data["cluster"] = cluster_figures(setup.url, setup.index, data["indexing"]["opensearch"]["indexed"])

    if args.scale and args.scale > 1:
        k = args.scale
        big = common.write_corpus(records, workdir / f"corpus-x{k}.jsonl.gz", repeat=k)
        big_index, big_dir = f"{setup.index}-x{k}", workdir / f"whoosh-x{k}"
        sc: dict = {"factor": k, "articles": len(records) * k, "whoosh": {}, "opensearch": {}}
        delete_index_name(setup.url, setup.index)  # measured: make room on the cluster
        data["deleted_before_scale"] = setup.index
        log(f"{k}× corpus: Whoosh rebuild of {len(records) * k} articles")
        shutil.rmtree(big_dir, ignore_errors=True)
        big_dir.mkdir(parents=True)
        shutil.copy(setup.whoosh_dir / "stems.tsv", big_dir / "stems.tsv")  # as bench/perf.py: the words are known
        sc["whoosh"]["rebuild"] = rebuild(setup, "whoosh", big, procs, whoosh_dir=big_dir)
        sc["whoosh"]["index_bytes"] = whoosh_size(big_dir)
        log(f"  {sc['whoosh']['rebuild']['summary']}")
        lat = latency_passes(setup, "whoosh", queries, whoosh_dir=big_dir)
        sc["whoosh"].update(first_pass=lat["first_pass"], warm=lat["warm"], errors=lat["errors"])
        shutil.rmtree(big_dir, ignore_errors=True)
        log(f"{k}× corpus: OpenSearch rebuild into {big_index}")
        big_cache = setup.cache_dir / "opensearch" / big_index
        shutil.rmtree(big_cache, ignore_errors=True)
        big_cache.mkdir(parents=True)
        stems = setup.cache_dir / "opensearch" / setup.index / "stems.tsv"
        if stems.exists():
            shutil.copy(stems, big_cache / "stems.tsv")
        data["index_names"].append(big_index)
        sc["opensearch"]["rebuild"] = rebuild(setup, "opensearch", big, procs, index=big_index)
        log(f"  {sc['opensearch']['rebuild']['summary']}")
        lat = latency_passes(setup, "opensearch", queries, index=big_index)
        sc["opensearch"].update(first_pass=lat["first_pass"], warm=lat["warm"], errors=lat["errors"])
        sc["opensearch"]["cluster"] = cluster_figures(setup.url, big_index, sc["opensearch"]["rebuild"]["indexed"])
        for engine in ("whoosh", "opensearch"):
            base = data["latency"][engine]["first_pass"]["p50_ms"]
            sc[engine]["p50_ratio"] = round(sc[engine]["first_pass"]["p50_ms"] / base, 2) if base else float("nan")
        data["scale"] = sc
        os.unlink(big)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, help="the first N articles only (a quick run)")
    ap.add_argument("--opensearch", metavar="URL",
                    help="use this cluster (comma-separated node URLs) instead of starting a 3-node DevCluster")
    ap.add_argument("--opensearch-index", default=DEFAULT_INDEX,
                    help=f"index (alias) name on the cluster; its indexes are deleted at the end (default {DEFAULT_INDEX})")
    ap.add_argument("--keep-index", action="store_true", help="leave the OpenSearch indexes on the cluster")
    ap.add_argument("--heap", default="1g", help="heap of each DevCluster node (default 1g)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-engines"),
                    help="indexes, the cluster's nodes, server logs (default /tmp/searchapp-engines)")
    ap.add_argument("--procs", type=int, help="rebuild processes for both engines (default: cores, at most 4)")
    ap.add_argument("--http-seconds", type=float, default=15.0, help="HTTP load per engine (default 15)")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--quality-sample", type=int, default=1000,
                    help="articles of bench/quality.py's known-item sets (default 1000, its own; 0 = skip)")
    ap.add_argument("--scale", type=int, default=0, help="also a corpus repeated K times (new ids); 0 = off")
    ap.add_argument("--show-mismatches", type=int, default=5, help="mismatching queries printed (default 5)")
    ap.add_argument("--json", help="write all figures (and the queries) to this JSON file")
    ap.add_argument("--analysis-child", metavar="CORPUS", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.analysis_child:
        analysis_child(args.analysis_child)
        return

    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    procs = args.procs or max(1, min(os.cpu_count() or 1, 4))
    data: dict = {"environment": common.environment(), "corpus": str(args.corpus), "limit": args.limit,
                  "seed": common.SEED, "procs": procs, "opensearch_index": args.opensearch_index,
                  "index_names": [args.opensearch_index], "show_mismatches": args.show_mismatches,
                  "shards": SHARDS, "replicas": REPLICAS, "note": NOTE.format(cpus=os.cpu_count())}
    records = common.load_records(args.corpus, args.limit)
    corpus = common.corpus_for(args.corpus, args.limit, workdir)
    data["articles"] = len(records)

    with contextlib.ExitStack() as stack:
        if args.opensearch:
            url = args.opensearch
            data["cluster_origin"] = f"the cluster at {url} (--opensearch)"
        else:
            from searchapp.engine.opensearch.devcluster import DevCluster

            nodes_dir = workdir / "cluster"
            shutil.rmtree(nodes_dir, ignore_errors=True)  # a fresh cluster: no indexes of earlier runs
            log(f"starting a 3-node DevCluster (heap {args.heap} each) in {nodes_dir}")
            cluster = stack.enter_context(DevCluster(nodes=3, workdir=nodes_dir, heap=args.heap, quick_start=False))
            url = ",".join(cluster.urls)
            data["cluster_origin"] = (f"a 3-node DevCluster started here ({url}, heap {args.heap} per node, "
                                      f"up in {fmt(cluster.start_seconds)} s)")
            log(f"  up: {url}")
        setup = Setup(workdir, url, args.opensearch_index)
        data["opensearch_url"] = url
        try:
            run(args, setup, data, records, corpus)
        finally:
            if not args.keep_index:
                for name in data["index_names"]:
                    try:
                        gone = delete_index_name(url, name)
                    except Exception as exc:  # noqa: BLE001 — do not hide the run's own error
                        log(f"could not delete the indexes of {name}: {exc}")
                        continue
                    if gone:
                        log(f"deleted {', '.join(gone)}")

    data["environment"]["loadavg_end"] = os.getloadavg()
    print(report_text(data))
    for engine in ("whoosh", "opensearch"):
        data["latency"][engine].pop("answers", None)  # the comparison keeps what differs
    common.save_json(data, args.json)


if __name__ == "__main__":
    main()
