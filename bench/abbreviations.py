"""Abbreviation ↔ full-form pairs that the real corpus introduces itself.

Indonesian news spells a short form out the first time it uses it, either as
"Komisi Pemberantasan Korupsi (KPK)" / "kebakaran hutan dan lahan (karhutla)"
(pattern A, full form first) or as "BPJS (Badan Penyelenggara Jaminan Sosial)"
(pattern B, abbreviation first). Mining those introductions gives candidates
for searchapp/data/abbreviations.tsv that the corpus itself vouches for; a
person still decides which to keep. Prints candidates, most articles first,
with the share each full form has among all mined full forms of its
abbreviation (below ~80% the abbreviation may be ambiguous: PKB is a party and
"pajak kendaraan bermotor") and, for a short form not written in lowercase, how
many articles use it as a lowercase word: the same word ("pemilu") or an
ordinary one ("permen" = candy, not Peraturan Menteri), unsafe to expand.

--check FILE validates a reviewed data file instead: two tab-separated fields,
no duplicate pair, no pair that one actor of searchapp/data/actors.tsv already
names by both forms (the actor facet expands those), and both forms occurring
in the corpus.

    .venv/bin/python bench/abbreviations.py [--min-articles 2] [--out candidates.tsv]
    .venv/bin/python bench/abbreviations.py --check searchapp/data/abbreviations.tsv
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "clickid-2019.jsonl.gz"
ACTORS = ROOT / "searchapp" / "data" / "actors.tsv"

# Words that may or may not lend letters to the abbreviation ("karhutla" skips
# "dan", "Kemenpan-RB" skips "dan", "PUPR" keeps nothing of it).
CONNECTORS = frozenset({"dan", "dari", "untuk", "di", "ke", "serta", "atau", "yang", "bagi", "pada", "&"})
# A derived word may lend letters from after its prefix: "Kapolda" takes POL
# from "KePOLisian Daerah".
_SKIPPABLE_PREFIXES = ("ke",)
MAX_FULL_WORDS = 10
_PAREN = re.compile(r"\(([^()]{2,120})\)")
# Text before "(" back to the start of its sentence or quotation.
_CLAUSE_BREAK = re.compile(r"[.!?;:\"“”()\[\]]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+|&")
_ABBR = re.compile(r"[A-Za-z][A-Za-z.&/-]{0,14}(?: [A-Za-z][A-Za-z.&/-]{0,14})?")
_TOKEN = re.compile(r"\w+")


def articles(path: Path) -> Iterator[dict]:
    """The JSON records of a .jsonl(.gz) corpus."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def article_text(record: dict) -> str:
    """Title and body; the title ends in a full stop so no pattern spans both."""
    return f"{record.get('title') or ''}.\n{record.get('body') or ''}"


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def _starts(word: str) -> list[str]:
    """The word, and the word without a skippable prefix, as letter sources."""
    return [word] + [word[len(p):] for p in _SKIPPABLE_PREFIXES if word.startswith(p) and len(word) > len(p) + 3]


def aligns(abbr: str, words: list[str], loose: bool = False) -> bool:
    """Whether abbr (letters only, lowercase) spells out words in order.

    Every word that is not a connector lends its first letter (or the first
    letter after a skippable prefix) and then any further letters of itself in
    order: initials ("KPK"), leading syllables ("Menkeu"), inner letters
    ("Kapolri" = KepAla POLisi Republik Indonesia). Connectors lend letters or
    nothing. With loose, one word after the first may lend inner letters only
    or nothing, as "Mendagri" = MENteri DAlam neGeRI and "Menlu" = MENteri LUar
    Negeri need; that is weaker evidence, so it is tried only when strict fails.
    """
    reach = {(0, False)}
    for i, word in enumerate(words):
        nxt = set(reach) if word in CONNECTORS else set()
        for j, used in reach:
            starts = [(s, 0) for s in _starts(word)]
            if loose and not used and i > 0 and word not in CONNECTORS:
                nxt.add((j, True))
                starts += [(word, p) for p in range(1, len(word))]
            for start, p in starts:
                if j >= len(abbr) or abbr[j] != start[p]:
                    continue
                flag = used or p > 0
                k = j + 1
                nxt.add((k, flag))
                for ch in start[p + 1:]:  # greedy subsequence: the longest run this word can cover
                    if k < len(abbr) and ch == abbr[k]:
                        k += 1
                        nxt.add((k, flag))
        if not nxt:
            return False
        reach = nxt
    return any(j == len(abbr) for j, _used in reach)


def _full_words(text: str) -> list[str] | None:
    """Lowercase words of a full form, hyphen parts apart ("Undang-Undang" → UU)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words or any(w.isdigit() for w in words):
        return None
    return words


def _clean(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).strip(" ,-")


@dataclass
class Candidate:
    """One (abbreviation, full form) pair: its surface forms and where it was seen."""

    abbrs: Counter[str] = field(default_factory=Counter)  # surface forms as written
    fulls: Counter[str] = field(default_factory=Counter)
    patterns: set[str] = field(default_factory=set)
    articles: set[str] = field(default_factory=set)


def _pattern_a(before: str, inner: str) -> tuple[str, str, bool] | None:
    """'Full Form (ABBR)': the shortest run of words before '(' that inner spells."""
    inner = inner.strip()
    if not _ABBR.fullmatch(inner):
        return None
    abbr = _letters(inner)
    if not 2 <= len(abbr) <= 12:
        return None
    clause = _CLAUSE_BREAK.split(before)[-1]
    spans = list(_WORD.finditer(clause))[-MAX_FULL_WORDS:]
    runs = []
    for n in range(2, len(spans) + 1):
        words = [m.group().lower() for m in spans[-n:]]
        if words[0] in CONNECTORS or any(w.isdigit() for w in words):
            continue
        if len(abbr) < len(_letters("".join(words))):
            runs.append((spans[-n].start(), words))
    for loose in (False, True):
        for start, words in runs:
            if aligns(abbr, words, loose):
                return inner, _clean(clause[start:]), loose
    return None


def _pattern_b(before: str, inner: str) -> tuple[str, str, bool] | None:
    """'ABBR (Full Form)': the one or two words before '(' spell all of inner."""
    words = _full_words(inner)
    if words is None or not 2 <= len(words) <= MAX_FULL_WORDS or {words[0], words[-1]} & CONNECTORS:
        return None
    tail = before.split()
    if not tail or before.rstrip().endswith(("-", "/")):
        return None
    shorts = [" ".join(tail[-n:]) for n in (1, 2) if _ABBR.fullmatch(" ".join(tail[-n:]))]
    for loose in (False, True):
        for short in shorts:
            abbr = _letters(short)
            if 2 <= len(abbr) < len(_letters(inner)) and aligns(abbr, words, loose):
                return short, _clean(inner), loose
    return None


def mine(path: Path) -> tuple[dict[tuple[str, str], Candidate], Counter[str], int]:
    """Candidates keyed by (abbr, full form) casefolded, case-sensitive word df, articles read."""
    found: dict[tuple[str, str], Candidate] = defaultdict(Candidate)
    word_df: Counter[str] = Counter()
    n = 0
    for record in articles(path):
        n += 1
        text = article_text(record)
        word_df.update(set(_TOKEN.findall(text)))
        for m in _PAREN.finditer(text):
            before = text[max(0, m.start() - 200): m.start()]
            hit = _pattern_a(before, m.group(1))
            label = "A"
            if hit is None:
                hit, label = _pattern_b(before, m.group(1)), "B"
            if hit is None:
                continue
            abbr, full, loose = hit
            key = (abbr.casefold().replace(".", ""), re.sub(r"[^\w ]", "", full.casefold()))
            cand = found[key]
            cand.abbrs[abbr] += 1
            cand.fulls[full] += 1
            cand.patterns.add(label + "~" * loose)
            cand.articles.add(record["id"])
    return found, word_df, n


def header() -> list[str]:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
            return done.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    dirty = "+uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return [
        f"command: .venv/bin/python {' '.join(sys.argv)}",
        f"date:    {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"commit:  {git('rev-parse', '--short', 'HEAD')} {dirty}".rstrip(),
    ]


def report(args: argparse.Namespace) -> None:
    found, word_df, n_articles = mine(args.corpus)
    per_abbr: Counter[str] = Counter()
    for (abbr, _full), cand in found.items():
        per_abbr[abbr] += len(cand.articles)
    rows = []
    for (abbr_key, _full), cand in found.items():
        count = len(cand.articles)
        if count < args.min_articles:
            continue
        abbr = cand.abbrs.most_common(1)[0][0]
        full = cand.fulls.most_common(1)[0][0]
        lower_df = word_df[abbr.lower()] if abbr != abbr.lower() and " " not in abbr else 0
        rows.append((abbr, full, count, count / per_abbr[abbr_key], lower_df, ",".join(sorted(cand.patterns))))
    rows.sort(key=lambda r: (-r[2], r[0].casefold(), r[1]))
    print("\n".join(header()))
    print(f"corpus:  {args.corpus} ({n_articles} articles); {len(found)} distinct pairs, "
          f"{len(rows)} in >= {args.min_articles} articles")
    print("pattern A = 'Full Form (ABBR)', B = 'ABBR (Full Form)', ~ = one word lends inner letters or none;")
    print("share = of the abbreviation's mined articles; lc = articles with the abbreviation as a lowercase word\n")
    print(f"{'abbr':16} {'articles':>8} {'share':>6} {'lc':>6} {'pattern':7} full form")
    for abbr, full, count, share, lower_df, pat in rows:
        print(f"{abbr:16} {count:8} {share:6.0%} {lower_df or '':>6} {pat:7} {full}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("abbr\tfull\tarticles\tshare\tlowercase_df\tpattern\n")
            for abbr, full, count, share, lower_df, pat in rows:
                fh.write(f"{abbr}\t{full}\t{count}\t{share:.2f}\t{lower_df}\t{pat}\n")
        print(f"\nwrote {len(rows)} candidates to {args.out}")


def actor_aliases(path: Path = ACTORS) -> dict[str, set[str]]:
    """Casefolded alias (markers stripped, canonical name included) → actors it names."""
    names: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text("utf-8").splitlines():
        cols = line.split("\t")
        if line.startswith("#") or len(cols) < 2 or cols[1].strip() == "ignore":
            continue
        for alias in [cols[0], *(cols[2].split("|") if len(cols) > 2 else [])]:
            alias = " ".join(alias.strip().lstrip("=?").split())
            if alias:
                names[alias.casefold()].add(cols[0])
    return names


def _tokens(text: str, fold: bool) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.casefold() if fold else text))


def corpus_df(path: Path, forms: set[tuple[str, ...]], fold: bool) -> Counter[tuple[str, ...]]:
    """Articles containing each token sequence (casefolded when fold)."""
    by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for form in forms:
        by_first[form[0]].append(form)
    df: Counter[tuple[str, ...]] = Counter()
    for record in articles(path):
        toks = _tokens(article_text(record), fold)
        seen = set()
        for i, tok in enumerate(toks):
            for form in by_first.get(tok, ()):
                if toks[i: i + len(form)] == form:
                    seen.add(form)
        df.update(seen)
    return df


def check(args: argparse.Namespace) -> int:
    """Validate a reviewed abbreviations file; nonzero exit when a pair fails."""
    print("\n".join(header()))
    messages: list[tuple[int, str]] = []
    pairs: list[tuple[int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for lineno, line in enumerate(Path(args.check).read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 2 or not all(c and c.strip() == c for c in cols):
            messages.append((lineno, f"not 'ABBR<TAB>Full Form': {line!r}"))
        elif (cols[0], cols[1].casefold()) in seen:
            messages.append((lineno, f"duplicate pair {cols[0]} = {cols[1]}"))
        else:
            seen.add((cols[0], cols[1].casefold()))
            pairs.append((lineno, cols[0], cols[1]))
    failed, bad_pairs = len(messages), 0
    aliases = actor_aliases()
    abbr_df = corpus_df(args.corpus, {_tokens(a, False) for _l, a, _f in pairs}, fold=False)
    full_df = corpus_df(args.corpus, {_tokens(f, True) for _l, _a, f in pairs}, fold=True)
    for lineno, abbr, full in pairs:
        named = aliases.get(abbr.casefold(), set()), aliases.get(full.casefold(), set())
        failures = []
        if both := named[0] & named[1]:
            failures.append(f"one actor already names both forms ({', '.join(sorted(both))})")
        elif named[0] or named[1]:
            messages.append((lineno, f"note: {abbr} = {full}: one form is an alias of "
                                     f"{', '.join(sorted(named[0] | named[1]))} (allowed)"))
        if not abbr_df[_tokens(abbr, False)]:
            failures.append(f"{abbr!r} not in the corpus (case as written)")
        if not full_df[_tokens(full, True)]:
            failures.append(f"{full!r} not in the corpus")
        if failures:
            failed, bad_pairs = failed + 1, bad_pairs + 1
            messages.append((lineno, f"{abbr} = {full}: " + "; ".join(failures)))
    for lineno, text in sorted(messages):
        print(f"line {lineno}: {text}")
    print(f"{args.check}: {len(pairs) - bad_pairs} of {len(pairs)} pairs pass ({failed} problem(s))")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--min-articles", type=int, default=2, help="articles introducing the pair (default 2)")
    ap.add_argument("--out", type=Path, help="also write the candidates as TSV")
    ap.add_argument("--check", type=Path, metavar="FILE", help="validate a reviewed data file instead of mining")
    args = ap.parse_args(argv)
    if args.check:
        return check(args)
    report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
