"""Where Sastrawi merges words that mean different things, on the real corpus.

Lists the stems that collect several frequent word forms, most frequent first,
with the forms and their document counts, so a person can pick the true
collisions ("penarikan" → "tari" beside "tarian"; "pemerintah" → "perintah")
for searchapp/data/stem_exceptions.tsv. Prints only; deciding is human work.

    .venv/bin/python bench/stem_offenders.py [--min-df 30] [--top 80]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from searchapp.text import analysis  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-df", type=int, default=30)
    ap.add_argument("--top", type=int, default=80)
    args = ap.parse_args()
    df: Counter[str] = Counter()
    word_re = re.compile(r"[^\W\d_]{3,}")
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            df.update(set(word_re.findall(json.loads(line)["body"].lower())))
    stemmer = analysis._sastrawi()
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for word, n in df.items():
        if n >= args.min_df and word not in analysis.stop_words():
            groups[stemmer.stem_word(word)].append((word, n))
    collisions = [
        (stem, sorted(forms, key=lambda f: -f[1]))
        for stem, forms in groups.items()
        if len(forms) > 1
    ]
    collisions.sort(key=lambda c: -sum(n for _w, n in c[1]))
    ours = analysis.Stemmer()
    for stem, forms in collisions[: args.top]:
        exception = {w for w, _n in forms if ours.stem(w) != stem}
        shown = ", ".join(f"{w}{'*' if w in exception else ''} {n}" for w, n in forms[:8])
        print(f"{stem:14} {shown}")
    print("\n* = already fixed in stem_exceptions.tsv")


if __name__ == "__main__":
    main()
