"""Held-out copy-detection pairs from the decision zone of searchapp's detector.

Subcommands
-----------
  draw [--out PATH]            seeded, reproducible draw of 120 new pairs (20 per
                               word-3-gram containment band) among the detector's own
                               LSH candidates; writes an UNLABELLED tsv to PATH
  show [--blind] TSV [N ...]   print pairs for labelling: title, outlet, date and the
                               paragraph-split bodies of both articles, WITHOUT any score
                               or band. --blind shows them in a seeded shuffled order
                               (numbers printed are then positions in that order, and
                               the pair ids are printed so a label can be matched back)

Run with the project venv:
  /work/main/.venv/bin/python bench/stories/draw_holdout.py draw --out /tmp/holdout_draw.tsv
  /work/main/.venv/bin/python bench/stories/draw_holdout.py show --blind /tmp/holdout_draw.tsv 1 2 3

Features are the project's own (searchapp.engine.stories.Fingerprints: word 3-gram
hashes with teasers removed, MinHash signature, band keys, candidate_pairs).
Everything is deterministic: records are sorted by id, sampling uses
random.Random(SEED) over sorted inputs.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import draw_pairs as dp  # noqa: E402  (load, Picker, title_key, paragraphs, fix_mojibake)

SEED = 20260112
MIN_CONTAINMENT = 0.35
BANDS = [(0.35, 0.45), (0.45, 0.55), (0.55, 0.65), (0.65, 0.75), (0.75, 0.9), (0.9, 1.0000001)]
BAND_NAMES = ["0.35-0.45", "0.45-0.55", "0.55-0.65", "0.65-0.75", "0.75-0.90", "0.90-1.00"]
QUOTA = 20
COLUMNS = ["id_a", "id_b", "outlet_a", "outlet_b", "published_a", "published_b",
           "band", "containment3", "jaccard3", "label", "note"]


def band_of(c: float) -> str | None:
    for (lo, hi), name in zip(BANDS, BAND_NAMES):
        if lo <= c < hi:
            return name
    return None


def draw(out_path: Path | None, log=print):
    from searchapp.engine import stories
    t0 = time.time()
    rng = random.Random(SEED)
    recs_list = sorted(dp.load(), key=lambda r: r["id"])
    recs = {r["id"]: r for r in recs_list}
    log(f"loaded {len(recs_list)} articles from {dp.CORPUS}")
    fp = stories.Fingerprints()
    texts = [fp.text(r["body"] or "") for r in recs_list]
    sigs = np.array([fp.signature(t.shingles) for t in texts])
    keys = fp.band_keys(sigs)
    a_idx, b_idx = stories.candidate_pairs(keys)
    log(f"  Fingerprints: {fp.bands} bands x {fp.rows} rows; "
        f"{sum(len(t.shingles) > 0 for t in texts)} articles with shingles; "
        f"{len(a_idx)} candidate pairs")

    # pairs.tsv: its pairs and all its articles are excluded
    old = dp.read_tsv(HERE / "pairs.tsv")
    old_pairs = {tuple(sorted((r["id_a"], r["id_b"]))) for r in old}
    old_ids = {r["id_a"] for r in old} | {r["id_b"] for r in old}

    pool = {name: [] for name in BAND_NAMES}
    n_kept = 0
    for i, j in zip(a_idx.tolist(), b_idx.tolist()):
        sa, sb = texts[i].shingles, texts[j].shingles
        if not len(sa) or not len(sb):
            continue
        inter = len(np.intersect1d(sa, sb, assume_unique=True))
        c = inter / min(len(sa), len(sb))
        if c < MIN_CONTAINMENT:
            continue
        n_kept += 1
        ia, ib = sorted((recs_list[i]["id"], recs_list[j]["id"]))
        if (ia, ib) in old_pairs or ia in old_ids or ib in old_ids:
            continue
        ra, rb = recs[ia], recs[ib]
        pool[band_of(c)].append({
            "id_a": ia, "id_b": ib, "outlet_a": ra["outlet"], "outlet_b": rb["outlet"],
            "published_a": ra["published"] or "", "published_b": rb["published"] or "",
            "containment3": c, "jaccard3": inter / (len(sa) + len(sb) - inter), "band": band_of(c),
        })
    log(f"  {n_kept} candidate pairs with containment3 >= {MIN_CONTAINMENT}; "
        f"eligible after excluding pairs.tsv pairs and articles:")
    for name in BAND_NAMES:
        ps = pool[name]
        log(f"    {name}: {len(ps):6d} ({sum(p['outlet_a'] != p['outlet_b'] for p in ps)} cross-outlet)")

    picker = dp.Picker(recs)   # each article once; each (title-key, title-key) pair at most twice
    for name in BAND_NAMES:
        ps = sorted(pool[name], key=lambda p: (p["id_a"], p["id_b"]))
        n = picker.draw(ps, QUOTA, rng, "band")
        got = picker.picked[-n:] if n else []
        log(f"  band {name}: drew {n} ({sum(p['outlet_a'] != p['outlet_b'] for p in got)} cross-outlet)")

    rows = sorted(picker.picked, key=lambda p: (BAND_NAMES.index(p["band"]), p["containment3"], p["id_a"]))
    if out_path is not None:
        with open(out_path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerow(COLUMNS)
            for p in rows:
                w.writerow([p["id_a"], p["id_b"], p["outlet_a"], p["outlet_b"], p["published_a"],
                            p["published_b"], p["band"], f"{p['containment3']:.4f}",
                            f"{p['jaccard3']:.4f}", "", ""])
        log(f"wrote {len(rows)} pairs to {out_path} in {time.time() - t0:.0f}s")
    return rows


def show(path, which, blind):
    rows = dp.read_tsv(path)
    order = list(range(len(rows)))
    if blind:
        random.Random(SEED).shuffle(order)
    recs = {r["id"]: r for r in dp.load()}
    for n in (which or range(1, len(rows) + 1)):
        row = rows[order[n - 1]]
        print("=" * 100)
        print(f"#{n}  {row['id_a']} {row['id_b']}")
        for tag, rid in (("A", row["id_a"]), ("B", row["id_b"])):
            r = recs[rid]
            print(f"[{tag}] {r['outlet']} | {r['published']} | {dp.fix_mojibake(r['title'] or '')}")
            for p in dp.paragraphs(r["body"]):
                print("   " + p)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--out", type=Path, default=None)
    s = sub.add_parser("show")
    s.add_argument("tsv", type=Path)
    s.add_argument("rows", type=int, nargs="*")
    s.add_argument("--blind", action="store_true", help="seeded shuffled order (hides the band order)")
    args = ap.parse_args(argv)
    if args.cmd == "draw":
        rows = draw(args.out)
        if args.out is None:
            for p in rows:
                print("\t".join([p["band"], f"{p['containment3']:.4f}", p["id_a"], p["id_b"],
                                 p["outlet_a"], p["outlet_b"]]))
    else:
        show(args.tsv, args.rows, args.blind)


if __name__ == "__main__":
    main()
