"""Queries compared: attention over time, outlets and actors side by side,
and how many articles more than one query finds.

Each query brings its own filters (the same keywords as a search); all are
counted in one snapshot of the build, over common periods, so their lines
and shares are comparable.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from itertools import combinations

from searchapp.engine.base import Engine
from searchapp.errors import QueryError
from searchapp.search.insights import buckets_of, corpus_days, corpus_totals, per_bucket, share
from searchapp.search.request import Request
from searchapp.search.service import by_count, select

MIN_QUERIES, MAX_QUERIES = 2, 4
TOP_ACTORS = 10


def _within(counts: Counter[str], chosen: tuple[str, ...]) -> Counter[str]:
    """A facet's counts over the result set itself: facet counts ignore the
    facet's own selection, the result set does not."""
    return Counter({v: n for v, n in counts.items() if not chosen or v in chosen})


def compare(engine: Engine, queries: list[dict]) -> dict:
    """2–4 queries (each a dict of search keywords: q, outlet, actor, topic,
    date_from, date_to, require_actor, collapse, count) compared over the same
    periods. Stories are counted (a story once in each period and value it
    has) unless the first query's `count` is articles; the corpus is counted
    the same way, and the overlap both ways."""
    if not MIN_QUERIES <= len(queries) <= MAX_QUERIES:
        raise QueryError("compare_count", low=MIN_QUERIES, high=MAX_QUERIES, value=len(queries))
    requests = [Request.make(**q) for q in queries]
    count, stories = requests[0].count, requests[0].counts_stories
    snap = engine.snapshot()
    sels = [select(engine, replace(r, count=count), snap) for r in requests]
    counted = [sel.counted for sel in sels]
    days = [snap.days(rs)[0] for rs in counted]
    outlet_totals = corpus_totals(snap, "outlet", stories)
    every_day = [d for counts in days for d in counts]
    interval, periods = buckets_of(every_day) if every_day else (None, [])
    if interval and interval != "day":  # a story on two days of a week is one story of that week
        days = [snap.days(rs, None, interval)[0] for rs in counted]
    corpus = per_bucket(corpus_days(snap, None, stories, interval or "day"), interval, periods) if periods else []
    out = []
    for request, rs, counts in zip(requests, counted, days):
        selected = request.filters.selected
        line = per_bucket(counts, interval, periods) if periods else []
        outlets = _within(snap.facet_counts(rs, "outlet"), selected.get("outlet", ()))
        actors = _within(snap.facet_counts(rs, "actor"), selected.get("actor", ()))
        filters = request.filters
        out.append({
            "q": request.q,
            "filters": {name: list(values) for name, values in selected.items()},
            "all_actor": list(filters.required),
            "from": filters.date_from.isoformat() if filters.date_from else None,
            "to": filters.date_to.isoformat() if filters.date_to else None,
            "total": rs.total,
            "counts": line,
            "shares": [share(n, total) for n, total in zip(line, corpus)],
            "outlets": [{"value": v, "count": n, "share": share(n, outlet_totals.get(v, 0))}
                        for v, n in by_count(outlets.items())],
            "actors": [{"value": v, "count": n}
                       for v, n in by_count(actors.items())[:TOP_ACTORS]],
        })
    articles = [set(snap.docs(sel.rs)) for sel in sels]
    story_sets = [set(snap.story_keys(sel.rs)) for sel in sels]
    sets = story_sets if stories else articles
    return {
        "interval": interval,
        "count": count,
        "buckets": [{"start": s.isoformat(), "end": e.isoformat(), "corpus": n} for (s, e), n in zip(periods, corpus)],
        "queries": out,
        "overlap": {
            "articles": _found_more_than_once(articles),
            "stories": _found_more_than_once(story_sets),
            "pairs": [{"a": i, "b": j, "count": len(sets[i] & sets[j])} for i, j in combinations(range(len(sets)), 2)],
        },
    }


def _found_more_than_once(sets: list[set]) -> int:
    seen = Counter(x for found in sets for x in found)
    return sum(1 for n in seen.values() if n > 1)
