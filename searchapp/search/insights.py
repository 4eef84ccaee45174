"""Views over a whole result set: timeline, who appears with whom, similar
articles, and export.

Each works on the articles the current query and filters select (the same
`Request` as the search) and asks the engine for counts (days, actors per
article), so none walks stored articles except the export, which has a
stated cap.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import combinations

from searchapp import facets
from searchapp.engine.base import Engine
from searchapp.errors import QueryError
from searchapp.search.highlight import Highlighter, Wanted
from searchapp.search.request import Request
from searchapp.search.service import public, select

MAX_SPAN_DAYS_FOR_DAYS = 62
MAX_SPAN_DAYS_FOR_WEEKS = 730
COOCCURRENCE_ACTORS = 12
EXPORT_CAP = 10_000


def export_fields() -> tuple[str, ...]:
    """The columns of an export: an article's public fields (single-valued
    facets after the title, lists last), without highlights."""
    return ("id", "title", *(f.name for f in facets.FACETS if not f.multi_valued), "published", "url", "category",
            *(f.name for f in facets.FACETS if f.multi_valued))


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


def timeline(engine: Engine, *, series_actors: list[str] | None = None, **filters) -> dict:
    """Article counts per day, week or month (chosen from the span) of the
    result set, with one count line per selected actor to compare attention."""
    request = Request.make(**filters)
    actors = list(dict.fromkeys(series_actors if series_actors is not None else request.filters.selected["actor"]))
    sel = select(engine, request)
    counts, undated = sel.snapshot.days(sel.rs)
    per_actor = {a: sel.snapshot.days(sel.rs, ("actor", a))[0] for a in actors}
    total = sel.rs.total
    result = {"interval": None, "buckets": [], "total": total, "undated": undated,
              "series": {a: [] for a in actors}}
    if not counts:
        return result
    first, last = min(counts), max(counts)
    interval = _interval(first, last)
    buckets: Counter[date] = Counter()
    for day, n in counts.items():
        buckets[_bucket_start(day, interval)] += n
    series = {a: Counter() for a in actors}
    for a in actors:
        for day, n in per_actor[a].items():
            series[a][_bucket_start(day, interval)] += n
    start = _bucket_start(first, interval)
    while start <= last:
        end = _next(start, interval) - timedelta(days=1)
        result["buckets"].append({"start": start.isoformat(), "end": end.isoformat(), "count": buckets[start]})
        for a in actors:
            result["series"][a].append(series[a][start])
        start = _next(start, interval)
    result["interval"] = interval
    return result


def cooccurrence(engine: Engine, *, size: int = COOCCURRENCE_ACTORS, **filters) -> dict:
    """The actor pairs most often named in the same article of the result set,
    and a matrix over the most named actors (for a heat map)."""
    sel = select(engine, Request.make(**filters))
    lists = sel.snapshot.value_lists(sel.rs, "actor")
    single: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for names in lists:
        single.update(names)
        pairs.update(combinations(sorted(names), 2))
    top = [a for a, _n in single.most_common(size)]
    matrix = [[single[a] if a == b else pairs[tuple(sorted((a, b)))] for b in top] for a in top]
    return {
        "total": sel.rs.total,
        "actors": [{"value": a, "count": single[a]} for a in top],
        "matrix": matrix,
        "pairs": [{"a": a, "b": b, "count": n} for (a, b), n in pairs.most_common(size * 2)],
    }


def similar(engine: Engine, article_id: str, top: int = 5) -> list[dict] | None:
    """The articles most like this one by the key terms of its stemmed body."""
    snap = engine.snapshot()
    doc = snap.find(article_id)
    if doc is None:
        return None
    body = snap.article(doc)["body"]
    out = []
    for other, score in snap.similar(doc, snap.tables.stemmer.terms(body), top):
        article = snap.article(other)
        out.append({"id": article["id"], "title": article["title"], "outlet": (article["outlet"] or [None])[0],
                    "published": article["published"].isoformat() if article["published"] else None,
                    "score": round(score, 3)})
    return out


def _rows(engine: Engine, request: Request, cap: int) -> Iterator[dict]:
    sel = select(engine, request)
    no_words = Highlighter(Wanted(frozenset()), stemmer=sel.snapshot.tables.stemmer)
    for doc, _score in sel.ranked(cap):
        article = sel.snapshot.article(doc)
        row = {name: value if value is not None else "" for name, value in public(article, no_words).items()}
        yield {field: row[field] for field in export_fields()}


def export(engine: Engine, fmt: str, *, cap: int = EXPORT_CAP, **filters) -> Iterator[str]:
    """The result set (ranked, at most `cap` articles) as CSV or JSON lines."""
    if fmt not in ("csv", "jsonl"):
        raise QueryError("bad_format", value=fmt)
    rows = _rows(engine, Request.make(**filters), cap)
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=export_fields())
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()
