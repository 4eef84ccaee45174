"""Views over a whole result set: timeline, who appears with whom, similar
articles, and export.

Each works on the articles the current query and filters select (the same
`Request` as the search) and asks the engine for counts (days, actors per
article), so none walks stored articles except the export, which has a
stated cap (a sample reads the id of every article of the result set, to draw
from all of it).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import combinations

from searchapp import facets
from searchapp.engine import plan
from searchapp.engine.base import Doc, Engine, Filters, Snapshot, TooSlow
from searchapp.errors import QueryError
from searchapp.search.request import Request, as_int
from searchapp.search.service import Selected, by_count, highlighter, public, select, too_slow

MAX_SPAN_DAYS_FOR_DAYS = 62
MAX_SPAN_DAYS_FOR_WEEKS = 730
COOCCURRENCE_ACTORS = 12
EXPORT_CAP = 10_000
EXPORT_BATCH = 500  # articles fetched at once while an export streams
MAX_SEED = 2**32 - 1  # a sample's seed: 0 to this, as most statistics tools take


def export_fields() -> tuple[str, ...]:
    """The columns of an export: an article's public fields (single-valued
    facets after the title, lists last), without highlights, and its story."""
    return ("id", "title", *(f.name for f in facets.FACETS if not f.multi_valued), "published", "url", "category",
            *(f.name for f in facets.FACETS if f.multi_valued), "story")


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


def share(count: int, corpus: int) -> float:
    """What part of the corpus's articles the count is (0 for an empty corpus)."""
    return round(count / corpus, 6) if corpus else 0.0


def _everything(snap: Snapshot, stories: bool):
    rs = snap.select(plan.Every(), Filters(), math.inf)
    return snap.collapse(rs) if stories else rs


def corpus_days(snap: Snapshot, facet: tuple[str, str] | None = None, stories: bool = False,
                interval: str = "day") -> Counter[date]:
    """Every article (or story) of the build per publication day or period
    (of one facet value), remembered per snapshot: the denominators of
    attention as a share."""
    return snap.once(f"corpus-days:{facet}:{stories}:{interval}",
                     lambda: snap.days(_everything(snap, stories), facet, interval)[0])


def corpus_size(snap: Snapshot, stories: bool = False) -> int:
    """Every article (or story) of the build: the denominator of a share of all."""
    return snap.once(f"corpus-size:{stories}", lambda: _everything(snap, True).total) if stories else snap.documents


def corpus_totals(snap: Snapshot, name: str, stories: bool = False) -> dict[str, int]:
    """Every article (or story) of the build per value of a facet."""
    if not stories:
        return dict(snap.facet_totals(name))
    return snap.once(f"corpus-totals:{name}", lambda: dict(snap.facet_counts(_everything(snap, True), name)))


def buckets_of(days: list[date], interval: str | None = None) -> tuple[str, list[tuple[date, date]]]:
    """Consecutive periods from the first to the last day (the interval chosen
    from the span unless given), empty ones included."""
    first, last = min(days), max(days)
    interval = interval or _interval(first, last)
    out = []
    start = _bucket_start(first, interval)
    while start <= last:
        out.append((start, _next(start, interval) - timedelta(days=1)))
        start = _next(start, interval)
    return interval, out


def per_bucket(counts: Counter[date], interval: str, periods: list[tuple[date, date]]) -> list[int]:
    """Day counts summed into the periods."""
    summed: Counter[date] = Counter()
    for day, n in counts.items():
        summed[_bucket_start(day, interval)] += n
    return [summed[start] for start, _end in periods]


def timeline(engine: Engine, *, series_actors: list[str] | None = None, **filters) -> dict:
    """Counts per day, week or month (chosen from the span) of the result
    set, each with the corpus's count of that period and the share that
    matches; one line per selected actor to compare attention; and per outlet
    of the result set, its count and the share of its own output. Stories
    are counted (a story once in each period it ran in) unless `count` is
    articles; the corpus is then counted the same way."""
    request = Request.make(**filters)
    actors = list(dict.fromkeys(series_actors if series_actors is not None else request.filters.selected["actor"]))
    sel = select(engine, request)
    snap, rs, stories = sel.snapshot, sel.counted, request.counts_stories
    counts, undated = snap.days(rs)
    result = {"interval": None, "count": request.count, "buckets": [], "total": rs.total, "undated": undated,
              "series": {a: [] for a in actors}, "series_share": {a: [] for a in actors}, "outlets": []}
    if not counts:
        return result
    interval, periods = buckets_of(list(counts))
    if interval != "day":  # a story on two days of a week is one story of that week
        counts = snap.days(rs, None, interval)[0]
    corpus = per_bucket(corpus_days(snap, None, stories, interval), interval, periods)
    for (start, end), n, total in zip(periods, per_bucket(counts, interval, periods), corpus):
        result["buckets"].append({"start": start.isoformat(), "end": end.isoformat(), "count": n, "corpus": total,
                                  "share": share(n, total)})
    for a in actors:
        line = per_bucket(snap.days(rs, ("actor", a), interval)[0], interval, periods)
        result["series"][a] = line
        result["series_share"][a] = [share(n, total) for n, total in zip(line, corpus)]
    outlet_counts = snap.facet_counts(rs, "outlet")
    chosen = request.filters.selected.get("outlet")
    totals = corpus_totals(snap, "outlet", stories)
    for outlet, n in by_count(outlet_counts.items()):
        if chosen and outlet not in chosen:
            continue  # the outlet facet counts ignore the outlet selection; the result set does not
        line = per_bucket(snap.days(rs, ("outlet", outlet), interval)[0], interval, periods)
        own = per_bucket(corpus_days(snap, ("outlet", outlet), stories, interval), interval, periods)
        result["outlets"].append({"value": outlet, "count": n, "corpus": totals.get(outlet, 0),
                                  "share": share(n, totals.get(outlet, 0)), "counts": line,
                                  "shares": [share(c, t) for c, t in zip(line, own)]})
    result["interval"] = interval
    return result


def cooccurrence(engine: Engine, *, size: int = COOCCURRENCE_ACTORS, **filters) -> dict:
    """The actor pairs most often named in the same article of the result set,
    and a matrix over the most named actors (for a heat map). Counting
    stories (unless `count` is articles), a pair counts the stories with an
    article naming both, as the search for both (`all_actor`) counts them."""
    sel = select(engine, Request.make(**filters))
    snap = sel.snapshot
    lists = snap.value_lists(sel.rs, "actor")
    keys = snap.story_keys(sel.rs) if sel.request.counts_stories else range(len(lists))
    named: dict[str, set] = {}
    together: dict[tuple[str, str], set] = {}
    for key, names in zip(keys, lists):
        for name in names:
            named.setdefault(name, set()).add(key)
        for pair in combinations(sorted(names), 2):
            together.setdefault(pair, set()).add(key)
    single = Counter({name: len(k) for name, k in named.items()})
    pairs = Counter({pair: len(k) for pair, k in together.items()})
    top = [a for a, _n in single.most_common(size)]
    matrix = [[single[a] if a == b else pairs[tuple(sorted((a, b)))] for b in top] for a in top]
    return {
        "total": sel.counted.total,
        "count": sel.request.count,
        "actors": [{"value": a, "count": single[a]} for a in top],
        "matrix": matrix,
        "pairs": [{"a": a, "b": b, "count": n} for (a, b), n in pairs.most_common(size * 2)],
    }


def similar(engine: Engine, article_id: str, top: int = 5) -> list[dict] | None:
    """The articles most like this one by the key terms of its stemmed body
    (its own copies are not among them: the article page lists those)."""
    snap = engine.snapshot()
    doc = snap.find(article_id)
    if doc is None:
        return None
    body = snap.article(doc)["body"]
    out = []
    _story, copies = snap.story(doc)  # copies are listed as copies, not as similar articles
    copy_ids = set(snap.ids(copies))
    for other, score in snap.similar(doc, snap.tables.stemmer.terms(body), top + len(copies)):
        article = snap.article(other)
        if article["id"] in copy_ids or len(out) == top:
            continue
        out.append({"id": article["id"], "title": article["title"], "outlet": (article["outlet"] or [None])[0],
                    "published": article["published"].isoformat() if article["published"] else None,
                    "score": round(score, 3)})
    return out


def _sampled(sel: Selected, n: int, seed: int) -> list[Doc]:
    """`n` articles (one per story when counting stories) drawn uniformly from
    the whole result set, in id order. The draw is made from the ids in
    order, so it depends on the seed and the articles only, never on the
    order the engine stores them in."""
    docs = sel.snapshot.docs(sel.counted)
    by_id = sorted(zip(sel.snapshot.ids(docs), docs))
    return [doc for _id, doc in sorted(random.Random(seed).sample(by_id, min(n, len(by_id))))]


def _rows(engine: Engine, request: Request, cap: int, sample: tuple[int, int] | None) -> Iterator[dict]:
    sel = select(engine, request)
    no_words = highlighter(sel.snapshot, None)
    if sample:
        docs = _sampled(sel, *sample)
    else:
        try:
            docs = [doc for doc, _score in sel.snapshot.ranked(sel.counted, cap, sel.deadline)]
        except TooSlow:
            raise too_slow() from None
    for start in range(0, len(docs), EXPORT_BATCH):
        for article in sel.snapshot.articles(docs[start:start + EXPORT_BATCH]):
            row = {name: value if value is not None else "" for name, value in public(article, no_words).items()}
            row["story"] = article["story"]
            yield {field: row[field] for field in export_fields()}


def export(engine: Engine, fmt: str, *, cap: int = EXPORT_CAP, sample: int | str | None = None,
           seed: int | str = 0, **filters) -> Iterator[str]:
    """The result set (ranked, at most `cap` articles; one per story, with
    its story id, unless `count` is articles) as CSV or JSON lines.

    With `sample` (1 to `cap`), a reproducible sample for content coding
    instead: that many articles drawn at random from the whole result set (all
    of it if smaller), the same for the same `seed` and index content, in id order.
    """
    if fmt not in ("csv", "jsonl"):
        raise QueryError("bad_format", value=fmt)
    seed = as_int(seed, "seed", 0, MAX_SEED)
    draw = (as_int(sample, "sample", 1, cap), seed) if sample is not None else None
    rows = _rows(engine, Request.make(**filters), cap, draw)
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
