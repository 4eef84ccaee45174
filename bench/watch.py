"""`searchapp watch` against a news site on loopback: pages/s, and a kill -9 mid-poll.

    .venv/bin/python bench/watch.py [--pages 500] [--reference-pages 12] [--json out.json]

Serves --pages article pages made from the real corpus (tests/watch_server.py:
RSS, Atom, a sitemap index over a news sitemap and a plain sitemap) and runs
the watcher once over them into an index of the five seed articles, with no
per-host delay (what the machinery costs: fetch, extract, spool, add), then
with the default 2 s delay over --reference-pages pages (what politeness
costs: all pages are on one host). Last, the kill -9 check: `searchapp watch
--once` in a subprocess, killed when 60% of the pages were served, run again;
the index must hold every served article exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ROOT = common.ROOT
from searchapp.engine import open_engine  # noqa: E402
from searchapp.ingest import fetcher as fetch_module  # noqa: E402
from searchapp.ingest.fetcher import Fetcher  # noqa: E402
from searchapp.ingest.watch import BATCH, Watcher, state_dir  # noqa: E402
from searchapp.search.request import Request  # noqa: E402
from searchapp.search.service import select  # noqa: E402
from tests.watch_server import Site, article_records  # noqa: E402


def indexed_urls(engine) -> Counter:
    sel = select(engine, Request.make("", collapse="off"))
    return Counter(a["url"] for a in sel.snapshot.articles(sel.snapshot.docs(sel.rs)) if a["url"])


def seed_index(directory: Path) -> Path:
    index = directory / "index"
    engine = open_engine(index, "whoosh")
    engine.rebuild([ROOT / "corpus"], procs=1)
    engine.close()
    return index


def run_once(records: list[dict], delay: float, workdir: Path, batch: int = BATCH) -> dict:
    index = seed_index(workdir)
    engine = open_engine(index, "whoosh")
    add_seconds = [0.0]
    real_add = engine.add

    def timed_add(paths, **kwargs):
        start = time.perf_counter()
        try:
            return real_add(paths, **kwargs)
        finally:
            add_seconds[0] += time.perf_counter() - start

    engine.add = timed_add
    with Site(records, faults=False) as site:
        feeds_file = site.feeds_file(workdir / "feeds.txt")
        with Watcher(engine, feeds_file, state=state_dir(index), fetcher=Fetcher(delay=delay), batch=batch,
                     log=print) as w:
            start = time.perf_counter()
            report = w.poll()
            seconds = time.perf_counter() - start
        urls = indexed_urls(engine)
        ok = urls == Counter(site.expected_urls())
    engine.close()
    return {"pages": len(records), "delay": delay, "batch": batch, "seconds": round(seconds, 2),
            "pages_per_second": round(report.added / seconds, 1), "add_seconds": round(add_seconds[0], 2),
            "fetched": report.fetched, "added": report.added, "index_matches_site": ok,
            "duplicates": sum(n - 1 for n in urls.values() if n > 1)}


def kill_check(records: list[dict], workdir: Path, at: float = 0.6) -> dict:
    index = seed_index(workdir)
    with Site(records, faults=False, page_delay=0.005) as site:
        feeds_file = site.feeds_file(workdir / "feeds.txt")
        cmd = [sys.executable, "-m", "searchapp", "watch", str(feeds_file), "--index", str(index), "--once",
               "--delay", "0", "--timeout", "5"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def served():
            return sum(site.served[p] for p in site.articles)

        while served() < at * len(records) and proc.poll() is None:
            time.sleep(0.002)
        killed_running = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        served_at_kill = served()
        start = time.perf_counter()
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True)
        rerun_seconds = time.perf_counter() - start
        engine = open_engine(index, "whoosh")
        urls = indexed_urls(engine)
        documents = engine.snapshot().documents
        engine.close()
        expected = site.expected_urls()
        return {"pages": len(records), "killed_while_running": killed_running, "served_at_kill": served_at_kill,
                "restart_exit": rerun.returncode, "restart_seconds": round(rerun_seconds, 2),
                "restart_line": rerun.stdout.strip().splitlines()[-1] if rerun.stdout.strip() else "",
                "pages_fetched_twice": sum(1 for p in site.articles if site.served[p] > 1),
                "served_articles": len(expected), "indexed_articles": sum(urls.values()),
                "missing": len(expected - set(urls)), "extra": len(set(urls) - expected),
                "duplicates": sum(n - 1 for n in urls.values() if n > 1), "documents": documents,
                "exactly_once": set(urls) == expected and all(n == 1 for n in urls.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--reference-pages", type=int, default=12, help="pages for the run with the default delay")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    records = article_records(args.pages)
    out = {"environment": common.environment()}
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        tmp = Path(tmp)
        for name, recs, delay, sub in (("no_delay", records, 0.0, "a"),
                                       ("default_delay", records[:args.reference_pages], fetch_module.DEFAULT_DELAY,
                                        "b")):
            (tmp / sub).mkdir()
            out[name] = run_once(recs, delay, tmp / sub)
            print(f"{name}: {json.dumps(out[name])}", flush=True)
        (tmp / "c").mkdir()
        out["kill_9"] = kill_check(records, tmp / "c")
        print(f"kill_9: {json.dumps(out['kill_9'])}", flush=True)
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
