"""The JSON API: /api/search, /api/articles/<id> and the OpenAPI document describing them.

Responses are the dicts of searchapp.search as they are (plain text plus
highlight offsets, never HTML), so API clients and the web page see one truth.
Errors, including unknown /api/ routes, are `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from .search import LiveIndex, get_article, search

bp = Blueprint("api", __name__, url_prefix="/api")


def live_index(app: Flask | None = None) -> LiveIndex:
    """The app's one LiveIndex (closed by whoever created the app)."""
    return (app or current_app).extensions["searchapp.index"]


def search_params(args: MultiDict) -> dict:
    """search() keywords from a query string; search() itself validates every value."""
    return dict(
        q=args.get("q", ""),
        outlet=args.getlist("outlet"),
        actor=args.getlist("actor"),
        topic=args.getlist("topic"),
        date_from=args.get("from"),
        date_to=args.get("to"),
        sort=args.get("sort", "relevance"),
        page=args.get("page", "1"),
        per_page=args.get("per_page", "10"),
    )


def run_search(args: MultiDict) -> dict:
    """search() with `suggestion` always present, so the documented shape never varies."""
    result = search(live_index(), **search_params(args))
    result.setdefault("suggestion", None)
    return result


def error_json(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


@cache
def openapi_document() -> dict:
    return json.loads(resources.files("searchapp").joinpath("openapi.json").read_text("utf-8"))


@bp.get("/search")
def api_search():
    return jsonify(run_search(request.args))


@bp.get("/articles/<path:article_id>")
def api_article(article_id: str):
    article = get_article(live_index(), article_id, request.args.get("q", ""))
    if article is None:
        return error_json(404, "not_found", f"no article with id {article_id!r}")
    return jsonify(article)


@bp.get("/openapi.json")
def api_openapi():
    return jsonify(openapi_document())
