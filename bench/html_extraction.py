"""How well saved news pages become articles: searchapp.ingest.html against the hand-made gold.

    .venv/bin/python bench/html_extraction.py [--repeat 5]

For each page of tests/data/html/gold.json: is it recognised as an article (or
skipped as a non-article), and are its title, date, body start and body end
right (whitespace, case and punctuation aside; a trailing reporter code such
as "(bgs/rul)" is ignored). Prints the failures with what was extracted, the
totals, and pages/s. As a baseline the same pages are scored with
trafilatura's default extraction and title (no headline clean-up, no
non-article rules).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import environment  # noqa: E402
from searchapp.ingest.corpus import Article, parse_date  # noqa: E402
from searchapp.ingest.html import article_from_html  # noqa: E402

GOLD_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "html"
FIELDS = ("kind", "title", "date", "start", "end", "paragraphs")
_CREDIT_RE = re.compile(r"\(\s*[\w/ .,]{1,30}\)\s*$")


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text).casefold().split())


def check(gold: dict, title: str | None, published, body: str | None, is_article: bool) -> dict[str, bool]:
    """Field -> right or wrong for one page; fields of a non-article are all about the skip."""
    if not gold["is_article"]:
        return {"kind": not is_article}
    body = body or ""
    trimmed = _CREDIT_RE.sub("", body.rstrip())
    return {
        "kind": is_article,
        "title": is_article and norm(title or "") == norm(gold["title"]),
        "date": is_article and str(published) == str(gold["published"]),
        "start": is_article and norm(body).startswith(norm(gold["body_start"])),
        "end": is_article and norm(trimmed).endswith(norm(gold["body_end"])),
        "paragraphs": is_article and "\n\n" in body,
    }


def ours(path: Path):
    item = article_from_html(path.read_bytes(), None, str(path))
    if isinstance(item, Article):
        return item.title, item.published, item.body, True, ""
    return None, None, None, False, item.reason


def baseline(path: Path):
    import trafilatura

    doc = trafilatura.bare_extraction(path.read_bytes(), with_metadata=True)
    if doc is None or not doc.text:
        return None, None, None, False, "trafilatura found nothing"
    return doc.title, parse_date(doc.date), doc.text.replace("\n", "\n\n"), True, ""


def score(extract, gold: list[dict], show: bool) -> dict:
    totals = {f: [0, 0] for f in FIELDS}
    totals["whole article"] = [0, 0]  # title, date, body start and end all right: the measure
    failures = []
    for g in gold:
        title, published, body, is_article, reason = extract(GOLD_DIR / g["file"])
        result = check(g, title, published, body, is_article)
        for field, ok in result.items():
            totals[field][0] += ok
            totals[field][1] += 1
        if g["is_article"]:
            totals["whole article"][0] += all(result[f] for f in ("title", "date", "start", "end"))
            totals["whole article"][1] += 1
        wrong = [f for f, ok in result.items() if not ok]
        if wrong:
            got = {
                "kind": f"skipped: {reason}" if not is_article else "article",
                "title": title,
                "date": str(published),
                "start": (body or "")[:90],
                "end": (body or "")[-90:],
                "paragraphs": f"{(body or '').count(chr(10) * 2) + 1} paragraph(s)",
            }
            failures.append((g["file"], wrong, got))
    if show:
        for name, wrong, got in failures:
            print(f"  FAIL {name}: " + "; ".join(f"{f} -> {got[f]!r}" for f in wrong))
    return totals


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing passes over the pages")
    args = parser.parse_args(argv)
    gold = json.loads((GOLD_DIR / "gold.json").read_text("utf-8"))
    env = environment()
    print(f"# {env['command']}  ({env['date']}, commit {env['git_commit']}{' +diff ' + env['git_diff_sha1'] if env['git_dirty'] else ''}, "
          f"Python {env['python']}, {env['cpus']} CPUs)")
    n_articles = sum(g["is_article"] for g in gold)
    print(f"{len(gold)} pages: {n_articles} articles, {len(gold) - n_articles} non-articles (index, home and photo pages, RSS feeds saved as .html)\n")
    for label, extract in (("searchapp.ingest.html", ours), ("baseline: trafilatura defaults", baseline)):
        print(f"## {label}")
        totals = score(extract, gold, show=True)
        for field in FIELDS:
            ok, n = totals[field]
            print(f"  {field:<11} {ok:>3}/{n:<3} {ok / n:6.1%}")
        all_ok = sum(totals[f][0] for f in FIELDS)
        all_n = sum(totals[f][1] for f in FIELDS)
        print(f"  {'overall':<11} {all_ok:>3}/{all_n:<3} {all_ok / all_n:6.1%}")
        ok, n = totals["whole article"]
        print(f"  articles with title, date and body right: {ok}/{n} {ok / n:.1%}")
        start = time.perf_counter()
        for _ in range(args.repeat):
            for g in gold:
                extract(GOLD_DIR / g["file"])
        elapsed = time.perf_counter() - start
        mb = args.repeat * sum((GOLD_DIR / g["file"]).stat().st_size for g in gold) / 1e6
        print(f"  speed       {args.repeat * len(gold) / elapsed:,.0f} pages/s, {mb / elapsed:.1f} MB/s of HTML (1 core, {args.repeat} passes)\n")


if __name__ == "__main__":
    main()
