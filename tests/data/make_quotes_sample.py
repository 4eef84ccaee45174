"""Draw tests/data/quotes_sample.txt: real articles of the 2019 corpus for the quote search tests.

Run: .venv/bin/python tests/data/make_quotes_sample.py ../shared/corpora/clickid-2019.jsonl.gz
Takes the first 40 articles of tests/data/stories_sample.txt (stories of
copies: their quotes repeat, which collapsing must count once) and 60 other
articles, seeded, each with at least two quotes of which one names a
gazetteer actor: speakers to filter by, count and link to.
"""

import gzip
import json
import random
import sys
from pathlib import Path

from searchapp.facets.actors import Gazetteer
from searchapp.ingest.corpus import Article, read_file
from searchapp.text.quotes import QuoteExtractor

HERE = Path(__file__).parent
STORIES = 40
OTHERS = 60


def main(corpus: str) -> None:
    lines = [line.strip() for line in (HERE / "stories_sample.txt").read_text().splitlines()]
    stories = [line for line in lines if line and not line.startswith("#")][:STORIES]
    extractor = QuoteExtractor(Gazetteer.load([]))
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        ids = [json.loads(line)["id"] for line in fh]
    chosen = set(stories)
    candidates = []
    for article in read_file(Path(corpus)):
        if not isinstance(article, Article) or article.id in chosen:
            continue
        quotes = extractor.extract(article.body)
        if len(quotes) >= 2 and any(q.actor for q in quotes):
            candidates.append(article.id)
    others = sorted(random.Random(17).sample(candidates, OTHERS), key=ids.index)
    out = ["# Article ids of ../shared/corpora/clickid-2019.jsonl.gz drawn by tests/data/make_quotes_sample.py",
           f"# {STORIES} articles of stories with copies, then {OTHERS} articles quoting a gazetteer actor",
           *stories, *others]
    (HERE / "quotes_sample.txt").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
