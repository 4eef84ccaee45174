"""One OpenSearch build, read through its own index name (not the alias), so
every answer of a request comes from one build even while a rebuild moves
the alias: the previous build is kept, and searches running on it finish.

A selection is one request: the total, every facet's counts (each facet
counted with every selection but its own: `post_filter` plus one filter
aggregation per facet) and the first page by score, with global term
statistics (`dfs_query_then_fetch`, so shards rank alike). Ranked and dated pages carry their articles' source,
so showing a hit costs no second request; whole result sets are read with a
point in time and `search_after`.

Stories: every article holds its story id (`story`, its own id when alone),
place (`canon`) and whether the story has copies (`copied`). The same
request counts stories too: an article alone is a story, so the stories of
a set (or of a facet value, or a day) are its articles less those with
copies plus their distinct stories (a `cardinality` of `story`, exact below
its precision threshold, over the few articles with copies only: counting
every story of every value would hold a counter of up to 256 kB per value).
Its first page is collapsed on `story`: stories by their best-scoring
article, with its source. A story alone is its own shown article, and the
page of stories is then also the page of articles; the articles of the
page's stories with copies are read in one more request (shown articles,
copies, and the articles' page), only when the page has such a story.
(Collapse's inner hits would bring them in the same request, but cost
every search a second round of searches, one per story: about three times
the request's time on the 3-node dev cluster.)
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from threading import Lock

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionTimeout, NotFoundError, TransportError

from searchapp import facets
from searchapp.engine import plan
from searchapp.engine.base import Filters, IndexUnreadable, ResultSet, Snapshot, TooSlow
from searchapp.engine.document import QUOTES, SPEAKER
from searchapp.engine.opensearch import translate
from searchapp.engine.opensearch import cluster as clusters
from searchapp.engine.opensearch.cluster import Cluster, complete, reachable
from searchapp.engine.opensearch.mapping import (ANALYZER, TERM_FIELDS, VOCABULARY_FIELDS, article, doc_id,
                                                 source_fields, vocabulary_id)
from searchapp.engine.tables import BuildTables

FACET_VALUES = 10_000  # values a facet count returns (a terms aggregation's size)
PAGE = 1_000  # hits per request when reading a whole result set
VOCABULARY_CACHE = 50_000  # term statistics a snapshot remembers
KEEP_ALIVE = "2m"
FIRST_PAGE = 10  # hits a selection fetches with its counts: a first page costs one request
BY_SCORE = {"sort": [{"_score": "desc"}, {"order": "asc"}], "track_scores": True}  # ties in index order
CANONICAL = [{"canon": "asc"}, {"order": "asc"}]  # a story's articles, its first (shown) article first
COPIED = {"term": {"copied": True}}  # the articles of stories with copies
STORIES = {"cardinality": {"field": "story", "precision_threshold": 40_000}}  # a set's stories with copies
BUCKET_STORIES = {"cardinality": {"field": "story", "precision_threshold": 1_000}}  # a value's or a day's
STORY_TOTAL = "stories~"  # the aggregation counting the selection's stories (beside one per facet)
LISTED_PAGE = 100  # stories a collapsed list brings with their sources and their copies' articles
MAX_WINDOW = 10_000  # OpenSearch's max_result_window: a longer collapsed list is read whole
INTERVALS = {"day": "day", "week": "week", "month": "month"}  # a calendar week starts on Monday, keyed by it
NODE_RETRIES = 2  # times a search a leaving node failed is asked again
NODE_LEFT = ("node_not_connected_exception", "node_disconnected_exception", "node_closed_exception",
             "connect_transport_exception")


@dataclass(frozen=True)
class Hit:
    """An article handle: its id, and its stored source when a page fetched it."""

    id: str
    source: dict | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass
class FirstPage:
    """The first stories by score, as the selection's request brought them
    (shared by the selection collapsed and not)."""

    heads: list[tuple[Hit, float, int]]  # each story's best-scoring article (with source), score, order
    whole: bool  # every story of the selection is on it
    stories: list[tuple[Hit, float]] | None = None  # as their shown articles, once resolved
    articles: list[tuple[Hit, float]] | None = None  # the first articles by score, once resolved


@dataclass
class Selection(ResultSet):
    query: dict  # the text query, dates, required actors and story: what every facet counts in
    chosen: dict[str, dict]  # per facet with a selection (and SPEAKER): its clause
    articles: int
    counts: dict[str, Counter[str]]  # articles per value
    stories: int  # distinct stories (`cardinality`)
    story_counts: dict[str, Counter[str]]  # stories per value
    first: FirstPage | None = None  # the first page by score, when the selection's request brought it
    members: dict[str, list[Hit]] = field(default_factory=dict)  # story → its articles here, canonical order
    collapsed: bool = False  # one article per story (Snapshot.collapse)

    @property
    def total(self) -> int:
        return self.stories if self.collapsed else self.articles

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
        """One search of the build; past the deadline, TooSlow. A search a
        node's leaving failed (a phase after the first, such as the query
        after `dfs`, has no other shard copy to turn to), or that some shards
        failed, is asked again; still partial, it is refused (PartialAnswer)."""
        for attempt in range(NODE_RETRIES + 1):
            kwargs = {}
            request = body
            if deadline != math.inf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TooSlow
                request = {**body, "timeout": f"{max(1, int(left * 1000))}ms"}
                kwargs["request_timeout"] = left + 5
            with reachable(self.url):
                try:
                    found = self.client.search(index=index or self.build, body=request, params=params or None,
                                               **kwargs)
                    if not (found.get("_shards") or {}).get("failed") or attempt == NODE_RETRIES:
                        break
                except ConnectionTimeout:
                    raise TooSlow from None
                except NotFoundError:
                    raise IndexUnreadable(f"build {self.build} is gone (replaced twice while reading)") from None
                except TransportError as exc:
                    if attempt == NODE_RETRIES or not _node_left(exc):
                        raise
            time.sleep(0.2 * (attempt + 1))
        if found.get("timed_out"):
            raise TooSlow
        return complete(found, self.url)

    def _scan(self, query: dict, sort: list, source: list[str] | bool, index: str | None = None,
              **params) -> Iterator[dict]:
        """Every hit of a query in `sort` order (of the build, or of `index`),
        read with a point in time; asked again when a leaving node failed it
        before its first hit."""
        body = {"query": query, "sort": sort, "_source": source, "track_scores": True}
        for attempt in range(NODE_RETRIES + 1):
            started = False
            try:
                with reachable(self.url):
                    for hit in clusters.scan(self.client, index or self.build, body, PAGE, KEEP_ALIVE, params):
                        started = True
                        yield hit
                return
            except TransportError as exc:
                if started or attempt == NODE_RETRIES or not _node_left(exc):
                    raise
            time.sleep(0.2 * (attempt + 1))

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
                       "aggs": _per_bucket({"terms": {"field": name, "size": FACET_VALUES}})}
                for name in facets.names()}
        aggs[STORY_TOTAL] = {"filter": translate.all_of(list(chosen.values())),
                             "aggs": {"copied": {"filter": COPIED, "aggs": {"s": STORIES}}}}
        first = 0 if isinstance(query, plan.Every) else FIRST_PAGE  # browsing lists by date
        body = {"size": first, "track_total_hits": True, "query": base, "aggs": aggs, **BY_SCORE,
                "_source": [*source_fields(), "order"]}
        if first:
            body["collapse"] = {"field": "story"}
        if chosen:
            body["post_filter"] = translate.all_of(list(chosen.values()))
        found = self._search(body, deadline, search_type="dfs_query_then_fetch")
        found_aggs = found["aggregations"]
        counts = {name: _bucket_counts(found_aggs[name], lambda b: b["key"]) for name in facets.names()}
        rs = Selection(base, chosen, int(found["hits"]["total"]["value"]),
                       {name: articles for name, (articles, _stories) in counts.items()},
                       _stories(found_aggs[STORY_TOTAL]),
                       {name: stories for name, (_articles, stories) in counts.items()})
        if first:
            heads = [(Hit(h["_source"]["id"], h["_source"]), float(h["_score"] or 0.0), h["_source"]["order"])
                     for h in found["hits"]["hits"]]
            rs.first = FirstPage(heads, len(heads) < first)
        return rs

    def _first_page(self, rs: Selection, deadline: float) -> FirstPage:
        """The first page resolved: the articles of its stories with copies
        read (one request, with the same term statistics: their scores rank
        them among the others)."""
        page = rs.first
        if page.stories is None:
            copied = [hit.source["story"] for hit, _score, _order in page.heads if not _alone(hit)]
            members = self._members_of(rs.final, copied, deadline, scored=True) if copied else {}
            rs.members.update({story: [hit for hit, _score, _order in found] for story, found in members.items()})
            articles = [head for head in page.heads if _alone(head[0])]
            articles += [m for found in members.values() for m in found]
            articles.sort(key=lambda a: (-a[1], a[2]))
            page.articles = [(hit, score) for hit, score, _order in (articles if page.whole else articles[:FIRST_PAGE])]
            page.stories = [(hit if _alone(hit) else (members.get(hit.source["story"]) or [(hit,)])[0][0], score)
                            for hit, score, _order in page.heads]
        return page

    def _shown_sources(self, rs: Selection, fields: list[str]) -> list[dict]:
        """The stored `fields` (and story) of the selection's articles in index
        order; collapsed, of each story's shown article (its lowest place here)."""
        hits = self._scan(rs.final, [{"order": "asc"}], ["id", "story", *fields, *(["canon"] if rs.collapsed else [])])
        if not rs.collapsed:
            return [h["_source"] for h in hits]
        shown: dict[str, tuple[int, int, dict]] = {}
        for at, h in enumerate(hits):
            src = h["_source"]
            story, canon = src.get("story") or src["id"], src.get("canon", 0)
            if story not in shown or canon < shown[story][1]:
                shown[story] = (at, canon, src)
        return [src for _at, _canon, src in sorted(shown.values(), key=lambda s: s[0])]

    def docs(self, rs: Selection) -> list[Hit]:
        return [Hit(src["id"]) for src in self._shown_sources(rs, [])]

    def story_keys(self, rs: Selection) -> list[str]:
        return [src.get("story") or src["id"] for src in self._shown_sources(rs, [])]

    def facet_counts(self, rs: Selection, name: str) -> Counter[str]:
        return Counter(rs.story_counts[name] if rs.collapsed else rs.counts[name])

    def speaker_counts(self, rs: Selection) -> Counter[str]:
        """One request (a search's own counts leave speakers out: few views ask)."""
        base = translate.all_of([rs.query, *(c for name, c in rs.chosen.items() if name != SPEAKER)])
        body = {"size": 0, "track_total_hits": False, "query": base,
                "aggs": _per_bucket({"terms": {"field": SPEAKER, "size": FACET_VALUES}})}
        articles, stories = _bucket_counts(self._search(body)["aggregations"], lambda b: b["key"])
        return Counter(stories if rs.collapsed else articles)

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
        known = rs.first is not None and (limit <= FIRST_PAGE or rs.first.whole)
        if rs.collapsed:
            if known:
                return self._first_page(rs, deadline).stories[:limit]
            return self._story_hits(rs, BY_SCORE, limit, deadline, True, search_type="dfs_query_then_fetch")
        if known:
            return self._first_page(rs, deadline).articles[:limit]
        return self._hits({"query": rs.final, **BY_SCORE}, limit, deadline, search_type="dfs_query_then_fetch")

    def by_date(self, rs: Selection, newest: bool, limit: int) -> list[Hit]:
        sort = [{"published": {"order": "desc" if newest else "asc", "missing": "_last"}}, {"order": "asc"}]
        if rs.collapsed:
            return [hit for hit, _score in self._story_hits(rs, {"sort": sort}, limit, math.inf, False)]
        return [hit for hit, _score in self._hits({"query": rs.final, "sort": sort}, limit, math.inf)]

    def _story_hits(self, rs: Selection, order: dict, limit: int, deadline: float, canonical: bool,
                    **params) -> list[tuple[Hit, float]]:
        """The first `limit` stories of the selection in `order` (a sort, by
        each story's first article in it), as their shown articles
        (`canonical`) or as those first articles."""
        if limit <= MAX_WINDOW:
            listed = limit <= LISTED_PAGE  # a page: the sources, and its copies' articles read at once
            body = {"query": rs.final, **order, "track_total_hits": False, "size": limit,
                    "collapse": {"field": "story"}, "_source": source_fields() if listed else ["id", "story", "copied"]}
            heads = [(Hit(h["_source"]["id"], h["_source"] if listed else None), h["_source"],
                      float(h["_score"] or 0.0)) for h in self._search(body, deadline, **params)["hits"]["hits"]]
            if not canonical:
                return [(hit, score) for hit, _src, score in heads]
            if listed:  # the stories with copies: shown articles, and the copies the page shows next
                found = self._members_of(rs.final, [src["story"] for _hit, src, _score in heads
                                                    if src.get("copied") is not False], deadline)
                rs.members.update({story: [hit for hit, _score, _order in m] for story, m in found.items()})
                shown = {story: m[0][0] for story, m in found.items() if m}
            else:  # the shown articles of the stories whose first article here is not their own
                shown = self._shown(rs, [src["story"] for hit, src, _score in heads
                                         if hit.id != src.get("story", hit.id)], deadline)
            return [(shown.get(src.get("story"), hit), score) for hit, src, score in heads]
        first: dict[str, tuple[int, float, str]] = {}  # past the window: the whole selection, read in order
        lowest: dict[str, tuple[int, str]] = {}  # each story's article of the lowest place here
        for at, h in enumerate(self._scan(rs.final, order["sort"], ["id", "story", "canon"], **params)):
            src = h["_source"]
            story, canon = src.get("story") or src["id"], src.get("canon", 0)
            first.setdefault(story, (at, float(h.get("_score") or 0.0), src["id"]))
            if story not in lowest or canon < lowest[story][0]:
                lowest[story] = (canon, src["id"])
        ordered = sorted(first.items(), key=lambda item: item[1][0])[:limit]
        return [(Hit(lowest[story][1] if canonical else article), score)
                for story, (_at, score, article) in ordered]

    def _shown(self, rs: Selection, story_ids: list[str], deadline: float = math.inf) -> dict[str, Hit]:
        """Each story's shown article in the selection (its lowest place)."""
        if not story_ids:
            return {}
        body = {"query": {"bool": {"filter": [rs.final, {"terms": {"story": story_ids}}]}}, "sort": CANONICAL,
                "size": len(story_ids), "_source": ["id"], "collapse": {"field": "story"}, "track_total_hits": False}
        return {h["fields"]["story"][0]: Hit(h["_source"]["id"]) for h in self._search(body, deadline)["hits"]["hits"]}

    def days(self, rs: Selection, facet: tuple[str, str] | None = None,
             interval: str = "day") -> tuple[Counter[date], int]:
        query = rs.final
        if facet is not None:
            query = {"bool": {"must": [query], "filter": [{"term": {facet[0]: facet[1]}}]}}
        if interval not in INTERVALS:
            raise ValueError(f"interval {interval!r}: one of {', '.join(INTERVALS)}")
        per_day = {"date_histogram": {"field": "published", "calendar_interval": INTERVALS[interval],
                                      "min_doc_count": 1, "format": "yyyy-MM-dd"}}
        undated = {"missing": {"field": "published"}}
        if rs.collapsed:
            aggs = {**_per_bucket(per_day),
                    "undated": {**undated, "aggs": {"copied": {"filter": COPIED, "aggs": {"s": BUCKET_STORIES}}}}}
        else:
            aggs = {"v": per_day, "undated": undated}
        found = self._search({"size": 0, "query": query, "track_total_hits": False, "aggs": aggs})["aggregations"]

        def day(bucket: dict) -> date:
            return date.fromisoformat(bucket["key_as_string"])

        if rs.collapsed:
            return _bucket_counts(found, day)[1], _stories(found["undated"])
        return Counter({day(b): b["doc_count"] for b in found["v"]["buckets"]}), int(found["undated"]["doc_count"])

    def value_lists(self, rs: Selection, name: str) -> list[list[str]]:
        return [list(src.get(name) or []) for src in self._shown_sources(rs, [name])]

    # --- stories -------------------------------------------------------------------

    def collapse(self, rs: Selection) -> Selection:
        return rs if rs.collapsed else replace(rs, collapsed=True)  # shares what the selection fetched

    def _story_ids(self, docs: list[Hit]) -> dict[Hit, str]:
        """The story id of each article (from the source a page fetched, else one request)."""
        out = {d: d.source["story"] or d.id for d in docs if d.source is not None and "story" in d.source}
        missing = [d for d in docs if d not in out]
        if missing:
            with reachable(self.url):
                found = self.client.mget(index=self.build, body={"ids": [doc_id(d.id) for d in missing]},
                                         params={"_source": "id,story"})["docs"]
            stories = {f["_source"]["id"]: f["_source"].get("story") or f["_source"]["id"]
                       for f in found if f.get("found")}
            out.update({d: stories.get(d.id, d.id) for d in missing})
        return out

    def _members_of(self, query: dict, story_ids: Iterable[str], deadline: float = math.inf,
                    scored: bool = False) -> dict[str, list[tuple[Hit, float, int]]]:
        """The articles (source, score, order) of stories matching `query`,
        each story's in canonical order; `scored`: with the cluster-wide term
        statistics a ranked page has."""
        story_ids = sorted(set(story_ids))
        out: dict[str, list[tuple[Hit, float, int]]] = {s: [] for s in story_ids}
        if not story_ids:
            return out
        source = [*source_fields(), "order"]
        params = {"search_type": "dfs_query_then_fetch"} if scored else {}
        if scored:
            query = {"bool": {"must": [query], "filter": [{"terms": {"story": story_ids}}]}}
        else:
            query = {"bool": {"filter": [query, {"terms": {"story": story_ids}}]}}
        found = self._search({"query": query, "sort": CANONICAL, "size": PAGE, "_source": source,
                              "track_total_hits": True, "track_scores": scored}, deadline, **params)["hits"]
        hits = found["hits"] if found["total"]["value"] <= len(found["hits"]) else \
            self._scan(query, CANONICAL, source, **params)
        for h in hits:
            src = h["_source"]
            out.setdefault(src.get("story") or src["id"], []).append(
                (Hit(src["id"], src), float(h.get("_score") or 0.0), src.get("order", 0)))
        return out

    def copies(self, rs: Selection, docs: list[Hit]) -> dict[Hit, list[Hit]]:
        """From the articles a page read with its stories, else one request for all."""
        alone = {d for d in docs if _alone(d)}
        story_ids = self._story_ids([d for d in docs if d not in alone])
        found = self._members_of(rs.final, {s for s in story_ids.values() if s not in rs.members})
        rs.members.update({story: [hit for hit, _score, _order in m] for story, m in found.items()})
        return {d: [] if d in alone else [m for m in rs.members.get(story_ids[d], []) if m.id != d.id]
                for d in docs}

    def story(self, doc: Hit) -> tuple[str, list[Hit]]:
        if _alone(doc):
            return doc.id, [doc]
        story_id = self._story_ids([doc])[doc]
        return story_id, [hit for hit, _score, _order in
                          self._members_of({"match_all": {}}, [story_id])[story_id]] or [doc]

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

    def quotes(self, docs: list[Hit]) -> list[list[dict]]:
        fetched: dict[str, list[dict]] = {}
        ids = list(dict.fromkeys(d.id for d in docs))
        with reachable(self.url):
            for start in range(0, len(ids), PAGE):
                found = self.client.mget(index=self.build, body={"ids": [doc_id(i) for i in ids[start:start + PAGE]]},
                                         params={"_source": f"id,{QUOTES}"})
                fetched.update({d["_source"]["id"]: d["_source"].get(QUOTES) or [] for d in found["docs"]
                                if d.get("found")})
        return [list(fetched.get(d.id, [])) for d in docs]

    def ids(self, docs: list[Hit]) -> list[str]:
        return [d.id for d in docs]

    @property
    def documents(self) -> int:
        def count() -> int:
            with reachable(self.url):
                return int(complete(self.client.count(index=self.build), self.url)["count"])
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


def _per_bucket(agg: dict) -> dict:
    """Aggregations counting the articles of each bucket of `agg` (a terms or
    date histogram) and, among those with copies, their distinct stories."""
    return {"v": agg, "copied": {"filter": COPIED, "aggs": {"v": {**agg, "aggs": {"s": BUCKET_STORIES}}}}}


def _bucket_counts(found: dict, key) -> tuple[Counter, Counter]:
    """(articles, stories) per bucket, from `_per_bucket`'s answer."""
    articles = Counter({key(b): b["doc_count"] for b in found["v"]["buckets"]})
    stories = Counter(articles)
    for b in found["copied"]["v"]["buckets"]:
        if key(b) in stories:
            stories[key(b)] += int(b["s"]["value"]) - b["doc_count"]
    return articles, stories


def _stories(found: dict) -> int:
    """The stories of one bucket with a `copied` sub-aggregation counting
    their distinct stories: its articles alone, and the stories of the others."""
    return int(found["doc_count"] - found["copied"]["doc_count"] + found["copied"]["s"]["value"])


def _alone(doc: Hit) -> bool:
    """Whether the source a page brought says the article has no copies."""
    return doc.source is not None and doc.source.get("copied") is False


def _node_left(exc: TransportError) -> bool:
    """Whether the cluster failed a search because a node left it (another try goes to the copies left)."""
    return exc.status_code == 500 and any(name in str(exc.info) for name in NODE_LEFT)
