"""Queries as Indonesian readers type them: the acceptance harness.

Readers type written forms that are not plain words: reduplications and
compounds with hyphens ("negara-negara", "Covid-19", "PDI-P", "al-Qaeda",
"e-KTP", "U-22"), apostrophes ("Ma'ruf", "Jokowi-Ma'ruf", "Shi'ite"), dotted
abbreviations ("A.S.", "B.J."), slashes ("km/jam", "dan/atau") and letter+digit
mixes ("5G", "Rp1,5"). Typed as is, each should find the articles that write
it, and nothing may be refused as bad syntax.

1. Forms. One pass over the corpus finds every written form (a maximal run of
   letters/digits joined by ' ’ - / or . — see FORM_RE) and, in the same pass,
   which articles contain each form: case-insensitively, ’ read as ', not
   glued to a letter or digit on either side (so "Ma'ruf" is contained in
   "Jokowi-Ma'ruf", "negara-negara" is not in "negara-negaranya"); a number's
   "." and "," and a dotted abbreviation's dots are not boundaries ("Rp1" is
   not in "Rp1,5", "A.S" not in "S.A.S."). Forms in ≥ MIN_ARTICLES articles
   are kept (squad lists, glued sentences and mojibake left out); the issue's
   examples (LISTED) plus a seeded sample make up --sample. Each is queried as
   most often written (' for ’, as typed): recall = |found ∩ containing| /
   |containing| over the exact, uncapped match set; top-5 precision = share
   of the first 5 hits that contain the form. A query that raises is
   "refused" (recall 0).
2. Abbreviation pairs (searchapp/data/abbreviations.tsv, if present): the
   articles using either form (an abbreviation with capitals matched
   case-sensitively, "KPK"; an all-lowercase one and the full form not,
   "karhutla"); each form's query should find ≥ 90% of them.

It is a benchmark: exit code 0 whatever the figures. Deterministic for a
corpus, --limit, --sample and --seed; the figures change with the query code.
--json writes every query's figures (counts, first hits, missed article ids).

    .venv/bin/python bench/queries.py --index /tmp/full/index [--json out.json]
    .venv/bin/python bench/queries.py --limit 3000      # quick: builds into --workdir
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import ROOT, fmt  # noqa: E402

ABBREVIATIONS = ROOT / "searchapp" / "data" / "abbreviations.tsv"
SEED = 2019
SAMPLE = 400
MIN_ARTICLES = 3
# The issue's own examples: always queried when the corpus has them (≥ MIN_ARTICLES), inside --sample.
LISTED = ("negara-negara", "covid-19", "pdi-p", "al-qaeda", "e-ktp", "u-22", "g-20", "jokowi-ma'ruf", "ma'ruf",
          "shi'ite", "anti-korupsi", "a.s", "km/jam", "5g", "rp1,5")
MAX_PIECES = 4  # longer runs are reference numbers and paths ("LP/5892/IX/2019/PMJ"), not typed queries
TOP = 5
WORST = 15

# Targets of the issue, printed next to the figures.
TARGET_RECALL = 0.95  # for every form
TARGET_PRECISION = 0.8  # median top-5 precision
TARGET_COVERAGE = 0.9  # each form of an abbreviation pair, of the articles using either

# A piece is letters/digits; a number inside it keeps its . and , ("Rp1,5",
# "Rp14.070"): a decimal or thousands separator is not a word boundary, so
# "Rp1" is not counted as contained in "Rp1,5", nor "Rp1.000" in "Rp1.000.000".
_PIECE = r"(?:[^\W_]*\d(?:[.,]\d+)+[^\W\d_]*|[^\W_]+)"
FORM_RE = re.compile(rf"{_PIECE}(?:['\-/.]{_PIECE})*")
_PIECE_RE = re.compile(_PIECE)
_LETTER_RE = re.compile(r"[^\W\d_]")
_DIGIT_RE = re.compile(r"\d")
_DOTTED_RE = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")  # "A.S", "B.J", "Ph.D": the final dot belongs
# UTF-8 punctuation read as Mac Roman ("‚Äú" for “): the "Äú" glues onto the next word
_MOJIBAKE_RE = re.compile(r"Ä[úùôòìî¶]", re.IGNORECASE)
# shirt number + player name in line-ups ("11-Ruy", "9-Muhammad"): corpus layout, not a typed query
_LINEUP_RE = re.compile(r"\d{1,2}-[A-Z][^\W\d_]+")
# a sentence glued to the next one at its full stop ("terakhir.Kalangan"): a missing space
_GLUED_RE = re.compile(r"[a-z]{2,}\.[A-Z][a-z]")
_APOSTROPHES = str.maketrans({"’": "'"})
_SPACES_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"[^\W_]+")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the corpus side: forms and the articles containing them ------------------


def article_text(record: dict) -> str:
    """Title and body as one text, ’ read as '."""
    return f"{record.get('title') or ''}\n{record.get('body') or ''}".translate(_APOSTROPHES)


def kinds_of(form: str) -> list[str]:
    """What makes a form not a plain word: hyphen, apostrophe, dot, slash, alnum."""
    seps = "".join(_PIECE_RE.split(form))
    kinds = [name for sep, name in (("-", "hyphen"), ("'", "apostrophe"), (".", "dot"), ("/", "slash")) if sep in seps]
    if any(_LETTER_RE.search(p) and _DIGIT_RE.search(p) for p in _PIECE_RE.findall(form)):
        kinds.append("alnum")
    return kinds


@dataclass
class Scan:
    """What one pass over the corpus found.

    `containing` maps every lowercase form, maximal or not, to the articles
    (indices into the record list) containing it; `maximal` counts the forms
    written as a whole run; `written` counts each form's spellings as written.
    """

    containing: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    maximal: Counter[str] = field(default_factory=Counter)
    written: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    too_long: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    mojibake_articles: int = 0


def _is_form(text: str) -> bool:
    """A run worth testing: has a letter, and a separator or a letter+digit piece."""
    if not _LETTER_RE.search(text):
        return False
    pieces = _PIECE_RE.findall(text)
    return len(pieces) > 1 or bool(_DIGIT_RE.search(text))


def _units(run: str) -> list[tuple[int, int]]:
    """The spans of a run's pieces, a dotted abbreviation kept as one
    ("S.A.S" does not contain "A.S"; "B.J.Habibie" contains "B.J")."""
    spans: list[tuple[int, int]] = []
    for p in _PIECE_RE.finditer(run):
        if (spans and run[p.start() - 1] == "." and p.end() - p.start() <= 2 and p.group().isalpha()
                and _DOTTED_RE.fullmatch(run[spans[-1][0]:p.end()])):
            spans[-1] = (spans[-1][0], p.end())
        else:
            spans.append((p.start(), p.end()))
    return spans


def scan(records: list[dict]) -> Scan:
    """One pass: every run, and every sub-run of it between separators, is
    registered as contained, so a form's articles are known without a second
    scan ("Jokowi-Ma'ruf" also contains "Ma'ruf"; "A330-300" contains "A330").
    A run cut short by mojibake ("Al-Qur" of "Al-Qur‚Äôan") is not a form."""
    out = Scan()
    for i, record in enumerate(records):
        text = article_text(record)
        if _MOJIBAKE_RE.search(text):
            out.mojibake_articles += 1
        for m in FORM_RE.finditer(text):
            run = m.group()
            if run.isalpha():
                continue  # the common case: a plain word
            if _DOTTED_RE.fullmatch(run) and text[m.end():m.end() + 1] == ".":
                run_written = run + "."
            else:
                run_written = run
            spans = _units(run)
            key = run.lower()
            if len(spans) > MAX_PIECES:
                if _is_form(run):
                    out.too_long[key].add(i)
            elif _is_form(run) and not _MOJIBAKE_RE.search(run) and not text.startswith("‚Ä", m.end()):
                out.maximal[key] += 1
                out.written[key][run_written] += 1
            # every sub-run of ≥ 2 pieces (≤ MAX_PIECES), and single letter+digit pieces
            for a in range(len(spans)):
                for b in range(a, min(len(spans), a + MAX_PIECES)):
                    sub = run[spans[a][0]:spans[b][1]]
                    if (a, b) != (0, len(spans) - 1) and _is_form(sub):
                        out.written[sub.lower()][sub] += 1
                    if a != b or _is_form(sub):
                        out.containing[sub.lower()].add(i)
    return out


@dataclass
class Form:
    key: str
    query: str
    kinds: list[str]
    containing: set[int]
    listed: bool = False


def pick_forms(found: Scan, min_articles: int, sample: int, seed: int) -> tuple[list[Form], dict]:
    """The forms written as a whole run in ≥ min_articles articles, each with
    its most common spelling as the query: the LISTED ones that qualify, plus
    a seeded sample of the others up to `sample` in all. Squad-list runs
    ("11-Ruy": shirt number, name) and sentences glued at a full stop
    ("terakhir.Kalangan") are left out: nobody types them. Also returns the
    counts behind the choice."""
    keys, lineups, glued = [], 0, 0
    for key in sorted(k for k in found.maximal if len(found.containing[k]) >= min_articles):
        if _LINEUP_RE.fullmatch(_spelling(found, key)):
            lineups += 1
        elif _GLUED_RE.search(_spelling(found, key)):
            glued += 1
        else:
            keys.append(key)
    qualifying = set(keys)
    listed = [k for k in LISTED if k in qualifying]
    rest = [k for k in keys if k not in listed]
    if sample and len(keys) > sample:
        rest = sorted(random.Random(seed).sample(rest, max(0, sample - len(listed))))
    forms = [Form(k, _spelling(found, k), kinds_of(k), found.containing[k], k in listed) for k in listed + rest]
    too_long = sum(1 for articles in found.too_long.values() if len(articles) >= min_articles)
    counts = {"qualifying": len(keys), "lineups_left_out": lineups, "glued_left_out": glued,
              "too_long_left_out": too_long,
              "listed_absent": [k for k in LISTED if k not in qualifying]}
    return forms, counts


def _spelling(found: Scan, key: str) -> str:
    """The most common written spelling of a form (ties: the first in code-point order)."""
    return min(found.written[key].items(), key=lambda wn: (-wn[1], wn[0]))[0]


def example(text: str, form: str, width: int = 70) -> str:
    """The text around the first occurrence of the form, on one line."""
    m = re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text, re.IGNORECASE)
    if not m:
        return ""
    start, end = max(0, m.start() - width), min(len(text), m.end() + width)
    piece = _SPACES_RE.sub(" ", text[start:end]).strip()
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


# --- the index side: what a query finds ----------------------------------------


@dataclass
class Outcome:
    """What one typed query gets: its exact match set and first hits, or the error."""

    found: set[str] | None
    top: list[str]
    total: int | None
    error: str | None
    search_s: float


class Searcher:
    """search() for the first hits and the total, as the web page runs it; the
    same selection (search.select, which search() and export() share) for the
    full match set: exact and uncapped, without export's ranking and stored
    fields of every match. A total that differs from search()'s is counted."""

    def __init__(self, index_dir: Path):
        from searchapp.engine import open_engine

        self.live = open_engine(index_dir)
        self._ids: tuple[tuple, dict[int, str]] | None = None
        self.mismatches: list[str] = []

    def _selected(self, q: str) -> tuple[dict[int, str], list[int]]:
        from searchapp.search.request import Request
        from searchapp.search.service import select

        sel = select(self.live, Request.make(q))
        snap = sel.snapshot
        if self._ids is None or self._ids[0] != snap.key:
            every = select(self.live, Request.make(""))
            self._ids = (snap.key, {d: snap.article(d)["id"] for d in snap.docs(every.rs)})
        return self._ids[1], snap.docs(sel.rs)

    def indexed_ids(self) -> set[str]:
        return set(self._selected("")[0].values())

    def matches(self, q: str) -> set[str]:
        table, docs = self._selected(q)
        return {table[d] for d in docs}

    def run(self, q: str) -> Outcome:
        from searchapp.search import search

        t0 = time.perf_counter()
        try:
            result = search(self.live, q, per_page=TOP)
            elapsed = time.perf_counter() - t0
            found = self.matches(q)
        except Exception as exc:  # noqa: BLE001 — any failure is a refusal the reader sees
            return Outcome(None, [], None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
        if len(found) != result["total"]:
            self.mismatches.append(f"{q!r}: select {len(found)} ≠ search total {result['total']}")
        return Outcome(found, [h["id"] for h in result["hits"]], result["total"], None, elapsed)

    def close(self) -> None:
        self.live.close()


# --- part 1: forms ------------------------------------------------------------------


def measure_forms(forms: list[Form], records: list[dict], searcher: Searcher, indexed: set[str]) -> list[dict]:
    """Per form: containing/found counts, recall, top-5 precision, an example
    of an article the query missed (or of any containing one)."""
    ids = [str(r["id"]) for r in records]
    rows = []
    for n, form in enumerate(forms, 1):
        containing = {ids[i] for i in form.containing} & indexed
        out = searcher.run(form.query)
        row = {"form": form.key, "query": form.query, "kinds": form.kinds, "listed": form.listed,
               "containing": len(containing), "total": out.total, "found": None, "recall": 0.0,
               "top_ids": out.top, "top_precision": None, "error": out.error,
               "search_ms": round(out.search_s * 1000, 2), "missed_ids": [], "missed_example": None}
        missed = sorted(i for i in form.containing if ids[i] in indexed) or sorted(form.containing)
        if out.found is not None:
            hit = containing & out.found
            row["found"] = len(hit)
            row["recall"] = round(len(hit) / len(containing), 4) if containing else 1.0
            judged = [h for h in out.top if h in indexed]
            if judged:
                row["top_precision"] = round(sum(h in containing for h in judged) / len(judged), 4)
            missed = [i for i in missed if ids[i] not in out.found] or missed
            row["missed_ids"] = [ids[i] for i in missed if ids[i] not in out.found][:20]
        text = article_text(records[missed[0]])
        row["missed_example"] = {"id": ids[missed[0]], "text": example(text, form.key)}
        rows.append(row)
        if n % 100 == 0:
            log(f"  {n}/{len(forms)} forms")
    return rows


def summarize_forms(rows: list[dict]) -> dict:
    recalls = [r["recall"] for r in rows]
    precisions = [r["top_precision"] for r in rows if r["top_precision"] is not None]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        for kind in r["kinds"]:
            by_kind[kind].append(r)
    return {
        "forms": len(rows),
        "refused": sum(1 for r in rows if r["error"]),
        "recall_worst": min(recalls, default=None),
        "recall_median": statistics.median(recalls) if recalls else None,
        "recall_mean": round(statistics.fmean(recalls), 4) if recalls else None,
        "below_target": sum(1 for x in recalls if x < TARGET_RECALL),
        "with_hits": len(precisions),
        "top_precision_worst": min(precisions, default=None),
        "top_precision_median": statistics.median(precisions) if precisions else None,
        "by_kind": {
            kind: {"forms": len(rs), "refused": sum(1 for r in rs if r["error"]),
                   "recall_median": statistics.median(r["recall"] for r in rs),
                   "recall_mean": round(statistics.fmean(r["recall"] for r in rs), 4),
                   "below_target": sum(1 for r in rs if r["recall"] < TARGET_RECALL)}
            for kind, rs in sorted(by_kind.items())
        },
    }


# --- part 2: abbreviation pairs -----------------------------------------------------


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(abbreviation, full form) lines of the data file, # comments skipped."""
    pairs = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) >= 2 and parts[0] and parts[1]:
            pairs.append((parts[0], parts[1]))
    return pairs


def _pattern(form: str, case_sensitive: bool) -> re.Pattern:
    words = [re.escape(w) for w in form.translate(_APOSTROPHES).split()]
    body = r"\s+".join(words)
    return re.compile(rf"(?<!\w){body}(?!\w)", 0 if case_sensitive else re.IGNORECASE)


class Texts:
    """The article texts with a lowercase word → articles map, so a form's
    regex runs only on the articles that have all its words."""

    def __init__(self, records: list[dict]):
        self.texts = [article_text(r) for r in records]
        self.words: dict[str, set[int]] = defaultdict(set)
        for i, text in enumerate(self.texts):
            for word in set(_WORD_RE.findall(text.lower())):
                self.words[word].add(i)

    def using(self, form: str, case_sensitive: bool) -> set[int]:
        """Articles writing the form, not glued to a letter or digit."""
        words = _WORD_RE.findall(form.translate(_APOSTROPHES).lower())
        if not words:
            return set()
        candidates = set.intersection(*(self.words.get(w, set()) for w in words))
        pattern = _pattern(form, case_sensitive)
        return {i for i in candidates if pattern.search(self.texts[i])}


def measure_pairs(pairs: list[tuple[str, str]], records: list[dict], searcher: Searcher,
                  indexed: set[str]) -> list[dict]:
    texts = Texts(records)
    ids = [str(r["id"]) for r in records]
    rows = []
    for abbr, full in pairs:
        by_abbr = texts.using(abbr, abbr != abbr.lower())
        by_full = texts.using(full, False)
        either = {ids[i] for i in by_abbr | by_full} & indexed
        row = {"abbreviation": abbr, "full": full, "abbr_articles": len(by_abbr), "full_articles": len(by_full),
               "either": len(either)}
        for side, q in (("abbr", abbr), ("full", full)):
            out = searcher.run(q)
            row[f"{side}_error"] = out.error
            row[f"{side}_total"] = out.total
            if not either:
                row[f"{side}_coverage"] = None
            else:  # a refused query covers nothing
                row[f"{side}_coverage"] = round(len(either & (out.found or set())) / len(either), 4)
            row[f"{side}_search_ms"] = round(out.search_s * 1000, 2)
        rows.append(row)
    return rows


def summarize_pairs(rows: list[dict]) -> dict:
    used = [r for r in rows if r["either"]]
    both = [r for r in used if min(r["abbr_coverage"], r["full_coverage"]) >= TARGET_COVERAGE]
    out = {"pairs": len(rows), "used_in_corpus": len(used), "both_directions_ok": len(both),
           "both_directions_ok_share": round(len(both) / len(used), 4) if used else None,
           "refused": sum(1 for r in rows for s in ("abbr", "full") if r[f"{s}_error"])}
    for side in ("abbr", "full"):
        cov = [r[f"{side}_coverage"] for r in used]
        out[f"{side}_coverage_median"] = statistics.median(cov) if cov else None
        out[f"{side}_ok"] = sum(1 for c in cov if c >= TARGET_COVERAGE)
    return out


# --- report ---------------------------------------------------------------------------


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def print_forms(summary: dict, rows: list[dict], counts: dict) -> None:
    s = summary
    listed = [r["query"] for r in rows if r["listed"]]
    print(f"\n## 1. written forms: {s['forms']} queried of {counts['qualifying']} in ≥ {MIN_ARTICLES} articles "
          f"(left out: {counts['lineups_left_out']} squad-list runs like '11-Ruy', "
          f"{counts['glued_left_out']} glued sentences like 'terakhir.Kalangan', "
          f"{counts['too_long_left_out']} runs of > {MAX_PIECES} pieces)")
    print(f"the issue's examples, always queried: {', '.join(listed) or 'none'}; "
          f"not in the corpus ≥ {MIN_ARTICLES}×: {', '.join(counts['listed_absent']) or 'none'}")
    print(f"refused:                 {s['refused']:>6}            target 0")
    print(f"recall worst / median / mean: {_f(s['recall_worst'])} / {_f(s['recall_median'])} / "
          f"{_f(s['recall_mean'])}   target ≥ {TARGET_RECALL} for every form")
    print(f"forms with recall < {TARGET_RECALL}: {s['below_target']:>6} of {s['forms']}   target 0")
    print(f"top-{TOP} precision worst / median: {_f(s['top_precision_worst'])} / "
          f"{_f(s['top_precision_median'])}   target median ≥ {TARGET_PRECISION} "
          f"(over the {s['with_hits']} queries with hits)")
    print("\nby kind (a form may have several):")
    print(f"  {'kind':<11} {'forms':>6} {'refused':>8} {'recall med':>11} {'mean':>7} {'< target':>9}")
    for kind, k in s["by_kind"].items():
        print(f"  {kind:<11} {k['forms']:>6} {k['refused']:>8} {_f(k['recall_median']):>11} "
              f"{_f(k['recall_mean']):>7} {k['below_target']:>9}")
    worst = sorted(rows, key=lambda r: (r["recall"], -r["containing"], r["form"]))[:WORST]
    print(f"\nworst {len(worst)} by recall (found/containing, top-{TOP} precision, total matches):")
    for r in worst:
        status = f"REFUSED {r['error']}" if r["error"] else (
            f"{r['found']}/{r['containing']}  p@{TOP} {_f(r['top_precision'], 2)}  total {r['total']}")
        print(f"  {_f(r['recall'])}  {r['query']!r:<28} {status}")
        if r["missed_example"] and r["missed_example"]["text"]:
            print(f"         e.g. [{r['missed_example']['id']}] {r['missed_example']['text']}")
    refused = [r for r in rows if r["error"]]
    print(f"\nrefused ({len(refused)}):")
    for r in refused:
        print(f"  {r['query']!r:<28} {r['error']}")


def print_pairs(summary: dict | None, rows: list[dict], message: str | None) -> None:
    print("\n## 2. abbreviation pairs")
    if summary is None:
        print(message)
        return
    s = summary
    print(f"pairs: {s['pairs']}, used in the corpus: {s['used_in_corpus']}; refused queries: {s['refused']}")
    print(f"both directions ≥ {TARGET_COVERAGE}: {s['both_directions_ok']} of {s['used_in_corpus']} "
          f"({_f(s['both_directions_ok_share'])})   target: every pair")
    print(f"abbreviation → coverage median {_f(s['abbr_coverage_median'])}, ≥ {TARGET_COVERAGE}: {s['abbr_ok']}")
    print(f"full form    → coverage median {_f(s['full_coverage_median'])}, ≥ {TARGET_COVERAGE}: {s['full_ok']}")
    used = [r for r in rows if r["either"]]
    worst = sorted(used, key=lambda r: (min(r["abbr_coverage"], r["full_coverage"]), -r["either"]))[:WORST]
    print(f"\nworst {len(worst)} (coverage of the articles using either form; articles by abbreviation / full form):")
    for r in worst:
        errs = "; ".join(f"{side} refused" for side in ("abbr", "full") if r[f"{side}_error"])
        print(f"  {r['abbreviation']!r:<12} {_f(r['abbr_coverage'])}  {r['full']!r:<44} {_f(r['full_coverage'])}  "
              f"of {r['either']} ({r['abbr_articles']} / {r['full_articles']}){'  ' + errs if errs else ''}")
    refused = [(r[side_key], r[f"{side}_error"]) for r in rows
               for side, side_key in (("abbr", "abbreviation"), ("full", "full")) if r[f"{side}_error"]]
    print(f"\nrefused ({len(refused)}):")
    for q, error in refused:
        print(f"  {q!r:<28} {error}")


# --- main -----------------------------------------------------------------------------


def index_for(args: argparse.Namespace) -> Path:
    """--index as given, else a build of the (limited) corpus in --workdir,
    reused when one is there already."""
    if args.index:
        return args.index
    args.workdir.mkdir(parents=True, exist_ok=True)
    index_dir = args.workdir / (f"index-first{args.limit}" if args.limit else "index")
    if not (index_dir / "CURRENT").exists():
        corpus = common.corpus_for(args.corpus, args.limit, args.workdir)
        log(f"building an index of {corpus} into {index_dir}")
        common.run_rebuild(corpus, index_dir)
    return index_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=common.DEFAULT_CORPUS)
    ap.add_argument("--index", type=Path, help="an existing index of the corpus (else one is built in --workdir)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/searchapp-queries"))
    ap.add_argument("--limit", type=int, help="the first N articles only (a quick run)")
    ap.add_argument("--sample", type=int, default=SAMPLE, help=f"forms queried at most (default {SAMPLE}; 0 = all)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed of the form sample (default {SEED})")
    ap.add_argument("--abbreviations", type=Path, default=ABBREVIATIONS, help="pairs file (default: the packaged one)")
    ap.add_argument("--json", help="write all per-query figures to this JSON file")
    args = ap.parse_args()
    started = time.perf_counter()

    env = common.environment()
    print(f"# bench/queries.py — `{env['command']}`")
    dirty = f" + uncommitted changes (diff {env['git_diff_sha1']})" if env["git_dirty"] else ""
    print(f"# {env['date']}, commit {env['git_commit'] or '?'}{dirty}, "
          f"seed {args.seed}, sample {args.sample}, limit {args.limit or 'none'}")

    records = common.load_records(args.corpus, args.limit)
    index_dir = index_for(args)
    log(f"scanning {len(records)} articles for written forms")
    t0 = time.perf_counter()
    found = scan(records)
    forms, counts = pick_forms(found, MIN_ARTICLES, args.sample, args.seed)
    scan_s = time.perf_counter() - t0
    log(f"  {len(found.maximal)} distinct forms, {counts['qualifying']} in ≥ {MIN_ARTICLES} articles, "
        f"{len(forms)} queried ({scan_s:.1f} s)")

    searcher = Searcher(index_dir)
    try:
        indexed = searcher.indexed_ids()
        corpus_ids = {str(r["id"]) for r in records}
        if indexed != corpus_ids:
            print(f"# note: index {index_dir} holds {len(indexed)} articles, the corpus read {len(corpus_ids)}, "
                  f"{len(indexed & corpus_ids)} in both; only those are judged")
            indexed &= corpus_ids
        print(f"# corpus {args.corpus} ({len(records)} articles), index {index_dir}")
        log(f"querying {len(forms)} forms")
        t1 = time.perf_counter()
        rows = measure_forms(forms, records, searcher, indexed)
        forms_s = time.perf_counter() - t1
        summary = summarize_forms(rows)

        pair_rows: list[dict] = []
        pair_summary, pair_message = None, None
        if args.abbreviations.exists():
            pairs = load_pairs(args.abbreviations)
            log(f"querying {len(pairs)} abbreviation pairs")
            pair_rows = measure_pairs(pairs, records, searcher, indexed)
            pair_summary = summarize_pairs(pair_rows)
        else:
            pair_message = f"skipped: {args.abbreviations} does not exist"
        mismatches = searcher.mismatches
    finally:
        searcher.close()

    print_forms(summary, rows, counts)
    print_pairs(pair_summary, pair_rows, pair_message)

    search_ms = [r["search_ms"] for r in rows]
    search_ms += [r[f"{side}_search_ms"] for r in pair_rows for side in ("abbr", "full")]
    total_s = time.perf_counter() - started
    print("\n## timing")
    print(f"whole run {total_s:.1f} s (corpus scan {scan_s:.1f} s, {len(rows)} form queries {forms_s:.1f} s)")
    median_ms = statistics.median(search_ms) if search_ms else None
    print(f"search() per query (forms and pairs) median {_f(median_ms, 1)} ms, "
          f"p95 {_f(common.percentile(search_ms, 95), 1)} ms, max {_f(max(search_ms, default=None), 1)} ms")
    print(f"articles with Mac Roman mojibake (“ as ‚Äú, glued onto the next word): "
          f"{fmt(found.mojibake_articles)}")
    if mismatches:
        print(f"match set ≠ search() total for {len(mismatches)} queries, e.g. {mismatches[:3]}")

    common.save_json({
        "environment": env, "corpus": str(args.corpus), "index": str(index_dir), "limit": args.limit,
        "sample": args.sample, "seed": args.seed, "min_articles": MIN_ARTICLES, "form_counts": counts,
        "targets": {"refused": 0, "recall_every_form": TARGET_RECALL, "top_precision_median": TARGET_PRECISION,
                    "abbreviation_coverage": TARGET_COVERAGE},
        "forms_summary": summary, "forms": rows,
        "abbreviations_summary": pair_summary, "abbreviations": pair_rows, "abbreviations_note": pair_message,
        "timing": {"total_s": round(total_s, 2), "scan_s": round(scan_s, 2), "form_queries_s": round(forms_s, 2),
                   "search_ms": common.summarize_ms([x / 1000 for x in search_ms]) if search_ms else None},
        "select_total_mismatches": mismatches,
    }, args.json)


if __name__ == "__main__":
    main()
