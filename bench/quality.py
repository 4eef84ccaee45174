"""Relevance harness: known-item search on the CLICK-ID 2019 corpus.

For each sampled article, three queries are made from it (deterministically,
seeded); the article is the one relevant answer:

* title   — the article's title;
* keyword — 3 content words drawn from its lead, in the forms written there;
* variant — the keyword query with each word replaced by another word form of
  the same (Sastrawi) stem found elsewhere in the corpus (menyerang → serangan),
  as a user who does not know the exact wording would type.

Analyzer variants are compared in one run, all with BM25F, a title boost and
AND semantics: no stemming; plain Sastrawi; our full analysis (stemmed + exact
forms, protected names, stemmer exceptions, actor alias expansion); and our
analysis without name protection (to show protection costs no recall).

    .venv/bin/python bench/quality.py [--sample 1000] [--workdir /tmp/searchapp-quality] [--reuse]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from whoosh import index as whoosh_index  # noqa: E402
from whoosh import qparser, scoring  # noqa: E402
from whoosh.analysis import Filter  # noqa: E402
from whoosh.fields import ID, TEXT, Schema  # noqa: E402

from searchapp.engine.whoosh import analyzers  # noqa: E402
from searchapp.text import analysis  # noqa: E402
from searchapp.engine import open_engine  # noqa: E402
from searchapp.facets.actors import Gazetteer  # noqa: E402
from searchapp.search.query import Weights, parse  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"
SEED = 2019
TITLE_BOOST = 2.0


class PlainSastrawiFilter(Filter):
    """What the public Sastrawi/Whoosh projects do: Sastrawi on every word."""

    is_morph = True

    def __call__(self, tokens):
        stemmer = analysis._sastrawi()
        cache: dict[str, str] = {}
        for t in tokens:
            if not t.stopped:
                word = t.text
                stem = cache.get(word)
                if stem is None:
                    stem = cache[word] = stemmer.stem_word(word) if word.isalpha() else word
                t.text = stem
            yield t


def baseline_schema(stem: bool) -> Schema:
    ana = analyzers.IndonesianTokenizer() | analyzers.IndonesianStopFilter()
    if stem:
        ana = ana | PlainSastrawiFilter()
    return Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=ana), body=TEXT(analyzer=ana))


def build_baseline(records: list[dict], path: Path, stem: bool) -> None:
    path.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(path), baseline_schema(stem))
    writer = ix.writer(procs=2, multisegment=True, limitmb=256)
    for r in records:
        writer.add_document(id=r["id"], title=r.get("title") or "", body=r.get("body") or "")
    writer.commit()


def sastrawi_stem(word: str, cache: dict) -> str:
    stem = cache.get(word)
    if stem is None:
        stem = cache[word] = analysis._sastrawi().stem_word(word)
    return stem


def make_queries(records: list[dict], sample: int) -> dict[str, list[tuple[str, str]]]:
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    function_words = set(StopWordRemoverFactory().get_stop_words()) | analysis.stop_words()
    rng = random.Random(SEED)
    candidates = [r for r in records if r.get("title") and len(r.get("body") or "") >= 300]
    picked = rng.sample(candidates, sample)
    word_re = re.compile(r"[^\W\d_]{4,}")

    # word forms of the corpus by plain Sastrawi stem, for the variant set
    df: dict[str, int] = defaultdict(int)
    for r in records:
        for w in set(word_re.findall((r.get("body") or "").lower())):
            df[w] += 1
    cache: dict[str, str] = {}
    forms: dict[str, list[str]] = defaultdict(list)
    for w, n in df.items():
        if n >= 2:
            forms[sastrawi_stem(w, cache)].append(w)

    sets: dict[str, list[tuple[str, str]]] = {"title": [], "keyword": [], "variant": []}
    replaced = 0
    for r in picked:
        sets["title"].append((r["title"], r["id"]))
        lead = r["body"][:400]
        words = list(dict.fromkeys(w for w in word_re.findall(lead) if w.lower() not in function_words))
        chosen = rng.sample(words, min(3, len(words)))
        sets["keyword"].append((" ".join(chosen), r["id"]))
        variant = []
        for w in chosen:
            lower = w.lower()
            others = sorted(f for f in forms.get(sastrawi_stem(lower, cache), []) if f != lower)
            if others:
                variant.append(rng.choice(others))
                replaced += 1
            else:
                variant.append(w)
        sets["variant"].append((" ".join(variant), r["id"]))
    total_words = sum(len(q.split()) for q, _ in sets["keyword"])
    print(f"variant set: {replaced}/{total_words} words replaced by another form ({replaced / total_words:.0%})")
    return sets


def clean_query(text: str) -> str:
    """Queries are plain words: drop characters the query syntax would read."""
    return re.sub(r"[\"'():*?^~\[\]{}+\-!]", " ", text)


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "MRR@10": sum(1 / r for r in ranks if r and r <= 10) / n,
        "S@1": sum(1 for r in ranks if r == 1) / n,
        "S@10": sum(1 for r in ranks if r and r <= 10) / n,
    }


def run_baseline(path: Path, queries) -> dict[str, dict]:
    ix = whoosh_index.open_dir(str(path))
    parser = qparser.MultifieldParser(["title", "body"], ix.schema, fieldboosts={"title": TITLE_BOOST},
                                      group=qparser.AndGroup)
    out = {}
    with ix.searcher(weighting=scoring.BM25F()) as s:
        for name, items in queries.items():
            ranks = []
            for text, want in items:
                hits = s.search(parser.parse(clean_query(text)), limit=10)
                ids = [h["id"] for h in hits]
                ranks.append(ids.index(want) + 1 if want in ids else None)
            out[name] = metrics(ranks)
    return out


def run_ours(index_dir: Path, queries, weights: Weights, protect_names: bool = True) -> dict[str, dict]:
    """Our parser and our ranker (searchapp.ranking), exactly as search() ranks."""
    live = open_engine(index_dir, weights=weights)
    snap = live.snapshot()  # protects the gazetteer's names from the stemmer, as serving does
    tables = snap.tables if protect_names else replace(snap.tables, names=Counter())
    out = {}
    try:
        for name, items in queries.items():
            ranks = []
            for text, want in items:
                parsed = parse(clean_query(text), snap, tables, weights)
                found = snap.ranker.match(parsed.query, math.inf)
                top = snap.ranker.top(found, found.mask, 10, math.inf)
                ids = [snap.article(d)["id"] for d, _score in top]
                ranks.append(ids.index(want) + 1 if want in ids else None)
            out[name] = metrics(ranks)
    finally:
        live.close()
    return out


def build_ours(path: Path, protect_names: bool) -> None:
    if not protect_names:  # ablation: the gazetteer's names are stemmed like any word
        Gazetteer.protected_words = lambda self: frozenset()
    open_engine(path).rebuild([CORPUS])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-quality"))
    ap.add_argument("--reuse", action="store_true", help="reuse indexes already in --workdir")
    ap.add_argument("--tune", action="store_true", help="also print a grid of ranking weights for our analysis")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()

    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    t0 = time.time()
    queries = make_queries(records, args.sample)
    print(f"{len(records)} articles, {args.sample} sampled, queries made in {time.time() - t0:.0f} s")

    import multiprocessing

    systems = {
        "no stemming": ("nostem", lambda p: build_baseline(records, p, stem=False)),
        "plain Sastrawi": ("sastrawi", lambda p: build_baseline(records, p, stem=True)),
        "ours": ("ours", lambda p: build_ours(p, protect_names=True)),
        "ours, no name protection": ("ours-noprotect", lambda p: build_ours(p, protect_names=False)),
    }
    for label, (sub, build) in systems.items():
        path = args.workdir / sub
        if args.reuse and path.exists():
            continue
        t0 = time.time()
        # each build in a fresh process: the ablation patches module state
        proc = multiprocessing.get_context("fork").Process(target=build, args=(path,))
        proc.start()
        proc.join()
        if proc.exitcode:
            sys.exit(f"building {label} failed")
        print(f"built {label} in {time.time() - t0:.0f} s")

    results = {}
    for label, (sub, _build) in systems.items():
        path = args.workdir / sub
        if sub.startswith("ours"):
            results[label] = run_ours(path, queries, Weights(), protect_names=sub == "ours")
        else:
            results[label] = run_baseline(path, queries)

    print(f"\nKnown-item search, {args.sample} articles of {CORPUS.name}, seed {SEED}\n")
    print("| analysis | title MRR@10 | S@1 | S@10 | keyword MRR@10 | S@1 | S@10 | variant MRR@10 | S@1 | S@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, res in results.items():
        cells = [f"{res[s][m]:.3f}" for s in ("title", "keyword", "variant") for m in ("MRR@10", "S@1", "S@10")]
        print(f"| {label} | " + " | ".join(cells) + " |")

    if args.tune:
        print("\nTuning our analysis, one knob at a time around the defaults (MRR@10 title / keyword / variant):")
        grid = {"k1": (0.9, 1.6), "b": (0.5, 0.9), "title": (1.0, 3.0), "exact": (0.0, 1.5),
                "lead": (0.0, 2.0, 4.0), "proximity": (0.0, 1.0, 3.0), "short": (3, 8, 99)}
        for knob, values in grid.items():
            for value in values:
                w = replace(Weights(), **{knob: value})
                res = run_ours(args.workdir / "ours", queries, w)
                row = [res[s]["MRR@10"] for s in ("title", "keyword", "variant")]
                print(f"  {knob}={value}: " + " / ".join(f"{x:.3f}" for x in row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
