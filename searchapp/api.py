"""The JSON API: search, articles, the views over a result set (timeline,
co-occurrence, similar articles, export) and the OpenAPI document describing them.

Responses are the dicts of searchapp.search as they are (plain text plus
highlight offsets, never HTML), so API clients and the web page see one truth.
Errors, including unknown /api/ routes, are `{"error": {"code", "message"}}`,
plus `reason` (the catalogue code, e.g. "wildcard_too_short") for a bad query or
parameter. Messages are Indonesian unless the request's Accept-Language
prefers English.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources
from itertools import chain

from flask import Blueprint, Flask, Response, current_app, jsonify, request, stream_with_context
from werkzeug.datastructures import MultiDict

from . import insights
from .errors import QueryError, label_id, message
from .search import LiveIndex, get_article, search

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
MAX_COOCCURRENCE = 30
LANGUAGES = ("id", "en")  # of the messages; the first is the default

bp = Blueprint("api", __name__, url_prefix="/api")


def live_index(app: Flask | None = None) -> LiveIndex:
    """The app's one LiveIndex (closed by whoever created the app)."""
    return (app or current_app).extensions["searchapp.index"]


def filter_params(args: MultiDict) -> dict:
    """The keywords that select articles (search() and every insights view take them);
    `all_actor` (repeatable) keeps only articles naming all of those actors."""
    return dict(
        q=args.get("q", ""),
        outlet=args.getlist("outlet"),
        actor=args.getlist("actor"),
        topic=args.getlist("topic"),
        date_from=args.get("from"),
        date_to=args.get("to"),
        require_actor=args.getlist("all_actor"),
    )


def search_params(args: MultiDict) -> dict:
    """search() keywords from a query string; search() itself validates every value."""
    return dict(
        **filter_params(args),
        sort=args.get("sort", "relevance"),
        page=args.get("page", "1"),
        per_page=args.get("per_page", "10"),
    )


def run_search(args: MultiDict) -> dict:
    """search() with `suggestion` always present, so the documented shape never varies."""
    result = search(live_index(), **search_params(args))
    result.setdefault("suggestion", None)
    return result


def language() -> str:
    """The language of the API's messages: Indonesian, or English if the request prefers it."""
    return request.accept_languages.best_match(LANGUAGES, default="id")


def error_json(status: int, code: str, text: str, reason: str | None = None) -> tuple[Response, int]:
    """The error body: `code` the kind of error, `reason` (a QueryError's code) what to fix."""
    error = {"code": code, "message": text}
    if reason:
        error["reason"] = reason
    response = jsonify(error=error)
    response.vary.add("Accept-Language")
    return response, status


def query_error_json(exc: QueryError) -> tuple[Response, int]:
    return error_json(400, "invalid_parameter", exc.message(language()), exc.code)


def not_found_json(article_id: str) -> tuple[Response, int]:
    return error_json(404, "not_found", message("article_not_found", language(), id=article_id))


@cache
def openapi_document() -> dict:
    return json.loads(resources.files("searchapp").joinpath("openapi.json").read_text("utf-8"))


@bp.get("/articles/<path:article_id>")
def api_article(article_id: str):
    article = get_article(live_index(), article_id, request.args.get("q", ""))
    if article is None:
        return not_found_json(article_id)
    return jsonify(article)


def run_timeline(args: MultiDict) -> dict:
    """Counts per day, week or month; `series` (repeatable) names the actors to draw
    a line for, by default the selected actors."""
    series = args.getlist("series")
    return insights.timeline(live_index(), series_actors=series or None, **filter_params(args))


def _size(args: MultiDict) -> int:
    raw = args.get("size", str(insights.COOCCURRENCE_ACTORS))
    if not raw.strip().isdigit():
        raise QueryError("bad_number", name="size", label=label_id("size"), value=raw)
    if not 2 <= int(raw) <= MAX_COOCCURRENCE:
        raise QueryError("out_of_range", name="size", label=label_id("size"), low=2, high=MAX_COOCCURRENCE,
                         value=int(raw))
    return int(raw)


def run_cooccurrence(args: MultiDict) -> dict:
    """The most named actors of the result set and how often each pair shares an article."""
    size = _size(args)
    return insights.cooccurrence(live_index(), size=size, **filter_params(args))


def export_filename(args: MultiDict, fmt: str) -> str:
    """searchapp-<query words>.<fmt>, ASCII only, so every browser saves it as named."""
    text = "".join(c for c in unicodedata.normalize("NFKD", args.get("q", "")) if not unicodedata.combining(c))
    text = re.sub(r"[\W_]+", "-", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return f"searchapp-{slug or 'semua'}.{fmt}"


@bp.get("/search")
def api_search():
    return jsonify(run_search(request.args))


@bp.get("/timeline")
def api_timeline():
    return jsonify(run_timeline(request.args))


@bp.get("/cooccurrence")
def api_cooccurrence():
    return jsonify(run_cooccurrence(request.args))


@bp.get("/articles/<path:article_id>/similar")
def api_similar(article_id: str):
    found = insights.similar(live_index(), article_id)
    if found is None:
        return not_found_json(article_id)
    return jsonify(id=article_id, similar=found)


@bp.get("/export")
def api_export():
    """The result set as CSV or JSON lines, streamed; at most insights.EXPORT_CAP articles."""
    fmt = request.args.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise QueryError("bad_format", value=fmt)
    chunks = insights.export(live_index(), fmt, cap=insights.EXPORT_CAP, **filter_params(request.args))
    first = next(chunks, "")  # runs the query now: a bad parameter is a 400, not a broken download
    response = Response(stream_with_context(chain([first], chunks)), mimetype=EXPORT_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = EXPORT_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(request.args, fmt)}"'
    response.headers["X-Export-Cap"] = str(insights.EXPORT_CAP)
    return response


@bp.get("/openapi.json")
def api_openapi():
    return jsonify(openapi_document())
