"""Draw tests/data/stories_sample.txt: real articles of the 2019 corpus for the story tests.

Run: .venv/bin/python tests/data/make_stories_sample.py ../shared/corpora/clickid-2019.jsonl.gz
Takes 40 stories the clustering finds whose every pair is a clear copy (word
3-gram containment at least CONTAINMENT + 0.1, computed here by brute force),
and 200 other articles, seeded, none of which comes near another article of
the sample (containment and Jaccard at least 0.2 below the thresholds): the
tests can then ask for exact stories.
"""

import gzip
import json
import random
import sys
from itertools import combinations

import numpy as np

from searchapp.engine import stories
from searchapp.text.analysis import WORD_RE
from searchapp.text.syndication import comparable


def grams(body: str) -> set[tuple[str, ...]]:
    words = WORD_RE.findall(comparable(body))
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def overlap(a: set, b: set) -> tuple[float, float]:
    """(containment of the smaller, Jaccard)."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / min(len(a), len(b)), shared / len(a | b)


def main(path: str) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    by_id = {r["id"]: r for r in records}
    fp = stories.Fingerprints()
    ids = [r["id"] for r in records]
    shingles = [fp.shingles(r["body"]) for r in records]
    found = stories.cluster(fp, ids, np.array([fp.signature(s) for s in shingles]),
                            np.array([len(s) for s in shingles]), lambda wanted: {
                                i: stories.Copy(i, by_id[i]["body"], None, by_id[i]["outlet"]) for i in wanted})
    rng = random.Random(2019)
    groups = sorted(found.members().values())
    rng.shuffle(groups)
    sets: dict[str, set] = {}
    chosen = []
    for group in groups:
        gs = [sets.setdefault(a, grams(by_id[a]["body"])) for a in group]
        if all(overlap(a, b)[0] >= stories.CONTAINMENT + 0.1 for a, b in combinations(gs, 2)):
            chosen.append(group)
        if len(chosen) == 40:
            break
    picked = [a for g in chosen for a in g]
    others = [r["id"] for r in records if r["id"] not in found.rows]
    rng.shuffle(others)
    for candidate in others:
        g = sets.setdefault(candidate, grams(by_id[candidate]["body"]))
        if len(g) > 2 * stories.MIN_SHINGLES and all(
                c < stories.CONTAINMENT - 0.2 and j < stories.JACCARD - 0.2
                for c, j in (overlap(g, sets[p]) for p in picked)):
            picked.append(candidate)
        if len(picked) == sum(map(len, chosen)) + 200:
            break
    with open("tests/data/stories_sample.txt", "w", encoding="utf-8") as out:
        out.write("# Article ids of ../shared/corpora/clickid-2019.jsonl.gz drawn by tests/data/make_stories_sample.py\n")
        out.write(f"# {len(chosen)} stories of clear copies, then articles alone\n")
        out.writelines(f"{a}\n" for a in picked)
    print(len(chosen), "stories,", len(picked), "articles")


if __name__ == "__main__":
    main(sys.argv[1])
