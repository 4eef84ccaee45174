"""The search service: what the pages, the API and the CLI call.

A search takes one snapshot of the engine's live build and answers from it:
the query is parsed into a plan (query.py, remembered per snapshot), the
engine selects, ranks and counts, and this module shapes the answer — facet
rows, hits with snippets and highlights, the did-you-mean suggestion and what
the query was searched as. Nothing here holds a lock across a search.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from datetime import date

from searchapp import facets
from searchapp.engine.base import Doc, Engine, ResultSet, Snapshot, TooSlow
from searchapp.errors import QueryError
from searchapp.ingest.repair import paragraph_spans
from searchapp.search import spelling
from searchapp.search.highlight import Highlighter, Wanted, make_snippet, wanted
from searchapp.search.query import Parsed, parse
from searchapp.search.request import MAX_PER_PAGE, MAX_WINDOW, SORTS, Request, as_int
from searchapp.text import syndication

FACET_LIMIT = 30
TIME_LIMIT = 2.0  # seconds a ranked search may take before it is stopped
SUGGEST_BELOW = 5  # offer a correction when the query finds fewer articles


def too_slow() -> QueryError:
    return QueryError("query_too_slow", seconds=TIME_LIMIT)


def parsed(engine: Engine, snap: Snapshot, text: str) -> Parsed:
    """The plan of a query text, remembered per snapshot: the page asks again
    for the same words on every facet click and page."""
    return snap.remember(("parse", text, engine.weights), lambda: parse(text, snap, snap.tables, engine.weights))


def highlighter(snap: Snapshot, query: Parsed | None) -> Highlighter:
    words = wanted(query.query, snap) if query is not None else Wanted(frozenset())
    return Highlighter(words, lambda stem: snap.tables.forms(stem, None), snap.tables.stemmer)


@dataclass
class Selected:
    """A request resolved against one snapshot: its articles (`rs`), what is
    listed (one article per story when collapsed) and what is counted."""

    snapshot: Snapshot
    parsed: Parsed
    rs: ResultSet
    deadline: float
    request: Request

    @cached_property
    def stories(self) -> ResultSet:
        return self.snapshot.collapse(self.rs)

    @property
    def listed(self) -> ResultSet:
        return self.stories if self.request.collapse else self.rs

    @property
    def counted(self) -> ResultSet:
        return self.stories if self.request.counts_stories else self.rs

    def ranked(self, limit: int) -> list[tuple[Doc, float]]:
        """The best `limit` (article, score) of the list, best first."""
        try:
            return self.snapshot.ranked(self.listed, limit, self.deadline)
        except TooSlow:
            raise too_slow() from None


def select(engine: Engine, request: Request, snap: Snapshot | None = None) -> Selected:
    """The articles a request selects, in the live build's snapshot (or in
    `snap`, so the parts of one view all count in the same build)."""
    snap = snap or engine.snapshot()
    deadline = time.monotonic() + TIME_LIMIT  # from here: opening a build (~1 s, once) is not the query's time
    query = parsed(engine, snap, request.q)
    try:
        rs = snap.select(query.query, request.filters, deadline)
    except TooSlow:
        raise too_slow() from None
    return Selected(snap, query, rs, deadline, request)


def search(
    engine: Engine,
    q: str = "",
    *,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    require_actor: str | Iterable[str] | None = None,
    sort: str = "relevance",
    page: int | str = 1,
    per_page: int | str = 10,
    collapse: str | bool | None = None,
    count: str | None = None,
    story: str | None = None,
    **facet_values: str | Iterable[str] | None,
) -> dict:
    """Search the live index; every argument error raises QueryError.

    `facet_values` are one keyword per facet (outlet=, actor=, topic=...).
    Values of one facet combine with OR, different facets with AND; each
    facet's counts ignore its own selection so other values stay choosable.
    Copies of one story are one hit (the story's first article in canonical
    order, with how many copies the result set holds and where) unless
    `collapse` is off; counts count stories unless `count` is articles.
    """
    started = time.perf_counter()
    page = as_int(page, "page", 1, MAX_WINDOW)
    per_page = as_int(per_page, "per_page", 1, MAX_PER_PAGE)
    if page * per_page > MAX_WINDOW:
        raise QueryError("too_deep", limit=MAX_WINDOW)
    if sort not in SORTS:
        raise QueryError("bad_sort", choices=", ".join(SORTS), value=sort)
    request = Request.make(q, date_from, date_to, require_actor, collapse=collapse, count=count, story=story,
                           **facet_values)
    sel = select(engine, request)
    snap, query = sel.snapshot, sel.parsed
    counts = {name: facet_rows(snap, name, snap.facet_counts(sel.counted, name), request.filters.selected[name])
              for name in facets.names()}
    total = sel.rs.total
    start = (page - 1) * per_page
    hits = []
    if total:
        words = highlighter(snap, None if request.browse else query)
        if request.browse or sort != "relevance":
            page_docs = [(doc, None) for doc in snap.by_date(sel.listed, newest=sort != "oldest",
                                                             limit=start + per_page)[start:]]
        else:
            page_docs = sel.ranked(start + per_page)[start:]
        docs = [doc for doc, _score in page_docs]
        copies = snap.copies(sel.rs, docs)
        copied = [c for doc in docs for c in copies[doc]]
        outlets = dict(zip(copied, snap.values_of(copied, "outlet")))
        for (doc, score), article in zip(page_docs, snap.articles(docs)):
            hit = _hit(article, words, score)
            hit["story"] = story_of(article, [outlets[c] for c in copies[doc]])
            hits.append(hit)
    suggestion = None
    if not request.browse and total < SUGGEST_BELOW:
        typed = [w["word"] for w in query.words if w["stem"]]
        suggestion = spelling.suggest(request.q, typed, snap, lambda: lexicon(snap))
    searched_as = {
        "words": [{**w, "forms": snap.tables.forms(w["stem"]) if w["stem"] else []} for w in query.words],
        "actors": query.expansions,
        "synonyms": query.synonyms,
        "spellings": query.spellings,
    }
    filters = request.filters
    return {
        "query": request.q,
        "total": total,
        "stories": sel.stories.total,
        "collapse": request.collapse,
        "count": request.count,
        "story": request.filters.story,
        "page": page,
        "per_page": per_page,
        "sort": sort,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "hits": hits,
        "facets": counts,
        "suggestion": suggestion,
        "searched_as": searched_as,
    }


def lexicon(snap: Snapshot) -> spelling.Lexicon:
    """The build's did-you-mean lexicon, made once a snapshot."""
    return snap.once("lexicon", lambda: spelling.Lexicon(snap))


def warm(engine: Engine) -> None:
    """Open the live build and make what its first queries would otherwise
    wait for (the did-you-mean lexicon, the written forms of the stems:
    ~0.3 s on the 2019 corpus), as a server does before it takes requests;
    then keep what the process holds so far out of the garbage collector's
    full passes (`gc.freeze`): one over the million objects of an opened
    build stopped a query for 0.1–0.5 s."""
    snap = engine.snapshot()
    lexicon(snap)
    snap.tables.forms("")
    gc.freeze()


def by_count(pairs: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """(value, count) pairs most counted first, then by value in any case:
    the order of every list of facet values."""
    return sorted(pairs, key=lambda vn: (-vn[1], vn[0].lower()))


def facet_rows(snap: Snapshot, name: str, counts: Counter[str], selected: tuple[str, ...]) -> dict:
    """A facet's values by count (the first FACET_LIMIT, plus every selected
    one), selected values the build does not know shown with 0."""
    shown_values = set(selected)
    rows = list(counts.items())
    rows += [(v, 0) for v in dict.fromkeys(selected) if v not in counts and snap.has_value(name, v)]
    rows = by_count(rows)
    shown = rows[:FACET_LIMIT]
    shown += [(v, n) for v, n in rows[FACET_LIMIT:] if v in shown_values]
    missing = [v for v in selected if not snap.has_value(name, v)]
    return {
        "results": [{"value": v, "count": n, "selected": v in shown_values} for v, n in shown]
        + [{"value": v, "count": 0, "selected": True} for v in missing],
        "truncated": len(rows) > FACET_LIMIT,
    }


def public(article: dict, words: Highlighter) -> dict:
    """The public form of a stored article, title marked with the query's words:
    a single-valued facet as a value (or null), a multi-valued one as a list."""
    title = article["title"]
    out = {"id": article["id"], "title": title, "title_highlights": words.spans(title)}
    out.update({f.name: (article[f.name] or [None])[0] for f in facets.FACETS if not f.multi_valued})
    published = article["published"]
    out["published"] = published.isoformat() if published else None
    out["url"] = article["url"]
    out["category"] = article["category"] or None
    out.update({f.name: article[f.name] for f in facets.FACETS if f.multi_valued})
    return out


def story_of(article: dict, copy_outlets: list[list[str]]) -> dict:
    """A hit's story: its id, how many other articles of it the result set
    holds, and their outlets (first in canonical order, each once)."""
    outlets = [values[0] for values in copy_outlets if values]
    return {"id": article["story"], "copies": len(copy_outlets), "outlets": list(dict.fromkeys(outlets))}


def _hit(article: dict, words: Highlighter, score: float | None) -> dict:
    snippet, highlights = make_snippet(article["body"], words)
    return {
        **public(article, words),
        "score": round(score, 4) if score is not None else None,
        "snippet": snippet,
        "highlights": highlights,
    }


def get_article(engine: Engine, article_id: str, q: str = "") -> dict | None:
    """The whole stored article with the query's words marked, or None."""
    snap = engine.snapshot()
    doc = snap.find(article_id)
    if doc is None:
        return None
    article = snap.article(doc)
    query = None
    if q.strip():
        try:
            query = parsed(engine, snap, q)
        except QueryError:
            pass
    words = highlighter(snap, query)
    body = article["body"]
    story_id, members = snap.story(doc)
    copies = [] if len(members) < 2 else snap.articles(members)
    return {
        **public(article, words),
        "body": body,
        "paragraphs": [list(span) for span in paragraph_spans(body)],
        "highlights": words.spans(body),
        "source": article["source"],
        "extra": article["extra"],
        "syndication": [{"kind": m.kind, "source": m.source, "text": m.text} for m in syndication.markers(body)],
        "story": {
            "id": story_id,
            "canonical": copies[0]["id"] if copies else article["id"],
            "copies": [{"id": c["id"], "title": c["title"], "outlet": (c["outlet"] or [None])[0],
                        "published": c["published"].isoformat() if c["published"] else None, "url": c["url"]}
                       for c in copies if c["id"] != article["id"]],
        },
    }


def stats(engine: Engine) -> dict:
    """Documents, index size, the articles whose text was repaired (per
    kind) and every facet value with its count."""
    snap = engine.snapshot()
    where, size = snap.location()
    return {
        "index": where,
        "documents": snap.documents,
        "size_bytes": size,
        "repaired": {kind: n for kind, n in snap.tables.repaired().items() if n},
        "facets": {
            name: [{"value": v, "count": n}
                   for v, n in by_count(snap.facet_totals(name))]
            for name in facets.names()
        },
    }
