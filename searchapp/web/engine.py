"""The web layer's one door to the search service: the app's engine and the
result sets a request asks for.

Pages and API both call these, so a page and its JSON twin always show the
same articles; no other module of searchapp.web queries the index, so a change
of the engine's interface is made here.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from werkzeug.datastructures import MultiDict

from searchapp.search import insights
from searchapp.engine.base import Engine
from searchapp.search.service import get_article, search
from searchapp.web.params import cooccurrence_size, filter_params, search_params


def current_engine() -> Engine:
    """The app's one engine (closed by whoever created the app)."""
    return current_app.extensions["searchapp.engine"]


def run_search(args: MultiDict) -> dict:
    """search() with `suggestion` always present, so the documented shape never varies."""
    result = search(current_engine(), **search_params(args))
    result.setdefault("suggestion", None)
    return result


def run_timeline(args: MultiDict) -> dict:
    """Counts per day, week or month; `series` (repeatable) names the actors to draw
    a line for, by default the selected actors."""
    series = args.getlist("series")
    return insights.timeline(current_engine(), series_actors=series or None, **filter_params(args))


def run_cooccurrence(args: MultiDict) -> dict:
    """The most named actors of the result set and how often each pair shares an article."""
    size = cooccurrence_size(args)
    return insights.cooccurrence(current_engine(), size=size, **filter_params(args))


def article(article_id: str, q: str) -> dict | None:
    """The whole article with the words of `q` marked, or None for an unknown id."""
    return get_article(current_engine(), article_id, q)


def similar(article_id: str) -> list[dict] | None:
    """The articles most similar to one, or None for an unknown id."""
    return insights.similar(current_engine(), article_id)


def export(fmt: str, args: MultiDict) -> Iterator[str]:
    """The result set as chunks of CSV or JSON lines, at most insights.EXPORT_CAP articles."""
    return insights.export(current_engine(), fmt, cap=insights.EXPORT_CAP, **filter_params(args))
