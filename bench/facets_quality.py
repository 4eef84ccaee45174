"""Quality and speed of the facet extractors on the ClickID 2019 corpus.

Prints: share of articles with an actor / a topic, top-1 agreement of the
text-only topic rules with the topic named by the source category, per-article
time of each extractor, and (with --hand-check N) a seeded sample of articles
with their actors for reading by hand.

Topic agreement is measured on the HELD-OUT half of the corpus only (a hash of
the article id, `train_topics.is_held_out`): the learned rule weights in
searchapp/data/topic_weights.tsv were fitted on the other half by
bench/train_topics.py. The training-half figure is printed for reference only.

    .venv/bin/python bench/facets_quality.py --sample 4000 --json out.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from searchapp.ingest import outlets
from searchapp.facets import topics  # noqa: E402
from searchapp.facets.actors import default_gazetteer  # noqa: E402
from searchapp.text.analysis import Stemmer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_topics import is_held_out  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"


def load(path: Path, limit: int | None, sample: int | None, seed: int) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    if sample is not None and sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    return rows[:limit] if limit else rows


def source_label(row: dict) -> str | None:
    """The most specific source label that names a topic: subcategory, else category.

    Broad sections hide their beat in the subcategory ("Lifestyle" / "music",
    "Nasional" / "hukum").
    """
    sub = row.get("subcategory")
    return sub if topics.from_category(sub) else row.get("category")


def measure(rows: list[dict]) -> dict:
    gaz = default_gazetteer()
    terms = Stemmer(gaz.protected_words()).terms
    t_actor = t_outlet = t_topic = t_stem = 0.0
    with_actor = with_topic = with_rule_topic = 0
    agree = agree_top2 = labelled = 0
    train_agree = train_labelled = 0
    n_topics = 0
    per_topic: Counter[str] = Counter()
    per_topic_ok: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for row in rows:
        text = f"{row['title']}\n{row['body']}"
        t0 = time.perf_counter()
        found = gaz.find(text)
        t1 = time.perf_counter()
        outlets.canonical(row.get("outlet"))
        outlets.detect(text, row.get("url"))
        t2 = time.perf_counter()
        stems = terms(text)
        t3 = time.perf_counter()
        label = source_label(row)
        assigned = topics.assign(label, stems)
        ruled = topics.from_stems(stems)
        t4 = time.perf_counter()
        t_actor += t1 - t0
        t_outlet += t2 - t1
        t_stem += t3 - t2
        t_topic += t4 - t3
        with_actor += bool(found)
        with_topic += bool(assigned)
        with_rule_topic += bool(ruled)
        n_topics += len(ruled)
        given = topics.from_category(label)
        if given and not is_held_out(row["id"]):
            train_labelled += 1
            train_agree += bool(ruled) and ruled[0] == given[0]
        elif given:
            labelled += 1
            per_topic[given[0]] += 1
            agree_top2 += given[0] in ruled[:2]
            predicted = ruled[0] if ruled else "(none)"
            if predicted == given[0]:
                agree += 1
                per_topic_ok[given[0]] += 1
            else:
                confusion[(given[0], predicted)] += 1
    n = len(rows)
    return {
        "articles": n,
        "share_with_actor": with_actor / n,
        "share_with_topic_assign": with_topic / n,
        "share_with_topic_rules_only": with_rule_topic / n,
        "mean_topics_per_article_rules_only": n_topics / n,
        "held_out_labelled_articles": labelled,
        "topic_top1_agreement_held_out": agree / labelled if labelled else None,
        "topic_top2_agreement_held_out": agree_top2 / labelled if labelled else None,
        "topic_top1_agreement_training_half_in_sample": (
            train_agree / train_labelled if train_labelled else None
        ),
        "agreement_per_topic_held_out": {
            t: {"articles": per_topic[t], "agreement": per_topic_ok[t] / per_topic[t]}
            for t in sorted(per_topic)
        },
        "top_confusions_held_out": [
            {"category_topic": a, "rules_top1": b, "articles": c}
            for (a, b), c in confusion.most_common(15)
        ],
        "ms_per_article": {
            "actors": 1000 * t_actor / n,
            "outlets": 1000 * t_outlet / n,
            "topics_excluding_stemming": 1000 * t_topic / n,
            "stemming": 1000 * t_stem / n,
        },
    }


def hand_check(rows: list[dict], n: int, seed: int) -> None:
    gaz = default_gazetteer()
    for i, row in enumerate(random.Random(seed).sample(rows, min(n, len(rows))), 1):
        text = f"{row['title']}\n{row['body']}"
        counts = gaz.count(text)
        print(f"=== {i}. [{row['id']}] {row['outlet']} / {row['category']}")
        print(row["title"])
        print(row["body"][:600].replace("\n", " "))
        print("ACTORS:", ", ".join(f"{a} ({counts[a]})" for a in gaz.find(text)) or "-")
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--sample", type=int, help="a seeded random sample of N articles")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--hand-check", type=int, default=0, metavar="N",
                        help="print N seeded articles with their actors")
    args = parser.parse_args(argv)
    rows = load(args.corpus, args.limit, args.sample, args.seed)
    if args.hand_check:
        hand_check(rows, args.hand_check, args.seed)
        return 0
    figures = measure(rows)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
