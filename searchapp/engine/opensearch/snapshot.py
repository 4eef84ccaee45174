"""One OpenSearch build, read through its own index name (not the alias), so
every answer of a request comes from one build even while a rebuild moves
the alias: the previous build is kept, and searches running on it finish.

A selection is one request: the total, every facet's counts (each facet
counted with every selection but its own: `post_filter` plus one filter
aggregation per facet) and the first page by score, with global term
statistics (`dfs_query_then_fetch`, so shards rank alike). Ranked and dated pages carry their articles' source,
so showing a hit costs no second request; whole result sets are read with a
point in time and `search_after`.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from threading import Lock

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionTimeout, NotFoundError

from searchapp import facets
from searchapp.engine import plan
from searchapp.engine.base import Filters, IndexUnreadable, ResultSet, Snapshot, TooSlow
from searchapp.engine.opensearch import translate
from searchapp.engine.opensearch.cluster import Cluster, reachable
from searchapp.engine.opensearch.mapping import (ANALYZER, TERM_FIELDS, VOCABULARY_FIELDS, article, doc_id,
                                                 source_fields, vocabulary_id)
from searchapp.engine.tables import BuildTables

FACET_VALUES = 10_000  # values a facet count returns (a terms aggregation's size)
PAGE = 1_000  # hits per request when reading a whole result set
VOCABULARY_CACHE = 50_000  # term statistics a snapshot remembers
KEEP_ALIVE = "2m"
FIRST_PAGE = 10  # hits a selection fetches with its counts: a first page costs one request
BY_SCORE = {"sort": [{"_score": "desc"}, {"order": "asc"}], "track_scores": True}  # ties in index order


@dataclass(frozen=True)
class Hit:
    """An article handle: its id, and its stored source when a page fetched it."""

    id: str
    source: dict | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass
class Selection(ResultSet):
    query: dict  # the text query, dates and required actors: what every facet counts in
    chosen: dict[str, dict]  # per facet with a selection: its clause
    total: int
    counts: dict[str, Counter[str]]
    top: list[tuple[Hit, float]]  # the first page by score, fetched with the counts

    @property
    def final(self) -> dict:
        """What the user sees: the query and every facet selection."""
        if not self.chosen:
            return self.query
        return {"bool": {"must": [self.query], "filter": list(self.chosen.values())}}


class OpenSearchSnapshot(Snapshot):
    def __init__(self, client: OpenSearch, url: str, cluster: Cluster, key: tuple[str, int], tables: BuildTables):
        super().__init__()
        self.client = client
        self.url = url
        self.key = key
        self.build = key[0]
        self.vocabulary = Cluster.vocabulary(self.build)
        self.tables = tables
        self.fields = frozenset((*TERM_FIELDS, *facets.names(), "id", "published", "category"))
        self._stats: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._stats_lock = Lock()

    def _search(self, body: dict, deadline: float = math.inf, index: str | None = None, **params) -> dict:
        """One search of the build; past the deadline, TooSlow."""
        kwargs = {}
        if deadline != math.inf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TooSlow
            body = {**body, "timeout": f"{max(1, int(left * 1000))}ms"}
            kwargs["request_timeout"] = left + 5
        with reachable(self.url):
            try:
                found = self.client.search(index=index or self.build, body=body, params=params or None, **kwargs)
            except ConnectionTimeout:
                raise TooSlow from None
            except NotFoundError:
                raise IndexUnreadable(f"build {self.build} is gone (replaced twice while reading)") from None
        if found.get("timed_out"):
            raise TooSlow
        return found

    def _scan(self, query: dict, sort: list, source: list[str] | bool, index: str | None = None,
              **params) -> Iterator[dict]:
        """Every hit of a query in `sort` order (of the build, or of `index`), read with a point in time."""
        with reachable(self.url):
            pit = self.client.create_pit(index=index or self.build, params={"keep_alive": KEEP_ALIVE})["pit_id"]
            try:
                after = None
                while True:
                    body = {"query": query, "size": PAGE, "sort": sort, "_source": source,
                            "pit": {"id": pit, "keep_alive": KEEP_ALIVE}, "track_total_hits": False,
                            "track_scores": True}
                    if after:
                        body["search_after"] = after
                    hits = self.client.search(body=body, params=params or None)["hits"]["hits"]
                    yield from hits
                    if len(hits) < PAGE:
                        return
                    after = hits[-1]["sort"]
            finally:
                self.client.delete_pit(body={"pit_id": [pit]}, ignore=404)

    # --- the indexed words ---------------------------------------------------

    def _term_stats(self, field: str, text: str) -> tuple[int, int]:
        """(documents, occurrences) of a term; a miss fetches the word's
        statistics in every field at once (the parser and spelling ask for
        several fields of each word)."""
        key = (field, text)
        with self._stats_lock:
            if key in self._stats:
                return self._stats[key]
        keys = [key, *((f, text) for f in VOCABULARY_FIELDS if f != field)]
        with reachable(self.url):
            found = self.client.mget(index=self.vocabulary, body={"ids": [vocabulary_id(*k) for k in keys]})["docs"]
        with self._stats_lock:
            for k, d in zip(keys, found):
                self._stats[k] = (d["_source"]["df"], d["_source"]["cf"]) if d.get("found") else (0, 0)
            while len(self._stats) > VOCABULARY_CACHE:
                self._stats.popitem(last=False)
            return self._stats.get(key, (0, 0))

    def frequency(self, field: str, text: str) -> int:
        return self._term_stats(field, text)[1]

    def doc_frequency(self, field: str, text: str) -> int:
        return self._term_stats(field, text)[0]

    def _vocabulary_terms(self, query: dict) -> list[str]:
        hits = self._scan(query, [{"term": "asc"}], ["term"], index=self.vocabulary)
        return [h["_source"]["term"] for h in hits]

    def words(self, field: str) -> Iterable[str]:
        return self.once(f"words:{field}", lambda: self._vocabulary_terms({"term": {"field": field}}))

    def expand_prefix(self, field: str, prefix: str) -> list[str]:
        return self._vocabulary_terms({"bool": {"filter": [{"term": {"field": field}},
                                                           {"prefix": {"term": prefix}}]}})

    # --- result sets -----------------------------------------------------------

    def select(self, query: plan.Node, filters: Filters, deadline: float) -> Selection:
        text = translate.query(query)
        narrowing = translate.filter_clauses(filters)
        base = {"bool": {"must": [text], "filter": narrowing}} if narrowing else text
        chosen = translate.chosen(filters)
        aggs = {name: {"filter": translate.all_of([c for other, c in chosen.items() if other != name]),
                       "aggs": {"v": {"terms": {"field": name, "size": FACET_VALUES}}}}
                for name in facets.names()}
        first = 0 if isinstance(query, plan.Every) else FIRST_PAGE  # browsing lists by date
        body = {"size": first, "track_total_hits": True, "query": base, "aggs": aggs, **BY_SCORE,
                "_source": source_fields()}
        if chosen:
            body["post_filter"] = translate.all_of(list(chosen.values()))
        found = self._search(body, deadline, search_type="dfs_query_then_fetch")
        counts = {name: Counter({b["key"]: b["doc_count"] for b in found["aggregations"][name]["v"]["buckets"]})
                  for name in aggs}
        top = [(Hit(h["_source"]["id"], h["_source"]), float(h["_score"] or 0.0)) for h in found["hits"]["hits"]]
        return Selection(base, chosen, int(found["hits"]["total"]["value"]), counts, top)

    def docs(self, rs: Selection) -> list[Hit]:
        return [Hit(h["_source"]["id"]) for h in self._scan(rs.final, [{"order": "asc"}], ["id"])]

    def facet_counts(self, rs: Selection, name: str) -> Counter[str]:
        return Counter(rs.counts[name])

    def has_value(self, name: str, value: str) -> bool:
        return value in self.once(f"values:{name}", lambda: dict(self.facet_totals(name)))

    def _hits(self, body: dict, limit: int, deadline: float, **params) -> list[tuple[Hit, float]]:
        out = []
        if limit <= PAGE:
            found = self._search({**body, "size": limit, "_source": source_fields(), "track_total_hits": False},
                                 deadline, **params)
            hits = found["hits"]["hits"]
        else:
            hits = self._scan(body["query"], body["sort"], source_fields(), **params)
        for h in hits:
            out.append((Hit(h["_source"]["id"], h["_source"]), float(h["_score"] or 0.0)))
            if len(out) == limit:
                break
        return out

    def ranked(self, rs: Selection, limit: int, deadline: float) -> list[tuple[Hit, float]]:
        if limit <= len(rs.top) or len(rs.top) == rs.total:
            return rs.top[:limit]
        return self._hits({"query": rs.final, **BY_SCORE}, limit, deadline, search_type="dfs_query_then_fetch")

    def by_date(self, rs: Selection, newest: bool, limit: int) -> list[Hit]:
        sort = [{"published": {"order": "desc" if newest else "asc", "missing": "_last"}}, {"order": "asc"}]
        return [hit for hit, _score in self._hits({"query": rs.final, "sort": sort}, limit, math.inf)]

    def days(self, rs: Selection, facet: tuple[str, str] | None = None) -> tuple[Counter[date], int]:
        query = rs.final
        if facet is not None:
            query = {"bool": {"must": [query], "filter": [{"term": {facet[0]: facet[1]}}]}}
        body = {"size": 0, "query": query, "track_total_hits": False, "aggs": {
            "days": {"date_histogram": {"field": "published", "calendar_interval": "day", "min_doc_count": 1,
                                        "format": "yyyy-MM-dd"}},
            "undated": {"missing": {"field": "published"}}}}
        found = self._search(body)["aggregations"]
        days = Counter({date.fromisoformat(b["key_as_string"]): b["doc_count"] for b in found["days"]["buckets"]})
        return days, int(found["undated"]["doc_count"])

    def value_lists(self, rs: Selection, name: str) -> list[list[str]]:
        return [list(h["_source"].get(name) or []) for h in self._scan(rs.final, [{"order": "asc"}], [name])]

    def similar(self, doc: Hit, terms: str, top: int) -> list[tuple[Hit, float]]:
        like = {"more_like_this": {"fields": ["body"], "like": terms, "analyzer": ANALYZER, "min_term_freq": 1,
                                   "min_doc_freq": 2, "max_query_terms": 20}}
        body = {"query": {"bool": {"must": [like], "must_not": [{"ids": {"values": [doc_id(doc.id)]}}]}},
                **BY_SCORE}
        return self._hits(body, top, math.inf)

    # --- articles and the build ------------------------------------------------

    def find(self, article_id: str) -> Hit | None:
        with reachable(self.url):
            found = self.client.get(index=self.build, id=doc_id(article_id), ignore=404,
                                    params={"_source": ",".join(source_fields())})
        return Hit(article_id, found["_source"]) if found.get("found") else None

    def article(self, doc: Hit) -> dict:
        if doc.source is None:
            return self.articles([doc])[0]
        return article(doc.source)

    def articles(self, docs: list[Hit]) -> list[dict]:
        missing = [d.id for d in docs if d.source is None]
        fetched = {}
        with reachable(self.url):
            for start in range(0, len(missing), PAGE):
                ids = [doc_id(i) for i in missing[start:start + PAGE]]
                found = self.client.mget(index=self.build, body={"ids": ids},
                                         params={"_source": ",".join(source_fields())})
                fetched.update({d["_source"]["id"]: d["_source"] for d in found["docs"] if d.get("found")})
        return [article(d.source if d.source is not None else fetched[d.id]) for d in docs]

    def ids(self, docs: list[Hit]) -> list[str]:
        return [d.id for d in docs]

    @property
    def documents(self) -> int:
        def count() -> int:
            with reachable(self.url):
                return int(self.client.count(index=self.build)["count"])
        return self.once("documents", count)

    def facet_totals(self, name: str) -> list[tuple[str, int]]:
        def totals() -> list[tuple[str, int]]:
            body = {"size": 0, "track_total_hits": False,
                    "aggs": {"v": {"terms": {"field": name, "size": FACET_VALUES}}}}
            return [(b["key"], b["doc_count"]) for b in self._search(body)["aggregations"]["v"]["buckets"]]
        return self.once(f"totals:{name}", totals)

    def location(self) -> tuple[str, int]:
        with reachable(self.url):
            stats = self.client.indices.stats(index=self.build, metric="store")
        return f"{self.url} {self.build}", int(stats["_all"]["primaries"]["store"]["size_in_bytes"])
