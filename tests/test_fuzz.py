"""Fuzzing: arbitrary text and parameters never crash the search function or the API."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.errors import QueryError
from searchapp.search import search

SYNTAX = st.sampled_from(list('()"*?:-+^~[]{}\\/ ') + ["AND", "OR", "NOT", "title:", "body:", "id:", "*:*", "TO"])
QUERY = st.lists(st.one_of(SYNTAX, st.text(max_size=12), st.sampled_from(["Taliban", "Rusia", "serangan", "AS"])),
                 max_size=12).map(" ".join)
PARAM = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 20000).map(str))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

pytestmark = pytest.mark.engines


@FUZZ
@given(q=QUERY, page=PARAM, per_page=PARAM, sort=PARAM, date_from=PARAM, outlet=st.lists(st.text(max_size=10), max_size=3))
def test_search_function_raises_only_query_errors(live, q, page, per_page, sort, date_from, outlet):
    try:
        result = search(live, q, page=page or 1, per_page=per_page or 10, sort=sort or "relevance",
                        date_from=date_from, outlet=outlet)
    except QueryError:
        return
    assert result["total"] >= len(result["hits"])


@FUZZ
@given(q=QUERY, page=PARAM, per_page=PARAM, sort=PARAM, to=PARAM, actor=st.text(max_size=10))
def test_api_never_answers_500(client, q, page, per_page, sort, to, actor):
    params = {"q": q, "page": page, "per_page": per_page, "sort": sort, "to": to, "actor": actor}
    response = client.get("/api/search", query_string={k: v for k, v in params.items() if v is not None})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.get_json()["error"]) >= {"code", "message"}


@FUZZ
@given(article_id=st.text(max_size=40))
def test_article_api_never_answers_500(client, article_id):
    response = client.get("/api/articles/" + article_id.replace("/", "%2F").replace("?", "%3F").replace("#", "%23"))
    assert response.status_code in (200, 404, 308)


@pytest.mark.parametrize("q", ["\x00", "é" * 100, "💥 Taliban", "Taliban\u200b", "<script>"])
def test_odd_characters(live, q):
    assert "hits" in search(live, q)
