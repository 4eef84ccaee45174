"""The JSON API: search, article, errors, and every response checked against /api/openapi.json."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from searchapp.search import search
from searchapp.web import create_app

from tests.conftest import app_config

pytestmark = pytest.mark.engines


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def check(spec: dict, schema: str, body) -> None:
    """Validate a body against one component schema, $refs resolved inside the document."""
    root = {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    OAS31Validator(root, format_checker=OAS31Validator.FORMAT_CHECKER).validate(body)


def documented(spec: dict, path: str, status: int) -> str:
    """The component a path's response of this status is documented as."""
    content = spec["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]
    return content["schema"]["$ref"].rsplit("/", 1)[1]


def error_of(response, status: int, code: str, reason: str | None = None) -> str:
    """The message of an API error; a bad parameter (and only that) also names its `reason`."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    fields = {"code", "message", "reason"} if code == "invalid_parameter" else {"code", "message"}
    assert set(body) == {"error"} and set(body["error"]) == fields
    assert body["error"]["code"] == code and body["error"]["message"]
    if reason:
        assert body["error"]["reason"] == reason
    return body["error"]["message"]


ENGLISH = {"Accept-Language": "en"}


def test_openapi_document_is_valid(spec):
    validate_spec(spec)
    params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params == {"q", "outlet", "actor", "topic", "all_actor", "from", "to", "collapse", "count", "story", "sort",
                      "page", "per_page"}
    assert {"SearchResult", "Hit", "Facet", "Article", "Error"} <= set(spec["components"]["schemas"])


@pytest.mark.parametrize(
    "query",
    [
        {"q": "taliban"},
        {"q": ""},
        {"q": "serangan", "sort": "newest", "per_page": "2", "page": "2"},
        {"actor": ["Rusia", "China"], "outlet": "Intisari Online", "from": "2021-01-01", "to": "2021-12-31"},
        {"q": "zzzqqxx"},
        {"q": "talibn"},
        {"q": "teror* -ISIS"},
    ],
)
def test_search_responses_match_the_document(client, spec, query):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 200 and response.mimetype == "application/json"
    check(spec, documented(spec, "/api/search", 200), response.get_json())


def test_article_and_error_responses_match_the_document(client, spec, live):
    some_id = search(live, "taliban")["hits"][0]["id"]
    for q in ("", "taliban"):
        response = client.get(f"/api/articles/{some_id}", query_string={"q": q})
        check(spec, documented(spec, "/api/articles/{id}", 200), response.get_json())
    check(spec, documented(spec, "/api/articles/{id}", 404), client.get("/api/articles/nope").get_json())
    check(spec, documented(spec, "/api/search", 400), client.get("/api/search?page=x").get_json())


def test_search_is_the_search_dict(client, live):
    body = client.get("/api/search?q=taliban&actor=Rusia").get_json()
    expected = search(live, "taliban", actor=["Rusia"])
    for key in ("query", "total", "page", "per_page", "sort", "from", "to", "facets", "suggestion"):
        assert body[key] == expected[key], key
    assert [h["id"] for h in body["hits"]] == [h["id"] for h in expected["hits"]]


def test_snippets_are_plain_text_with_offsets(client):
    body = client.get("/api/search?q=taliban").get_json()
    assert body["total"] == 5
    for hit in body["hits"]:
        assert "<mark>" not in hit["snippet"]
        assert hit["highlights"]
        assert {hit["snippet"][s:e].lower() for s, e in hit["highlights"]} == {"taliban"}
        assert all(hit["title"][s:e].lower() == "taliban" for s, e in hit["title_highlights"])


def test_repeated_facets_and_paging(client, live):
    actors = [r["value"] for r in search(live, "")["facets"]["actor"]["results"][:2]]
    body = client.get("/api/search", query_string={"actor": actors, "per_page": 1, "page": 2}).get_json()
    assert body["total"] == search(live, "", actor=actors)["total"]
    assert body["page"] == 2 and body["per_page"] == 1 and len(body["hits"]) == 1
    assert {r["value"] for r in body["facets"]["actor"]["results"] if r["selected"]} == set(actors)


def test_dates_and_sort(client):
    body = client.get("/api/search?sort=oldest&from=2021-07-01&to=2021-10-10").get_json()
    dates = [h["published"] for h in body["hits"]]
    assert dates == sorted(dates) and all("2021-07-01" <= d <= "2021-10-10" for d in dates)
    assert body["from"] == "2021-07-01" and body["to"] == "2021-10-10"


def test_unknown_params_are_ignored(client):
    assert client.get("/api/search?q=taliban&foo=bar").get_json()["total"] == 5


def test_json_is_utf8_not_escaped(client):
    response = client.get("/api/search?q=taliban")
    assert response.mimetype_params.get("charset", "utf-8") == "utf-8"
    assert b"\\u" not in response.data


@pytest.mark.parametrize(
    "query, reason, words, kata",
    [
        ("page=x", "bad_number", "page", "nomor halaman"),
        ("page=0", "out_of_range", "page", "nomor halaman"),
        ("per_page=0", "out_of_range", "per_page", "per halaman"),
        ("per_page=101", "out_of_range", "per_page", "per halaman"),
        ("page=101&per_page=100", "too_deep", "10000", "10000"),
        ("sort=best", "bad_sort", "sort", "urutan"),
        ("from=yesterday", "bad_date", "from", "tanggal awal"),
        ("to=2021-02-30", "bad_date", "to", "tanggal akhir"),
        ("from=2021-10-02&to=2021-10-01", "dates_reversed", "from", "tanggal awal"),
        ("q=id:x", "field_not_searchable", "title:", "title:"),
        ("q=outlet:Tempo", "field_not_searchable", "title:", "title:"),
    ],
)
def test_bad_parameters_are_400_errors(client, query, reason, words, kata):
    """Indonesian by default, English on request; the reason is the same in both."""
    assert kata in error_of(client.get(f"/api/search?{query}"), 400, "invalid_parameter", reason)
    assert words in error_of(client.get(f"/api/search?{query}", headers=ENGLISH), 400, "invalid_parameter", reason)


def test_article(client, live):
    hit = search(live, "serangan")["hits"][0]
    body = client.get(f"/api/articles/{hit['id']}?q=serangan").get_json()
    assert body["id"] == hit["id"] and body["title"] == hit["title"]
    assert body["body"] and {body["body"][s:e].lower() for s, e in body["highlights"]} >= {"serangan"}
    assert client.get(f"/api/articles/{hit['id']}").get_json()["highlights"] == []


def test_unknown_article_route_and_method(client):
    assert "nope" in error_of(client.get("/api/articles/nope"), 404, "not_found")
    error_of(client.get("/api/nothing/here"), 404, "not_found")
    error_of(client.get("/api"), 404, "not_found")
    response = client.post("/api/search")
    error_of(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_no_index_is_a_503_error(tmp_path, spec):
    app = create_app(app_config(tmp_path / "missing"))
    client = app.test_client()
    try:
        for url in ("/api/search?q=taliban", "/api/articles/x"):
            response = client.get(url)
            assert "rebuild" in error_of(response, 503, "index_unavailable")
            check(spec, "Error", response.get_json())
        assert client.get("/api/openapi.json").status_code == 200
    finally:
        app.extensions["searchapp.engine"].close()


def test_unexpected_errors_are_500_json(client, monkeypatch):
    from searchapp.web import engine

    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(engine, "search", boom)
    message = error_of(client.get("/api/search?q=x"), 500, "internal_error")
    assert "secret" not in message
    page = client.get("/?q=x")
    assert page.status_code == 500 and b"secret" not in page.data and b"Traceback" not in page.data
