"""The Flask app: the search page and the JSON search endpoint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, abort, jsonify, render_template, request
from markupsafe import Markup, escape

from .indexer import NoIndex
from .search import LiveIndex, QueryError, get_article, mark, search

def _templates_dir() -> Path:
    """The repo's templates/ in a checkout, else the copy `pip install` put under share/."""
    here = Path(__file__).resolve().parent.parent / "templates"
    return here if here.is_dir() else Path(sys.prefix) / "share" / "searchapp" / "templates"


def create_app(test_config: dict | None = None) -> Flask:
    """App factory: one LiveIndex per app, reopened when the live build changes."""
    app = Flask(__name__, template_folder=str(_templates_dir()))
    app.config.from_mapping(INDEX_DIR=os.environ.get("SEARCHAPP_INDEX", "index"))
    if test_config:
        app.config.from_mapping(test_config)
    live = LiveIndex(app.config["INDEX_DIR"])
    app.extensions["searchapp.index"] = live

    @app.template_filter("marked")
    def marked(text: str, marks) -> Markup:
        return Markup(mark(text or "", marks or [], "<mark>", "</mark>", lambda s: str(escape(s))))

    def search_args() -> dict:
        args = request.args
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

    @app.get("/")
    def index_page():
        try:
            result = search(live, **search_args())
        except QueryError as exc:
            return render_template("search.html", error=str(exc), result=None, args=request.args), 400
        return render_template("search.html", result=result, error=None, args=request.args)

    @app.get("/article/<path:article_id>")
    def article_page(article_id: str):
        article = get_article(live, article_id, request.args.get("q", ""))
        if article is None:
            abort(404)
        return render_template("article.html", article=article, args=request.args)

    @app.get("/api/search")
    def api_search():
        try:
            return jsonify(search(live, **search_args()))
        except QueryError as exc:
            return jsonify(error={"code": "bad_request", "message": str(exc)}), 400

    @app.errorhandler(NoIndex)
    def no_index(exc):
        return jsonify(error={"code": "no_index", "message": str(exc)}), 503

    return app
