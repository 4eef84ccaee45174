"""What stories cost: a rebuild and search(), one source tree against another, as CPU seconds
(robust to a machine loaded by other work) and wall time.

    git worktree add /tmp/wt-before <commit>; git worktree add /tmp/wt-after HEAD
    for r in 1 2; do for t in before after; do
      PYTHONPATH=/tmp/wt-$t .venv/bin/python bench/stories_cost.py /tmp/wt-$t $t /tmp/qp; done; done

Each run rebuilds the 2019 corpus with `python -m searchapp rebuild` into a fresh directory
(cold stem cache; CPU of the whole process tree), then times the 300 seeded queries of
bench/common.py (a warm-up pass, then 3 passes; CPU and wall per search()). One JSON line per run.
"""
import json, os, resource, shutil, statistics, subprocess, sys, time
from pathlib import Path
tree, label, workdir = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, str(tree / "bench")); sys.path.insert(0, str(tree))
import common
env = {**os.environ, "PYTHONPATH": str(tree)}
out = {"label": label, "commit": subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
idx = workdir / f"index-{label}"
shutil.rmtree(idx, ignore_errors=True)
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
subprocess.run([sys.executable, "-m", "searchapp", "rebuild", "--corpus", str(common.DEFAULT_CORPUS), "--index", str(idx)], env=env, check=True, capture_output=True)
wall = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
out["rebuild_wall_s"] = round(wall, 1)
out["rebuild_cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1)
out["rebuild_maxrss_mb"] = round(after.ru_maxrss / 1024)
from searchapp.engine import open_engine
from searchapp.search import search
records = common.load_records(common.DEFAULT_CORPUS)
queries = common.make_queries(records, common.index_facets(idx))
engine = open_engine(idx)
for q in queries: search(engine, q["q"], **common.search_kwargs(q))  # warm-up pass
cpu, wallq = [], []
for _ in range(3):
    for q in queries:
        c0, w0 = time.process_time(), time.perf_counter()
        search(engine, q["q"], **common.search_kwargs(q))
        cpu.append((time.process_time() - c0) * 1000); wallq.append((time.perf_counter() - w0) * 1000)
out["search_cpu_p50_ms"] = round(statistics.median(cpu), 2)
out["search_cpu_p99_ms"] = round(sorted(cpu)[int(len(cpu) * 0.99)], 2)
out["search_wall_p50_ms"] = round(statistics.median(wallq), 2)
out["loadavg"] = os.getloadavg()
print(json.dumps(out))
