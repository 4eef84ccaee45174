"""search() the first time a query is seen: postings arrays against decoded blocks.

    .venv/bin/python bench/first_pass.py [--index DIR] [--rounds 3] [--json out.json]

A reader's query is usually new, and a freshly started or rebuilt server has
nothing warm: this measures what such a query costs. The 2019 corpus is
rebuilt once (or `--index` is used); a copy of the build without its postings
arrays (engine/whoosh/postings.py: SegmentArrays) is the "before". Each
round runs, for each variant in turn, a fresh Python process that opens the
index (as `searchapp serve` does before it takes requests: the build opened,
its did-you-mean lexicon and written forms read; FTS5: a first query) and
runs every query once (first pass), then once more (second pass). Every
file of the index (or the peer's database) is read just before its process
starts, so the files are in the page cache for both passes: this machine's kernel pages
out file pages left unread for a while (DAMON reclaim), which made runs
differ with what the previous run had left. Two query sets:

* words — the seeded queries of bench/common.py (1–3 random body words,
  facet filters), as perf.py uses;
* typed — drawn the way readers type: 2–4 consecutive words of a title,
  a gazetteer name, a year alone or after a word, an abbreviation of
  data/abbreviations.tsv (seeded).

The peer is SQLite FTS5 over the same Sastrawi stems (bench/peers.py:
AND of the stems, bm25, facet counts by GROUP BY, snippet), built once and
run the same way in a fresh process.

With `--scale N` the corpus is also repeated N times (new ids, as
bench/perf.py does), rebuilt from the 1× build's stems, and ours is run on it
the same way: the 10× target is a first-pass p50 within 3× the 1× figure.
There every article is one of 10 copies of a story (collapsed by default):
ours is also run with `collapse=off` at 1× and 10×, the cost of growing
apart from the cost of collapsing copies that real news has ~4% of.

Percentiles are per round; the table shows the median over the rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SEED = 20191202
NO_COLLAPSE = "collapse=off"  # the repeated corpus makes every article one of 10 copies: collapsing them is its
# own cost, measured apart
TYPED = 200


def typed_queries(records: list[dict], seed: int = SEED, n: int = TYPED) -> list[dict]:
    """Queries drawn the way readers type them (see the module docstring)."""
    from searchapp.facets.actors import Gazetteer
    from searchapp.text.analysis import read_lines

    rng = random.Random(seed)
    titles = [r["title"] for r in records if r.get("title")]
    names = sorted({a.name for a in Gazetteer.load([]).actors()})
    abbreviations = sorted({line.split("\t")[0] for line in read_lines("abbreviations.tsv") if "\t" in line})
    words = [w for t in rng.sample(titles, 400) for w in re.findall(r"[A-Za-z]{4,}", t)]
    out = []
    while len(out) < n:
        kind = rng.choice(("title", "title", "name", "year", "abbreviation"))
        if kind == "title":
            tokens = re.findall(r"[\w'-]+", rng.choice(titles))
            if len(tokens) < 2:
                continue
            size = rng.randint(2, min(4, len(tokens)))
            start = rng.randrange(len(tokens) - size + 1)
            q = " ".join(tokens[start:start + size])
        elif kind == "name":
            q = rng.choice(names)
        elif kind == "year":
            year = rng.choice(("2019", "2018", "2020", "2014", "2024"))
            q = year if rng.random() < 0.3 else f"{rng.choice(words)} {year}"
        else:
            q = rng.choice(abbreviations)
        out.append({"q": q, "kind": f"typed-{kind}", "outlet": [], "actor": [], "topic": []})
    return out


def child(where: str, queries_path: str, options: str = "{}") -> None:
    """In a fresh process: every query once, then once more; seconds per
    query. `where` is an index directory, or "fts5:" and the peer's
    database; `options`, JSON keywords of our search() ("collapse")."""
    sets = json.loads(Path(queries_path).read_text("utf-8"))
    kwargs = json.loads(options)
    if where.startswith("fts5:"):
        import peers

        peers.new_stemmer()  # a fresh process's Sastrawi, its cache empty as ours
        fts = peers.Fts5(Path(where[5:]).parent)
        fts.path = Path(where[5:])
        fts.open()
        run, close = fts.search, fts.close
    else:
        from searchapp.engine import open_engine
        from searchapp.errors import QueryError
        from searchapp.search import search

        engine = open_engine(Path(where))

        def run(q: dict) -> None:
            try:
                search(engine, q["q"], **common.search_kwargs(q), **kwargs)
            except QueryError:
                pass

        close = engine.close
    t0 = time.perf_counter()
    if where.startswith("fts5:"):
        run({"q": "indonesia", "outlet": [], "actor": [], "topic": []})  # opens the database: not a reader's query
    else:
        from searchapp.search.service import warm

        warm(engine)  # what `searchapp serve` does in each process before it takes requests
    out = {"open_s": time.perf_counter() - t0}
    for name, queries in sets.items():
        passes = []
        for _ in range(2):
            seconds = []
            for q in queries:
                t0 = time.perf_counter()
                run(q)
                seconds.append(time.perf_counter() - t0)
            passes.append(seconds)
        out[name] = passes
    close()
    print(json.dumps(out))


def read_through(where: Path) -> None:
    """Read every file under `where` (or the file itself): into the page cache."""
    for path in [where] if where.is_file() else sorted(p for p in where.rglob("*") if p.is_file()):
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass


def percentiles(seconds: list[float]) -> dict:
    ms = [1000 * s for s in seconds]
    return {f"p{p}": common.percentile(ms, p) for p in (50, 90, 99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--index", type=Path, help="an index built with postings arrays (default: rebuild the corpus)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=int, default=0, help="also run ours on the corpus repeated N times")
    ap.add_argument("--scale-index", type=Path, help="with --scale: that corpus's index, already built")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    env = common.environment()
    print(f"# {env['command']}\n# {env['date']} · commit {env['git_commit']}"
          f"{' (dirty, diff ' + env['git_diff_sha1'] + ')' if env['git_dirty'] else ''} · {env['cpus']} cpus")
    records = common.load_records(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        index = args.index
        if index is None:
            index = tmp / "index"
            built = common.run_rebuild(args.corpus, index)
            print(f"rebuilt {len(records):,} articles in {built['wall_s']:.1f} s")
        from searchapp.engine.whoosh import builds
        from searchapp.engine.whoosh.postings import ARRAYS_DIR

        before = tmp / "index-without-arrays"
        shutil.copytree(index, before, symlinks=True)
        shutil.rmtree(builds.live_build(before) / ARRAYS_DIR)
        arrays_mb = sum(p.stat().st_size for p in (builds.live_build(index) / ARRAYS_DIR).glob("*")) / 1e6
        facets = common.index_facets(index)
        sets = {"words": common.make_queries(records, facets), "typed": typed_queries(records)}
        import peers

        fts = peers.Fts5(tmp)
        started = time.perf_counter()
        fts.build(args.corpus, None, facets)
        print(f"FTS5 peer built in {time.perf_counter() - started:.1f} s")
        queries_path = tmp / "queries.json"
        queries_path.write_text(json.dumps(sets, ensure_ascii=False), "utf-8")
        print(f"postings arrays: {arrays_mb:.1f} MB; queries: words {len(sets['words'])}, typed {len(sets['typed'])}")
        variants = [("before (blocks)", before, {}), ("after (arrays)", index, {}), ("FTS5", f"fts5:{fts.path}", {})]
        if args.scale > 1:
            variants.append((f"after, {NO_COLLAPSE}", index, {"collapse": "off"}))
        runs: dict[str, list[dict]] = {label: [] for label, _where, _options in variants}
        for r in range(args.rounds):
            for label, where, options in variants:
                read_through(Path(str(where).removeprefix("fts5:")))
                done = subprocess.run([sys.executable, __file__, "--child", str(where), str(queries_path),
                                       json.dumps(options)], capture_output=True, text=True, check=True)
                runs[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(f"  round {r + 1} {label}: opened in {runs[label][-1]['open_s'] * 1000:.0f} ms", flush=True)
        if args.scale > 1:
            label = f"after (arrays) ×{args.scale}"
            big_index = args.scale_index
            if big_index is None:
                big = common.write_corpus(records, tmp / f"corpus-x{args.scale}.jsonl.gz", repeat=args.scale)
                big_index = tmp / f"index-x{args.scale}"
                big_index.mkdir()
                shutil.copy(index / "stems.tsv", big_index / "stems.tsv")  # the same words: their stems are known
                built = common.run_rebuild(big, big_index)
                big.unlink()
                print(f"rebuilt {len(records) * args.scale:,} articles in {built['wall_s']:.1f} s", flush=True)
            big_variants = [(label, {}), (f"after ×{args.scale}, {NO_COLLAPSE}", {"collapse": "off"})]
            for big_label, _options in big_variants:
                runs[big_label] = []
            for r in range(args.rounds):
                for big_label, options in big_variants:
                    read_through(big_index)
                    done = subprocess.run([sys.executable, __file__, "--child", str(big_index), str(queries_path),
                                           json.dumps(options)], capture_output=True, text=True, check=True)
                    runs[big_label].append(json.loads(done.stdout.strip().splitlines()[-1]))
                    print(f"  round {r + 1} {big_label}: opened in {runs[big_label][-1]['open_s'] * 1000:.0f} ms",
                          flush=True)
    table = {}
    print(f"\n{'':<28} {'set':<6} {'first pass p50 / p90 / p99 ms':>32} {'second pass p50 / p90 / p99 ms':>32}")
    for label, rounds in runs.items():
        for name in ("words", "typed"):
            row = {}
            for i, which in enumerate(("first", "second")):
                per_round = [percentiles(run[name][i]) for run in rounds]
                row[which] = {p: statistics.median(x[p] for x in per_round) for p in ("p50", "p90", "p99")}
            table[f"{label} {name}"] = row
            cells = ["{p50:.2f} / {p90:.2f} / {p99:.2f}".format(**row[w]) for w in ("first", "second")]
            print(f"{label:<28} {name:<6} {cells[0]:>32} {cells[1]:>32}")
    if args.scale > 1:
        for name in ("words", "typed"):
            ratio = table[f"after (arrays) ×{args.scale} {name}"]["first"]["p50"] / table[f"after (arrays) {name}"]["first"]["p50"]
            table[f"×{args.scale} ratio {name}"] = round(ratio, 2)
            print(f"first pass p50, {name}: ×{args.scale} corpus / 1× = {ratio:.2f}")
            ratio = (table[f"after ×{args.scale}, {NO_COLLAPSE} {name}"]["first"]["p50"]
                     / table[f"after, {NO_COLLAPSE} {name}"]["first"]["p50"])
            table[f"×{args.scale} ratio, {NO_COLLAPSE} {name}"] = round(ratio, 2)
            print(f"first pass p50, {name}, {NO_COLLAPSE}: ×{args.scale} corpus / 1× = {ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"env": env, "arrays_mb": arrays_mb, "table": table}, indent=1))


if __name__ == "__main__":
    main()
