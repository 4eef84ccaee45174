"""What stories cost: a rebuild and search() with stories and without, in
one checkout, alternated in one run.

    .venv/bin/python bench/stories_cost.py [--pairs 2] [--workdir /tmp/stories-cost] [--json bench/stories_cost.json]

"off" is this checkout with finding stories taken out (bench/stories_off.py:
no fingerprints, no clustering, datasketch never imported); "on" is the
product as it stands. Comparing the code with itself, not with the commit
before stories, keeps every later speed-up on both sides.

* rebuild — the 2019 corpus into a fresh directory (cold stem cache) with
  `rebuild` (on) or `bench/stories_off.py rebuild` (off), `--pairs` times
  each, alternating which goes first; CPU seconds of the whole process tree
  (steady on a machine other work loads), wall seconds, peak PSS of the tree.
* search(), warm — both builds open in this process; each of the 300 seeded
  queries (bench/common.py) runs on "on" (collapsed, the default) and on "off"
  (`collapse=off`: what a search was before stories) back to back, which one
  first alternating; a warm-up pass, then 3 timed ones; CPU clock.
* search(), first pass — a fresh process per mode (alternated, `--pairs`
  each), warmed as a server is (service.warm), each query once; then its RSS.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import ROOT  # noqa: E402

ENTRY = {"on": ("-m", "searchapp"), "off": (str(Path(__file__).resolve().parent / "stories_off.py"),)}
OPTIONS = {"on": {}, "off": {"collapse": "off"}}


def rebuilds(workdir: Path, pairs: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for p in range(pairs):
        for mode in (("on", "off") if p % 2 == 0 else ("off", "on")):
            index_dir = workdir / f"index-{mode}"
            shutil.rmtree(index_dir, ignore_errors=True)
            built = common.run_rebuild(common.DEFAULT_CORPUS, index_dir, entry=ENTRY[mode])
            runs[mode].append({"cpu_s": built["cpu_s"], "wall_s": built["wall_s"],
                               "peak_pss_mb": built["memory"]["peak_tree_pss_mb"],
                               "largest_process_mb": built["memory"]["max_single_process_hwm_mb"],
                               "index_bytes": built["index_bytes"], "summary": built["summary"]})
            print(f"rebuild {mode}: {runs[mode][-1]}", flush=True)
    return runs


def warm_search(workdir: Path, queries: list[dict]) -> dict[str, dict]:
    """CPU ms of each query on both builds, interleaved (the steadiest comparison)."""
    from searchapp.engine import open_engine
    from searchapp.search import search

    engines = {mode: open_engine(workdir / f"index-{mode}") for mode in ("on", "off")}

    def run(mode: str, q: dict) -> float:
        t0 = time.process_time()
        search(engines[mode], q["q"], **common.search_kwargs(q), **OPTIONS[mode])
        return time.process_time() - t0

    for q in queries:  # warm-up
        run("on", q), run("off", q)
    times: dict[str, list[list[float]]] = {"on": [], "off": []}
    for p in range(3):
        for mode in times:
            times[mode].append([])
        for j, q in enumerate(queries):
            for mode in (("on", "off") if (p + j) % 2 == 0 else ("off", "on")):
                times[mode][p].append(run(mode, q))
    for engine in engines.values():
        engine.close()
    return {mode: {key: round(statistics.median(common.summarize_ms(t)[key] for t in per_pass), 3)
                   for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms")}
            for mode, per_pass in times.items()}


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import common
from searchapp.engine import open_engine
from searchapp.search import search
from searchapp.search.service import warm
queries = json.load(open({queries!r}))
engine = open_engine({index!r})
warm(engine)
times = []
for q in queries:
    t0 = time.perf_counter()
    search(engine, q["q"], **common.search_kwargs(q), **{options!r})
    times.append(time.perf_counter() - t0)
rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
print(json.dumps({{**common.summarize_ms(times), "rss_mb": rss}}))
"""


def first_passes(workdir: Path, queries: list[dict], pairs: int) -> dict[str, list[dict]]:
    """Each query once in a fresh, warmed process per mode."""
    path = workdir / "queries.json"
    path.write_text(json.dumps(queries))
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for p in range(pairs):
        for mode in (("on", "off") if p % 2 == 0 else ("off", "on")):
            code = CHILD.format(bench=str(Path(__file__).resolve().parent), queries=str(path),
                                index=str(workdir / f"index-{mode}"), options=OPTIONS[mode])
            out = subprocess.run([common.PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"first pass {mode}: {runs[mode][-1]}", flush=True)
    return runs


def change(on: float, off: float) -> str:
    return f"{100 * (on - off) / off:+.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/stories-cost"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    env = common.environment()
    args.workdir.mkdir(parents=True, exist_ok=True)
    built = rebuilds(args.workdir, args.pairs)
    queries = common.make_queries(common.load_records(common.DEFAULT_CORPUS),
                                  common.index_facets(args.workdir / "index-on"))
    warm = warm_search(args.workdir, queries)
    first = first_passes(args.workdir, queries, args.pairs)

    def med(runs: list[dict], key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    rows = [("rebuild CPU (s, process tree)", *(med(built[m], "cpu_s") for m in ("off", "on"))),
            ("rebuild wall (s)", *(med(built[m], "wall_s") for m in ("off", "on"))),
            ("rebuild peak PSS of the tree (MB)", *(med(built[m], "peak_pss_mb") for m in ("off", "on"))),
            ("index size (MB)", *(round(med(built[m], "index_bytes") / 1e6, 1) for m in ("off", "on"))),
            ("search() warm CPU p50 (ms)", warm["off"]["p50_ms"], warm["on"]["p50_ms"]),
            ("search() warm CPU p99 (ms)", warm["off"]["p99_ms"], warm["on"]["p99_ms"]),
            ("search() first pass p50 (ms)", *(med(first[m], "p50_ms") for m in ("off", "on"))),
            ("search() first pass p99 (ms)", *(med(first[m], "p99_ms") for m in ("off", "on"))),
            ("serving process RSS after the pass (MB)", *(med(first[m], "rss_mb") for m in ("off", "on")))]
    print(f"\n{env['command']}  {env['date']}  commit {env['git_commit']}{' (dirty)' if env['git_dirty'] else ''}")
    print(f"medians of {args.pairs} alternated runs; {len(queries)} queries\n")
    print("| | stories off | stories on | change |\n| --- | --- | --- | --- |")
    for label, off, on in rows:
        print(f"| {label} | {off} | {on} | {change(on, off)} |")
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "rebuild": built, "search_warm": warm,
                                         "search_first_pass": first, "table": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
