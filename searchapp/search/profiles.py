"""Actor pages: who an actor is in the corpus, and the index of actors.

A profile counts the stories (or, with count=articles, the articles) that
name the actor (through every alias the gazetteer knows): attention over time
as a share of all, the outlets that name it most as a share of their own
output, the actors named with it, its topics, its latest and most relevant
stories, and its latest quotes (the articles quoting it, search.quotes).
"""

from __future__ import annotations

from searchapp.engine.base import Engine
from searchapp.errors import QueryError
from searchapp.search import insights
from searchapp.search.quotes import latest_quotes
from searchapp.search.request import Request
from searchapp.search.service import by_count, highlighter, public, select

TOP = 10
ACTOR_SORTS = ("mentions", "name")


def actor_profile(engine: Engine, name: str, top: int = TOP, count: str | None = None) -> dict | None:
    """The profile of an actor named in the build, or None; `count` as a search's."""
    snap = engine.snapshot()
    actor = snap.tables.gazetteer.actor(name)
    if actor is None and not snap.has_value("actor", name):
        return None
    naming = Request.make(require_actor=[name], count=count)  # counted like the all_actor search
    stories = naming.counts_stories
    sel = select(engine, naming, snap)
    rs = sel.counted
    totals = insights.corpus_totals(snap, "outlet", stories)
    outlets = snap.facet_counts(rs, "outlet")
    co_actors = snap.facet_counts(rs, "actor")
    co_actors.pop(name, None)
    topics = snap.facet_counts(rs, "topic")
    no_words = highlighter(snap, None)
    relevant = select(engine, Request.make(q=name, require_actor=[name]), snap)

    def rows(counts, limit=top):
        return [{"value": v, "count": n} for v, n in by_count(counts.items())[:limit]]

    return {
        "name": name,
        "type": actor.type if actor else None,
        "aliases": list({a.casefold(): a for a in actor.aliases if a.casefold() != name.casefold()}.values())
        if actor else [],
        "count": naming.count,
        "total": rs.total,
        "share": insights.share(rs.total, insights.corpus_size(snap, stories)),
        "timeline": insights.timeline(engine, require_actor=[name], series_actors=[], count=naming.count),
        "outlets": sorted(({"value": v, "count": n, "corpus": totals.get(v, 0), "share": insights.share(n, totals.get(v, 0))}
                           for v, n in outlets.items()), key=lambda r: (-r["share"], -r["count"], r["value"].lower())),
        "co_actors": rows(co_actors, 2 * top),
        "topics": rows(topics),
        "latest": [public(snap.article(d), no_words) for d in snap.by_date(sel.listed, newest=True, limit=top)],
        "relevant": [public(snap.article(d), no_words) for d, _score in relevant.ranked(top)],
        "quotes": latest_quotes(engine, name, top, snap),
    }


def actor_index(engine: Engine, q: str = "", sort: str = "mentions") -> dict:
    """The actors the build's articles name, with their counts; `q` keeps
    those whose name or an alias contains it."""
    if sort not in ACTOR_SORTS:
        raise QueryError("bad_sort", choices=", ".join(ACTOR_SORTS), value=sort)
    snap = engine.snapshot()
    gazetteer = snap.tables.gazetteer
    needle = q.strip().casefold()
    rows = []
    for name, count in snap.facet_totals("actor"):
        actor = gazetteer.actor(name)
        aliases = actor.aliases if actor else ()
        if needle and not any(needle in text.casefold() for text in (name, *aliases)):
            continue
        rows.append({"name": name, "type": actor.type if actor else None, "count": count})
    rows.sort(key=(lambda r: (-r["count"], r["name"].lower())) if sort == "mentions" else (lambda r: r["name"].lower()))
    return {"query": q, "sort": sort, "total": len(rows), "actors": rows}
