"""Performance of searchapp: rebuild, search(), HTTP, serving memory, 10× corpus.

    .venv/bin/python bench/perf.py                     # full run (≈ 40–60 min with --scale 10)
    .venv/bin/python bench/perf.py --quick             # smoke run: 2,000 articles, no 10×, 5 s HTTP
    .venv/bin/python bench/perf.py --scale 0 --json bench/perf.json
    .venv/bin/python bench/perf.py --profile --limit 3000 --scale 0 --no-http

What is measured (see bench/PERF.md for the method and caveats):

* rebuild — `python -m searchapp rebuild` in a subprocess (all cores, as a user
  runs it), `--runs N` times (default 3) into fresh directories (cold: no stem
  cache); the median is shown. Then once more over the same index ("rebuild
  again": the stems kept in index/stems.tsv, as a user's next rebuild). Seconds are the rebuild's own BuildReport figure (wall time of the
  subprocess, with interpreter start, is in the JSON). Memory: the peak of the
  summed PSS and RSS of the process tree (parent + workers), sampled every 0.1 s.
* query — search() in this process (ranking, the three facets' counts,
  snippets of the 10 hits on page 1: the real job), over 300 seeded queries
  (bench/common.py:make_queries); one warm-up pass, then 3 timed passes;
  each percentile is the median over the passes.
* HTTP — `searchapp serve` (waitress, --threads 4) on a free 127.0.0.1 port,
  8 client threads with keep-alive http.client connections cycling through the
  same queries as /api/search URLs for 20 s after a 3 s warm-up; 3 runs (a new
  server each), the median run shown.
* serving RSS — VmRSS / VmHWM / PSS summed over the serve processes after the load.
* 10× — the articles repeated 10 times with new ids, rebuilt starting from the
  1× build's stem cache (same words), same queries.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import ROOT, fmt  # noqa: E402

PROFILE_REBUILD_ARTICLES = 2000


# --- our search, in process --------------------------------------------------


def our_query_runner(index_dir: Path):
    """(run_one, close): run_one(query) does the full search() of page 1."""
    from searchapp.engine import open_engine
    from searchapp.errors import QueryError
    from searchapp.search import search
    from searchapp.search.service import warm

    live = open_engine(index_dir)
    warm(live)  # opened as `searchapp serve` opens it before it takes requests
    errors: list[str] = []

    def run_one(query: dict) -> dict:
        try:
            return search(live, query["q"], **common.search_kwargs(query))
        except QueryError as exc:  # e.g. search.TIME_LIMIT hit on a loaded machine: counted, not fatal
            errors.append(f"{query['q']!r}: {exc}")
            return {"total": None}

    run_one.errors = errors
    return run_one, live.close


def measure_queries(index_dir: Path, queries: list[dict], passes: int) -> dict:
    run_one, close = our_query_runner(index_dir)
    try:
        totals, first = [], []
        for q in queries:  # fills the caches: timed apart as the first-pass figure
            t0 = time.perf_counter()
            totals.append(run_one(q)["total"])
            first.append(time.perf_counter() - t0)
        result = common.time_queries(run_one, queries, passes=passes, warmup=1)
        result["first_pass"] = common.summarize_ms(first)
    finally:
        close()
    result["errors"] = len(run_one.errors)
    result["error_examples"] = run_one.errors[:10]
    result["totals"] = totals
    result["zero_hit_queries"] = {
        kind: sum(1 for q, t in zip(queries, totals) if q["kind"] == kind and t == 0)
        for kind in sorted({q["kind"] for q in queries})
    }
    return result


def profile_search(index_dir: Path, queries: list[dict], top: int = 25) -> str:
    """cProfile of one warm pass of search() over the queries."""
    run_one, close = our_query_runner(index_dir)
    try:
        for q in queries:  # warm: searcher open, facet sets, stem cache
            run_one(q)
        prof = cProfile.Profile()
        prof.enable()
        for q in queries:
            run_one(q)
        prof.disable()
    finally:
        close()
    return _profile_text(prof, top, f"search() over {len(queries)} queries, one warm pass")


def _profile_text(prof: cProfile.Profile, top: int, title: str) -> str:
    out = io.StringIO()
    for key in ("cumulative", "tottime"):
        out.write(f"\n=== {title}: top {top} by {key} ===\n")
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(top)
    return out.getvalue()


def profile_rebuild_child(corpus: str, index_dir: str, top: int) -> None:
    """Run in a fresh process (cold stem cache, as a worker starts): one process
    (procs=1), because cProfile does not follow worker processes; the per-article
    work profiled here is what each worker does in a parallel rebuild."""
    from searchapp.engine import open_engine

    engine = open_engine(index_dir)
    prof = cProfile.Profile()
    prof.enable()
    report = engine.rebuild([corpus], procs=1)
    prof.disable()
    print(report.summary())
    print(_profile_text(prof, top, f"rebuild(procs=1) of {report.indexed} articles"))


def profile_rebuild(corpus: Path, workdir: Path, top: int = 25) -> str:
    sub = common.corpus_for(corpus, PROFILE_REBUILD_ARTICLES, workdir)
    index_dir = workdir / "index-profile"
    shutil.rmtree(index_dir, ignore_errors=True)
    cmd = [common.PYTHON, str(Path(__file__).resolve()), "--profile-rebuild-child", str(sub), str(index_dir),
           "--top", str(top)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    if done.returncode != 0:
        return f"rebuild profile failed: {done.stderr[-2000:]}"
    return done.stdout


# --- HTTP --------------------------------------------------------------------


def api_path(query: dict) -> str:
    params = [("q", query["q"])] + [(f, v) for f in common.FACET_NAMES for v in query[f]]
    return "/api/search?" + urlencode(params)


def start_server(index_dir: Path, threads: int, workers: int = 1) -> tuple[subprocess.Popen, int]:
    port = common.free_port()
    cmd = [common.PYTHON, "-m", "searchapp", "serve", "--index", str(index_dir), "--host", "127.0.0.1",
           "--port", str(port), "--threads", str(threads), "--workers", str(workers)]
    # stderr to a file, not a pipe: waitress logs a warning whenever requests queue up,
    # and an unread pipe fills and freezes the server mid-benchmark
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)

    def output() -> str:
        log.seek(0)
        return log.read()

    try:
        common.wait_for_server(proc, port, output)
    except RuntimeError:
        proc.kill()
        raise
    return proc, port


def load(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads, each with one keep-alive connection, for `seconds`."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    status_errors: dict[int, int] = {}
    conn_errors: list[str] = []
    done = [0]

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k * len(paths) // clients
        mine, bad, errs = [], {}, []
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                elapsed = time.perf_counter() - t0
                if resp.status == 200:
                    mine.append(elapsed)
                else:
                    bad[resp.status] = bad.get(resp.status, 0) + 1
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except (OSError, http.client.HTTPException) as exc:
                errs.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            latencies.extend(mine)
            for s, n in bad.items():
                status_errors[s] = status_errors.get(s, 0) + n
            conn_errors.extend(errs)
            done[0] += len(mine) + sum(bad.values()) + len(errs)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    ok = len(latencies)
    return {
        "seconds": round(elapsed, 2),
        "clients": clients,
        "requests": done[0],
        "ok": ok,
        "requests_per_s": round(ok / elapsed, 2),
        "errors": sum(status_errors.values()) + len(conn_errors),
        "status_errors": {str(k): v for k, v in status_errors.items()},
        "connection_errors": conn_errors[:10],
        **common.summarize_ms(latencies),
    }


def measure_http(index_dir: Path, queries: list[dict], seconds: float, clients: int, threads: int,
                 warmup: float = 3.0, workers: int = 1) -> dict:
    paths = [api_path(q) for q in queries]
    proc, port = start_server(index_dir, threads, workers)
    try:
        idle = common.tree_rss_mb(proc.pid)
        load(port, paths, clients, warmup)
        result = load(port, paths, clients, seconds)
        result["server_threads"] = threads
        result["server_workers"] = workers
        result["serve_memory_idle"] = idle  # after one empty query (index opened), all processes
        result["serve_memory_after_load"] = common.tree_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return result


# --- rebuild -----------------------------------------------------------------


def measure_rebuild(corpus: Path, index_dir: Path, runs: int, procs: int | None, text_bytes: int,
                    fresh: bool = True) -> dict:
    """`runs` rebuilds, each into an empty directory (cold: no stem cache) unless not `fresh`."""
    results = []
    for _ in range(runs):
        if fresh:
            shutil.rmtree(index_dir, ignore_errors=True)
        results.append(common.run_rebuild(corpus, index_dir, procs))
    seconds = statistics.median(r["reported_s"] or r["wall_s"] for r in results)
    indexed = results[-1]["indexed"]
    return {
        "runs": results,
        "seconds": round(seconds, 2),
        "wall_s": round(statistics.median(r["wall_s"] for r in results), 2),
        "indexed": indexed,
        "docs_per_s": round(indexed / seconds, 1) if indexed else None,
        "text_mb": round(text_bytes / 1e6, 2),
        "mb_per_s": round(text_bytes / 1e6 / seconds, 3),
        "index_mb": round(results[-1]["index_bytes"] / 1e6, 1),
        "peak_tree_pss_mb": max(r["memory"]["peak_tree_pss_mb"] for r in results),
        "peak_tree_rss_mb": max(r["memory"]["peak_tree_rss_mb"] for r in results),
        "max_single_process_hwm_mb": max(r["memory"]["max_single_process_hwm_mb"] for r in results),
    }


# --- report ------------------------------------------------------------------


def table(data: dict) -> str:
    r, q = data["rebuild"], data["query"]
    n = r["indexed"]
    rows = [
        ("rebuild: articles indexed", fmt(n)),
        (f"rebuild: seconds (median of {len(r['runs'])} run{'s' if len(r['runs']) > 1 else ''})",
         f"{fmt(r['seconds'])} s (wall incl. start-up {fmt(r['wall_s'])} s)"),
        ("rebuild: throughput", f"{fmt(r['docs_per_s'], 0)} docs/s, {fmt(r['mb_per_s'], 2)} MB/s of text "
                                f"({fmt(r['text_mb'])} MB)"),
        ("rebuild again (stems kept from the previous rebuild)",
         f"{fmt(data['rebuild_again']['seconds'])} s, {fmt(data['rebuild_again']['docs_per_s'], 0)} docs/s"),
        ("rebuild: peak memory, process tree (PSS / RSS sum)",
         f"{fmt(r['peak_tree_pss_mb'], 0)} MB / {fmt(r['peak_tree_rss_mb'], 0)} MB"),
        ("index size on disk", f"{fmt(r['index_mb'])} MB"),
        (f"search() latency p50 / p95 / p99 ({q['queries']} queries × {q['passes']} passes)",
         f"{fmt(q['p50_ms'])} / {fmt(q['p95_ms'])} / {fmt(q['p99_ms'])} ms"),
    ]
    if "first_pass" in q:
        f = q["first_pass"]
        rows.append(("  first pass (index just opened and warmed as serve does; each query once) p50 / p95 / p99",
                     f"{fmt(f['p50_ms'])} / {fmt(f['p95_ms'])} / {fmt(f['p99_ms'])} ms"))
    for kind, s in q["per_kind"].items():
        rows.append((f"  {kind} queries p50 / p99", f"{fmt(s['p50_ms'])} / {fmt(s['p99_ms'])} ms (n={s['n'] // q['passes']})"))
    if q.get("errors"):
        rows.append(("  search() errors (QueryError, e.g. time limit)", fmt(q["errors"])))
    h = data.get("http")
    if h:
        rows += [
            (f"HTTP /api/search ({h['clients']} clients, {h.get('server_workers', 1)} x {h['server_threads']} server threads, "
             f"{fmt(h['seconds'], 0)} s, median of {h['runs']} runs)",
             f"{fmt(h['requests_per_s'])} req/s, p50 {fmt(h['p50_ms'])} ms, p99 {fmt(h['p99_ms'])} ms; "
             f"all runs {' / '.join(fmt(x) for x in h['all_requests_per_s'])} req/s, {h['errors_all_runs']} errors"),
            ("serving memory after load: RSS (peak) / PSS, all serve processes",
             f"{fmt(h['serve_memory_after_load']['rss_mb'], 0)} MB ({fmt(h['serve_memory_after_load']['hwm_mb'], 0)} MB)"
             f" / {fmt(h['serve_memory_after_load']['pss_mb'], 0)} MB"),
        ]
    s = data.get("scale")
    if s:
        k, sr, sq = s["factor"], s["rebuild"], s["query"]
        rows += [
            (f"{k}× corpus: rebuild (from the 1× stem cache)", f"{fmt(sr['indexed'])} articles in {fmt(sr['seconds'])} s "
                                      f"({fmt(sr['docs_per_s'], 0)} docs/s), index {fmt(sr['index_mb'])} MB, "
                                      f"peak PSS {fmt(sr['peak_tree_pss_mb'], 0)} MB"),
            (f"{k}× corpus: search() p50 / p95 / p99",
             f"{fmt(sq['p50_ms'])} / {fmt(sq['p95_ms'])} / {fmt(sq['p99_ms'])} ms"),
            (f"{k}× / 1× search() p50", f"{s['p50_ratio']:.2f}×"),
        ]
    lines = ["| what | figure |", "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows]
    env = data["environment"]
    lines += ["", f"`{env['command']}` — {env['date']}, commit {env['git_commit']}"
                  f"{' (dirty tree)' if env['git_dirty'] else ''}, {env['cpus']} CPUs, "
                  f"load avg at start {env['loadavg_start'][0]:.2f}, at end {env['loadavg_end'][0]:.2f}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, help="bench on the first N articles only")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: --limit 2000, 1 timed pass, 5 s HTTP, no 10× (explicit flags win)")
    ap.add_argument("--scale", type=int, help="also bench a corpus repeated K times (default 10; 0 = off; "
                                              "--quick: off)")
    ap.add_argument("--runs", type=int, default=3, help="cold rebuild runs; the median is reported (default 3)")
    ap.add_argument("--http-runs", type=int, default=3, help="HTTP load runs; the median is reported (default 3)")
    ap.add_argument("--passes", type=int, help="timed passes over the queries (default 3, --quick 1)")
    ap.add_argument("--procs", type=int, help="rebuild --procs (default: the CLI's default, all cores ≤ 4)")
    ap.add_argument("--http-seconds", type=float, help="HTTP load duration (default 20, --quick 5)")
    ap.add_argument("--clients", type=int, default=8, help="HTTP client threads (default 8)")
    ap.add_argument("--serve-threads", type=int, default=4, help="waitress threads (default 4, the CLI's)")
    ap.add_argument("--serve-workers", type=int, default=1, help="serve processes (searchapp serve --workers)")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help=f"cProfile search() over the queries and a rebuild of {PROFILE_REBUILD_ARTICLES} articles")
    ap.add_argument("--top", type=int, default=25, help="functions shown per profile listing")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-perf"))
    ap.add_argument("--json", help="write all figures (and the queries) to this JSON file")
    ap.add_argument("--profile-rebuild-child", nargs=2, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.profile_rebuild_child:
        profile_rebuild_child(*args.profile_rebuild_child, top=args.top)
        return

    limit = args.limit or (2000 if args.quick else None)
    scale = args.scale if args.scale is not None else (0 if args.quick else 10)
    passes = args.passes or (1 if args.quick else 3)
    http_seconds = args.http_seconds or (5.0 if args.quick else 20.0)
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)

    data: dict = {"environment": common.environment(), "corpus": str(args.corpus), "limit": limit,
                  "seed": common.SEED}
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    records = common.load_records(args.corpus, limit)
    nbytes = common.text_bytes(records)
    corpus = common.corpus_for(args.corpus, limit, workdir)
    index_dir = workdir / "index-1x"
    log(f"rebuild of {len(records)} articles ({nbytes / 1e6:.1f} MB of text), {args.runs} run(s)")
    data["rebuild"] = measure_rebuild(corpus, index_dir, args.runs, args.procs, nbytes)
    data["index_dir"] = str(index_dir)
    log(f"  {data['rebuild']['seconds']} s, {data['rebuild']['docs_per_s']} docs/s")
    log("rebuild again over the same index (stems kept in index/stems.tsv, as a user's next rebuild)")
    data["rebuild_again"] = measure_rebuild(corpus, index_dir, 1, args.procs, nbytes, fresh=False)
    log(f"  {data['rebuild_again']['seconds']} s, {data['rebuild_again']['docs_per_s']} docs/s")

    facets = common.index_facets(index_dir)
    queries = common.make_queries(records, facets)
    data["queries"] = queries
    log(f"search() over {len(queries)} queries: warm-up + {passes} pass(es)")
    data["query"] = measure_queries(index_dir, queries, passes)
    log(f"  p50 {data['query']['p50_ms']} ms, p99 {data['query']['p99_ms']} ms")

    profiles = []
    if args.profile:
        log("profiling search()")
        profiles.append(profile_search(index_dir, queries, args.top))
        log(f"profiling rebuild of {PROFILE_REBUILD_ARTICLES} articles (procs=1)")
        profiles.append(profile_rebuild(args.corpus, workdir, args.top))

    if not args.no_http:
        runs = []
        for i in range(args.http_runs):
            log(f"HTTP run {i + 1}/{args.http_runs}: {args.clients} clients for {http_seconds:.0f} s")
            runs.append(measure_http(index_dir, queries, http_seconds, args.clients, args.serve_threads,
                                     workers=args.serve_workers))
            log(f"  {runs[-1]['requests_per_s']} req/s, {runs[-1]['errors']} errors")
        median = sorted(runs, key=lambda r: r["requests_per_s"])[len(runs) // 2]
        data["http"] = {**median, "runs": len(runs), "all_requests_per_s": [r["requests_per_s"] for r in runs],
                        "all_p99_ms": [r["p99_ms"] for r in runs], "errors_all_runs": sum(r["errors"] for r in runs)}

    if scale and scale > 1:
        big = common.write_corpus(records, workdir / f"corpus-x{scale}.jsonl.gz", repeat=scale)
        big_index = workdir / f"index-x{scale}"
        log(f"{scale}× corpus: rebuild of {len(records) * scale} articles, starting from the 1× stem cache")
        shutil.rmtree(big_index, ignore_errors=True)
        big_index.mkdir(parents=True)
        shutil.copy(index_dir / "stems.tsv", big_index / "stems.tsv")  # the same words: their stems are known
        rebuild = measure_rebuild(big, big_index, 1, args.procs, nbytes * scale, fresh=False)
        log(f"  {rebuild['seconds']} s; search() over the same queries")
        query = measure_queries(big_index, queries, passes)
        data["scale"] = {
            "factor": scale, "rebuild": rebuild, "query": query,
            "p50_ratio": round(query["p50_ms"] / data["query"]["p50_ms"], 2),
            "p99_ratio": round(query["p99_ms"] / data["query"]["p99_ms"], 2),
            "rebuild_seconds_ratio": round(rebuild["seconds"] / data["rebuild"]["seconds"], 2),
        }
        shutil.rmtree(big_index, ignore_errors=True)
        os.unlink(big)

    data["environment"]["loadavg_end"] = os.getloadavg()
    data["profiles"] = profiles
    for text in profiles:
        print(text)
    print(table(data))
    common.save_json(data, args.json)


if __name__ == "__main__":
    main()
