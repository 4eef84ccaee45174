"""The web app: HTML pages and the JSON API over one live index.

This module only wires the parts together; each concern has its own module:
pages, api and feeds (the routes; feeds is the Atom feed of a search), params
(request parameters, the state of a search page), engine (every query of the
index), results and charts (what a page shows), formatting (Jinja filters),
errors (error pages and JSON errors), security (response headers), templates
(finding templates/).
"""

from __future__ import annotations

import os
from threading import BoundedSemaphore
from pathlib import Path

from flask import Flask

from searchapp.engine import open_engine
from searchapp.web import api, errors, feeds, formatting, pages
from searchapp.web.security import security_headers
from searchapp.web.templates import templates_dir

__all__ = ["create_app"]

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def create_app(test_config: dict | None = None) -> Flask:
    """App factory: one engine per app, which reopens its live build by itself when it changes."""
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(STATIC_DIR))
    app.config.from_mapping(INDEX_DIR=os.environ.get("SEARCHAPP_INDEX", "index"), ENGINE=None, ENGINE_OPTIONS={},
                            SEARCH_SLOTS=None)
    if test_config:
        app.config.from_mapping(test_config)
    engine = app.extensions["searchapp.engine"] = open_engine(app.config["INDEX_DIR"], app.config["ENGINE"],
                                                                   **app.config["ENGINE_OPTIONS"])
    app.extensions["searchapp.slots"] = BoundedSemaphore(app.config["SEARCH_SLOTS"] or engine.search_slots)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(formatting.FILTERS)
    app.jinja_env.globals.update(formatting.GLOBALS)
    for blueprint in (pages.bp, api.bp, feeds.bp, errors.bp):
        app.register_blueprint(blueprint)
    app.after_request(security_headers)
    return app
