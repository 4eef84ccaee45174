"""The one search function: query, facets, date range, sort, page → a plain dict.

`LiveIndex` owns the searcher of an index directory and reopens it when a
rebuild switches builds or `add` commits; facet value → document sets are
cached per opened searcher, so a facet count is a set intersection, not a
walk over stored fields.
"""

from __future__ import annotations

import heapq
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring, query as wq
from whoosh.collectors import FilterCollector, TimeLimit

from . import analysis, spelling
from .actors import Gazetteer
from .indexer import live_build, load_forms, load_gazetteer, load_names
from .query import Parsed, QueryError, Weights, parse
from .schema import EXACT, FACETS

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_WINDOW = 10_000
FACET_LIMIT = 30
SNIPPET_CHARS = 240
TIME_LIMIT = 2.0  # seconds a ranked search may take before it is stopped
SUGGEST_BELOW = 5
TERM_CACHE_IDS = 500_000  # document numbers held by the term → documents cache (~20 MB)  # offer a correction when the query finds fewer articles


@dataclass
class _Generation:
    """One opened build: its searcher, parser and facet document sets."""

    key: tuple
    build: Path
    searcher: object
    gazetteer: Gazetteer
    names: dict[str, int]
    facet_docs: dict[str, dict[str, frozenset[int]]]
    all_docs: frozenset[int]
    _days: list[date | None] | None = None
    _term_docs: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    _cached_ids: int = 0
    _forms: dict[str, list[tuple[str, int]]] | None = None

    def forms(self, stem: str, limit: int = 8) -> list[str]:
        """The written forms of a stem in the corpus, most used first."""
        if self._forms is None:
            table: dict[str, list[tuple[str, int]]] = {}
            for (s, w), n in load_forms(self.build).items():
                table.setdefault(s, []).append((w, n))
            for rows in table.values():
                rows.sort(key=lambda wn: -wn[1])
            self._forms = table
        return [w for w, _n in self._forms.get(stem, [])[:limit]]

    _doc_actors: dict[int, tuple[str, ...]] | None = None

    def term_docs(self, fieldname: str, text: str) -> frozenset[int]:
        """The documents holding a term, cached for this build (oldest out
        first once the sets hold TERM_CACHE_IDS document numbers)."""
        key = (fieldname, text)
        docs = self._term_docs.get(key)
        if docs is None:
            reader = self.searcher.reader()
            docs = frozenset(reader.postings(fieldname, text).all_ids()) if (fieldname, text) in reader else frozenset()
            self._cached_ids += len(docs)
            while self._cached_ids > TERM_CACHE_IDS and self._term_docs:
                self._cached_ids -= len(self._term_docs.pop(next(iter(self._term_docs))))
            self._term_docs[key] = docs
        return docs

    def docs(self, node: wq.Query) -> frozenset[int] | set[int]:
        """The documents a query matches, by set algebra over cached term
        sets where it can (Whoosh walks every posting in Python each time)."""
        if isinstance(node, wq.Term):
            return self.term_docs(node.fieldname, node.text)
        if isinstance(node, wq.Every):
            return self.all_docs
        if isinstance(node, wq.ConstantScoreQuery):
            return self.docs(node.child)
        if isinstance(node, wq.Or):
            return frozenset().union(*(self.docs(c) for c in node.subqueries))
        if isinstance(node, wq.And):
            parts = sorted((self.docs(c) for c in node.subqueries), key=len)
            return parts[0].intersection(*parts[1:]) if parts else frozenset()
        if isinstance(node, wq.Not):
            return self.all_docs - self.docs(node.query)
        if isinstance(node, wq.AndNot):
            return self.docs(node.a) - self.docs(node.b)
        if isinstance(node, wq.AndMaybe):
            return self.docs(node.a)
        if isinstance(node, wq.DateRange) and node.fieldname == "published":
            first = node.startdate.date() if node.startdate else date.min
            last = node.enddate.date() if node.enddate else date.max
            return frozenset(d for d, day in enumerate(self.days()) if day is not None and first <= day <= last)
        return set(self.searcher.docs_for_query(node))

    def days(self) -> list[date | None]:
        """Publication day per document number, read once from the sortable column."""
        if self._days is None:
            reader = self.searcher.reader()
            raw = reader.column_reader("published", translate=False)
            dated = reader.column_reader("dated")
            self._days = [
                date.fromordinal(1 + raw[d] // 86_400_000_000) if dated[d] else None
                for d in range(reader.doc_count_all())
            ]
        return self._days

    def doc_actors(self) -> dict[int, tuple[str, ...]]:
        """Actors per document number, inverted from the facet cache."""
        if self._doc_actors is None:
            lists: dict[int, list[str]] = {}
            for actor, docs in self.facet_docs["actor"].items():
                for d in docs:
                    lists.setdefault(d, []).append(actor)
            self._doc_actors = {d: tuple(v) for d, v in lists.items()}
        return self._doc_actors


def _facet_docs(reader) -> dict[str, dict[str, frozenset[int]]]:
    table: dict[str, dict[str, frozenset[int]]] = {}
    for name in FACETS:
        values = {}
        for term in reader.field_terms(name):
            values[term] = frozenset(reader.postings(name, term).all_ids())
        table[name] = values
    return table


class LiveIndex:
    """The live index of a directory, reopened when a rebuild or add changes it."""

    def __init__(self, index_dir: str | os.PathLike, weights: Weights = Weights()):
        self.index_dir = Path(index_dir)
        self.weights = weights
        self._lock = threading.RLock()
        self._gen: _Generation | None = None

    def _current_key(self) -> tuple:
        build = live_build(self.index_dir)
        return (build.name, _toc_generation(build))

    def generation(self) -> _Generation:
        """The searcher of the live build, reopened if the build changed."""
        key = self._current_key()
        if self._gen is None or self._gen.key != key:
            self._open(key)
        return self._gen

    def _open(self, key: tuple) -> None:
        build = self.index_dir / key[0]
        gazetteer = load_gazetteer(build)
        analysis.protect(gazetteer.protected_words())
        ix = whoosh_index.open_dir(str(build))
        searcher = ix.searcher(weighting=scoring.BM25F(B=self.weights.b, K1=self.weights.k1))
        reader = searcher.reader()
        old, self._gen = self._gen, _Generation(
            key=key,
            build=build,
            searcher=searcher,
            gazetteer=gazetteer,
            names=load_names(build),
            facet_docs=_facet_docs(reader),
            all_docs=frozenset(reader.all_doc_ids()),
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


class _BoundedFilter(FilterCollector):
    """Collects only the allowed documents and stops at a time limit.

    Whoosh's TimeLimitCollector skips an inner filter's check and an outer
    filter skips its clock, so both live here; a clock check is a call to
    time.monotonic, no signal, so it is safe under waitress threads.
    """

    def __init__(self, child, allow: set[int], seconds: float):
        super().__init__(child, allow=allow)
        self.seconds = seconds
        self.deadline = 0.0

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.seconds

    def collect_matches(self):
        child, allow, offset = self.child, self._allow, self.offset
        for i, sub_docnum in enumerate(child.matches()):
            if not i & 255 and time.monotonic() >= self.deadline:
                raise TimeLimit
            if offset + sub_docnum in allow:
                child.collect(sub_docnum)
            else:
                self.filtered_count += 1


def _as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None


def _as_int(value, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise QueryError(f"{name} must be between {low} and {high}, not {number}")
    return number


def _values(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [v.strip() for v in value if v and v.strip()]


# --- query terms and snippets -------------------------------------------------


def _positive_terms(q: wq.Query, reader) -> set[str]:
    """The index terms the query looks for (prefixes expanded), minus NOT parts."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, wq.Not):
            return
        if node.is_leaf():
            for fieldname, text in node.existing_terms(reader, expand=True):
                if fieldname in EXACT or fieldname in EXACT.values():
                    found.add(text.decode("utf-8") if isinstance(text, bytes) else text)
            return
        for child in node.children():
            walk(child)

    walk(q)
    return found


def spans(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character spans of the words in the text whose index term is wanted."""
    if not terms:
        return []
    return [(s, e) for term, word, s, e in analysis.analyze(text) if term in terms or word in terms]


def make_snippet(text: str, terms: set[str], size: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    """The passage of about `size` characters with the most distinct matched
    words, and the spans of the matched words inside it (as written)."""
    matches = [(s, e, t) for t, w, s, e in analysis.analyze(text) if t in terms or w in terms] if terms else []
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
    return prefix + piece + suffix, marks


def mark(text: str, marks: Sequence[Sequence[int]], before: str, after: str, escape=lambda s: s) -> str:
    """Text with the marked spans wrapped, the rest passed through `escape`."""
    out, pos = [], 0
    for s, e in marks:
        out += [escape(text[pos:s]), before, escape(text[s:e]), after]
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


# --- search -------------------------------------------------------------------


def _date_query(date_from: date | None, date_to: date | None) -> wq.Query | None:
    if not date_from and not date_to:
        return None
    start = datetime.combine(date_from, datetime.min.time()) if date_from else None
    end = datetime.combine(date_to, datetime.min.time()) + timedelta(days=1, microseconds=-1) if date_to else None
    return wq.DateRange("published", start, end)


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
            raise QueryError("from must not be after to")
        selected = {"outlet": _values(outlet), "actor": _values(actor), "topic": _values(topic)}
        return cls(q or "", selected, date_from, date_to, _values(require_actor))

    @property
    def browse(self) -> bool:
        return not self.q.strip()


@dataclass
class Selection:
    """The articles a Filters selects, with what facet counts need."""

    parsed: Parsed
    query: wq.Query  # the text query with the date range: what ranks
    matched: frozenset[int] | set[int]  # text and dates, before facet filters
    chosen: dict[str, frozenset[int]]  # per facet: the articles having a selected value
    final: set[int]  # what the user sees


def select(index: LiveIndex, gen: _Generation, f: Filters) -> Selection:
    """Run the filters against one opened build (call under index._lock)."""
    searcher = gen.searcher
    parsed = parse(f.q, searcher.reader(), gen.gazetteer, index.weights, gen.names)
    when = _date_query(f.date_from, f.date_to)
    query = wq.And([parsed.query, when]) if when else parsed.query
    matched = gen.docs(query)
    for actor in f.required:  # like the text query: facet counts are taken within it
        matched = matched & gen.facet_docs["actor"].get(actor, frozenset())
    chosen = {
        name: frozenset().union(*(gen.facet_docs[name].get(v, frozenset()) for v in values))
        for name, values in f.selected.items()
        if values
    }
    final = set(matched)
    for docs in chosen.values():
        final &= docs
    return Selection(parsed, query, matched, chosen, final)


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
        raise QueryError(f"results deeper than {MAX_WINDOW} are not served; narrow the query")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    f = Filters.make(q, outlet, actor, topic, date_from, date_to, require_actor)

    with index._lock:
        gen = index.generation()
        searcher = gen.searcher
        sel = select(index, gen, f)
        parsed, base_query, final = sel.parsed, sel.query, sel.final
        facets = {}
        for name in FACETS:
            base = set(sel.matched)
            for other, docs in sel.chosen.items():
                if other != name:
                    base &= docs
            facets[name] = _facet_counts(gen.facet_docs[name], base, f.selected[name])

        browse = f.browse
        by_date = browse or sort != "relevance"
        start = (page - 1) * per_page
        hits = []
        if final:
            terms = set() if browse else _positive_terms(parsed.query, searcher.reader())
            if by_date:
                for docnum in _by_date(gen, final, newest=sort != "oldest", limit=start + per_page)[start:]:
                    hits.append(_hit(searcher.stored_fields(docnum), terms, None))
            else:
                collector = _BoundedFilter(searcher.collector(limit=start + per_page), final, TIME_LIMIT)
                try:
                    searcher.search_with_collector(base_query, collector)
                except TimeLimit:
                    raise QueryError(
                        f"the query took longer than {TIME_LIMIT:g} s and was stopped; use fewer or longer words"
                    ) from None
                for hit in collector.results()[start : start + per_page]:
                    hits.append(_hit(hit.fields(), terms, hit.score))
        suggestion = None
        if not browse and len(final) < SUGGEST_BELOW:
            words = [w["word"] for w in parsed.words if w["stem"]]
            suggestion = spelling.suggest(f.q, words, searcher.reader())
        searched_as = {
            "words": [{**w, "forms": gen.forms(w["stem"]) if w["stem"] else []} for w in parsed.words],
            "actors": parsed.expansions,
        }
    return {
        "query": f.q,
        "total": len(final),
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


def _facet_counts(values: dict[str, frozenset[int]], base: set[int], selected: list[str]) -> dict:
    counts = [(v, len(base & docs)) for v, docs in values.items()]
    counts = [(v, n) for v, n in counts if n or v in selected]
    counts.sort(key=lambda vn: (-vn[1], vn[0].lower()))
    shown = counts[:FACET_LIMIT]
    shown += [(v, n) for v, n in counts[FACET_LIMIT:] if v in selected]
    missing = [v for v in selected if v not in values]
    return {
        "results": [{"value": v, "count": n, "selected": v in selected} for v, n in shown]
        + [{"value": v, "count": 0, "selected": True} for v in missing],
        "truncated": len(counts) > FACET_LIMIT,
    }


def _article(fields: dict, terms: set[str]) -> dict:
    """The public form of a stored article, title marked with the query's words."""
    title = fields.get("title") or ""
    published = fields.get("published")
    return {
        "id": fields["id"],
        "title": title,
        "title_highlights": [list(s) for s in spans(title, terms)],
        "outlet": (fields.get("outlet") or [None])[0],
        "published": published.date().isoformat() if published else None,
        "url": fields.get("url"),
        "category": fields.get("category") or None,
        "actor": list(fields.get("actor") or []),
        "topic": list(fields.get("topic") or []),
    }


def _by_date(gen: _Generation, docs: set[int], newest: bool, limit: int) -> list[int]:
    """The first `limit` documents by publication day (undated last, then by
    document number), from the cached day column: Whoosh's sorting collector
    read two columns per document and took ~120 ms to order the whole corpus."""
    days = gen.days()
    sign = -1 if newest else 1

    def key(d: int) -> tuple:
        day = days[d]
        return (1, 0, d) if day is None else (0, sign * day.toordinal(), d)

    return heapq.nsmallest(limit, docs, key=key)


def _hit(fields: dict, terms: set[str], score: float | None) -> dict:
    snippet, highlights = make_snippet(fields.get("body", ""), terms)
    return {
        **_article(fields, terms),
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
        terms = set()
        if q.strip():
            try:
                terms = _positive_terms(parse(q, searcher.reader(), gen.gazetteer, index.weights, gen.names).query, searcher.reader())
            except QueryError:
                terms = set()
    body = fields.get("body", "")
    return {
        **_article(fields, terms),
        "body": body,
        "highlights": [list(s) for s in spans(body, terms)],
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
            "documents": len(gen.all_docs),
            "size_bytes": size,
            "facets": {
                name: sorted(
                    ({"value": v, "count": len(d)} for v, d in values.items() if d),
                    key=lambda r: (-r["count"], r["value"].lower()),
                )
                for name, values in gen.facet_docs.items()
            },
        }
