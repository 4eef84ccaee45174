"""What reading repairs in the 2019 corpus, before/after in one run, and what it costs.

    .venv/bin/python bench/repair.py [--corpus ../shared/corpora/clickid-2019.jsonl.gz] [--rebuilds 2]

Counts, over every body as the corpus gives it and as searchapp stores it
(searchapp.ingest.repair): bodies with mojibake (the Mac Roman / Windows-1252
traces ftfy repairs), bodies with an inline "Baca juga" teaser, bodies with
paragraphs; per kind, the articles a build reports as repaired; the time
repair takes per article. Then the teasers: an index of the articles that
tease another story is built twice (text as given, text repaired) and each
teased title the crawler kept is searched as a phrase: before, the teasing
article is a hit for another story's title; after, it should not be.
With --rebuilds N, the whole corpus is rebuilt (Whoosh, every core) N times
with repair and N times without, alternating, and the seconds compared.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from searchapp.engine import open_engine  # noqa: E402
from searchapp.ingest import corpus, repair  # noqa: E402
from searchapp.search.service import search  # noqa: E402

MOJIBAKE = re.compile(r"‚Ä|¬†|√[\S]|Ã[\x80-\xbf¡-ÿ]|â€")  # UTF-8 read as Mac Roman or Windows-1252
TEASER = re.compile(r"(?i)\bbaca\s+juga\b|\[bacajuga:")
TITLED_TEASER = re.compile(r"(?:Baca|BACA) (?:[Jj]uga|JUGA)\s*[:;]\s*([^,()\n]{20,}?)(?=\)|,(?! )|\n|$)")


def shares(bodies: list[str]) -> dict[str, int]:
    return {"mojibake": sum(bool(MOJIBAKE.search(b)) for b in bodies),
            "inline teaser": sum(bool(TEASER.search(b)) for b in bodies),
            "paragraphs": sum("\n" in b.strip() for b in bodies)}


def teased_titles(records: list[dict]) -> list[tuple[str, str]]:
    """(article id, teased title) for the teasers whose title the crawler kept."""
    out = []
    for r in records:
        for m in TITLED_TEASER.finditer(r["body"]):
            title = " ".join(m.group(1).split()).strip(" .:")
            if len(title.split()) >= 4:
                out.append((r["id"], title))
    return out


def build(engine, paths: list[Path], repaired: bool, **options) -> float:
    """Seconds to rebuild, with reading's repair or without it (switched off for this build only)."""
    started = time.perf_counter()
    if repaired:
        engine.rebuild(paths, **options)
    else:
        with mock.patch.multiple(corpus.repair, repair=lambda t: repair.Repaired(t, ()),
                                 repair_line=lambda t: repair.Repaired(t, ())):
            engine.rebuild(paths, **options)
    return time.perf_counter() - started


def hits(index_dir: Path, records_path: Path, titles: list[tuple[str, str]], repaired: bool) -> int:
    """How many teasing articles a phrase search for the teased title finds."""
    engine = open_engine(index_dir, "whoosh")
    try:
        build(engine, [records_path], repaired, procs=1)
        found = 0
        for rid, title in titles:
            result = search(engine, f'"{title}"', per_page=100, collapse="off")
            found += rid in {h["id"] for h in result["hits"]}
        return found
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    parser.add_argument("--rebuilds", type=int, default=0, help="rebuilds of the corpus each way (0: none)")
    args = parser.parse_args()
    env = common.environment()
    print(f"# {env['command']}\n# {env['date']} · commit {env['git_commit']}"
          f"{' (dirty, diff ' + env['git_diff_sha1'] + ')' if env['git_dirty'] else ''} · {env['cpus']} cpus")
    records = common.load_records(args.corpus)
    raw = [r.get("body") or "" for r in records]
    started = time.perf_counter()
    fixed = [repair.repair(b) for b in raw]
    seconds = time.perf_counter() - started
    titles = [repair.repair_line(r.get("title") or "") for r in records]
    print(f"\n## {len(records):,} bodies, before → after repair")
    before, after = shares(raw), shares([f.text for f in fixed])
    for key in before:
        print(f"  with {key:<14} {before[key]:>6,} → {after[key]:>6,}")
    kinds = Counter(k for f, t in zip(fixed, titles) for k in {*f.kinds, *t.kinds})
    print("  articles repaired, per kind (what a build reports): "
          + ", ".join(f"{k} {kinds[k]:,}" for k in repair.KINDS))
    print(f"  cost: {seconds:.1f} s, {1000 * seconds / len(records):.2f} ms per article (one process)")

    teasing = [r for r in records if TEASER.search(r.get("body") or "")]
    pairs = teased_titles(teasing)
    print(f"\n## Teasers: {len(teasing)} articles tease another story; {len(pairs)} teasers kept the teased title")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "teasing.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in teasing), "utf-8")
        found_before = hits(Path(tmp) / "raw", path, pairs, repaired=False)
        found_after = hits(Path(tmp) / "repaired", path, pairs, repaired=True)
    print(f"  a phrase search for the teased title finds the teasing article: before {found_before}/{len(pairs)}, "
          f"after {found_after}/{len(pairs)}")
    for rid, title in pairs[:8]:
        print(f"    {rid}  {title!r}")
    if args.rebuilds:
        print(f"\n## Rebuild of the corpus (Whoosh, every core), {args.rebuilds} each way, alternating")
        seconds_by = {False: [], True: []}
        with tempfile.TemporaryDirectory() as tmp:
            engine = open_engine(Path(tmp) / "index", "whoosh")
            try:
                for _ in range(args.rebuilds):
                    for repaired in (False, True):
                        seconds_by[repaired].append(build(engine, [args.corpus], repaired))
                        print(f"  {'with' if repaired else 'without'} repair: {seconds_by[repaired][-1]:.1f} s")
            finally:
                engine.close()
        before, after = min(seconds_by[False]), min(seconds_by[True])
        print(f"  best: without {before:.1f} s, with {after:.1f} s ({100 * (after / before - 1):+.1f}%)")


if __name__ == "__main__":
    main()
