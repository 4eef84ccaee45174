"""The Atom feed of a search (`/feed.atom`): the same parameters as the search
page, so any search, an actor's or an outlet's, can be followed in a feed
reader. The feed itself is built by searchapp.search.feeds; this route only
supplies the search and the absolute URLs a feed must carry.
"""

from __future__ import annotations

from urllib.parse import urljoin

from flask import Blueprint, Response, request, url_for

from searchapp.search import feeds
from searchapp.web import engine
from searchapp.web.params import SearchState

MIMETYPE = "application/atom+xml"

bp = Blueprint("feeds", __name__)


def feed_title(state: SearchState) -> str:
    """What is followed, as the search page's chips name it: the query, then each filter."""
    parts = [f"“{state.q}”" if state.q else "Semua artikel"]
    parts += [f"{chip['label']}: {chip['value']}" for chip in state.chips()]
    return " · ".join([*parts, "searchapp"])


@bp.get("/feed.atom")
def feed() -> Response:
    """The newest feeds.FEED_SIZE articles of a search; a bad parameter is the usual 400 page."""
    state = SearchState.of_filters(request.args)
    result = engine.feed_search(request.args)
    root = request.host_url
    body = feeds.atom(
        result,
        title=feed_title(state),
        feed_url=urljoin(root, state.view_url("feeds.feed")),
        page_url=urljoin(root, state.url(sort="newest")),
        article_url=lambda article_id: url_for("pages.article_page", article_id=article_id, _external=True),
    )
    response = Response(body, mimetype=MIMETYPE)
    response.headers["Content-Type"] = f"{MIMETYPE}; charset=utf-8"
    return response
