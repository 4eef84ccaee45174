"""The web layer's one door to the search service: the app's engine and the
result sets a request asks for.

Pages and API both call these, so a page and its JSON twin always show the
same articles; no other module of searchapp.web queries the index, so a change
of the engine's interface is made here. Each call takes one of the app's
search slots (see `gated`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import TypeVar

from flask import current_app
from werkzeug.datastructures import MultiDict

from searchapp.search import compare, insights, profiles, quotes, significant
from searchapp.engine.base import Engine
from searchapp.search.service import get_article, search
from searchapp.search.feeds import FEED_SIZE
from searchapp.web.params import (compare_params, cooccurrence_size, filter_params, quote_params, sample_params,
                                  search_params)


F = TypeVar("F", bound=Callable)


def current_engine() -> Engine:
    """The app's one engine (closed by whoever created the app)."""
    return current_app.extensions["searchapp.engine"]


def gated(view: F) -> F:
    """Run within one of the app's search slots (`SEARCH_SLOTS`, by default
    the engine's `search_slots`). The engine needs no lock, but an in-process
    engine's work is Python and numpy under one GIL: four searches at once
    in one process ran 188 searches/s against 307 one at a time, so waitress's
    other threads keep reading and writing sockets while one searches;
    `serve --workers` uses more cores."""
    @wraps(view)
    def in_slot(*args, **kwargs):
        with current_app.extensions["searchapp.slots"]:
            return view(*args, **kwargs)
    return in_slot  # type: ignore[return-value]


@gated
def run_search(args: MultiDict) -> dict:
    """search() with `suggestion` always present, so the documented shape never varies."""
    result = search(current_engine(), **search_params(args))
    result.setdefault("suggestion", None)
    return result


@gated
def feed_search(args: MultiDict) -> dict:
    """The newest FEED_SIZE articles of a search: the entries of its feed (sort and paging ignored)."""
    return search(current_engine(), **filter_params(args), sort="newest", per_page=FEED_SIZE)


@gated
def run_timeline(args: MultiDict) -> dict:
    """Counts per day, week or month; `series` (repeatable) names the actors to draw
    a line for, by default the selected actors."""
    series = args.getlist("series")
    return insights.timeline(current_engine(), series_actors=series or None, **filter_params(args))


@gated
def run_cooccurrence(args: MultiDict) -> dict:
    """The most named actors of the result set and how often each pair shares an article."""
    size = cooccurrence_size(args)
    return insights.cooccurrence(current_engine(), size=size, **filter_params(args))


@gated
def run_quotes(args: MultiDict) -> dict:
    """The quotes of the result set's articles that hold the query's words, one page, with the speaker counts."""
    return quotes.quotes(current_engine(), **quote_params(args))


@gated
def article_quotes(article_id: str) -> list[dict]:
    """An article's quotes with their anchors (none for an unknown id)."""
    return quotes.article_quotes(current_engine(), article_id) or []


@gated
def run_significant(args: MultiDict, size: int | None = None) -> dict:
    """The words that set the result set apart from the corpus; `size` from the
    query string unless the caller (the search page) gives its own."""
    return significant.significant(current_engine(), size=args.get("size", significant.SIZE) if size is None else size,
                                   **filter_params(args))


@gated
def article(article_id: str, q: str) -> dict | None:
    """The whole article with the words of `q` marked, or None for an unknown id."""
    return get_article(current_engine(), article_id, q)


@gated
def similar(article_id: str) -> list[dict] | None:
    """The articles most similar to one, or None for an unknown id."""
    return insights.similar(current_engine(), article_id)


def export(fmt: str, args: MultiDict) -> Iterator[str]:
    """The result set as chunks of CSV or JSON lines, at most insights.EXPORT_CAP articles,
    or a reproducible random sample of it (`sample`, `seed`)."""
    return insights.export(current_engine(), fmt, cap=insights.EXPORT_CAP, **sample_params(args),
                           **filter_params(args))


@gated
def run_compare(args: MultiDict) -> tuple[list[dict], dict]:
    """The queries of a comparison (as search keywords) and their comparison."""
    queries = compare_params(args)
    return queries, compare.compare(current_engine(), queries)


@gated
def actor(name: str, args: MultiDict) -> dict | None:
    """An actor's profile (counting as `count` says), or None for a name the index does not know."""
    return profiles.actor_profile(current_engine(), name, count=args.get("count"))


@gated
def actors(args: MultiDict) -> dict:
    """The index of actors, filtered by `q` and sorted by `sort` (mentions or name)."""
    return profiles.actor_index(current_engine(), args.get("q", ""), args.get("sort", "mentions"))
