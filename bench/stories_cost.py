"""What stories cost: a rebuild and search() of one source tree against another,
as CPU seconds (steady on a machine loaded by other work) and wall time.

    git worktree add /tmp/wt-before <commit>; git worktree add /tmp/wt-after HEAD
    for r in 1 2; do for t in before after; do
      .venv/bin/python bench/stories_cost.py /tmp/wt-$t $t /tmp/qp; done; done

Each run rebuilds the 2019 corpus with the tree's `python -m searchapp rebuild`
into a fresh directory (cold stem cache; CPU of the whole process tree, peak
memory summed over it), then times the 300 seeded queries of bench/common.py
with the tree's search() (a warm-up pass, then 3 passes; CPU and wall). The
measuring code is this checkout's, so both trees are measured alike. One JSON
line per run.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (this checkout's: the same queries and clocks for every tree)

tree, label, workdir = Path(sys.argv[1]).resolve(), sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, str(tree))
from searchapp.engine import open_engine  # noqa: E402  (the measured tree's)
from searchapp.search import search  # noqa: E402

commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
index_dir = workdir / f"index-{label}"
subprocess.run(["rm", "-rf", str(index_dir)], check=True)
built = common.run_rebuild(common.DEFAULT_CORPUS, index_dir, root=tree)
records = common.load_records(common.DEFAULT_CORPUS)
queries = common.make_queries(records, common.index_facets(index_dir))
engine = open_engine(index_dir)
run = lambda q: search(engine, q["q"], **common.search_kwargs(q))  # noqa: E731
cpu = common.time_queries(run, queries, clock=time.process_time)
wall = common.time_queries(run, queries, warmup=0)
print(json.dumps({
    "label": label, "commit": commit.stdout.strip(), "date": common.environment()["date"],
    "rebuild_cpu_s": built["cpu_s"], "rebuild_wall_s": built["wall_s"],
    "rebuild_peak_pss_mb": built["memory"]["peak_tree_pss_mb"],
    "rebuild_largest_process_mb": built["memory"]["max_single_process_hwm_mb"],
    "search_cpu_p50_ms": cpu["p50_ms"], "search_cpu_p99_ms": cpu["p99_ms"],
    "search_wall_p50_ms": wall["p50_ms"], "loadavg": [round(x, 2) for x in os.getloadavg()],
}))
