"""How well searchapp.text.quotes finds who said what, and what it costs.

    .venv/bin/python bench/quotes.py [--corpus ../shared/corpora/clickid-2019.jsonl.gz] [--json out.json]
    .venv/bin/python bench/quotes.py draw --out /tmp/draw.tsv      # the seeded sample to check by hand
    .venv/bin/python bench/quotes.py gold-articles                 # the seeded 30 articles to annotate
    .venv/bin/python bench/quotes.py show ID                       # an article, its paragraphs and quotes

Runs the extractor over the whole corpus (ms per article, quotes per
article), then scores it on the hand-made data of bench/quotes/ (see its
README): precision of (span, speaker) on the quotes checked by hand in
checked.tsv, and recall on the fully annotated articles of gold.jsonl. A
predicted quote matches a gold one when both are in one article, their spans
overlap by at least half of the shorter span, and the speakers agree (both
None, the same gazetteer actor, or the words of one name among the other's,
case-insensitive: "Hari" = "Hari Nugraha").
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import difflib
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from searchapp.facets.actors import Gazetteer  # noqa: E402
from searchapp.ingest.repair import repair  # noqa: E402
from searchapp.text.quotes import Quote, QuoteExtractor  # noqa: E402

DATA = Path(__file__).resolve().parent / "quotes"
CHECKED = DATA / "checked.tsv"  # the first draw, checked; the rules were fixed after it (see README)
HOLDOUT = DATA / "holdout.tsv"  # a second draw, checked after the rule changes checked.tsv led to
HOLDOUT2 = DATA / "holdout2.tsv"  # a third, larger draw, checked after the speaker names (the `name` column)
GOLD = DATA / "gold.jsonl"
SEED = 20190920
STRATA = ("direct", "multi-sentence", "indirect", "pronoun", "unattributed")
PER_STRATUM = 24
# Verdicts: ok; ok-strip (right person, a title or place left in the speaker or the name missed for
# the role); none-recoverable (a real quote left unattributed although a reader can tell who spoke);
# wrong-speaker; wrong-span; not-a-quote. Precision counts the first three as correct (no false
# claim); strict precision counts only ok.
CORRECT = {"ok", "ok-strip", "none-recoverable"}
COLUMNS = ("id", "outlet", "stratum", "start", "end", "kind", "speaker", "name", "actor", "cue", "text", "verdict",
           "note")
_SENTENCE_INSIDE = re.compile(r"[.!?]\s+\S")


def stratum(body: str, q: Quote) -> str:
    """The stratum a quote is drawn from (the first that applies)."""
    if q.speaker is None:
        return "unattributed"
    if pronoun_resolved(body, q):
        return "pronoun"
    if q.kind == "direct" and _SENTENCE_INSIDE.search(q.text.rstrip(" ,.")):
        return "multi-sentence"
    return q.kind


def pronoun_resolved(body: str, q: Quote) -> bool:
    """Whether the speaker came from a pronoun: an -nya cue, or ia/dia/beliau
    next to the cue word, with a speaker given anyway."""
    if q.speaker is None or not q.cue:
        return False
    if q.cue.lower().endswith("nya"):
        return True
    window = body[max(0, q.start - 220):q.start] + " " + body[q.end:q.end + 60]
    cue = re.escape(q.cue)
    return bool(re.search(rf"(?i)\b(?:{cue}\s+(?:ia|dia|beliau)\b|\b(?:ia|dia|beliau)\s+(?:\w+\s+){{0,2}}{cue}\b)", window))


def speakers_agree(pred: dict, gold: dict) -> bool:
    """Same speaker: both None, the same actor, or one name's words among the
    other's (a word may be the start of the other's: "Judis" = "Judistira");
    a gold quote may also accept the description as written ("also")."""
    if pred["speaker"] is None or gold["speaker"] is None:
        return pred["speaker"] is None and gold["speaker"] is None
    if pred.get("actor") and gold.get("actor") and pred["actor"] == gold["actor"]:
        return True
    for name in [gold["speaker"], *gold.get("also", ())]:
        if pred["speaker"].lower() == name.lower():
            return True
        wa, wb = pred["speaker"].split(), name.split()
        short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        if short[0][0].isupper() and all(
            any(x == y or (len(x) >= 4 and y.startswith(x)) or (len(y) >= 4 and x.startswith(y))
                for y in (w.lower() for w in long_)) for x in (w.lower() for w in short)
        ):
            return True
    return False


def overlap(a: dict, b: dict) -> bool:
    shared = min(a["end"], b["end"]) - max(a["start"], b["start"])
    return shared > 0 and shared >= 0.5 * min(a["end"] - a["start"], b["end"] - b["start"])


def load_corpus(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in common.load_records(path)}


def extract_all(ex: QuoteExtractor, records: dict[str, dict], repaired: bool = False,
                scored: frozenset[str] = frozenset()) -> tuple[dict[str, list[Quote]], float]:
    """Every article's quotes and the seconds extraction took. `repaired`:
    from the body as a build stores it (searchapp.ingest.repair: mojibake,
    teasers, paragraphs), the offsets of the `scored` articles' quotes
    mapped back onto the raw body the hand-made data point into (repair not
    timed)."""
    out, seconds = {}, 0.0
    for rid, r in records.items():
        raw = r.get("body") or ""
        body = repair(raw).text if repaired else raw
        t0 = time.perf_counter()
        out[rid] = ex.extract(body)
        seconds += time.perf_counter() - t0
        if repaired and rid in scored and out[rid]:
            start, end = offset_maps(body, raw)
            out[rid] = [dataclasses.replace(q, start=start(q.start), end=end(q.end)) for q in out[rid]]
    return out, seconds


def offset_maps(text: str, raw: str):
    """Functions taking a start and an end offset in `text` to the same place in `raw` (aligned character by
    character: what repair changed maps to the edges of its replacement)."""
    ops = difflib.SequenceMatcher(None, text, raw, autojunk=False).get_opcodes()

    def start(x: int) -> int:
        for tag, i1, i2, j1, j2 in ops:
            if i1 <= x < i2:
                return j1 + (x - i1) if tag == "equal" else j1
        return len(raw)

    def end(x: int) -> int:
        for tag, i1, i2, j1, j2 in ops:
            if i1 < x <= i2:
                return j1 + (x - i1) if tag == "equal" else j2
        return 0

    return start, end


def precision(records, quotes, path: Path = CHECKED) -> dict:
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    by_stratum: dict[str, Counter] = defaultdict(Counter)
    by_outlet: dict[str, Counter] = defaultdict(Counter)
    verdicts: Counter = Counter()
    stale = 0
    for row in rows:
        current = {(q.start, q.end): q for q in quotes.get(row["id"], [])}
        q = current.get((int(row["start"]), int(row["end"])))
        if q is None or (q.speaker or "") != row["speaker"] or (q.actor or "") != row["actor"] or (
                row.get("name") is not None and (q.name or "") != row["name"]):
            stale += 1  # the extractor no longer says this: the verdict does not apply
            continue
        verdicts[row["verdict"]] += 1
        ok = row["verdict"] in CORRECT
        strict = row["verdict"] == "ok"
        for table, key in ((by_stratum, row["stratum"]), (by_outlet, row["outlet"])):
            table[key]["n"] += 1
            table[key]["ok"] += ok
            table[key]["strict"] += strict
    n = sum(verdicts.values())
    correct = sum(verdicts[v] for v in CORRECT)
    return {"rows": len(rows), "stale": stale, "checked": n, "correct": correct,
            "precision": correct / n if n else None, "strict_precision": verdicts["ok"] / n if n else None,
            "verdicts": dict(verdicts), "by_stratum": {k: dict(v) for k, v in by_stratum.items()},
            "by_outlet": {k: dict(v) for k, v in by_outlet.items()}}


def recall(records, quotes) -> dict:
    gold = [json.loads(line) for line in GOLD.open(encoding="utf-8") if line.strip()]
    for g in gold:
        body = records[g["id"]]["body"]
        if body[g["start"]:g["end"]] != g["text"]:
            raise SystemExit(f"gold.jsonl: offsets of {g['id']} {g['start']}:{g['end']} do not give its text")
    articles = sorted({g["id"] for g in gold} | {a for a in json.loads((DATA / "gold_articles.json").read_text())})
    found = matched_span = 0
    by_kind: dict[str, Counter] = defaultdict(Counter)
    misses = []
    predicted = 0
    pred_matched = 0
    for aid in articles:
        pred = [{"start": q.start, "end": q.end, "speaker": q.speaker, "actor": q.actor, "kind": q.kind}
                for q in quotes.get(aid, [])]
        predicted += len(pred)
        golds = [g for g in gold if g["id"] == aid]
        for g in golds:
            spans = [p for p in pred if overlap(p, g)]
            hit = any(speakers_agree(p, g) for p in spans)
            found += hit
            matched_span += bool(spans)
            by_kind[g["kind"]]["n"] += 1
            by_kind[g["kind"]]["found"] += hit
            if not hit:
                misses.append((g, spans[0]["speaker"] if spans else "(no span)"))
        for p in pred:
            pred_matched += any(overlap(p, g) and speakers_agree(p, g) for g in golds)
    n = len(gold)
    return {"articles": len(articles), "gold": n, "found": found, "recall": found / n if n else None,
            "span_recall": matched_span / n if n else None, "predicted": predicted,
            "precision_on_gold_articles": pred_matched / predicted if predicted else None,
            "by_kind": {k: dict(v) for k, v in by_kind.items()}, "misses": misses}


def draw(records, quotes, out: Path, seed: int = SEED, per_stratum: int = PER_STRATUM) -> None:
    """Seeded draw for the hand check: per_stratum quotes per stratum, taking
    the outlets in turn, at most one quote per article, none from an article
    of an earlier sample when drawing another."""
    rng = random.Random(seed)
    limit = per_stratum
    pools: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for rid in sorted(quotes):
        body = records[rid]["body"]
        for q in quotes[rid]:
            s = stratum(body, q)
            pools[s][records[rid].get("outlet") or ""].append((rid, q))
    used: set[str] = set()
    earlier = {SEED: (), SEED + 1: (CHECKED,), SEED + 2: (CHECKED, HOLDOUT)}.get(seed, (CHECKED, HOLDOUT, HOLDOUT2))
    for path in earlier:  # the samples drawn before this one (holdout.tsv: seed + 1, holdout2.tsv: seed + 2)
        if path.exists():
            used |= {row["id"] for row in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t")}
    rows = []
    for s in STRATA:
        outlets = sorted(pools[s])
        for o in outlets:
            rng.shuffle(pools[s][o])
        taken = 0
        while taken < limit and any(pools[s][o] for o in outlets):
            for o in outlets:
                while pools[s][o] and pools[s][o][-1][0] in used:
                    pools[s][o].pop()
                if not pools[s][o] or taken >= limit:
                    continue
                rid, q = pools[s][o].pop()
                used.add(rid)
                taken += 1
                rows.append({"id": rid, "outlet": o, "stratum": s, "start": q.start, "end": q.end, "kind": q.kind,
                             "speaker": q.speaker or "", "name": q.name or "", "actor": q.actor or "", "cue": q.cue or "",
                             "text": " ".join(q.text.split()), "verdict": "", "note": ""})
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"drew {len(rows)} quotes to {out}")


def gold_articles(records) -> list[str]:
    """30 seeded articles for full annotation: 600-2,500 characters with at least
    one quotation mark or cue word, the outlets in turn."""
    rng = random.Random(SEED + 1)
    by_outlet: dict[str, list[str]] = defaultdict(list)
    cue = re.compile(r"\b(?:kata|ujar|mengatakan|menurut|katanya|ujarnya)\b|[\"“]|‚Äú", re.IGNORECASE)
    for rid in sorted(records):
        body = records[rid].get("body") or ""
        if 600 <= len(body) <= 2500 and cue.search(body):
            by_outlet[records[rid].get("outlet") or ""].append(rid)
    for ids in by_outlet.values():
        rng.shuffle(ids)
    chosen: list[str] = []
    while len(chosen) < 30:
        for o in sorted(by_outlet):
            if by_outlet[o] and len(chosen) < 30:
                chosen.append(by_outlet[o].pop())
    return chosen


def show(records, ex: QuoteExtractor, rid: str) -> None:
    body = records[rid]["body"]
    print(rid, records[rid].get("outlet"), records[rid].get("title"))
    for m in re.finditer(r"[^\n]+", body.replace(".,", ".\n")):
        print(f"  [{m.start()}] {m.group()}")
    for q in ex.extract(body):
        print(f"  -> {q.start}:{q.end} {q.kind} {q.speaker!r} ({q.actor}) cue={q.cue!r} :: {q.text!r}")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of a proportion k/n."""
    if not n:
        return None, None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return centre - half, centre + half


def pct(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", nargs="?", default="run", choices=("run", "draw", "gold-articles", "show"))
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=Path("/tmp/quotes_draw.tsv"))
    parser.add_argument("--seed", type=int, default=SEED,
                        help="draw: the seed (holdout.tsv: 20190921, holdout2.tsv: 20190922)")
    parser.add_argument("--per-stratum", type=int, default=PER_STRATUM, help="draw: quotes per stratum")
    parser.add_argument("--json", help="also write the figures as JSON here")
    parser.add_argument("--repaired", action="store_true",
                        help="extract from the bodies as a build stores them (repaired), not the raw corpus text")
    args = parser.parse_args()
    records = load_corpus(args.corpus)
    ex = QuoteExtractor(Gazetteer.load([]))
    if args.action == "gold-articles":
        print("\n".join(gold_articles(records)))
        return
    if args.action == "show":
        for rid in args.ids:
            show(records, ex, rid)
        return
    env = common.environment()
    print(f"# {env['command']}\n# {env['date']} · commit {env['git_commit']}"
          f"{' (dirty, diff ' + env['git_diff_sha1'] + ')' if env['git_dirty'] else ''}")
    scored = frozenset(row["id"] for path in (CHECKED, HOLDOUT, HOLDOUT2) if path.exists()
                       for row in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    scored |= {json.loads(line)["id"] for line in GOLD.open(encoding="utf-8") if line.strip()}
    quotes, seconds = extract_all(ex, records, args.repaired, scored)
    if args.repaired:
        print("bodies repaired as a build reads them (offsets of scored articles mapped back to the raw text)")
    if args.action == "draw":
        draw(records, quotes, args.out, args.seed, args.per_stratum)
        return
    n_articles = len(records)
    all_q = [q for qs in quotes.values() for q in qs]
    kinds = Counter(q.kind for q in all_q)
    chars = sum(len(r.get("body") or "") for r in records.values())
    print(f"\n## Cost over the whole corpus ({n_articles:,} articles, {chars / 1e6:.1f} M characters)")
    print(f"extract: {seconds:.1f} s, {1000 * seconds / n_articles:.2f} ms/article, "
          f"{1000 * seconds / (chars / 1e4):.2f} ms per 10k characters (one process)")
    with_q = sum(1 for qs in quotes.values() if qs)
    print(f"quotes: {len(all_q):,} ({len(all_q) / n_articles:.2f}/article; {with_q / n_articles:.1%} of articles have one); "
          f"direct {kinds['direct']:,}, indirect {kinds['indirect']:,}")
    attributed = sum(1 for q in all_q if q.speaker)
    print(f"with a speaker: {attributed / len(all_q):.1%}; resolved to a gazetteer actor: "
          f"{sum(1 for q in all_q if q.actor) / len(all_q):.1%}")
    p = precision(records, quotes)
    h = precision(records, quotes, HOLDOUT) if HOLDOUT.exists() else None
    h2 = precision(records, quotes, HOLDOUT2) if HOLDOUT2.exists() else None
    for path, res in ((CHECKED, p), (HOLDOUT, h), (HOLDOUT2, h2)):
        if res is None:
            continue
        print(f"\n## Precision of (span, speaker) on {path.relative_to(common.ROOT)}")
        print(f"rows {res['rows']}, still produced as checked {res['checked']}, stale {res['stale']}")
        low, high = wilson(res["correct"], res["checked"])
        print(f"precision {pct(res['precision'])} ({res['correct']}/{res['checked']}; 95% Wilson interval "
              f"{pct(low)}–{pct(high)}); strict (ok only) {pct(res['strict_precision'])}; verdicts {res['verdicts']}")
        for table in ("by_stratum", "by_outlet"):
            print(f"{table[3:]:<18} {'n':>4} {'ok':>4} {'precision':>9}")
            for key, c in sorted(res[table].items()):
                print(f"  {key:<16} {c['n']:>4} {c['ok']:>4} {c['ok'] / c['n']:>9.3f}")
    r = recall(records, quotes)
    print(f"\n## Recall on {GOLD.relative_to(common.ROOT)} ({r['articles']} articles annotated in full)")
    print(f"gold quotes {r['gold']}, found with the right speaker {r['found']}: recall {pct(r['recall'])}; "
          f"span found (any speaker) {pct(r['span_recall'])}")
    print(f"predicted in these articles {r['predicted']}, matching a gold quote: {pct(r['precision_on_gold_articles'])}")
    for kind, c in sorted(r["by_kind"].items()):
        print(f"  {kind:<10} {c['n']:>4} found {c['found']:>4} recall {c['found'] / c['n']:.3f}")
    print("misses (gold text, gold speaker, predicted speaker of an overlapping span):")
    for g, pred in r["misses"]:
        print(f"  {g['id']} {g['kind']:<8} {g['speaker']!r:<28} got {pred!r:<28} {g['text'][:70]!r}")
    if args.json:
        Path(args.json).write_text(json.dumps({"env": env, "seconds": seconds, "articles": n_articles,
                                               "quotes": len(all_q), "kinds": kinds, "precision": p, "holdout": h, "holdout2": h2,
                                               "recall": {k: v for k, v in r.items() if k != "misses"}},
                                              ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
