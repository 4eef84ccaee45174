"""How well the story clustering finds copies, and what it costs.

    .venv/bin/python bench/stories.py [--corpus ../shared/corpora/clickid-2019.jsonl.gz] [--json out.json]

Runs the index-time clustering (searchapp.engine.stories: fingerprints, LSH
candidates, the exact check, connected stories) over the whole corpus in this
process, then scores it on the hand-labelled pairs of bench/stories/pairs.tsv
(drawn across similarity bands; see bench/stories/README.md): a pair is
predicted a copy when both articles ended in one story. Prints precision and
recall with and without the pairs the labeller marked ambiguous, per band,
how many labelled copies the LSH bands let through to the check, the
pair-rule sweep the thresholds were chosen from, the share of each outlet's
articles that are copies, the cost per article and the peak memory.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from searchapp.engine import stories  # noqa: E402
from searchapp.ingest import outlets  # noqa: E402

PAIRS = Path(__file__).resolve().parent / "stories" / "pairs.tsv"
HOLDOUT = Path(__file__).resolve().parent / "stories" / "holdout.tsv"  # labelled blind after the thresholds were set


def score(pairs: list[dict], predicted) -> dict:
    tp = sum(1 for p in pairs if p["label"] and predicted(p))
    fp = sum(1 for p in pairs if not p["label"] and predicted(p))
    fn = sum(1 for p in pairs if p["label"] and not predicted(p))
    return {"pairs": len(pairs), "copies": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0}


def line(name: str, s: dict) -> str:
    return (f"{name:<34} {s['pairs']:>5} {s['copies']:>6} {s['tp']:>4} {s['fp']:>4} {s['fn']:>4} "
            f"{s['precision']:>9.3f} {s['recall']:>7.3f}")


HEADER = f"{'':<34} {'pairs':>5} {'copies':>6} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"


def read_pairs(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [{**row, "label": int(row["label"]), "ambiguous": "ambiguous" in row["note"].lower()}
                for row in csv.DictReader(fh, delimiter="\t")]


def scored(results: dict, prefix: str, title: str, pairs: list[dict], band_name: str, predicted) -> None:
    """Score a labelled set (all, without the ambiguous pairs, per band) into `results` and print it."""
    results[f"{prefix}all"] = score(pairs, predicted)
    results[f"{prefix}clear"] = score([p for p in pairs if not p["ambiguous"]], predicted)
    print(HEADER)
    print(line(title, results[f"{prefix}all"]))
    print(line("without the 'ambiguous' ones", results[f"{prefix}clear"]))
    bands = defaultdict(list)
    for p in pairs:
        bands[p["band"]].append(p)
    for band in sorted(bands):
        results[f"{prefix}band {band}"] = score(bands[band], predicted)
        print(line(f"  {band_name} {band}", results[f"{prefix}band {band}"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--holdout", type=Path, default=HOLDOUT)
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args()
    env = common.environment()
    print(f"# {env['command']}\n# {env['date']} · commit {env['git_commit']}{' (dirty)' if env['git_dirty'] else ''}"
          f" · {env['cpus']} cpus · Python {env['python']}")

    records = common.load_records(args.corpus)
    by_id = {r["id"]: r for r in records}
    fp = stories.Fingerprints()
    started = time.perf_counter()
    shingles = {r["id"]: fp.shingles(r["body"] or "") for r in records}
    shingled = time.perf_counter()
    signatures = np.array([fp.signature(shingles[r["id"]]) for r in records])
    sizes = np.array([len(shingles[r["id"]]) for r in records])
    fingerprinted = time.perf_counter()
    ids = [r["id"] for r in records]
    a, b = stories.candidate_pairs(fp.band_keys(signatures))
    plausible = fp.plausible(signatures, sizes, a, b)
    fetched: set[str] = set()

    def fetch(wanted: list[str]) -> dict[str, stories.Copy]:
        fetched.update(wanted)
        return {i: stories.Copy(i, by_id[i]["body"] or "", None, by_id[i]["outlet"]) for i in wanted}

    found = stories.cluster(fp, ids, signatures, sizes, fetch)
    clustered = time.perf_counter()
    n = len(records)
    print(f"\n{n:,} articles · {len(found.members()):,} stories with copies holding {len(found.rows):,} articles · "
          f"{len(a):,} LSH candidate pairs, {int(plausible.sum()):,} plausible by their signatures and compared "
          f"exactly, {len(fetched):,} articles read back for that")
    print(f"shingles {1000 * (shingled - started) / n:.3f} ms/article · MinHash signature "
          f"{1000 * (fingerprinted - shingled) / n:.3f} ms/article (both in the indexing workers) · "
          f"candidates, exact test and stories {clustered - fingerprinted:.2f} s for the whole build "
          f"(reading the articles back is free here; an engine reads them from the new build)")
    print(f"settings: word {stories.SHINGLE_WORDS}-grams, {fp.num_perm} permutations, LSH {fp.bands} bands × "
          f"{fp.rows} rows (tuned for Jaccard {stories.LSH_THRESHOLD}), copies at containment ≥ {fp.containment} "
          f"(≥ {fp.same_outlet} within one outlet) "
          f"or Jaccard ≥ {fp.jaccard} with ≥ {fp.numbers:.0%} of the numbers agreeing, bodies under "
          f"{stories.MIN_SHINGLES} 3-grams alone")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (the whole corpus in memory)")

    labelled, held_out = read_pairs(args.pairs), read_pairs(args.holdout)
    story = found.story_of
    same = lambda p: story(p["id_a"]) == story(p["id_b"])  # noqa: E731
    results: dict[str, dict] = {}
    print(f"\nClustering on {len(labelled)} hand-labelled pairs (a pair is predicted a copy when both are in one story)")
    scored(results, "", "all labelled pairs", labelled, "5-gram Jaccard", same)
    print(f"\nHeld out: {len(held_out)} pairs drawn from the decision zone (3-gram containment ≥ 0.35, 20 per band),"
          " labelled blind after the thresholds were set; stratified, so not the corpus's mix")
    scored(results, "held-out ", "all held-out pairs", held_out, "3-gram containment", same)
    clear = [p for p in labelled if not p["ambiguous"]]

    keys = fp.band_keys(signatures)
    row_of = {i: k for k, i in enumerate(ids)}
    band_of = {i: set(zip(range(fp.bands), keys[row_of[i]].tolist())) - {(b, 0) for b in range(fp.bands)} for i in ids}
    collide = lambda p: bool(band_of[p["id_a"]] & band_of[p["id_b"]])  # noqa: E731
    lsh = score(labelled, collide)
    kept = lambda p: collide(p) and bool(fp.plausible(  # noqa: E731
        signatures, sizes, np.array([row_of[p["id_a"]]]), np.array([row_of[p["id_b"]]]))[0])
    pre = score(labelled, kept)
    print(f"\nLSH candidates: {lsh['tp']} of {lsh['copies']} labelled copies meet in a band "
          f"(recall {lsh['recall']:.3f}), {pre['tp']} are also plausible by their signatures (recall "
          f"{pre['recall']:.3f}); {lsh['fp']} and {pre['fp']} of {len(labelled) - lsh['copies']} non-copies "
          f"(the exact test decides those)")

    print("\nThe pair test alone (no LSH, no joining through third articles): containment of the shorter body's "
          "3-grams ≥ C (≥ S for two articles of one outlet) or Jaccard ≥ J, and ≥ N of the numbers agreeing")
    print(f"{'C':>5} {'S':>5} {'J':>5} {'N':>5} {'precision':>9} {'recall':>7} {'precision*':>10} {'recall*':>7}"
          "   (* without ambiguous)")
    texts = {i: fp.text(by_id[i]["body"] or "", by_id[i]["outlet"]) for p in labelled for i in (p["id_a"], p["id_b"])}
    sweep = []
    for c in (0.5, 0.55, 0.6, 0.65, 0.7):
        for same_outlet in sorted({c, 0.65, 0.7, 0.75} - {x for x in (0.65, 0.7, 0.75) if x < c}):
            for j in (0.45,) if same_outlet > c else (0.35, 0.45, 0.55):
                for numbers in (0.0, 0.6):
                    test = stories.Fingerprints(containment=c, jaccard=j, numbers=numbers, same_outlet=same_outlet)
                    rule = lambda p, t=test: t.copies(texts[p["id_a"]], texts[p["id_b"]])  # noqa: E731
                    s_all, s_clear = score(labelled, rule), score(clear, rule)
                    sweep.append({"containment": c, "same_outlet": same_outlet, "jaccard": j, "numbers": numbers,
                                  "all": s_all, "clear": s_clear})
                    chosen = (c, same_outlet, j, numbers) == (fp.containment, fp.same_outlet, fp.jaccard, fp.numbers)
                    print(f"{c:>5.2f} {same_outlet:>5.2f} {j:>5.2f} {numbers:>5.1f} {s_all['precision']:>9.3f} "
                          f"{s_all['recall']:>7.3f} {s_clear['precision']:>10.3f} {s_clear['recall']:>7.3f}"
                          f"{'  ← chosen' if chosen else ''}")

    per_outlet: Counter = Counter(outlets.canonical(r["outlet"]) for r in records)
    copies: Counter = Counter()
    cross = 0
    for members in found.members().values():
        names = [outlets.canonical(by_id[a]["outlet"]) for a in members]
        cross += len(set(names)) > 1
        copies.update(names[1:])  # every article but the story's canonical one is a copy
    print(f"\nCopies per outlet (articles that are not their story's canonical article); "
          f"{cross:,} of {len(found.members()):,} stories span outlets")
    print(f"{'outlet':<20} {'articles':>8} {'copies':>7} {'share':>6}")
    for name, total in per_outlet.most_common():
        print(f"{name:<20} {total:>8,} {copies[name]:>7,} {copies[name] / total:>6.1%}")
    print(f"{'all':<20} {n:>8,} {sum(copies.values()):>7,} {sum(copies.values()) / n:>6.1%}")
    common.save_json({"environment": env, "articles": n, "stories_with_copies": len(found.members()),
                      "articles_in_them": len(found.rows), "candidate_pairs": len(a), "compared": int(plausible.sum()),
                      "scores": results,
                      "lsh": lsh, "sweep": sweep, "copies_per_outlet": dict(copies)}, args.json)


if __name__ == "__main__":
    main()
