"""searchapp against two peers on the same articles, the same 300 queries, the same work.

    .venv/bin/python bench/peers.py --limit 3000                  # all three systems on 3,000 articles
    .venv/bin/python bench/peers.py --ours bench/perf.json        # full corpus, our figures from perf.py
    .venv/bin/python bench/peers.py --limit 3000 --systems fts5   # one peer only

Peers (see bench/PERF.md for what each does and does not do):

* naive — Whoosh as the public Sastrawi+Whoosh projects use it: RegexTokenizer |
  LowercaseFilter | StopFilter(Sastrawi's stop words) | StemFilter(stemfn=Sastrawi
  create_stemmer().stem) with Whoosh's default 50,000-word LRU cache; one
  ix.writer() (no procs); MultifieldParser over title (boost 2) and body, AND;
  facet counts with groupedby= FieldFacet(allow_overlap=True) and Count maps;
  hit.highlights("body") for the 10 hits shown.
* fts5 — SQLite FTS5 over the same plain-Sastrawi-stemmed title and body
  (stemmed once, with a dict cache in front of the stemmer), bm25(fts, 2, 1),
  facet counts by GROUP BY over a side table (article, facet, value) joined to
  the MATCH result, snippet() of the body column.

Facet values (outlet, actor, topic) of every peer are read from our built index
by article id, so the filters and counts are over identical values. Like ours,
values of one facet are ORed, facets ANDed, and a facet's counts ignore its own
selection (so a filtered query costs the peers a second grouping pass).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import fmt  # noqa: E402

FACET_LIMIT = 30  # as searchapp.search
TITLE_BOOST = 2.0  # as searchapp.query.Weights.title
PER_PAGE = 10


def top_counts(counts: dict[str, int], selected: list[str]) -> list[tuple[str, int]]:
    """Our facet presentation: by count then value, 30 shown, selected kept."""
    rows = sorted(((v, n) for v, n in counts.items() if v is not None and (n or v in selected)),
                  key=lambda vn: (-vn[1], vn[0].lower()))
    return rows[:FACET_LIMIT] + [(v, n) for v, n in rows[FACET_LIMIT:] if v in selected]


# --- plain Sastrawi ----------------------------------------------------------

_stemmer = None


def new_stemmer():
    """A fresh plain Sastrawi stemmer (create_stemmer(): its own dict cache, empty)."""
    global _stemmer
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    _stemmer = StemmerFactory().create_stemmer()
    return _stemmer


def sastrawi_stem(word: str) -> str:
    """Module-level so Whoosh pickles a reference into the schema, not the
    stemmer with its dictionary (which StemFilter(stemfn=stemmer.stem) would)."""
    return _stemmer.stem(word)


def sastrawi_stop_words() -> list[str]:
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    return StopWordRemoverFactory().get_stop_words()


# --- (a) naive Whoosh --------------------------------------------------------


class NaiveWhoosh:
    name = "naive"

    def __init__(self, workdir: Path):
        self.dir = workdir / "peer-naive"
        self.searcher = None

    def schema(self):
        from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
        from whoosh.fields import ID, KEYWORD, TEXT, Schema

        analyzer = (RegexTokenizer() | LowercaseFilter() | StopFilter(stoplist=sastrawi_stop_words(), minsize=1)
                    | StemFilter(stemfn=sastrawi_stem))
        facet = dict(stored=True, scorable=False, lowercase=False)
        return Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer, stored=True),
                      body=TEXT(analyzer=analyzer, stored=True), outlet=KEYWORD(**facet),
                      actor=KEYWORD(**facet), topic=KEYWORD(**facet), published=ID(stored=True),
                      url=ID(stored=True))

    def build(self, corpus: Path, limit: int | None, facets: dict) -> int:
        from whoosh import index as whoosh_index

        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        new_stemmer()
        ix = whoosh_index.create_in(str(self.dir), self.schema())
        writer = ix.writer()
        n = 0
        for r in common.load_records(corpus, limit):
            f = facets.get(r["id"], {})
            writer.add_document(id=r["id"], title=r.get("title") or "", body=r.get("body") or "",
                                outlet=f.get("outlet", []), actor=f.get("actor", []), topic=f.get("topic", []),
                                published=r.get("published") or "", url=r.get("url") or "")
            n += 1
        writer.commit()
        return n

    def open(self) -> None:
        from whoosh import index as whoosh_index
        from whoosh.qparser import MultifieldParser

        ix = whoosh_index.open_dir(str(self.dir))
        self.searcher = ix.searcher()
        self.parser = MultifieldParser(["title", "body"], ix.schema, fieldboosts={"title": TITLE_BOOST})

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None

    @staticmethod
    def _filter(selected: dict[str, list[str]], skip: str | None = None):
        from whoosh import query as wq

        parts = [wq.Or([wq.Term(f, v) for v in vals]) for f, vals in selected.items() if vals and f != skip]
        return wq.And(parts) if parts else None

    def search(self, query: dict) -> dict:
        from whoosh import sorting

        q = self.parser.parse(query["q"])
        selected = {f: query[f] for f in common.FACET_NAMES}
        chosen = [f for f, v in selected.items() if v]
        facets = sorting.Facets()
        for name in common.FACET_NAMES:
            if name not in chosen:
                facets.add_field(name, allow_overlap=True)
        results = self.searcher.search(q, limit=PER_PAGE, filter=self._filter(selected),
                                       groupedby=facets, maptype=sorting.Count)
        counts = {name: results.groups(name) for name in common.FACET_NAMES if name not in chosen}
        for name in chosen:  # its counts ignore its own selection: one more grouping pass
            own = sorting.Facets().add_field(name, allow_overlap=True)
            more = self.searcher.search(q, limit=1, filter=self._filter(selected, skip=name),
                                        groupedby=own, maptype=sorting.Count)
            counts[name] = more.groups(name)
        hits = [{"id": h["id"], "title": h["title"], "outlet": h.get("outlet"), "actor": h.get("actor"),
                 "topic": h.get("topic"), "published": h.get("published"), "score": h.score,
                 "snippet": h.highlights("body")} for h in results[:PER_PAGE]]
        return {"total": len(results), "hits": hits,
                "facets": {name: top_counts(counts[name], selected[name]) for name in common.FACET_NAMES}}

    def size(self) -> int:
        return common.dir_size(self.dir)


# --- (b) SQLite FTS5 ---------------------------------------------------------


class Fts5:
    name = "fts5"
    _norm1 = re.compile(r"[^a-z0-9 -]")
    _norm2 = re.compile(r" +")

    def __init__(self, workdir: Path):
        self.path = workdir / "peer-fts5.sqlite"
        self.db = None
        self.cache: dict[str, str] = {}

    def stem_text(self, text: str) -> str:
        """Plain Sastrawi (its normalisation, then each word), a dict cache in front."""
        words = self._norm2.sub(" ", self._norm1.sub(" ", text.lower())).strip().split(" ")
        cache, out = self.cache, []
        for w in words:
            s = cache.get(w)
            if s is None:
                s = cache[w] = _stemmer.stem(w)
            out.append(s)
        return " ".join(out)

    def build(self, corpus: Path, limit: int | None, facets: dict) -> int:
        self.close()
        self.path.unlink(missing_ok=True)
        new_stemmer()
        self.cache = {}
        db = sqlite3.connect(self.path)
        db.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
            CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, title TEXT, outlet TEXT,
                               published TEXT, url TEXT);
            CREATE TABLE facets (article INTEGER, facet TEXT, value TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(title, body);
        """)
        n = 0
        with db:
            for n, r in enumerate(common.load_records(corpus, limit), 1):
                f = facets.get(r["id"], {})
                db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
                           (n, r["id"], r.get("title") or "", (f.get("outlet") or [None])[0],
                            r.get("published"), r.get("url")))
                db.execute("INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
                           (n, self.stem_text(r.get("title") or ""), self.stem_text(r.get("body") or "")))
                db.executemany("INSERT INTO facets VALUES (?, ?, ?)",
                               [(n, name, v) for name in common.FACET_NAMES for v in f.get(name, [])])
        with db:
            db.execute("CREATE INDEX facets_value ON facets (facet, value, article)")
            db.execute("CREATE INDEX facets_article ON facets (article)")
            db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        db.close()
        return n

    def open(self) -> None:
        self.db = sqlite3.connect(self.path, check_same_thread=False)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def match(self, q: str) -> str | None:
        terms = [t for t in self.stem_text(q).split(" ") if t]
        return " AND ".join(f'"{t}"' for t in terms) if terms else None

    @staticmethod
    def _filter(selected: dict[str, list[str]], skip: str | None = None) -> tuple[str, list]:
        """`+fts.rowid`: the unary plus keeps SQLite from pushing the rowid list
        into FTS5, which would re-run the MATCH once per facet row (a 5,000-article
        value made such a query ~70× slower: ~1 s instead of ~14 ms)."""
        sql, params = "", []
        for name, vals in selected.items():
            if vals and name != skip:
                sql += (f" AND +fts.rowid IN (SELECT article FROM facets WHERE facet = ? AND value IN "
                        f"({','.join('?' * len(vals))}))")
                params += [name, *vals]
        return sql, params

    def _counts(self, match: str, selected, skip, names) -> dict[str, dict[str, int]]:
        where, params = self._filter(selected, skip)
        rows = self.db.execute(
            f"SELECT f.facet, f.value, count(*) FROM facets f WHERE f.facet IN ({','.join('?' * len(names))})"
            f" AND f.article IN (SELECT fts.rowid FROM fts WHERE fts MATCH ?{where}) GROUP BY f.facet, f.value",
            [*names, match, *params]).fetchall()
        out: dict[str, dict[str, int]] = {n: {} for n in names}
        for facet, value, count in rows:
            out[facet][value] = count
        return out

    def search(self, query: dict) -> dict:
        selected = {f: query[f] for f in common.FACET_NAMES}
        match = self.match(query["q"])
        if match is None:
            return {"total": 0, "hits": [], "facets": {}}
        where, params = self._filter(selected)
        total = self.db.execute(f"SELECT count(*) FROM fts WHERE fts MATCH ?{where}", [match, *params]).fetchone()[0]
        rows = self.db.execute(
            f"SELECT d.rowid, d.id, d.title, d.outlet, d.published, "
            f"snippet(fts, 1, '<b>', '</b>', '…', 32), bm25(fts, {TITLE_BOOST}, 1.0) AS score "
            f"FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ?{where} ORDER BY score LIMIT {PER_PAGE}",
            [match, *params]).fetchall()
        lists: dict[int, dict[str, list[str]]] = {r[0]: {"actor": [], "topic": []} for r in rows}
        if rows:
            for art, facet, value in self.db.execute(
                    f"SELECT article, facet, value FROM facets WHERE facet != 'outlet' AND article IN "
                    f"({','.join('?' * len(rows))})", [r[0] for r in rows]):
                lists[art][facet].append(value)
        hits = [{"id": r[1], "title": r[2], "outlet": r[3], "published": r[4], "snippet": r[5], "score": -r[6],
                 **lists[r[0]]} for r in rows]
        chosen = [f for f, v in selected.items() if v]
        counts = self._counts(match, selected, None, [n for n in common.FACET_NAMES if n not in chosen])
        for name in chosen:  # its counts ignore its own selection
            counts.update(self._counts(match, selected, name, [name]))
        return {"total": total, "hits": hits,
                "facets": {name: top_counts(counts[name], selected[name]) for name in common.FACET_NAMES}}

    def size(self) -> int:
        return self.path.stat().st_size


# --- ours --------------------------------------------------------------------


def run_ours(corpus: Path, limit: int | None, workdir: Path, passes: int, records: list[dict]) -> dict:
    import perf

    index_dir = workdir / "index-ours"
    sub = common.corpus_for(corpus, limit, workdir)
    rebuild = perf.measure_rebuild(sub, index_dir, 1, None, common.text_bytes(records))
    queries = common.make_queries(records, common.index_facets(index_dir))
    query = perf.measure_queries(index_dir, queries, passes)
    return {"index_dir": str(index_dir), "rebuild": rebuild, "query": query, "queries": queries, "limit": limit}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, help="first N articles only, for every system")
    ap.add_argument("--ours", type=Path, help="perf.py --json output to take our figures and queries from "
                                              "(its --limit must equal this one)")
    ap.add_argument("--systems", default="naive,fts5", help="comma-separated peers (naive, fts5)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes over the queries (default 3)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-peers"))
    ap.add_argument("--json", help="write all figures to this JSON file")
    args = ap.parse_args()
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    records = common.load_records(args.corpus, args.limit)
    corpus = common.corpus_for(args.corpus, args.limit, workdir)
    data: dict = {"environment": common.environment(), "corpus": str(args.corpus), "limit": args.limit}

    if args.ours:
        ours = json.loads(args.ours.read_text("utf-8"))
        if ours.get("limit") != args.limit or Path(ours.get("corpus", "")).resolve() != Path(args.corpus).resolve():
            sys.exit(f"{args.ours} was made with --limit {ours.get('limit')} on {ours.get('corpus')}; "
                     f"run peers.py with the same --limit and --corpus")
        ours = {"index_dir": ours["index_dir"], "rebuild": ours["rebuild"], "query": ours["query"],
                "queries": ours["queries"], "from": str(args.ours)}
        try:
            facets = common.index_facets(Path(ours["index_dir"]))
            if len(facets) != ours["rebuild"]["indexed"]:  # a later perf.py run reused the directory
                raise ValueError(f"it holds {len(facets)} articles, not {ours['rebuild']['indexed']}")
        except Exception as exc:  # perf.py's workdir was cleaned or reused: rebuild ours for the values only
            log(f"our index {ours['index_dir']} is not the one of {args.ours} ({exc}); "
                f"rebuilding it for the facet values")
            facets = common.index_facets(Path(run_ours(args.corpus, args.limit, workdir, 1, records)["index_dir"]))
    else:
        log(f"ours: rebuild of {len(records)} articles and {common.N_QUERIES} queries × {args.passes} passes")
        ours = run_ours(args.corpus, args.limit, workdir, args.passes, records)
        facets = common.index_facets(Path(ours["index_dir"]))
    queries = ours["queries"]
    data["ours"] = {k: v for k, v in ours.items() if k != "queries"}
    data["queries"] = queries

    peers = {"naive": NaiveWhoosh, "fts5": Fts5}
    data["peers"] = {}
    for name in [s.strip() for s in args.systems.split(",") if s.strip()]:
        system = peers[name](workdir)
        log(f"{name}: build of {len(records)} articles")
        t0 = time.perf_counter()
        indexed = system.build(corpus, args.limit, facets)
        seconds = time.perf_counter() - t0
        log(f"  {seconds:.1f} s; queries × {args.passes} passes")
        system.open()
        try:
            totals = [system.search(q)["total"] for q in queries]
            query = common.time_queries(system.search, queries, passes=args.passes, warmup=1)
        finally:
            system.close()
        query["totals"] = totals
        data["peers"][name] = {
            "rebuild": {"seconds": round(seconds, 2), "indexed": indexed,
                        "docs_per_s": round(indexed / seconds, 1),
                        "mb_per_s": round(common.text_bytes(records) / 1e6 / seconds, 3),
                        "index_mb": round(system.size() / 1e6, 1)},
            "query": query,
            "agreement": agreement(ours["query"].get("totals"), totals, queries),
        }
        log(f"  p50 {query['p50_ms']} ms")

    data["environment"]["loadavg_end"] = __import__("os").getloadavg()
    print(table(data))
    common.save_json(data, args.json)


def agreement(ours: list[int] | None, theirs: list[int], queries: list[dict]) -> dict:
    """How alike the result sets are in size: same-work sanity check."""
    if not ours:
        return {}
    both_zero = sum(1 for a, b in zip(ours, theirs) if a == 0 and b == 0)
    return {
        "zero_hits_ours": sum(1 for a in ours if a == 0),
        "zero_hits_peer": sum(1 for b in theirs if b == 0),
        "zero_hits_both": both_zero,
        "total_hits_ours": sum(a or 0 for a in ours),
        "total_hits_peer": sum(theirs),
    }


def table(data: dict) -> str:
    ours = data["ours"]
    systems = {"searchapp (ours)": ours, **{n: p for n, p in data["peers"].items()}}
    names = list(systems)
    lines = ["| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]

    def row(label, get, digits=1):
        lines.append(f"| {label} | " + " | ".join(fmt(get(s), digits) for s in systems.values()) + " |")

    row("rebuild s", lambda s: s["rebuild"]["seconds"])
    row("rebuild docs/s", lambda s: s["rebuild"]["docs_per_s"], 0)
    row("index MB", lambda s: s["rebuild"].get("index_mb"))
    for p in ("p50", "p95", "p99"):
        row(f"query {p} ms", lambda s, p=p: s["query"][f"{p}_ms"], 2)
    lines += ["", "Ratios, peer ÷ ours (above 1: ours is faster):", "",
              "| peer | rebuild s | query p50 | query p95 | query p99 |", "| --- | --- | --- | --- | --- |"]
    for name, p in data["peers"].items():
        ratios = [p["rebuild"]["seconds"] / ours["rebuild"]["seconds"]] + [
            p["query"][f"{k}_ms"] / ours["query"][f"{k}_ms"] for k in ("p50", "p95", "p99")]
        lines.append(f"| {name} | " + " | ".join(f"{r:.2f}×" for r in ratios) + " |")
    n = ours["rebuild"]["indexed"]
    env = data["environment"]
    lines += ["", f"{fmt(n)} articles, {len(data['queries'])} queries × {ours['query']['passes']} passes. "
                  f"`{env['command']}` — {env['date']}, commit {env['git_commit']}"
                  f"{' (dirty tree)' if env['git_dirty'] else ''}, load avg {env['loadavg_start'][0]:.2f} → "
                  f"{env['loadavg_end'][0]:.2f}"]
    for name, p in data["peers"].items():
        a = p.get("agreement")
        if a:
            lines.append(f"- {name}: zero-hit queries ours {a['zero_hits_ours']}, peer {a['zero_hits_peer']} "
                         f"(both {a['zero_hits_both']}); hits summed over the queries ours {fmt(a['total_hits_ours'])},"
                         f" peer {fmt(a['total_hits_peer'])}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
