"""The JSON API: search, articles, the views over a result set (timeline,
co-occurrence, quotes, significant words, similar articles, export) and the OpenAPI document describing them.

Responses are the dicts of searchapp.search as they are (plain text plus
highlight offsets, never HTML), so API clients and the web page see one truth.
Errors (searchapp.web.errors), including unknown /api/ routes, are
`{"error": {"code", "message"}}`, plus `reason` (the catalogue code, e.g.
"wildcard_too_short") for a bad query or parameter. Messages are Indonesian
unless the request's Accept-Language prefers English.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources
from itertools import chain

from flask import Blueprint, Response, jsonify, request, stream_with_context
from werkzeug.datastructures import MultiDict

from searchapp import facets
from searchapp.search import insights
from searchapp.errors import QueryError
from searchapp.web import engine
from searchapp.web.errors import actor_not_found_json, not_found_json

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}

bp = Blueprint("api", __name__, url_prefix="/api")


def openapi_document() -> dict:
    """The API description for the registry's facets (made once per registry)."""
    return _openapi(facets.FACETS)


@cache
def _openapi(registry: tuple[facets.Facet, ...]) -> dict:
    """openapi.json, plus what it does not yet say about the facets of the
    registry (a filter parameter wherever `outlet` is one, a property of hits,
    articles, export rows and facet counts)."""
    doc = json.loads(resources.files("searchapp").joinpath("openapi.json").read_text("utf-8"))
    schemas = doc["components"]["schemas"]
    for facet in registry:
        value = ({"type": "array", "items": {"type": "string"}} if facet.multi_valued
                 else {"type": ["string", "null"]})
        for item in doc["paths"].values():
            params = item["get"].get("parameters", [])
            names = [p["name"] for p in params]
            if "outlet" in names and facet.name not in names:
                params.insert(names.index("all_actor"), {
                    "name": facet.name, "in": "query", "style": "form", "explode": True,
                    "description": f"Keep only articles with this {facet.description}; repeat for several (OR). "
                                   "Different facets combine with AND.",
                    "schema": {"type": "array", "items": {"type": "string"}}})
        for name in ("Hit", "Article", "ArticleSummary", "ExportRow"):
            schema = schemas[name]
            if facet.name not in schema["properties"]:
                schema["properties"][facet.name] = {**value, "description": facet.description}
                schema["required"].append(facet.name)
        counts = schemas["SearchResult"]["properties"]["facets"]
        if facet.name not in counts["properties"]:
            counts["properties"][facet.name] = {"$ref": "#/components/schemas/Facet"}
            counts["required"].append(facet.name)
    return doc


def export_filename(args: MultiDict, fmt: str) -> str:
    """searchapp-<query words>.<fmt>, ASCII only, so every browser saves it as named."""
    text = "".join(c for c in unicodedata.normalize("NFKD", args.get("q", "")) if not unicodedata.combining(c))
    text = re.sub(r"[\W_]+", "-", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return f"searchapp-{slug or 'semua'}.{fmt}"


@bp.get("/articles/<path:article_id>")
def api_article(article_id: str) -> Response | tuple[Response, int]:
    article = engine.article(article_id, request.args.get("q", ""))
    if article is None:
        return not_found_json(article_id)
    return jsonify(article)


@bp.get("/search")
def api_search() -> Response:
    return jsonify(engine.run_search(request.args))


@bp.get("/timeline")
def api_timeline() -> Response:
    return jsonify(engine.run_timeline(request.args))


@bp.get("/cooccurrence")
def api_cooccurrence() -> Response:
    return jsonify(engine.run_cooccurrence(request.args))


@bp.get("/quotes")
def api_quotes() -> Response:
    return jsonify(engine.run_quotes(request.args))


@bp.get("/significant")
def api_significant() -> Response:
    return jsonify(engine.run_significant(request.args))


@bp.get("/articles/<path:article_id>/similar")
def api_similar(article_id: str) -> Response | tuple[Response, int]:
    found = engine.similar(article_id)
    if found is None:
        return not_found_json(article_id)
    return jsonify(id=article_id, similar=found)


@bp.get("/compare")
def api_compare() -> Response:
    _queries, result = engine.run_compare(request.args)
    return jsonify(result)


@bp.get("/actors")
def api_actors() -> Response:
    return jsonify(engine.actors(request.args))


@bp.get("/actors/<path:name>")
def api_actor(name: str) -> Response | tuple[Response, int]:
    profile = engine.actor(name, request.args)
    if profile is None:
        return actor_not_found_json(name)
    return jsonify(profile)


@bp.get("/export")
def api_export() -> Response:
    """The result set (or a reproducible sample of it: `sample`, `seed`) as CSV or JSON lines,
    streamed; at most insights.EXPORT_CAP articles."""
    fmt = request.args.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        raise QueryError("bad_format", value=fmt)
    chunks = engine.export(fmt, request.args)
    first = next(chunks, "")  # runs the query now: a bad parameter is a 400, not a broken download
    response = Response(stream_with_context(chain([first], chunks)), mimetype=EXPORT_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = EXPORT_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(request.args, fmt)}"'
    response.headers["X-Export-Cap"] = str(insights.EXPORT_CAP)
    return response


@bp.get("/openapi.json")
def api_openapi() -> Response:
    return jsonify(openapi_document())
