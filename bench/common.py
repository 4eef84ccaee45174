"""Shared helpers of bench/perf.py and bench/peers.py.

Everything here is deterministic given the corpus, the --limit and the seed:
the article list, the 300 queries (words drawn from the articles, facet values
read back from *our* built index so every system filters on identical values)
and the latency summary. Only loopback traffic; temp files under --workdir.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import platform
import resource
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"
PYTHON = sys.executable
FACET_NAMES = ("outlet", "actor", "topic")
N_QUERIES = 300
SEED = 20191


# --- corpus ------------------------------------------------------------------


def load_records(path: str | os.PathLike, limit: int | None = None) -> list[dict]:
    """The first `limit` JSON records of a .jsonl(.gz) corpus, in file order."""
    opener = gzip.open if str(path).endswith(".gz") else open
    records = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            records.append(json.loads(line))
            if limit and len(records) >= limit:
                break
    return records


def text_bytes(records: Iterable[dict]) -> int:
    """UTF-8 bytes of the article text (title + body): the 'MB' of MB/s."""
    return sum(len((r.get("title") or "").encode()) + len((r.get("body") or "").encode()) for r in records)


def write_corpus(records: Iterable[dict], path: Path, repeat: int = 1) -> Path:
    """Write records as .jsonl.gz; with repeat > 1 every copy after the first
    gets a new id (`<id>~r<k>`), so the index holds repeat × the articles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = list(records)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fh:
        for k in range(repeat):
            for r in records:
                rec = r if k == 0 else {**r, "id": f"{r['id']}~r{k}"}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def corpus_for(args_corpus: Path, limit: int | None, workdir: Path) -> Path:
    """The corpus file to index: the original, or its first `limit` articles."""
    if not limit:
        return Path(args_corpus)
    out = workdir / f"corpus-first{limit}.jsonl.gz"
    if not out.exists():
        write_corpus(load_records(args_corpus, limit), out)
    return out


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


# --- our index, read back ----------------------------------------------------


def index_facets(index_dir: Path) -> dict[str, dict[str, list[str]]]:
    """id → {outlet, actor, topic} value lists as stored in our live build."""
    from whoosh import index as whoosh_index

    from searchapp.engine.whoosh.builds import live_build

    ix = whoosh_index.open_dir(str(live_build(index_dir)))
    out = {}
    with ix.reader() as reader:
        for _docnum, fields in reader.iter_docs():
            out[fields["id"]] = {name: list(fields.get(name) or []) for name in FACET_NAMES}
    return out


# --- the query set -----------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+")
_CONSONANTS = "bcdfghjklmnpqrstvwxz"


def make_queries(records: list[dict], facets: dict[str, dict[str, list[str]]], n: int = N_QUERIES,
                 seed: int = SEED) -> list[dict]:
    """`n` seeded queries: 1–3 content words (≥4 letters, not stop words, as
    written, lowercased) drawn from one random article, so most find it;
    a third also filter on one facet value that article has in our index;
    10% contain a made-up word and find nothing.

    Words on either stop list (ours, or Sastrawi's, which the naive peer
    drops) are never drawn, so no system gets an empty query for free."""
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    from searchapp.text.analysis import stop_words

    rng = random.Random(seed)
    stops = stop_words() | {w.lower() for w in StopWordRemoverFactory().get_stop_words()}
    vocab: set[str] = set()
    n_facet, n_none = n // 3, n // 10
    kinds = ["facet"] * n_facet + ["nohit"] * n_none + ["plain"] * (n - n_facet - n_none)
    rng.shuffle(kinds)
    with_facets = [r for r in records if any(facets.get(r["id"], {}).get(f) for f in FACET_NAMES)]
    queries = []
    for i, kind in enumerate(kinds):
        pool = with_facets if kind == "facet" and with_facets else records
        for _attempt in range(50):
            rec = rng.choice(pool)
            text = f"{rec.get('title') or ''} {rec.get('body') or ''}"
            words = sorted({w.lower() for w in _WORD.findall(text) if len(w) >= 4} - stops)
            vocab.update(words)
            if len(words) >= 3:
                break
        k = rng.choice((1, 2, 3))
        chosen = rng.sample(words, min(k, len(words)))
        query = {"i": i, "kind": kind, "q": " ".join(chosen), "source": rec["id"],
                 "outlet": [], "actor": [], "topic": []}
        if kind == "facet":
            have = {f: v for f, v in facets.get(rec["id"], {}).items() if v}
            if have:
                name = rng.choice(sorted(have))
                query[name] = [rng.choice(sorted(have[name]))]
            else:
                query["kind"] = "plain"
        elif kind == "nohit":
            while True:
                fake = "".join(rng.choice(_CONSONANTS) for _ in range(rng.randint(6, 9)))
                if fake not in vocab:
                    break
            query["q"] = " ".join(chosen[:1] + [fake]) if rng.random() < 0.5 else fake
        queries.append(query)
    return queries


def search_kwargs(query: dict) -> dict:
    return {"outlet": query["outlet"], "actor": query["actor"], "topic": query["topic"]}


# --- timing ------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default method)."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summarize_ms(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else None,
        "max_ms": round(max(ms), 3) if ms else None,
    }


def time_queries(run_one: Callable[[dict], object], queries: list[dict], passes: int = 3,
                 warmup: int = 1, clock: Callable[[], float] = time.perf_counter) -> dict:
    """Warm-up passes, then `passes` timed passes over all queries (wall
    time, or CPU time with `clock=time.process_time`: steadier on a machine
    other work loads).

    Each percentile is the median of the per-pass percentiles; `per_kind` is
    over all timed runs pooled. Returns also per-query median seconds."""
    for _ in range(warmup):
        for q in queries:
            run_one(q)
    times = [[0.0] * len(queries) for _ in range(passes)]
    for p in range(passes):
        for j, q in enumerate(queries):
            t0 = clock()
            run_one(q)
            times[p][j] = clock() - t0
    per_pass = [summarize_ms(t) for t in times]
    out = {key: round(statistics.median(s[key] for s in per_pass), 3)
           for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms")}
    out["passes"] = passes
    out["queries"] = len(queries)
    out["per_pass"] = per_pass
    per_query = [statistics.median(times[p][j] for p in range(passes)) for j in range(len(queries))]
    kinds: dict[str, list[float]] = {}
    for j, q in enumerate(queries):
        kinds.setdefault(q["kind"], []).extend(times[p][j] for p in range(passes))
    out["per_kind"] = {k: summarize_ms(v) for k, v in sorted(kinds.items())}
    out["per_query_median_ms"] = [round(v * 1000, 3) for v in per_query]
    return out


# --- processes and memory (Linux /proc; no psutil needed) --------------------


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids += [int(x) for x in fh.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _status_kb(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    found = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                name = line.split(":", 1)[0]
                if name in keys:
                    found[name] = int(line.split()[1])
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> dict:
    """Current and peak (VmHWM) resident memory of one process, in MB."""
    s = _status_kb(pid, ("VmRSS", "VmHWM"))
    return {"rss_mb": round(s.get("VmRSS", 0) / 1024, 1), "hwm_mb": round(s.get("VmHWM", 0) / 1024, 1),
            "pss_mb": round(_pss_kb(pid) / 1024, 1)}


def tree_rss_mb(pid: int) -> dict:
    """rss_mb summed over a process and its descendants (e.g. serve --workers)."""
    parts = [rss_mb(p) for p in process_tree(pid)]
    return {k: round(sum(part[k] for part in parts), 1) for k in ("rss_mb", "hwm_mb", "pss_mb")} | {"processes": len(parts)}


class TreeSampler(threading.Thread):
    """Samples a process and all its descendants every `interval` seconds.

    Reports: the peak of the summed RSS (counts pages shared between the
    forked workers once per process, so it overstates), the peak of the summed
    PSS (shared pages split between sharers: the honest footprint), the most
    processes seen at once, and per process its own VmHWM (kernel-kept exact
    peak RSS, read at the last sample before it exited)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop_event = threading.Event()
        self.peak_rss_kb = self.peak_pss_kb = self.max_procs = self.samples = 0
        self.hwm_kb: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop_event.is_set():
            pids = process_tree(self.pid)
            rss = pss = 0
            for p in pids:
                s = _status_kb(p, ("VmRSS", "VmHWM"))
                if not s:
                    continue
                rss += s.get("VmRSS", 0)
                pss += _pss_kb(p)
                self.hwm_kb[p] = max(self.hwm_kb.get(p, 0), s.get("VmHWM", 0))
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self.max_procs = max(self.max_procs, len(pids))
            self.samples += 1
            self.stop_event.wait(self.interval)

    def stop(self) -> dict:
        self.stop_event.set()
        self.join()
        hwm = sorted(self.hwm_kb.values(), reverse=True)
        return {
            "peak_tree_rss_mb": round(self.peak_rss_kb / 1024, 1),
            "peak_tree_pss_mb": round(self.peak_pss_kb / 1024, 1),
            "max_single_process_hwm_mb": round((hwm[0] if hwm else 0) / 1024, 1),
            "sum_of_process_hwm_mb": round(sum(hwm) / 1024, 1),
            "processes_seen": len(self.hwm_kb),
            "max_processes_at_once": self.max_procs,
            "samples": self.samples,
            "interval_s": self.interval,
        }


_SUMMARY = re.compile(r"indexed (\d+) articles in ([\d.]+) s")


def run_rebuild(corpus: Path, index_dir: Path, procs: int | None = None, root: Path = ROOT,
                entry: tuple[str, ...] = ("-m", "searchapp")) -> dict:
    """`python -m searchapp rebuild` of the source tree `root` in a
    subprocess (or `python *entry rebuild`), its tree's memory sampled.

    `wall_s` is the subprocess's wall time (interpreter start and imports
    included); `reported_s` is the rebuild's own BuildReport.seconds."""
    cmd = [PYTHON, *entry, "rebuild", "--corpus", str(corpus), "--index", str(index_dir)]
    if procs:
        cmd += ["--procs", str(procs)]
    t0 = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    memory = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"rebuild failed ({proc.returncode}): {err.strip()[-2000:]}")
    m = _SUMMARY.search(out)
    from searchapp.engine.whoosh.builds import live_build

    build = live_build(index_dir)
    return {
        "command": " ".join(cmd),
        "wall_s": round(wall, 2),
        "cpu_s": round(used.ru_utime - children.ru_utime + used.ru_stime - children.ru_stime, 1),  # process tree
        "reported_s": float(m.group(2)) if m else None,
        "indexed": int(m.group(1)) if m else None,
        "summary": out.strip().splitlines()[-1] if out.strip() else "",
        "skipped_lines": err.count("skipped"),
        "index_bytes": dir_size(build),
        "build_dir": str(build),
        "memory": memory,
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- run context -------------------------------------------------------------


def environment() -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        # identifies the uncommitted changes the figures were made with (the tree is shared)
        "git_diff_sha1": hashlib.sha1(git("diff", "HEAD").encode()).hexdigest()[:12],
    }


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def save_json(data: dict, path: str | None) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        print(f"wrote {path}", file=sys.stderr)


def wait_for_server(proc, port: int, log: Callable[[], str], seconds: float = 120) -> None:
    """Until `searchapp serve` on `port` answers /api/search; RuntimeError
    with the tail of its log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"searchapp serve exited ({proc.returncode}): {log()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/search?q=")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"searchapp serve did not answer within {seconds:.0f} s: {log()[-2000:]}")
