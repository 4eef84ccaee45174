"""Learn topic rule weights from category-labelled articles.

Writes searchapp/data/topic_weights.tsv (topic, stem, weight), which
searchapp.topics adds to the hand-written rule words of data/topics.json.

Labels come from the source category/subcategory (`topics.from_category`);
only the TRAINING half of the corpus is used, chosen by a hash of the article
id (`is_held_out`), so bench/facets_quality.py can measure agreement on the
other half honestly. For every topic with enough labelled training articles,
each stem gets the log-ratio weight

    w(s, t) = ln P(s | t) - ln P_bg(s)

where P(s | t) sums (1 + ln tf) over the topic's articles (the damping
`topics.scores` uses), Dirichlet-smoothed towards P_bg, the mean of the
trained topics' distributions (class-balanced, so the big Hiburan desk does not
define "ordinary" words). Kept: |w| >= MIN_WEIGHT, clipped to +-MAX_WEIGHT;
positive weights need MIN_DF of the topic's articles, negative ones (evidence
against the topic, which keeps learned topics from drowning the hand-only ones)
a word common in labelled articles; never outlet names, page furniture or
stems concentrated in one outlet. The VOCAB best per topic by expected
contribution (P(s | t) + P_bg(s)) * |w| are written. Topics with fewer than
MIN_DOCS labelled training articles keep their hand-written rules only.

    .venv/bin/python bench/train_topics.py                     # writes the TSV
    .venv/bin/python bench/train_topics.py --dev               # tune on the training half only
    .venv/bin/python bench/train_topics.py --stems-cache /tmp/stems.pkl   # reuse stemmed text
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import pickle
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from searchapp.facets import topics  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"
OUTPUT = ROOT / "searchapp" / "data" / "topic_weights.tsv"

MIN_DOCS = 20  # labelled training articles a topic needs to be learned
MIN_DF = 5  # a stem must occur in this many of the topic's training articles
VOCAB = 1000  # stems kept per topic
MU = 2000.0  # Dirichlet smoothing mass (in damped-token units) towards the background
MAX_OUTLET_SHARE = 0.75  # drop stems this concentrated in one outlet (size-normalised)
SCALE = 1.0  # learned weights are multiplied by this before writing
MAX_WEIGHT = 3.0  # and clipped here (the hand rules' top weight)
# Outlet names and page furniture ("Baca juga", "Simak video", "klik") say which
# outlet ran a story, and outlets' desks differ in size: never evidence of a topic.
NOT_EVIDENCE = frozenset("""
    kompas kompascom kompasiana kompastv tempo tempoco okezone okezonecom okezoners
    sindonews sindo tribunnews tribun tribunners wowkeren kapanlagi fimela posmetro
    growfearless detik detikcom liputan6 com co id www http https baca simak klik
    artikel tayang selengkapnya editor penulis reporter
""".split())
MIN_WEIGHT = 0.5  # |ln ratio| below this (within ~1.6x of ordinary) is not evidence


def is_held_out(article_id: str, salt: str = "") -> bool:
    """The evaluation half: a stable hash of the article id, not its position."""
    return hashlib.md5((salt + article_id).encode("utf-8")).digest()[0] & 1 == 1


def source_label(row: dict) -> str | None:
    """The most specific label naming a topic: subcategory, else category."""
    sub = row.get("subcategory")
    return sub if topics.from_category(sub) else row.get("category")


def load(corpus: Path, stems_cache: Path | None) -> list[dict]:
    """Articles with their stemmed title+body under "stems" (cached if asked)."""
    if stems_cache and stems_cache.exists():
        with stems_cache.open("rb") as fh:
            return pickle.load(fh)
    from searchapp.facets.actors import default_gazetteer
    from searchapp.text.analysis import Stemmer

    terms = Stemmer(default_gazetteer().protected_words()).terms  # as the indexer and the bench do
    rows = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            rows.append({
                "id": row["id"],
                "outlet": row.get("outlet"),
                "label": source_label(row),
                "stems": terms(f"{row['title']}\n{row['body']}"),
            })
    if stems_cache:
        with stems_cache.open("wb") as fh:
            pickle.dump(rows, fh)
    return rows


def train(rows: list[dict], *, min_docs=MIN_DOCS, min_df=MIN_DF, vocab=VOCAB, mu=MU,
          max_outlet_share=MAX_OUTLET_SHARE, scale=SCALE, max_weight=MAX_WEIGHT,
          min_weight=MIN_WEIGHT, negative=True) -> dict[str, dict[str, float]]:
    """topic -> {stem: weight} learned from these (training) articles."""
    outlet_docs: Counter[str] = Counter()
    outlet_df: dict[str, Counter[str]] = defaultdict(Counter)
    mass: dict[str, Counter[str]] = defaultdict(Counter)
    topic_df: dict[str, Counter[str]] = defaultdict(Counter)
    n_docs: Counter[str] = Counter()
    for row in rows:
        counts = Counter(row["stems"])
        outlet = row.get("outlet") or "?"
        outlet_docs[outlet] += 1
        outlet_df[outlet].update(counts.keys())
        given = topics.from_category(row["label"])
        if not given:
            continue
        topic = given[0]
        n_docs[topic] += 1
        topic_df[topic].update(counts.keys())
        bag = mass[topic]
        for stem, tf in counts.items():
            bag[stem] += 1.0 + math.log(tf)
    learned = [t for t in topics.names() if n_docs[t] >= min_docs]
    vocabulary = set().union(*(mass[t].keys() for t in learned))
    totals = {t: sum(mass[t].values()) for t in learned}
    # Class-balanced background: the mean of the topics' own word distributions.
    background = {
        s: sum(mass[t].get(s, 0.0) / totals[t] for t in learned) / len(learned)
        for s in vocabulary
    }
    # Dirichlet smoothing towards the background: a small topic's rare words
    # stay close to ordinary instead of being flattened to nothing.
    prob = {
        t: {s: (mass[t].get(s, 0.0) + mu * background[s]) / (totals[t] + mu) for s in vocabulary}
        for t in learned
    }

    def spread_ok(stem: str) -> bool:
        rates = [outlet_df[o][stem] / n for o, n in outlet_docs.items()]
        return max(rates) <= max_outlet_share * sum(rates)

    labelled_df: Counter[str] = Counter()
    for t in learned:
        labelled_df.update(topic_df[t])
    weights: dict[str, dict[str, float]] = {}
    for t in learned:
        ranked = []
        for stem in vocabulary:
            if len(stem) < 2 or stem.isdigit() or stem in NOT_EVIDENCE or not spread_ok(stem):
                continue
            w = math.log(prob[t][stem] / background[stem])
            # Evidence for the topic needs the topic's own articles; evidence
            # against it only needs the word to be common elsewhere.
            if w >= min_weight and topic_df[t][stem] >= min_df:
                pass
            elif w <= -min_weight and negative and labelled_df[stem] >= min_df * 4:
                pass
            else:
                continue
            ranked.append(((prob[t][stem] + background[stem]) * abs(w), stem, w))
        ranked.sort(reverse=True)
        weights[t] = {
            stem: round(max(-max_weight, min(max_weight, w * scale)), 3)
            for _, stem, w in ranked[:vocab]
        }
    return weights


def write(weights: dict[str, dict[str, float]], path: Path, argv_note: str) -> None:
    lines = [
        "# Learned topic rule weights: topic<TAB>stem<TAB>weight. Generated by",
        f"# bench/train_topics.py ({argv_note}); do not edit by hand, retrain.",
        "# Added to the hand-written words of topics.json; see topics.py.",
    ]
    for topic, table in weights.items():
        for stem, w in sorted(table.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"{topic}\t{stem}\t{w:g}")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def evaluate(rows: list[dict], score) -> tuple[float, dict[str, tuple[int, float]]]:
    """Top-1 agreement of score(stems) -> ranked topics with the label."""
    ok = n = 0
    per: Counter[str] = Counter()
    per_ok: Counter[str] = Counter()
    for row in rows:
        given = topics.from_category(row["label"])
        if not given:
            continue
        ranked = score(row["stems"])
        n += 1
        per[given[0]] += 1
        if ranked and ranked[0] == given[0]:
            ok += 1
            per_ok[given[0]] += 1
    return ok / n, {t: (per[t], per_ok[t] / per[t]) for t in sorted(per)}


def dev(rows: list[dict]) -> None:
    """Tune on the training half only: split it again (salted hash), fit, check.

    The held-out half is never looked at here; the defaults above were chosen
    from this output.
    """
    train_rows = [r for r in rows if not is_held_out(r["id"])]
    fit = [r for r in train_rows if not is_held_out(r["id"], "dev")]
    check = [r for r in train_rows if is_held_out(r["id"], "dev")]
    print(f"dev: fit on {len(fit)}, check on {len(check)} (both from the training half)")
    raw = topics._raw()

    def top1(rules):
        def ranked(stems):
            found = topics._scores_with(rules, stems)
            return [max(found, key=found.get)] if found else []
        return ranked

    print(f"hand rules only: {evaluate(check, top1(topics._build(raw, {})))[0]:.3f}")
    grid = [{}] + [{"vocab": v} for v in (300, 600, 2000)] + [
        {"negative": False}, {"min_weight": 1.0}, {"mu": 500.0}, {"mu": 8000.0}]
    for params in grid:
        acc, _ = evaluate(check, top1(topics._build(raw, train(fit, **params))))
        print(f"{params or 'defaults'}: {acc:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--stems-cache", type=Path, help="pickle of stemmed articles (read/write)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--dev", action="store_true", help="tune on the training half; write nothing")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = load(args.corpus, args.stems_cache)
    print(f"{len(rows)} articles loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.dev:
        dev(rows)
        return 0
    train_rows = [r for r in rows if not is_held_out(r["id"])]
    weights = train(train_rows)
    write(weights, args.out, f"{args.corpus.name}, training half: {len(train_rows)} articles")
    print(f"wrote {sum(map(len, weights.values()))} weights for {len(weights)} topics "
          f"to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
