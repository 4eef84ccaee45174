"""Views over a whole result set: timeline, who appears with whom, similar
articles, and export.

Each works on the articles the current query and filters select (the same
`Filters` as the search), from per-build caches (days, actors per article), so
none walks stored documents except the export, which has a stated cap.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import combinations

from searchapp.engine.whoosh.columns import UNDATED
from searchapp.search.service import Filters, LiveIndex, QueryError, select, stored_article

MAX_SPAN_DAYS_FOR_DAYS = 62
MAX_SPAN_DAYS_FOR_WEEKS = 730
COOCCURRENCE_ACTORS = 12
EXPORT_CAP = 10_000
EXPORT_FIELDS = ("id", "title", "outlet", "published", "url", "category", "actor", "topic")


def _bucket_start(day: date, interval: str) -> date:
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: date, interval: str) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def _interval(first: date, last: date) -> str:
    span = (last - first).days
    if span <= MAX_SPAN_DAYS_FOR_DAYS:
        return "day"
    return "week" if span <= MAX_SPAN_DAYS_FOR_WEEKS else "month"


def timeline(index: LiveIndex, *, series_actors: list[str] | None = None, **filters) -> dict:
    """Article counts per day, week or month (chosen from the span) of the
    result set, with one count line per selected actor to compare attention."""
    f = Filters.make(**filters)
    actors = list(dict.fromkeys(series_actors if series_actors is not None else f.selected["actor"]))
    with index._lock:
        gen = index.generation()
        sel = select(index, gen, f)
        docs = sel.final
        ordinals = gen.columns.days[docs]
        dated = [(int(d), date.fromordinal(int(o))) for d, o in zip(docs, ordinals) if o != UNDATED]
        actor_docs = {a: set(gen.columns.facets["actor"].docs(a).tolist()) for a in actors}
    result = {"interval": None, "buckets": [], "total": len(docs), "undated": len(docs) - len(dated),
              "series": {a: [] for a in actors}}
    if not dated:
        return result
    first = min(day for _d, day in dated)
    last = max(day for _d, day in dated)
    interval = _interval(first, last)
    counts: Counter[date] = Counter()
    per_actor: dict[str, Counter[date]] = {a: Counter() for a in actors}
    for docnum, day in dated:
        start = _bucket_start(day, interval)
        counts[start] += 1
        for a in actors:
            if docnum in actor_docs[a]:
                per_actor[a][start] += 1
    start = _bucket_start(first, interval)
    while start <= last:
        end = _next(start, interval) - timedelta(days=1)
        result["buckets"].append({"start": start.isoformat(), "end": end.isoformat(), "count": counts[start]})
        for a in actors:
            result["series"][a].append(per_actor[a][start])
        start = _next(start, interval)
    result["interval"] = interval
    return result


def cooccurrence(index: LiveIndex, *, size: int = COOCCURRENCE_ACTORS, **filters) -> dict:
    """The actor pairs most often named in the same article of the result set,
    and a matrix over the most named actors (for a heat map)."""
    f = Filters.make(**filters)
    with index._lock:
        gen = index.generation()
        sel = select(index, gen, f)
        actor = gen.columns.facets["actor"]
        lists = [actor.values_of(d) for d in sel.final]
    single: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for names in lists:
        single.update(names)
        pairs.update(combinations(sorted(names), 2))
    top = [a for a, _n in single.most_common(size)]
    matrix = [[single[a] if a == b else pairs[tuple(sorted((a, b)))] for b in top] for a in top]
    return {
        "total": int(sel.final_mask.sum()),
        "actors": [{"value": a, "count": single[a]} for a in top],
        "matrix": matrix,
        "pairs": [{"a": a, "b": b, "count": n} for (a, b), n in pairs.most_common(size * 2)],
    }


def similar(index: LiveIndex, article_id: str, top: int = 5) -> list[dict] | None:
    """The articles most like this one by the key terms of its stemmed body."""
    with index._lock:
        gen = index.generation()
        found = stored_article(gen, article_id)
        if found is None:
            return None
        docnum, fields = found
        hits = gen.searcher.more_like(docnum, "body", text=gen.stemmer.terms(fields.get("body", "")), top=top,
                                      numterms=20)
        return [
            {"id": h["id"], "title": h.get("title") or "", "outlet": (h.get("outlet") or [None])[0],
             "published": h["published"].date().isoformat() if h.get("published") else None,
             "score": round(h.score, 3)}
            for h in hits
        ]


def _rows(index: LiveIndex, f: Filters, cap: int) -> Iterator[dict]:
    with index._lock:
        gen = index.generation()
        sel = select(index, gen, f)
        rows = []
        for docnum, _score in sel.ranked(gen, cap):
            fields = gen.searcher.stored_fields(docnum)
            published = fields.get("published")
            rows.append({
                "id": fields["id"],
                "title": fields.get("title") or "",
                "outlet": (fields.get("outlet") or [""])[0],
                "published": published.date().isoformat() if published else "",
                "url": fields.get("url") or "",
                "category": fields.get("category") or "",
                "actor": list(fields.get("actor") or []),
                "topic": list(fields.get("topic") or []),
            })
    yield from rows


def export(index: LiveIndex, fmt: str, *, cap: int = EXPORT_CAP, **filters) -> Iterator[str]:
    """The result set (ranked, at most `cap` articles) as CSV or JSON lines."""
    if fmt not in ("csv", "jsonl"):
        raise QueryError("bad_format", value=fmt)
    f = Filters.make(**filters)
    rows = _rows(index, f, cap)
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "actor": "; ".join(row["actor"]), "topic": "; ".join(row["topic"])})
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()
