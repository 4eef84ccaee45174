"""Request parameters: the query string read into search() keywords, and the
state of a search page written back into links.

Pages and API read the same parameters here, so a URL means the same articles
on both; a SearchState is that query string normalised, and each of its methods
returns the URL that changes one thing (a filter, the sort, the page), which is
how a page without JavaScript stays fully navigable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from flask import url_for
from werkzeug.datastructures import MultiDict

from searchapp.search import insights, quotes
from searchapp.errors import QueryError, label_id
from searchapp import facets
from searchapp.search.request import Request, as_count
from searchapp.web.formatting import long_date

MEASURES = ("count", "share")
SORT_LABELS = {"relevance": "Relevansi", "newest": "Terbaru", "oldest": "Terlama"}
DEFAULT_PER_PAGE = 10
MAX_COOCCURRENCE = 30


def filter_params(args: MultiDict) -> dict:
    """The keywords that select articles (search() and every insights view take them);
    `all_actor` (repeatable) keeps only articles naming all of those actors."""
    return dict(
        q=args.get("q", ""),
        **{name: args.getlist(name) for name in facets.names()},
        date_from=args.get("from"),
        date_to=args.get("to"),
        require_actor=args.getlist("all_actor"),
        collapse=args.get("collapse"),
        count=args.get("count"),
        story=args.get("story"),
    )


def search_params(args: MultiDict) -> dict:
    """search() keywords from a query string; search() itself validates every value."""
    return dict(
        **filter_params(args),
        sort=args.get("sort", "relevance"),
        page=args.get("page", "1"),
        per_page=args.get("per_page", "10"),
    )


def quote_params(args: MultiDict) -> dict:
    """quotes() keywords: the filters, `speaker` (repeatable), page and per_page; quotes() validates them."""
    return dict(
        **filter_params(args),
        speaker=args.getlist("speaker"),
        page=args.get("page", "1"),
        per_page=args.get("per_page", str(quotes.PER_PAGE)),
    )


def measure(args: MultiDict) -> str:
    """`measure`: draw attention as article counts or as a share of all articles."""
    value = args.get("measure", "count")
    if value not in MEASURES:
        raise QueryError("bad_measure", value=value)
    return value


def compare_params(args: MultiDict) -> list[dict]:
    """One dict of search keywords per repeated `q`, in order. A filter named
    with a query's position (`outlet1`, `actor2`, `from1`, `all_actor2` …)
    applies to that query only; one without a position to every query."""
    shared = filter_params(args)
    out = []
    for i, q in enumerate(args.getlist("q"), 1):
        own = {**shared, "q": q}
        for name in (*facets.names(), "all_actor"):
            key = "require_actor" if name == "all_actor" else name
            own[key] = [*shared[key], *args.getlist(f"{name}{i}")]
        own["date_from"] = args.get(f"from{i}") or shared["date_from"]
        own["date_to"] = args.get(f"to{i}") or shared["date_to"]
        out.append(own)
    return out


def sample_params(args: MultiDict) -> dict:
    """`sample` and `seed` of an export, as given: insights.export() validates them."""
    return {name: args[name] for name in ("sample", "seed") if name in args}


def cooccurrence_size(args: MultiDict) -> int:
    """`size`: how many actors the co-occurrence view compares (2 to MAX_COOCCURRENCE)."""
    raw = args.get("size", str(insights.COOCCURRENCE_ACTORS))
    if not raw.strip().isdigit():
        raise QueryError("bad_number", name="size", label=label_id("size"), value=raw)
    if not 2 <= int(raw) <= MAX_COOCCURRENCE:
        raise QueryError("out_of_range", name="size", label=label_id("size"), low=2, high=MAX_COOCCURRENCE,
                         value=int(raw))
    return int(raw)


def _story_state(request: Request) -> dict:
    return {"collapse": request.collapse, "count": request.count, "story": request.filters.story}


def _clean(values: list[str]) -> tuple[str, ...]:
    """Stripped, non-empty, first occurrence kept: how search() reads facet values."""
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


@dataclass(frozen=True)
class SearchState:
    """The normalised parameters of a search page; each method returns a URL that changes one thing."""

    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"
    per_page: int = DEFAULT_PER_PAGE
    page: int = 1
    required: tuple[str, ...] = ()  # `all_actor`: articles must name every one of these
    measure: str = "count"  # the timeline as article counts or as a share of all articles
    collapse: bool = True  # one hit per story
    count: str = "stories"  # what the counts count
    story: str | None = None  # only the articles of one story

    @classmethod
    def of_keywords(cls, keywords: dict) -> SearchState:
        """The state of a search given as search keywords (one query of a comparison)."""
        return cls(
            q=keywords.get("q") or "",
            filters={name: _clean(keywords.get(name) or []) for name in facets.names()},
            date_from=keywords.get("date_from") or None,
            date_to=keywords.get("date_to") or None,
            required=_clean(keywords.get("require_actor") or []),
            **_story_state(Request.make(collapse=keywords.get("collapse"), count=keywords.get("count"),
                                        story=keywords.get("story"))),
        )

    @classmethod
    def of(cls, result: dict, args: MultiDict) -> SearchState:
        return cls(
            measure=measure(args),
            q=result["query"],
            filters={name: _clean(args.getlist(name)) for name in facets.names()},
            date_from=result["from"],
            date_to=result["to"],
            sort=result["sort"],
            per_page=result["per_page"],
            page=result["page"],
            required=_clean(args.getlist("all_actor")),
            collapse=result["collapse"],
            count=result["count"],
            story=result["story"],
        )

    @classmethod
    def of_filters(cls, args: MultiDict) -> SearchState:
        """The state of a page that shows a view of the result set, not a page of hits
        (validated like a search: a bad date raises QueryError)."""
        request = Request.make(**filter_params(args))
        f = request.filters
        return cls(
            q=request.q,
            filters={name: _clean(args.getlist(name)) for name in facets.names()},
            date_from=f.date_from.isoformat() if f.date_from else None,
            date_to=f.date_to.isoformat() if f.date_to else None,
            required=_clean(args.getlist("all_actor")),
            **_story_state(request),
        )

    @property
    def browsing(self) -> bool:
        return not self.q.strip()

    @property
    def has_filters(self) -> bool:
        return any(self.filters.values()) or bool(self.required or self.date_from or self.date_to or self.story)

    def filter_params(self) -> list[tuple[str, str]]:
        """The pairs that select articles and say how copies count: what every
        view of the result set shares."""
        pairs = [("q", self.q)] if self.q else []
        pairs += [(name, v) for name in facets.names() for v in self.filters.get(name, ())]
        pairs += [("all_actor", v) for v in self.required]
        pairs += [(k, v) for k, v in (("from", self.date_from), ("to", self.date_to)) if v]
        if self.story:
            pairs.append(("story", self.story))
        if not self.collapse:
            pairs.append(("collapse", "off"))
        if self.count != as_count(None, self.collapse):
            pairs.append(("count", self.count))
        return pairs

    def params(self) -> list[tuple[str, str]]:
        """Query-string pairs, defaults left out so URLs stay short and canonical."""
        pairs = self.filter_params()
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if self.page > 1:
            pairs.append(("page", str(self.page)))
        if self.measure != "count":
            pairs.append(("measure", self.measure))
        return pairs

    def url(self, **changes: object) -> str:
        """This search with `changes`; any change but paging goes back to page 1."""
        changes.setdefault("page", 1)
        query = urlencode(replace(self, **changes).params())
        return url_for("pages.search_page") + (f"?{query}" if query else "")

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    def toggle(self, facet: str, value: str) -> str:
        values = self.filters.get(facet, ())
        values = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.url(filters={**self.filters, facet: values})

    def collapse_url(self, collapse: bool) -> str:
        """Copies listed once or each; the counts follow unless chosen apart."""
        count = self.count if self.count != as_count(None, self.collapse) else as_count(None, collapse)
        return self.url(collapse=collapse, count=count)

    def count_url(self, count: str) -> str:
        return self.url(count=count, page=self.page)

    def story_url(self, story: str) -> str:
        """Every article of one story that this search finds."""
        return self.url(story=story, collapse=False, count="articles")

    def measure_url(self, measure: str) -> str:
        return self.url(measure=measure, page=self.page)

    def sort_url(self, sort: str) -> str:
        return self.url(sort=sort)

    def query_url(self, q: str) -> str:
        return self.url(q=q)

    def without_filters(self) -> str:
        return self.url(filters={}, required=(), date_from=None, date_to=None, story=None)

    def period_url(self, start: str, end: str) -> str:
        """This search narrowed to a period, kept inside the dates already chosen."""
        start = max(start, self.date_from) if self.date_from else start
        end = min(end, self.date_to) if self.date_to else end
        return self.url(date_from=start, date_to=end)

    def with_all(self, *actors: str) -> str:
        """This search keeping only articles that also name every one of `actors`."""
        return self.url(required=tuple(dict.fromkeys((*self.required, *actors))))

    def view_url(self, endpoint: str, **extra: str) -> str:
        """The same articles on another page or API view (filters only, no sort or paging)."""
        query = urlencode([*extra.items(), *self.filter_params()])
        return url_for(endpoint) + (f"?{query}" if query else "")

    def quotes_url(self, speakers: tuple[str, ...] = (), page: int = 1, per_page: int = quotes.PER_PAGE) -> str:
        """The quotes of these articles, said by `speakers` (any, when none), at `page`."""
        pairs = [*self.filter_params(), *(("speaker", s) for s in speakers)]
        if page > 1:
            pairs.append(("page", str(page)))
        if per_page != quotes.PER_PAGE:
            pairs.append(("per_page", str(per_page)))
        return url_for("pages.quotes_page") + (f"?{urlencode(pairs)}" if pairs else "")

    def without_dates(self) -> str:
        return self.url(date_from=None, date_to=None)

    def chips(self) -> list[dict]:
        """The active filters, each with a label and the URL that removes it."""
        chips = [
            {"label": facets.get(name).label, "value": v, "remove": self.toggle(name, v)}
            for name in facets.names()
            for v in self.filters.get(name, ())
        ]
        chips += [
            {"label": "Menyebut", "value": v, "remove": self.url(required=tuple(r for r in self.required if r != v))}
            for v in self.required
        ]
        if self.date_from:
            chips.append({"label": "Sejak", "value": long_date(self.date_from), "remove": self.url(date_from=None)})
        if self.date_to:
            chips.append({"label": "Sampai", "value": long_date(self.date_to), "remove": self.url(date_to=None)})
        if self.story:
            chips.append({"label": "Berita", "value": self.story, "remove": self.url(story=None, collapse=True,
                                                                                    count="stories")})
        return chips

    def sort_options(self) -> list[dict]:
        """Sort links; when browsing, relevance means newest, so only the date orders are offered."""
        current = "newest" if self.browsing and self.sort == "relevance" else self.sort
        names = ("newest", "oldest") if self.browsing else tuple(SORT_LABELS)
        return [
            {"label": SORT_LABELS[s], "url": self.sort_url("relevance" if self.browsing and s == "newest" else s),
             "current": s == current}
            for s in names
        ]
