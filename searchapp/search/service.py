"""The one search function: query, facets, date range, sort, page → a plain dict.

`LiveIndex` owns the searcher of an index directory and reopens it when a
rebuild switches builds or `add` commits; facet value → document sets are
cached per opened searcher, so a facet count is a set intersection, not a
walk over stored fields.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from whoosh import scoring, query as wq
from whoosh.query.spans import SpanNear2

from searchapp.text import analysis
from searchapp.engine.whoosh import columns
from searchapp.search import spelling
from searchapp.engine.whoosh.columns import UNDATED, Columns
from searchapp.facets.actors import Gazetteer
from searchapp.engine.whoosh.builder import CURRENT, live_build, open_build, load_forms, load_gazetteer, load_names, load_synonyms
from searchapp.errors import QueryError, label_id
from searchapp.search.query import Parsed, Weights, parse
from searchapp.engine.whoosh.ranking import Match, Ranker, TooSlow
from searchapp.engine.whoosh.schema import EXACT, FACETS
from searchapp.text.synonyms import Synonyms

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_WINDOW = 10_000
FACET_LIMIT = 30
SNIPPET_CHARS = 240
TIME_LIMIT = 2.0  # seconds a ranked search may take before it is stopped
SUGGEST_BELOW = 5  # offer a correction when the query finds fewer articles
PARSED_QUERIES = 256


@dataclass
class _Generation:
    """One opened build: its searcher, columns and ranker."""

    key: tuple
    build: Path
    searcher: object
    gazetteer: Gazetteer
    names: dict[str, int]
    synonyms: Synonyms
    stemmer: analysis.Stemmer
    columns: Columns
    ranker: Ranker
    _forms: dict[str, list[tuple[str, int]]] | None = None
    _lexicon: spelling.Lexicon | None = None
    _parsed: OrderedDict[tuple[str, Weights], Parsed] = field(default_factory=OrderedDict)

    def lexicon(self) -> spelling.Lexicon:
        if self._lexicon is None:
            self._lexicon = spelling.Lexicon(self.searcher.reader())
        return self._lexicon

    def forms(self, stem: str, limit: int | None = 8) -> list[str]:
        """The written forms of a stem in the corpus, most used first."""
        if self._forms is None:
            table: dict[str, list[tuple[str, int]]] = {}
            for (s, w), n in load_forms(self.build).items():
                table.setdefault(s, []).append((w, n))
            for rows in table.values():
                rows.sort(key=lambda wn: -wn[1])
            self._forms = table
        return [w for w, _n in self._forms.get(stem, [])[:limit]]

    def parse(self, text: str, weights: Weights) -> Parsed:
        """The parsed query, remembered for the last PARSED_QUERIES texts: the
        web page asks again for the same words on every facet click and page,
        and Whoosh's parser takes about a millisecond."""
        key = (text, weights)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = parse(text, self.searcher.reader(), self.gazetteer, weights, self.names, self.synonyms,
                           self.stemmer)
            self._parsed[key] = parsed
            if len(self._parsed) > PARSED_QUERIES:
                self._parsed.popitem(last=False)
        self._parsed.move_to_end(key)
        return parsed

    def highlighter(self, wanted: Wanted) -> Highlighter:
        return Highlighter(wanted, lambda stem: self.forms(stem, None), self.stemmer)

    @property
    def documents(self) -> int:
        return int(self.columns.live.sum())


class LiveIndex:
    """The live index of a directory, reopened when a rebuild or add changes it."""

    def __init__(self, index_dir: str | os.PathLike, weights: Weights = Weights()):
        self.index_dir = Path(index_dir)
        self.weights = weights
        self._lock = threading.RLock()
        self._gen: _Generation | None = None
        self._key: tuple | None = None
        self._signature: tuple | None = None

    def _current_key(self) -> tuple:
        """(live build, its newest TOC generation): a rebuild replaces CURRENT,
        an `add` writes a new TOC into the build directory. Read again only
        when a stat of either changed (a read and a listdir per search cost
        0.3 ms)."""
        try:
            current = os.stat(self.index_dir / CURRENT)
            signature = (current.st_ino, current.st_mtime_ns)
            if self._key is not None and signature == self._signature[0]:
                if os.stat(self.index_dir / self._key[0]).st_mtime_ns == self._signature[1]:
                    return self._key
        except FileNotFoundError:
            signature = None
        build = live_build(self.index_dir)
        self._signature = (signature, os.stat(build).st_mtime_ns)
        self._key = (build.name, _toc_generation(build))
        return self._key

    def generation(self) -> _Generation:
        """The searcher of the live build, reopened if the build changed."""
        key = self._current_key()
        if self._gen is None or self._gen.key != key:
            self._open(key)
        return self._gen

    def _open(self, key: tuple) -> None:
        build = self.index_dir / key[0]
        gazetteer = load_gazetteer(build)
        ix = open_build(build, readonly=True)  # 124 MB less per serving process than with mmap
        searcher = ix.searcher(weighting=scoring.BM25F(B=self.weights.b, K1=self.weights.k1))
        cols = columns.load(searcher.reader())
        old, self._gen = self._gen, _Generation(
            key=key,
            build=build,
            searcher=searcher,
            gazetteer=gazetteer,
            names=load_names(build),
            synonyms=load_synonyms(build),
            stemmer=analysis.Stemmer(gazetteer.protected_words()),
            columns=cols,
            ranker=Ranker(searcher, cols, k1=self.weights.k1, b=self.weights.b),
        )
        if old is not None:
            old.searcher.close()

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.searcher.close()
                self._gen = None

    def search(self, q: str = "", **kwargs) -> dict:
        return search(self, q, **kwargs)


def _toc_generation(build: Path) -> int:
    """The newest table-of-contents generation: `add` commits a new one."""
    gens = [int(m.group(1)) for m in (re.match(r"_MAIN_(\d+)\.toc$", n) for n in os.listdir(build)) if m]
    return max(gens, default=-1)


# --- parameters ---------------------------------------------------------------


def _as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryError("bad_date", name=name, label=label_id(name), value=value) from None


def _as_int(value, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError("bad_number", name=name, label=label_id(name), value=value) from None
    if not low <= number <= high:
        raise QueryError("out_of_range", name=name, label=label_id(name), low=low, high=high, value=number)
    return number


def _values(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [v.strip() for v in value if v and v.strip()]


# --- query terms and snippets -------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """What a query's highlights look for: its index terms, and the phrases
    whose words are marked only where they stand together ("PDI-P" marks
    "PDI-P", not every "P")."""

    terms: frozenset[str]
    phrases: frozenset[tuple[str, ...]] = frozenset()
    phrase_only: frozenset[str] = frozenset()


def _positive_terms(q: wq.Query, reader) -> Wanted:
    """The index terms the query looks for (prefixes expanded), minus NOT
    parts and the proximity bonus (its words are the query's own)."""
    found: set[str] = set()
    alone: set[str] = set()
    phrases: set[tuple[str, ...]] = set()

    def walk(node):
        if isinstance(node, (wq.Not, SpanNear2)):
            return
        if isinstance(node, wq.Phrase):
            phrases.add(tuple(node.words))
            found.update(node.words)
            return
        if isinstance(node, wq.Term):  # no look-up: a term the index lacks marks nothing anyway
            if analysis.compound(node.text):
                return  # the bonus of a compound written whole: its phrase marks it
            if node.fieldname in EXACT or node.fieldname in EXACT.values():
                found.add(node.text)
                alone.add(node.text)
            return
        if node.is_leaf():
            for fieldname, text in node.existing_terms(reader, expand=True):
                if fieldname in EXACT or fieldname in EXACT.values():
                    text = text.decode("utf-8") if isinstance(text, bytes) else text
                    found.add(text)
                    alone.add(text)
            return
        for child in node.children():
            walk(child)

    walk(q)
    return Wanted(frozenset(found), frozenset(phrases), frozenset(found - alone))


class Highlighter:
    """Where a query's words stand in a text, as written.

    Analysing a whole article (every token tokenised and stemmed) took ~1 ms
    per hit; one regex of every written form of the wanted terms (the build's
    forms table) finds the same words in C. Terms that are not plain words
    (numbers, abbreviations) fall back to the analysis. A word wanted only as
    part of a phrase is marked where the phrase stands, and the parts of a
    compound are marked as one span ("PDI-P").
    """

    def __init__(self, wanted: Wanted, forms=lambda stem: (), stemmer: analysis.Stemmer | None = None):
        self.wanted = wanted
        self.stemmer = stemmer or analysis.Stemmer()
        self.terms = terms = set(wanted.terms)
        self._regex = None
        if terms and all(t.replace("-", "").isalpha() for t in terms):
            words = sorted(terms | {w for t in terms for w in forms(t)}, key=len, reverse=True)
            self._regex = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.IGNORECASE)

    def _all(self, text: str) -> list[tuple[int, int, str]]:
        terms = self.terms
        if self._regex is None:
            return [(s, e, t) for t, w, s, e in self.stemmer.analyze(text) if t in terms or w in terms]
        found = []
        for m in self._regex.finditer(text):
            word = m.group().lower()
            term = self.stemmer.stem(word)
            if term in terms or word in terms:
                found.append((m.start(), m.end(), term))
        return found

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of each wanted word in the text."""
        if not self.terms:
            return []
        found = self._all(text)
        if not self.wanted.phrase_only:
            return found
        keep = [t not in self.wanted.phrase_only for _s, _e, t in found]
        for phrase in self.wanted.phrases:
            n = len(phrase)
            for i in range(len(found) - n + 1):
                run = found[i : i + n]
                if tuple(t for _s, _e, t in run) == phrase and all(
                    _adjacent(text[a[1] : b[0]]) for a, b in zip(run, run[1:])
                ):
                    keep[i : i + n] = [True] * n
        return [m for m, k in zip(found, keep) if k]

    def spans(self, text: str) -> list[list[int]]:
        return _joined([[s, e] for s, e, _t in self.find(text)], text)


def _adjacent(gap: str) -> bool:
    """Whether two words with this text between them stand together, as the
    index sees it: nothing but punctuation and stop words between."""
    stops = analysis.stop_words()
    return all(w in stops for w, _s, _e in analysis.iter_words(gap))


def _joined(spans: list[list[int]], text: str) -> list[list[int]]:
    """Spans of a compound's parts ("PDI", "P") merged into one ("PDI-P")."""
    out: list[list[int]] = []
    for s, e in spans:
        if out and text[out[-1][1] : s] in ("", "-"):
            out[-1][1] = e
        else:
            out.append([s, e])
    return out


NO_HIGHLIGHTS = Highlighter(Wanted(frozenset()))


def make_snippet(text: str, words: Highlighter, size: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    """The passage of about `size` characters with the most distinct matched
    words, and the spans of the matched words inside it (as written)."""
    matches = words.find(text)
    if not matches:
        start, end = 0, min(len(text), size)
    else:
        best, best_score = 0, -1
        for i, (s, _e, _t) in enumerate(matches):
            window = {t for ms, me, t in matches[i:] if me <= s + size}
            score = len(window) * 1000 + sum(1 for ms, me, _t in matches[i:] if me <= s + size)
            if score > best_score:
                best, best_score = i, score
        first = matches[best][0]
        sentence = max(text.rfind(". ", 0, first), text.rfind("\n", 0, first))
        start = sentence + 1 if sentence >= 0 and first - sentence < 80 else max(0, first - 60)
        end = min(len(text), start + size)
    while start > 0 and start < len(text) and not text[start - 1].isspace():
        start += 1
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    while start < end and text[start].isspace():
        start += 1
    piece = text[start:end].replace("\n", " ")
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    marks = [[s - start + len(prefix), e - start + len(prefix)] for s, e, _t in matches if s >= start and e <= end]
    return prefix + piece + suffix, _joined(marks, prefix + piece + suffix)


def mark(text: str, marks: Sequence[Sequence[int]], before: str, after: str, escape=lambda s: s) -> str:
    """Text with the marked spans wrapped, the rest passed through `escape`."""
    out, pos = [], 0
    for s, e in marks:
        out += [escape(text[pos:s]), before, escape(text[s:e]), after]
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


# --- search -------------------------------------------------------------------


def _too_slow() -> QueryError:
    return QueryError("query_too_slow", seconds=TIME_LIMIT)


@dataclass
class Filters:
    """A validated query plus facet and date filters: what selects articles."""

    q: str = ""
    selected: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    required: list[str] = field(default_factory=list)  # actors an article must name, all of them

    @classmethod
    def make(cls, q: str | None = "", outlet=None, actor=None, topic=None, date_from=None, date_to=None,
             require_actor=None) -> Filters:
        """Filters from user input; raises QueryError on a bad value."""
        date_from = _as_date(date_from, "from")
        date_to = _as_date(date_to, "to")
        if date_from and date_to and date_from > date_to:
            raise QueryError("dates_reversed")
        selected = {"outlet": _values(outlet), "actor": _values(actor), "topic": _values(topic)}
        return cls(q or "", selected, date_from, date_to, _values(require_actor))

    @property
    def browse(self) -> bool:
        return not self.q.strip()


@dataclass
class Selection:
    """The articles a Filters selects, with what facet counts and ranking need."""

    parsed: Parsed
    found: Match  # the text query: matched documents and their scores
    matched: np.ndarray  # mask: text and dates, before facet filters
    chosen: dict[str, np.ndarray]  # per facet: mask of the articles having a selected value
    final_mask: np.ndarray  # what the user sees
    deadline: float

    @property
    def final(self) -> np.ndarray:
        """The document numbers the user sees, ascending."""
        return np.flatnonzero(self.final_mask)

    def ranked(self, gen: _Generation, limit: int) -> list[tuple[int, float]]:
        """The best `limit` (document, score), best first."""
        try:
            return gen.ranker.top(self.found, self.final_mask, limit, self.deadline)
        except TooSlow:
            raise _too_slow() from None


def select(index: LiveIndex, gen: _Generation, f: Filters) -> Selection:
    """Run the filters against one opened build (call under index._lock)."""
    deadline = time.monotonic() + TIME_LIMIT
    parsed = gen.parse(f.q, index.weights)
    try:
        found = gen.ranker.match(parsed.query, deadline)
    except TooSlow:
        raise _too_slow() from None
    cols = gen.columns
    matched = found.mask
    if f.date_from or f.date_to:
        first = f.date_from.toordinal() if f.date_from else 1
        last = f.date_to.toordinal() if f.date_to else date.max.toordinal()
        matched = matched & (cols.days >= first) & (cols.days <= last) & (cols.days != UNDATED)
    for actor in f.required:  # like the text query: facet counts are taken within it
        matched = matched & cols.mask(cols.facets["actor"].docs(actor))
    chosen = {
        name: cols.mask(np.concatenate([cols.facets[name].docs(v) for v in values]))
        for name, values in f.selected.items()
        if values
    }
    final = matched
    for mask in chosen.values():
        final = final & mask
    return Selection(parsed, found, matched, chosen, final, deadline)


def search(
    index: LiveIndex,
    q: str = "",
    *,
    outlet: str | Iterable[str] | None = None,
    actor: str | Iterable[str] | None = None,
    topic: str | Iterable[str] | None = None,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    require_actor: str | Iterable[str] | None = None,
    sort: str = "relevance",
    page: int | str = 1,
    per_page: int | str = 10,
) -> dict:
    """Search the live index; every argument error raises QueryError.

    Values of one facet combine with OR, different facets with AND; each
    facet's counts ignore its own selection so other values stay choosable.
    """
    started = time.perf_counter()
    page = _as_int(page, "page", 1, MAX_WINDOW)
    per_page = _as_int(per_page, "per_page", 1, MAX_PER_PAGE)
    if page * per_page > MAX_WINDOW:
        raise QueryError("too_deep", limit=MAX_WINDOW)
    if sort not in SORTS:
        raise QueryError("bad_sort", choices=", ".join(SORTS), value=sort)
    f = Filters.make(q, outlet, actor, topic, date_from, date_to, require_actor)

    with index._lock:
        gen = index.generation()
        searcher = gen.searcher
        sel = select(index, gen, f)
        parsed = sel.parsed
        facets = _facets(gen, sel, f)
        total = int(sel.final_mask.sum())
        browse = f.browse
        start = (page - 1) * per_page
        hits = []
        if total:
            words = NO_HIGHLIGHTS if browse else gen.highlighter(_positive_terms(parsed.query, searcher.reader()))
            if browse or sort != "relevance":
                for docnum in _by_date(gen, sel.final, newest=sort != "oldest", limit=start + per_page)[start:]:
                    hits.append(_hit(searcher.stored_fields(docnum), words, None))
            else:
                for docnum, score in sel.ranked(gen, start + per_page)[start:]:
                    hits.append(_hit(searcher.stored_fields(docnum), words, score))
        suggestion = None
        if not browse and total < SUGGEST_BELOW:
            words = [w["word"] for w in parsed.words if w["stem"]]
            suggestion = spelling.suggest(f.q, words, searcher.reader(), gen.lexicon)
        searched_as = {
            "words": [{**w, "forms": gen.forms(w["stem"]) if w["stem"] else []} for w in parsed.words],
            "actors": parsed.expansions,
            "synonyms": parsed.synonyms,
            "spellings": parsed.spellings,
        }
    return {
        "query": f.q,
        "total": total,
        "page": page,
        "per_page": per_page,
        "sort": sort,
        "from": f.date_from.isoformat() if f.date_from else None,
        "to": f.date_to.isoformat() if f.date_to else None,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "hits": hits,
        "facets": facets,
        "suggestion": suggestion,
        "searched_as": searched_as,
    }


def _facets(gen: _Generation, sel: Selection, f: Filters) -> dict:
    """Each facet's counts over the matches filtered by the other facets."""
    out = {}
    bases: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    for name in FACETS:
        others = tuple(o for o in sel.chosen if o != name)
        if others not in bases:
            mask = sel.matched
            for other in others:
                mask = mask & sel.chosen[other]
            bases[others] = np.flatnonzero(mask), mask
        docs, mask = bases[others]
        facet = gen.columns.facets[name]
        out[name] = _facet_counts(facet.values, facet.counts(docs, mask), f.selected[name])
    return out


def _facet_counts(values: list[str], counts: np.ndarray, selected: list[str]) -> dict:
    shown_values = set(selected)
    rows = [(values[i], int(counts[i])) for i in np.flatnonzero(counts)]
    rows += [(v, 0) for v in dict.fromkeys(selected) if v in values and v not in {r[0] for r in rows}]
    rows.sort(key=lambda vn: (-vn[1], vn[0].lower()))
    shown = rows[:FACET_LIMIT]
    shown += [(v, n) for v, n in rows[FACET_LIMIT:] if v in shown_values]
    known = set(values)
    missing = [v for v in selected if v not in known]
    return {
        "results": [{"value": v, "count": n, "selected": v in shown_values} for v, n in shown]
        + [{"value": v, "count": 0, "selected": True} for v in missing],
        "truncated": len(rows) > FACET_LIMIT,
    }


def _article(fields: dict, words: Highlighter) -> dict:
    """The public form of a stored article, title marked with the query's words."""
    title = fields.get("title") or ""
    published = fields.get("published")
    return {
        "id": fields["id"],
        "title": title,
        "title_highlights": words.spans(title),
        "outlet": (fields.get("outlet") or [None])[0],
        "published": published.date().isoformat() if published else None,
        "url": fields.get("url"),
        "category": fields.get("category") or None,
        "actor": list(fields.get("actor") or []),
        "topic": list(fields.get("topic") or []),
    }


def _by_date(gen: _Generation, docs: np.ndarray, newest: bool, limit: int) -> list[int]:
    """The first `limit` documents by publication day (undated last, then by
    document number), from the day column: Whoosh's sorting collector read two
    columns per document and took ~120 ms to order the whole corpus."""
    days = gen.columns.days[docs].astype(np.int64)
    undated = days == UNDATED
    key = np.where(undated, 1 << 40, -days if newest else days)
    if len(docs) > limit:
        kth = np.partition(key, limit - 1)[limit - 1]
        keep = key <= kth
        docs, key = docs[keep], key[keep]
    return [int(d) for d in docs[np.lexsort((docs, key))][:limit]]


def _hit(fields: dict, words: Highlighter, score: float | None) -> dict:
    snippet, highlights = make_snippet(fields.get("body", ""), words)
    return {
        **_article(fields, words),
        "score": round(score, 4) if score is not None else None,
        "snippet": snippet,
        "highlights": highlights,
    }


def stored_article(gen: _Generation, article_id: str) -> tuple[int, dict] | None:
    """(document number, stored fields) of an article id, or None."""
    docnum = gen.searcher.document_number(id=article_id)
    return None if docnum is None else (docnum, gen.searcher.stored_fields(docnum))


def get_article(index: LiveIndex, article_id: str, q: str = "") -> dict | None:
    """The whole stored article with the query's words marked, or None."""
    with index._lock:
        gen = index.generation()
        searcher = gen.searcher
        found = stored_article(gen, article_id)
        if found is None:
            return None
        _docnum, fields = found
        words = NO_HIGHLIGHTS
        if q.strip():
            try:
                parsed = gen.parse(q, index.weights)
                words = gen.highlighter(_positive_terms(parsed.query, searcher.reader()))
            except QueryError:
                pass
    body = fields.get("body", "")
    return {
        **_article(fields, words),
        "body": body,
        "highlights": words.spans(body),
        "source": fields.get("source"),
        "extra": fields.get("extra") or {},
    }


def stats(index: LiveIndex) -> dict:
    """Documents, index size on disk and every facet value with its count."""
    with index._lock:
        gen = index.generation()
        build = index.index_dir / gen.key[0]
        size = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
        return {
            "index": str(build),
            "documents": gen.documents,
            "size_bytes": size,
            "facets": {
                name: sorted(
                    ({"value": v, "count": int(n)} for v, n in zip(facet.values, np.diff(facet.value_ptr)) if n),
                    key=lambda r: (-r["count"], r["value"].lower()),
                )
                for name, facet in gen.columns.facets.items()
            },
        }
