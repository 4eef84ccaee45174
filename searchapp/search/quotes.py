"""Who said what: the quotes of a result set's articles, and who is quoted.

Quotes are extracted at index time (text.quotes, engine.document) and stored
with their article; the engine filters articles by speaker and counts the
articles quoting each speaker (`Filters.speakers`, `Snapshot.speaker_counts`).
This view reads the stored quotes of the result set's articles in the
search's order (relevance for a query, newest first for browsing), keeps
those whose text holds a word of the query (marked as the search marks it;
browsing keeps every quote) and said by a chosen speaker, and pages them.
Articles are read up to a stated cap, so a view over a whole corpus costs
what an export costs, not more.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice

from searchapp.engine.base import Doc, Engine, Snapshot
from searchapp.engine.document import SPEAKER, speaker_of
from searchapp.errors import QueryError
from searchapp.search.request import MAX_PER_PAGE, MAX_WINDOW, Request, as_int
from searchapp.search.service import Selected, facet_rows, highlighter, select

Found = tuple[Doc, dict, list[list[int]]]  # an article, one of its stored quotes, the query's words in it

QUOTE_ARTICLES = 2_000  # articles of a result set whose quotes are read (the first in the view's order)
BATCH = 200  # articles whose quotes are read at once
PER_PAGE = 20
ACTOR_QUOTES = 10  # the latest quotes on an actor's page
ANCHOR = "kutipan-{start}"  # the id of a quote's place on its article page


def anchor(start: int) -> str:
    """The fragment a quote's link lands on (the article page marks each quote with it)."""
    return ANCHOR.format(start=start)


def _ordered(sel: Selected, limit: int) -> list[Doc]:
    """The first `limit` listed articles: by relevance for a query, newest first when browsing."""
    limit = min(limit, sel.listed.total)
    if not limit:
        return []
    if sel.request.browse:
        return sel.snapshot.by_date(sel.listed, newest=True, limit=limit)
    return [doc for doc, _score in sel.ranked(limit)]


def _found(sel: Selected, docs: list[Doc]) -> Iterator[Found]:
    """The quotes of `docs` in order that the view keeps: said by a chosen
    speaker (when any is), holding a word of the query (when there is one)."""
    snap, request = sel.snapshot, sel.request
    chosen = set(request.filters.speakers)
    words = highlighter(snap, None if request.browse else sel.parsed)
    for start in range(0, len(docs), BATCH):
        batch = docs[start:start + BATCH]
        for doc, stored in zip(batch, snap.quotes(batch)):
            for quote in stored:
                if chosen and speaker_of(quote) not in chosen:
                    continue
                spans = words.spans(quote["text"])
                if request.browse or spans:
                    yield doc, quote, spans


def _shown(snap: Snapshot, found: list[Found]) -> list[dict]:
    """The public form of quotes, each with its article."""
    docs = list(dict.fromkeys(doc for doc, _q, _s in found))
    articles = dict(zip(docs, snap.articles(docs)))
    return [_quote(q, spans, articles[doc]) for doc, q, spans in found]


def quotes(engine: Engine, *, page: int | str = 1, per_page: int | str = PER_PAGE, speaker=None,
           cap: int = QUOTE_ARTICLES, **filters) -> dict:
    """The quotes of the articles a search selects (the search keywords, plus
    `speaker`: only articles quoting one of them, and only their quotes),
    paged; with the speaker facet: per speaker, the articles (stories unless
    `count` is articles) of the result set quoting them, every selection
    applied but the speaker's. Collapsed (the default), the quotes are those
    of each story's shown article. Raises QueryError on a bad value."""
    started = time.perf_counter()
    page = as_int(page, "page", 1, MAX_WINDOW)
    per_page = as_int(per_page, "per_page", 1, MAX_PER_PAGE)
    if page * per_page > MAX_WINDOW:
        raise QueryError("too_deep", limit=MAX_WINDOW)
    request = Request.make(speaker=speaker, **filters)
    sel = select(engine, request)
    snap = sel.snapshot
    docs = _ordered(sel, cap)
    found = list(_found(sel, docs))
    first = (page - 1) * per_page
    counts = snap.speaker_counts(sel.counted)
    return {
        "query": request.q,
        "speaker": list(request.filters.speakers),
        "collapse": request.collapse,
        "count": request.count,
        "total": len(found),
        "articles": sel.listed.total,
        "articles_read": len(docs),
        "capped": len(docs) < sel.listed.total,
        "page": page,
        "per_page": per_page,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
        "quotes": _shown(snap, found[first:first + per_page]),
        "speakers": facet_rows(snap, SPEAKER, counts, request.filters.speakers),
    }


def _quote(quote: dict, spans: list[list[int]], article: dict) -> dict:
    published = article["published"]
    return {
        "text": quote["text"],
        "highlights": spans,
        "kind": quote["kind"],
        "speaker": quote["speaker"],
        "name": quote.get("name") or quote["speaker"],
        "actor": quote["actor"],
        "cue": quote["cue"],
        "start": quote["start"],
        "end": quote["end"],
        "anchor": anchor(quote["start"]),
        "article": {"id": article["id"], "title": article["title"], "outlet": (article["outlet"] or [None])[0],
                    "published": published.isoformat() if published else None, "url": article["url"]},
    }


def latest_quotes(engine: Engine, name: str, top: int = ACTOR_QUOTES, snap: Snapshot | None = None) -> list[dict]:
    """An actor's latest `top` quotes: newest articles first (one per story),
    each article's in text order; read until there are enough."""
    sel = select(engine, Request.make(speaker=[name]), snap)
    return _shown(sel.snapshot, list(islice(_found(sel, _ordered(sel, QUOTE_ARTICLES)), top)))


def article_quotes(engine: Engine, article_id: str) -> list[dict] | None:
    """An article's stored quotes, each with its anchor, or None for an unknown id."""
    snap = engine.snapshot()
    doc = snap.find(article_id)
    if doc is None:
        return None
    return [{**q, "anchor": anchor(q["start"])} for q in snap.quotes([doc])[0]]
