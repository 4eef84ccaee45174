"""Draw candidate article pairs for the copy-detection benchmark, and view them.

Subcommands
-----------
  draw  [--out PATH]           seeded, reproducible draw of candidate pairs,
                               stratified by exact word-5-gram Jaccard band;
                               writes an UNLABELLED tsv to PATH (else prints the pairs)
  show  TSV [ROW ...]          print pairs (1-based data rows of TSV; all if none)
                               side by side enough to judge copy / not copy
  verify [TSV]                 re-run the draw in memory and check that TSV
                               (default pairs.tsv next to this script) holds
                               exactly the drawn pairs with the same numbers

Run with the project venv:
  /work/main/.venv/bin/python bench/stories/draw_pairs.py draw
  /work/main/.venv/bin/python bench/stories/draw_pairs.py show bench/stories/pairs.tsv 1 2 3

Everything is deterministic: MinHash uses datasketch's fixed seed and sha1
hashing of the shingle strings, all sampling uses random.Random(SEED) over
sorted inputs.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import difflib
import gzip
import json
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpora" / "clickid-2019.jsonl.gz"
SEED = 20190917
K = 5                      # shingle size in words
NUM_PERM = 128
LSH_THRESHOLD = 0.12       # datasketch picks b=51..64 bands of r=2 rows at this level
BANDS = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5),
         (0.5, 0.6), (0.6, 0.8), (0.8, 1.0000001)]
BAND_NAMES = ["0.0-0.1", "0.1-0.2", "0.2-0.3", "0.3-0.4", "0.4-0.5",
              "0.5-0.6", "0.6-0.8", "0.8-1.0"]
# pairs per band (more in the 0.1-0.5 "grey zone")
QUOTA = {"0.0-0.1": 30, "0.1-0.2": 40, "0.2-0.3": 40, "0.3-0.4": 36,
         "0.4-0.5": 36, "0.5-0.6": 30, "0.6-0.8": 30, "0.8-1.0": 30}
# of the 0.0-0.1 quota, this many come from the "same event" title matcher
TITLE_QUOTA = 18
# extra stratum: one text (nearly) contained in the other, but Jaccard < 0.5
TRIM_QUOTA = 20
TRIM_MIN_CONTAINMENT = 0.7
MIN_SHINGLES = 20          # ignore bodies with fewer 5-gram shingles than this
COLUMNS = ["id_a", "id_b", "outlet_a", "outlet_b", "published_a", "published_b",
           "band", "jaccard5", "containment5", "label", "note"]

# ---------------------------------------------------------------------------
# loading and normalisation
# ---------------------------------------------------------------------------


def load(path=CORPUS):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fix_mojibake(text: str) -> str:
    """UTF-8 read as Mac Roman ('‚Äì' for '–') -> repair when it round-trips."""
    if not any(m in text for m in ("\u201a\u00c4", "\u00ac\u2020", "\u00e2\u20ac", "\u00c2\u00a0")):
        return text
    for enc in ("mac_roman", "cp1252"):
        try:
            return text.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


# paragraphs were flattened into ".," / ",," joins; split back crudely
PARA_SPLIT = re.compile(r'(?<=[.!?"\u201d\u2019)])\s*,+(?=\S)|,{2,}')
BOILER_START = re.compile(
    r"^\s*[-\u2013\u2014(]*\s*(baca juga|baca selengkapnya|baca:|lihat juga|simak juga|simak video|"
    r"simak videonya|tonton juga|tonton video|saksikan video|loading|advertisement|"
    r"penulis\s*:|editor\s*:|reporter\s*:|sumber\s*:|#growfearless|\(\s*[a-z]{2,5}\s*\)\s*$)",
    re.I)
WORD = re.compile(r"[0-9a-z]+")


def paragraphs(body: str) -> list[str]:
    body = fix_mojibake(body or "")
    return [p.strip(" ,\u00a0") for p in PARA_SPLIT.split(body) if p and p.strip(" ,\u00a0")]


def clean_paragraphs(body: str) -> list[str]:
    """Paragraphs minus 'Baca juga: ...' teasers and similar boilerplate."""
    out = []
    for p in paragraphs(body):
        if BOILER_START.match(p):
            continue
        # inline teaser inside a paragraph: cut from the marker to the end of it
        p = re.split(r"(?i)\b(?:baca juga|lihat juga|simak juga)\s*:", p)[0]
        p = re.sub(r"(?i)#growfearless with fimela.*$", "", p)
        if p.strip():
            out.append(p)
    return out


def words(body: str) -> list[str]:
    text = unicodedata.normalize("NFKC", " ".join(clean_paragraphs(body))).lower()
    return WORD.findall(text)


def shingles(ws: list[str], k: int = K) -> set[str]:
    return {" ".join(ws[i:i + k]) for i in range(len(ws) - k + 1)}


def jaccard_containment(a: set, b: set) -> tuple[float, float]:
    inter = len(a & b)
    if not inter:
        return 0.0, 0.0
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))


def band_of(j: float) -> str:
    for (lo, hi), name in zip(BANDS, BAND_NAMES):
        if lo <= j < hi:
            return name
    raise ValueError(j)


# ---------------------------------------------------------------------------
# candidate generation
# ---------------------------------------------------------------------------

STOP = set("""
yang dan di ke dari ini itu untuk dengan pada dalam tidak akan ada atau juga
jadi saat oleh sebagai bisa karena sudah telah usai hingga soal kata begini
ini ini inilah ternyata makin lebih masih belum bikin buat lagi bakal punya
""".split())


def title_words(title: str) -> set[str]:
    ws = WORD.findall(unicodedata.normalize("NFKC", fix_mojibake(title or "")).lower())
    return {w for w in ws if len(w) >= 3 and w not in STOP and not w.isdigit()}


def lsh_candidates(ids, sh, log):
    from datasketch import MinHash, MinHashLSH
    t = time.time()
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    mhs = {}
    for n, i in enumerate(ids):
        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([s.encode("utf-8") for s in sorted(sh[i])])
        mhs[i] = m
        lsh.insert(i, m)
    log(f"  minhashed + inserted {len(ids)} docs in {time.time() - t:.0f}s "
        f"(LSH threshold {LSH_THRESHOLD}, num_perm {NUM_PERM}, b={lsh.b}, r={lsh.r})")
    pairs = set()
    for i in ids:
        for j in lsh.query(mhs[i]):
            if j != i:
                pairs.add((i, j) if i < j else (j, i))
    log(f"  LSH candidate pairs: {len(pairs)}")
    return pairs


def title_candidates(ids, recs, log, max_df=8, min_shared=3, days=2):
    """Same-event pairs: published within `days` days and sharing >= min_shared
    rare title words (document frequency <= max_df)."""
    tw = {i: title_words(recs[i]["title"]) for i in ids}
    df = Counter(w for i in ids for w in tw[i])
    post = defaultdict(list)
    for i in ids:
        for w in tw[i]:
            if df[w] <= max_df:
                post[w].append(i)
    shared = Counter()
    for w, lst in post.items():
        lst = sorted(lst)
        for x in range(len(lst)):
            for y in range(x + 1, len(lst)):
                shared[(lst[x], lst[y])] += 1
    out = set()
    for (a, b), n in shared.items():
        if n < min_shared:
            continue
        pa, pb = recs[a]["published"], recs[b]["published"]
        if not pa or not pb:
            continue
        if abs((date.fromisoformat(pa) - date.fromisoformat(pb)).days) <= days:
            out.add((a, b))
    log(f"  title-match candidate pairs (>= {min_shared} shared title words with df <= {max_df}, "
        f"published within {days} days): {len(out)}")
    return out


# ---------------------------------------------------------------------------
# stratified sampling
# ---------------------------------------------------------------------------


def title_key(rec) -> str:
    ws = WORD.findall(fix_mojibake(rec["title"] or "").lower())
    return " ".join(ws[:3])


class Picker:
    """Greedy draw that keeps the sample diverse: each article at most once,
    each (title-key, title-key) template at most twice overall."""

    def __init__(self, recs):
        self.recs = recs
        self.used_ids = set()
        self.used_keys = Counter()
        self.picked = []

    def ok(self, p):
        a, b = p["id_a"], p["id_b"]
        if a in self.used_ids or b in self.used_ids:
            return False
        key = tuple(sorted((title_key(self.recs[a]), title_key(self.recs[b]))))
        return self.used_keys[key] < 2

    def take(self, p, stratum):
        key = tuple(sorted((title_key(self.recs[p["id_a"]]), title_key(self.recs[p["id_b"]]))))
        self.used_keys[key] += 1
        self.used_ids.update((p["id_a"], p["id_b"]))
        p = dict(p, stratum=stratum)
        self.picked.append(p)

    def draw(self, pool, n, rng, stratum):
        """n pairs from pool, alternating cross-outlet / same-outlet when both exist."""
        pool = list(pool)
        rng.shuffle(pool)
        cross = [p for p in pool if p["outlet_a"] != p["outlet_b"]]
        same = [p for p in pool if p["outlet_a"] == p["outlet_b"]]
        got = 0
        turn = 0
        while got < n and (cross or same):
            src = (cross if turn % 2 == 0 else same) or cross or same
            turn += 1
            while src:
                p = src.pop()
                if self.ok(p):
                    self.take(p, stratum)
                    got += 1
                    break
        return got


def draw(out_path: Path, log=print):
    t0 = time.time()
    rng = random.Random(SEED)
    recs_list = load()
    recs = {r["id"]: r for r in recs_list}
    log(f"loaded {len(recs_list)} articles from {CORPUS}")
    sh = {}
    for r in recs_list:
        s = shingles(words(r["body"]))
        if len(s) >= MIN_SHINGLES:
            sh[r["id"]] = s
    ids = sorted(sh)
    log(f"  {len(ids)} articles with >= {MIN_SHINGLES} word-{K}-gram shingles after boilerplate strip")

    cand = {}
    for src, pairs in (("lsh", lsh_candidates(ids, sh, log)),
                       ("title", title_candidates(ids, recs, log))):
        for a, b in pairs:
            if a == b:
                continue
            if (a, b) in cand:
                cand[(a, b)]["source"] += "+" + src
                continue
            j, c = jaccard_containment(sh[a], sh[b])
            cand[(a, b)] = {
                "id_a": a, "id_b": b,
                "outlet_a": recs[a]["outlet"], "outlet_b": recs[b]["outlet"],
                "published_a": recs[a]["published"] or "", "published_b": recs[b]["published"] or "",
                "jaccard5": j, "containment5": c, "band": band_of(j), "source": src,
            }
    allp = sorted(cand.values(), key=lambda p: (p["id_a"], p["id_b"]))
    log(f"  {len(allp)} distinct candidate pairs; exact 5-gram Jaccard computed for all")
    byband = defaultdict(list)
    for p in allp:
        byband[p["band"]].append(p)
    log("  candidates per band (all / cross-outlet / containment>=%.1f):" % TRIM_MIN_CONTAINMENT)
    for name in BAND_NAMES:
        ps = byband[name]
        log(f"    {name}: {len(ps):8d} {sum(p['outlet_a'] != p['outlet_b'] for p in ps):8d} "
            f"{sum(p['containment5'] >= TRIM_MIN_CONTAINMENT for p in ps):8d}")

    picker = Picker(recs)
    # 1. the trimmed-version stratum first, so these articles are not used up elsewhere
    trim_pool = [p for p in allp if p["containment5"] >= TRIM_MIN_CONTAINMENT and p["jaccard5"] < 0.5]
    n = picker.draw(trim_pool, TRIM_QUOTA, rng, "trim")
    log(f"  stratum trim (containment >= {TRIM_MIN_CONTAINMENT}, jaccard < 0.5): {n} of {len(trim_pool)}")
    # 2. bands
    for name in BAND_NAMES:
        pool = byband[name]
        if name == "0.0-0.1":
            tpool = [p for p in pool if "title" in p["source"]]
            n1 = picker.draw(tpool, TITLE_QUOTA, rng, "title")
            # the rest of the lowest band: LSH pairs that share *some* text (boilerplate, quotes)
            lpool = [p for p in pool if "lsh" in p["source"] and p["jaccard5"] >= 0.02]
            n2 = picker.draw(lpool, QUOTA[name] - n1, rng, "band")
            log(f"  band {name}: {n1} title-match of {len(tpool)} + {n2} LSH (J >= 0.02) of {len(lpool)}")
        else:
            n = picker.draw(pool, QUOTA[name], rng, "band")
            log(f"  band {name}: {n} of {len(pool)}")

    rows = sorted(picker.picked, key=lambda p: (BAND_NAMES.index(p["band"]), p["jaccard5"], p["id_a"]))
    if out_path is None:
        return rows
    with open(out_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(COLUMNS)
        for p in rows:
            note = {"trim": "[trim-stratum]", "title": "[title-match]"}.get(p["stratum"], "")
            w.writerow([p["id_a"], p["id_b"], p["outlet_a"], p["outlet_b"], p["published_a"],
                        p["published_b"], p["band"], f"{p['jaccard5']:.4f}",
                        f"{p['containment5']:.4f}", "", note])
    c = Counter(p["band"] for p in rows)
    log(f"wrote {len(rows)} pairs to {out_path} ({sum(p['outlet_a'] != p['outlet_b'] for p in rows)} "
        f"cross-outlet) in {time.time() - t0:.0f}s")
    for name in BAND_NAMES:
        log(f"    {name}: {c[name]}")
    return rows


# ---------------------------------------------------------------------------
# viewer
# ---------------------------------------------------------------------------


def read_tsv(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def wrap(text, width=110, indent="    "):
    import textwrap
    return "\n".join(textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent))


def sentences(body: str) -> list[list[str]]:
    out = []
    for p in clean_paragraphs(body):
        for snt in re.split(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])", p):
            ws = WORD.findall(unicodedata.normalize("NFKC", snt).lower())
            if len(ws) >= 5:
                out.append(ws)
    return out


def sentence_map(sx, sy, min_ratio=0.6):
    """(#sentences in sx, #with a counterpart in sy of difflib ratio >= min_ratio,
    length of the longest order-preserving chain of such matches)."""
    matched = []
    for s in sx:
        best, best_j = 0.0, -1
        for j, t in enumerate(sy):
            sm = difflib.SequenceMatcher(None, s, t, autojunk=False)
            if sm.real_quick_ratio() < min_ratio or sm.quick_ratio() < min_ratio:
                continue
            r = sm.ratio()
            if r > best:
                best, best_j = r, j
        if best >= min_ratio:
            matched.append(best_j)
    tails = []                      # longest non-decreasing subsequence of matched positions
    for v in matched:
        k = bisect.bisect_right(tails, v)
        if k == len(tails):
            tails.append(v)
        else:
            tails[k] = v
    return len(sx), len(matched), len(tails)


def show_pair(n, row, recs, head=700, nseg=14):
    a, b = recs[row["id_a"]], recs[row["id_b"]]
    print("=" * 118)
    print(f"#{n}  band {row['band']}  J5={row['jaccard5']}  C5={row['containment5']}  "
          f"label={row.get('label', '')!s}  {row.get('note', '')}")
    wa, wb = words(a["body"]), words(b["body"])
    for tag, r, ws in (("A", a, wa), ("B", b, wb)):
        print(f"[{tag}] {r['outlet']} | {r['published']} | {r['category']} | {len(ws)} words | {r['id']}")
        print(f"    TITLE: {fix_mojibake(r['title'])}")
        body = " \u00b6 ".join(paragraphs(r["body"]))
        print(wrap(body[:head] + (" ..." if len(body) > head else "")))
    # sentence map: how many sentences of each text have a close counterpart in the other
    for tag, x, y in (("A", a, b), ("B", b, a)):
        sx, sy = sentences(x["body"]), sentences(y["body"])
        n, hits, order = sentence_map(sx, sy)
        print(f"  sentences of {tag} with a close counterpart (difflib ratio >= 0.6) in the other: "
              f"{hits}/{n}; in the same order: {order}")
    # common passages on the normalised word sequences
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    blocks = [m for m in sm.get_matching_blocks() if m.size >= 6]
    cov_a = sum(m.size for m in blocks) / max(1, len(wa))
    cov_b = sum(m.size for m in blocks) / max(1, len(wb))
    print(f"  aligned runs >= 6 words: {len(blocks)}, cover {cov_a:.0%} of A, {cov_b:.0%} of B "
          f"(ratio {sm.ratio():.2f})")
    # map of A: which stretches are shared, which own
    segs = []
    pos = 0
    for m in blocks:
        if m.a > pos:
            segs.append(("A-only", wa[pos:m.a]))
        segs.append(("BOTH", wa[m.a:m.a + m.size]))
        pos = m.a + m.size
    if pos < len(wa):
        segs.append(("A-only", wa[pos:]))
    for kind, ws in segs[:nseg]:
        txt = " ".join(ws)
        if len(txt) > 150:
            txt = txt[:70] + f" ...[{len(ws)}w]... " + txt[-60:]
        print(f"   {kind:6s} {txt}")
    if len(segs) > nseg:
        print(f"   ... {len(segs) - nseg} more segments")
    # B-only stretches (largest few)
    bonly = []
    pos = 0
    for m in sorted(blocks, key=lambda m: m.b):
        if m.b > pos:
            bonly.append(wb[pos:m.b])
        pos = max(pos, m.b + m.size)
    if pos < len(wb):
        bonly.append(wb[pos:])
    bonly = [x for x in bonly if len(x) >= 8]
    for ws in bonly[:4]:
        txt = " ".join(ws)
        if len(txt) > 150:
            txt = txt[:70] + f" ...[{len(ws)}w]... " + txt[-60:]
        print(f"   B-only {txt}")


def show(path, which, head=700, nseg=14):
    rows = read_tsv(path)
    recs = {r["id"]: r for r in load()}
    idx = which or list(range(1, len(rows) + 1))
    for n in idx:
        show_pair(n, rows[n - 1], recs, head, nseg)


def verify(path):
    """Re-run the draw in memory and check that `path` holds exactly the drawn pairs."""
    drawn = draw(None, log=lambda *a: None)
    key = lambda r: (r["id_a"], r["id_b"], r["band"], f"{float(r['jaccard5']):.4f}",
                     f"{float(r['containment5']):.4f}")
    have = read_tsv(path)
    d = sorted(key(p) for p in drawn)
    h = sorted(key(r) for r in have)
    labels = Counter(r["label"] for r in have)
    print(f"drawn {len(d)}, file {len(h)}, identical: {d == h}; labels in file: {dict(sorted(labels.items()))}")
    return d == h


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--out", type=Path, default=None,
                   help="write the unlabelled draw here (default: only print what was drawn)")
    s = sub.add_parser("show")
    s.add_argument("tsv", type=Path)
    s.add_argument("rows", type=int, nargs="*")
    s.add_argument("--head", type=int, default=700, help="chars of each body to print")
    s.add_argument("--segs", type=int, default=14, help="shared/own segments of A to print")
    v = sub.add_parser("verify")
    v.add_argument("tsv", type=Path, nargs="?", default=HERE / "pairs.tsv")
    args = ap.parse_args(argv)
    if args.cmd == "draw":
        rows = draw(args.out)
        if args.out is None:
            for p in rows:
                print("\t".join(str(p[k]) if not isinstance(p[k], float) else f"{p[k]:.4f}"
                                for k in ("band", "jaccard5", "containment5", "id_a", "id_b",
                                          "outlet_a", "outlet_b", "stratum")))
    elif args.cmd == "show":
        show(args.tsv, args.rows, args.head, args.segs)
    else:
        sys.exit(0 if verify(args.tsv) else 1)


if __name__ == "__main__":
    main()
