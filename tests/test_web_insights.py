"""The views of a whole result set on the web page and in the JSON API: timeline,
actor co-occurrence, similar articles, how the query matched, and export.

Every count a view shows is checked against what its link returns, on the seed
corpus and on 600 real articles; every JSON response against /api/openapi.json.
"""

from __future__ import annotations

import csv
import io
import json
import re
from itertools import combinations
from urllib.parse import urlencode

import pytest
from openapi_spec_validator import validate as validate_spec

from searchapp.search import insights
from searchapp.search import search
from searchapp.web import create_app

from tests.conftest import app_config, rebuild, write_jsonl
from tests.test_api import check, documented, error_of
from tests.test_web import get, parse, query_of, total

FILTERS = ("q", "outlet", "actor", "topic", "from", "to", "all_actor", "collapse", "count", "story")

pytestmark = pytest.mark.engines


def search_kwargs(params: dict[str, list[str]]) -> dict:
    """search() keywords for a parsed query string."""
    one = lambda k: params.get(k, [""])[0]  # noqa: E731
    return dict(q=one("q"), outlet=params.get("outlet"), actor=params.get("actor"), topic=params.get("topic"),
                date_from=one("from") or None, date_to=one("to") or None, require_actor=params.get("all_actor"))


def as_kwargs(query: dict) -> dict:
    """search() keywords for a test's query dict (values a string or a list)."""
    return search_kwargs({k: v if isinstance(v, list) else [v] for k, v in query.items()})


def count_of(label: str) -> int:
    """The number in '… : 1.234 artikel'."""
    return int(re.search(r"([\d.]+) artikel", label).group(1).replace(".", ""))


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def top_actors(live, n: int, **filters) -> list[str]:
    return [r["value"] for r in search(live, **filters)["facets"]["actor"]["results"][:n]]


# --- the OpenAPI document ----------------------------------------------------------


def test_openapi_documents_every_view(spec):
    validate_spec(spec)
    for path, extra in (("/api/timeline", {"series"}), ("/api/cooccurrence", {"size"}),
                        ("/api/export", {"format", "sample", "seed"})):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert names == set(FILTERS) | extra, path
    assert {p["name"] for p in spec["paths"]["/api/articles/{id}/similar"]["get"]["parameters"]} == {"id"}
    export = spec["paths"]["/api/export"]["get"]
    assert "10000" in export["description"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/x-ndjson"}
    assert {"Timeline", "Cooccurrence", "SimilarResult", "ExportRow"} <= set(spec["components"]["schemas"])


# --- timeline -------------------------------------------------------------------------

SEED_QUERIES = [{}, {"q": "taliban"}, {"q": "serangan", "from": "2021-07-20"}, {"actor": ["Rusia", "China"]},
                {"all_actor": ["Taliban", "Rusia"]}]
CLICKID_QUERIES = [{}, {"q": "presiden"}, {"topic": "Olahraga"}, {"q": "banjir", "from": "2019-09-12", "to": "2019-09-16"},
                   {"q": "jokowi", "outlet": "Fimela"}]


def check_timeline(client, live, spec, query: dict) -> dict:
    response = client.get("/api/timeline", query_string=query)
    assert response.status_code == 200
    body = response.get_json()
    check(spec, documented(spec, "/api/timeline", 200), body)
    expected = search(live, **as_kwargs(query))["stories"]  # stories, as the page counts them by default
    assert body["total"] == expected and body["count"] == "stories"
    assert sum(b["count"] for b in body["buckets"]) + body["undated"] >= expected  # a story may run on two days
    for b in body["buckets"]:  # each bucket is exactly the search over its days
        kwargs = {**as_kwargs(query), "date_from": max(b["start"], query.get("from", "")),
                  "date_to": min(b["end"], query.get("to", "9999"))}
        assert search(live, **kwargs)["stories"] == b["count"], b
    return body


@pytest.mark.parametrize("query", SEED_QUERIES)
def test_timeline_api_on_the_seeds(client, live, spec, query):
    body = check_timeline(client, live, spec, query)
    assert body["interval"] in ("week", "day")


@pytest.mark.parametrize("query", CLICKID_QUERIES)
def test_timeline_api_on_real_articles(cclient, clive, spec, query):
    body = check_timeline(cclient, clive, spec, query)
    assert body["buckets"] and body["interval"] == "day"


def test_timeline_series_compare_actors(cclient, clive, spec):
    a, b = top_actors(clive, 2)
    body = cclient.get("/api/timeline", query_string={"series": [a, b]}).get_json()
    check(spec, "Timeline", body)
    assert list(body["series"]) == [a, b]
    for actor in (a, b):
        assert len(body["series"][actor]) == len(body["buckets"])
        assert sum(body["series"][actor]) <= search(clive, actor=actor)["total"]
    selected = cclient.get("/api/timeline", query_string={"actor": [a, b]}).get_json()
    assert list(selected["series"]) == [a, b]  # the selected actors by default
    page = get(cclient, "/?" + urlencode([("actor", a), ("actor", b)]))
    legend = page.find("ul", cls="legend").text
    assert a in legend and b in legend
    assert len(page.find("svg", cls="chart").find_all("g", cls="series")) == 2


def bars(page) -> list[tuple[str, int]]:
    """(href, count) of every linked bar of the timeline chart."""
    svg = page.find("svg", cls="chart")
    return [(a.attrs["href"], count_of(a.attrs["aria-label"])) for a in svg.find_all("a")]


@pytest.mark.parametrize("app_name, query", [("seed", {"q": "taliban"}), ("seed", {"q": "taliban", "from": "2021-07-07", "sort": "oldest"}),
                                             ("clickid", {}), ("clickid", {"q": "presiden", "per_page": "5", "page": "2"}),
                                             ("clickid", {"topic": "Hiburan", "actor": "BJ Habibie"})])
def test_timeline_bars_link_to_their_period(client, cclient, app_name, query):
    c = client if app_name == "seed" else cclient
    url = "/?" + urlencode(query, doseq=True)
    page = get(c, url)
    api_body = c.get("/api/timeline", query_string=query).get_json()
    found = bars(page)
    assert found and [n for _h, n in found] == [b["count"] for b in api_body["buckets"] if b["count"]]
    for (href, n), bucket in zip(found, [b for b in api_body["buckets"] if b["count"]]):
        params = query_of(href)
        assert "page" not in params  # a new filter starts at page 1
        for key in ("q", "actor", "topic", "sort", "per_page"):  # everything else is kept
            assert params.get(key) == ([query[key]] if key in query else None), (key, href)
        assert params["from"][0] >= bucket["start"] and params["to"][0] <= bucket["end"]
        assert total(get(c, href)) == n
    svg = page.find("svg", cls="chart")
    assert len(svg.find_all("text", cls="tick-label")) >= 2  # first and last dates at least
    assert all(a.find("title").text == a.attrs["aria-label"] for a in svg.find_all("a"))  # count on hover


def test_no_timeline_without_a_spread_of_dates(client):
    assert not parse(client.get("/?q=zzzqqxx").data).find_all("figure", cls="timeline")
    one_day = get(client, "/?from=2021-10-21&to=2021-10-21")
    assert total(one_day) >= 1 and not one_day.find_all("figure", cls="timeline")


def test_undated_articles_are_noted(client, live):
    page = get(client, "/")
    assert "2 berita tanpa tanggal" in page.find("figure", cls="timeline").text  # stories, as the page counts


# --- co-occurrence ----------------------------------------------------------------------


def brute_pairs(live, **filters) -> dict:
    """Pair counts by reading every article's actors through the search
    function: the stories with an article naming both (copies counted once)."""
    pairs: dict = {}
    total_ = search(live, per_page=1, collapse="off", **filters)["total"]
    for page in range(1, total_ // 100 + 2):
        for hit in search(live, page=page, per_page=100, collapse="off", **filters)["hits"]:
            for pair in combinations(sorted(hit["actor"]), 2):
                pairs.setdefault(pair, set()).add(hit["story"]["id"])
    return {pair: len(stories) for pair, stories in pairs.items()}


@pytest.mark.parametrize("app_name, query", [("seed", {}), ("seed", {"q": "taliban", "size": "5"}),
                                             ("clickid", {}), ("clickid", {"q": "presiden"}),
                                             ("clickid", {"topic": "Hiburan", "from": "2019-09-12"})])
def test_cooccurrence_api_matches_brute_force(client, live, cclient, clive, spec, app_name, query):
    c, lv = (client, live) if app_name == "seed" else (cclient, clive)
    response = c.get("/api/cooccurrence", query_string=query)
    assert response.status_code == 200
    body = response.get_json()
    check(spec, documented(spec, "/api/cooccurrence", 200), body)
    kwargs = as_kwargs({k: v for k, v in query.items() if k != "size"})
    assert body["total"] == search(lv, **kwargs)["stories"]
    assert len(body["actors"]) <= int(query.get("size", 12))
    brute = brute_pairs(lv, **kwargs)
    names = [a["value"] for a in body["actors"]]
    for i, a in enumerate(names):
        assert body["matrix"][i][i] == body["actors"][i]["count"] == search(lv, **{**kwargs, "require_actor": [a]})["stories"]
        for j, b in enumerate(names):
            assert body["matrix"][i][j] == body["matrix"][j][i] == (brute.get(tuple(sorted((a, b))), 0) if i != j else body["matrix"][i][i])
    for p in body["pairs"]:
        assert brute[(p["a"], p["b"])] == p["count"]


@pytest.mark.parametrize("app_name, query", [("seed", {"q": "taliban"}), ("clickid", {}),
                                             ("clickid", {"q": "presiden", "outlet": "Fimela"})])
def test_cooccurrence_cells_link_to_exactly_their_articles(client, live, cclient, clive, app_name, query):
    c, lv = (client, live) if app_name == "seed" else (cclient, clive)
    url = "/cooccurrence?" + urlencode(query, doseq=True)
    page = get(c, url)
    assert int(page.find(id="result-count").find("strong").text.replace(".", "")) == search(lv, **as_kwargs(query))["stories"]
    table = page.find("table", cls="heat")
    names = [th.text.strip() for th in table.find("thead").find_all("th")]
    body = c.get("/api/cooccurrence", query_string=query).get_json()
    assert names == [a["value"] for a in body["actors"]]
    brute = brute_pairs(lv, **as_kwargs(query))
    rows = table.find("tbody").find_all("tr")
    assert len(rows) == len(names)
    checked = 0
    for i, row in enumerate(rows):
        cells = row.find_all("td")
        assert len(cells) == len(names)
        for j, cell in enumerate(cells):
            links = cell.find_all("a")
            expected = body["matrix"][i][j]
            if not expected:
                assert not links
                continue
            link = links[0]
            assert int(link.text.replace(".", "")) == expected
            if j < i:
                continue  # symmetric: the upper triangle and the diagonal are followed
            params = query_of(link.attrs["href"])
            assert sorted(params["all_actor"]) == sorted({names[i], names[j]})
            assert total(get(c, link.attrs["href"])) == expected
            if i != j:
                assert brute[tuple(sorted((names[i], names[j])))] == expected
            checked += 1
    assert checked >= 2
    for li in page.find("ol", cls="pair-list").find_all("li")[:5]:
        a = li.find("a")
        assert total(get(c, a.attrs["href"])) == int(li.find(cls="count").text.replace(".", ""))


def test_cooccurrence_is_reachable_and_keeps_the_search(client):
    page = get(client, "/?q=taliban&actor=Rusia&sort=oldest&page=1&per_page=2")
    tabs = {a.text: a.attrs["href"] for a in page.find("nav", cls="views").find_all("a")}
    assert query_of(tabs["Aktor bersama"]) == {"q": ["taliban"], "actor": ["Rusia"]}
    cooc = get(client, tabs["Aktor bersama"])
    back = {a.text: a.attrs["href"] for a in cooc.find("nav", cls="views").find_all("a")}
    assert query_of(back["Artikel"]) == {"q": ["taliban"], "actor": ["Rusia"]}
    assert cooc.find("form", id="search").attrs["action"] == "/cooccurrence"
    hidden = {(i.attrs["name"], i.attrs["value"]) for i in cooc.find("form", id="search").find_all("input", type="hidden")}
    assert hidden == {("actor", "Rusia")}
    assert list(chip.text.split(":")[0].strip() for chip in cooc.find_all("a", cls="chip")) == ["Aktor"]


def test_all_actor_is_a_filter_with_a_chip(client, live):
    page = get(client, "/?all_actor=Taliban&all_actor=Rusia&q=serangan")
    assert total(page) == search(live, "serangan", require_actor=["Taliban", "Rusia"])["total"]
    chips = {a.text.split("×")[0].strip(): a.attrs["href"] for a in page.find_all("a", cls="chip")}
    assert query_of(chips["Menyebut: Taliban"]) == {"q": ["serangan"], "all_actor": ["Rusia"]}
    hidden = {(i.attrs["name"], i.attrs["value"]) for i in page.find("form", id="search").find_all("input", type="hidden")}
    assert hidden == {("all_actor", "Taliban"), ("all_actor", "Rusia")}
    assert query_of(page.find("a", cls="clear-all").attrs["href"]) == {"q": ["serangan"]}


def test_cooccurrence_with_nothing_to_pair(client):
    page = get(client, "/cooccurrence?q=zzzqqxx")
    assert "Tidak ada artikel" in page.find(cls="empty").text
    assert not page.find_all("table")
    assert client.get("/cooccurrence?q=&actor=Rusia").headers["Location"] == "/cooccurrence?actor=Rusia"


# --- similar articles ---------------------------------------------------------------------


@pytest.mark.parametrize("app_name", ["seed", "clickid"])
def test_article_page_lists_similar_articles(client, live, cclient, clive, spec, app_name):
    c, lv = (client, live) if app_name == "seed" else (cclient, clive)
    for hit in search(lv, "serangan" if app_name == "seed" else "presiden", per_page=3)["hits"]:
        body = c.get(f"/api/articles/{hit['id']}/similar").get_json()
        check(spec, documented(spec, "/api/articles/{id}/similar", 200), body)
        assert body["id"] == hit["id"] and 1 <= len(body["similar"]) <= 5
        assert hit["id"] not in [s["id"] for s in body["similar"]]
        page = get(c, f"/article/{hit['id']}")
        items = page.find("section", cls="similar").find_all("li")
        assert len(items) == len(body["similar"])
        for item, s in zip(items, body["similar"]):
            link = item.find("a")
            assert link.attrs["href"] == f"/article/{s['id']}"
            assert (s["title"] or s["id"]) in link.text
            meta = item.find("p", cls="hit-meta")
            if s["outlet"]:
                assert meta.find(cls="outlet").text == s["outlet"]
            if s["published"]:
                assert meta.find("time").attrs["datetime"] == s["published"]
        assert get(c, f"/article/{body['similar'][0]['id']}").find("h1")  # the link opens


def test_similar_of_an_unknown_article_is_a_404(client, spec):
    assert "nope" in error_of(client.get("/api/articles/nope/similar"), 404, "not_found")
    check(spec, documented(spec, "/api/articles/{id}/similar", 404), client.get("/api/articles/nope/similar").get_json())


def test_similar_with_slashes_in_ids(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [
        {"id": "a/b c&d", "title": "Banjir di Jakarta", "body": "Banjir besar melanda Jakarta. Warga mengungsi karena banjir.",
         "published": "2021-09-01"},
        {"id": "x/similar", "title": "Banjir lagi", "body": "Banjir kembali melanda Jakarta, warga mengungsi.",
         "published": "2021-09-02"},
    ])
    rebuild([corpus], tmp_path / "index", procs=1)
    app = create_app(app_config(tmp_path / "index"))
    try:
        c = app.test_client()
        body = c.get("/api/articles/a/b%20c&d/similar").get_json()
        assert body["id"] == "a/b c&d" and [s["id"] for s in body["similar"]] == ["x/similar"]
        # an id ending in /similar: its neighbours are one /similar further
        assert c.get("/api/articles/x/similar/similar").get_json()["id"] == "x/similar"
        page = parse(c.get("/article/x/similar").data)
        assert page.find("section", cls="similar").find("a").attrs["href"] == "/article/a/b%20c&d"
    finally:
        app.extensions["searchapp.engine"].close()


# --- how the query matched ----------------------------------------------------------------------


def test_how_it_matched_shows_stems_forms_and_aliases(client, cclient, clive):
    page = get(client, "/?q=serangan")
    reading = page.find("details", cls="reading")
    assert "Dicari sebagai" in reading.find("summary").text
    assert "serangan → serang" in " ".join(reading.text.split())
    real = get(cclient, "/?q=serangan+Jokowi")
    reading = real.find("details", cls="reading")
    text = " ".join(reading.text.split())
    forms = search(clive, "serangan")["searched_as"]["words"][0]["forms"]
    assert forms and all(f in text for f in forms)
    assert [f.text for f in reading.find_all("span", cls="form")][: len(forms)] == forms
    assert "Jokowi = Joko Widodo" in " ".join(reading.find("summary").text.split())
    assert "nama lain aktor Joko Widodo" in text
    assert not parse(client.get("/").data).find_all("details", cls="reading")  # nothing to explain when browsing


# --- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_name, query", [("seed", {"q": "Rusia"}), ("seed", {}), ("clickid", {}),
                                             ("clickid", {"q": "presiden", "all_actor": ["BJ Habibie", "Ainun Habibie"]}),
                                             ("clickid", {"q": "zzzqqxx"})])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_has_every_result(client, live, cclient, clive, app_name, query, fmt):
    c, lv = (client, live) if app_name == "seed" else (cclient, clive)
    response = c.get("/api/export", query_string={**query, "format": fmt})
    assert response.status_code == 200
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'.{fmt}"')
    text = response.get_data(as_text=True)
    if fmt == "csv":
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(text)))
        assert text.startswith("id,title,outlet,published,url,category,actor,topic")
    else:
        assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
        rows = [json.loads(line) for line in text.splitlines()]
    expected = search(lv, **as_kwargs(query))
    assert len(rows) == expected["stories"] == len({r["id"] for r in rows})  # one row per story
    if rows:
        assert set(rows[0]) == set(insights.export_fields())
        full = search(lv, per_page=100, **as_kwargs(query))
        assert {r["story"] for r in rows} >= {h["story"]["id"] for h in full["hits"]}  # every story listed


def test_export_rows_match_the_document(client, spec):
    rows = [json.loads(line) for line in client.get("/api/export?format=jsonl").get_data(as_text=True).splitlines()]
    for row in rows:
        check(spec, "ExportRow", row)


def test_export_is_capped(cclient, monkeypatch):
    monkeypatch.setattr(insights, "EXPORT_CAP", 7)
    text = cclient.get("/api/export?format=csv").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(text)))) == 7
    assert cclient.get("/api/export?format=jsonl").get_data(as_text=True).count("\n") == 7


def test_export_filename():
    from werkzeug.datastructures import MultiDict

    from searchapp.web.api import export_filename

    assert export_filename(MultiDict({"q": "Serangan Taliban!"}), "csv") == "searchapp-serangan-taliban.csv"
    assert export_filename(MultiDict({"q": "pemilu–2019 “é”"}), "jsonl") == "searchapp-pemilu-2019-e.jsonl"
    assert export_filename(MultiDict({"q": "résumé café"}), "csv") == "searchapp-resume-cafe.csv"
    assert export_filename(MultiDict({"q": "日本"}), "csv") == "searchapp-semua.csv"
    assert export_filename(MultiDict(), "csv") == "searchapp-semua.csv"


def test_export_links_and_cap_on_the_pages(client):
    for url in ("/?q=taliban&actor=Rusia&sort=oldest&page=2&per_page=2", "/cooccurrence?q=taliban&actor=Rusia"):
        page = get(client, url)
        export = page.find("p", cls="export")
        links = {a.text: a.attrs["href"] for a in export.find_all("a")}
        assert query_of(links["CSV"]) == {"format": ["csv"], "q": ["taliban"], "actor": ["Rusia"]}
        assert query_of(links["JSON Lines"]) == {"format": ["jsonl"], "q": ["taliban"], "actor": ["Rusia"]}
        assert "10.000" in export.text
        assert client.get(links["CSV"]).status_code == 200


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, words",
    [
        ("/api/timeline?from=yesterday", "from"),
        ("/api/timeline?from=2021-10-02&to=2021-10-01", "from"),
        ("/api/timeline?q=id:x", "title:"),
        ("/api/cooccurrence?size=x", "size"),
        ("/api/cooccurrence?size=1", "size"),
        ("/api/cooccurrence?size=31", "size"),
        ("/api/cooccurrence?to=2021-02-30", "to"),
        ("/api/export?format=xml", "format"),
        ("/api/export?format=csv&from=nope", "from"),
        ("/api/export?format=jsonl&q=outlet:Tempo", "title:"),
    ],
)
def test_bad_parameters_are_400_errors(client, spec, url, words):
    response = client.get(url, headers={"Accept-Language": "en"})
    assert words in error_of(response, 400, "invalid_parameter")
    check(spec, "Error", response.get_json())
    check(spec, "Error", client.get(url).get_json())  # Indonesian: the same shape


@pytest.mark.parametrize("url", ["/cooccurrence?from=2021-13-01", "/cooccurrence?size=0", "/?all_actor=X&from=x"])
def test_bad_parameters_are_a_400_page(client, url):
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_no_index_is_a_503_everywhere(tmp_path):
    app = create_app(app_config(tmp_path / "missing"))
    try:
        c = app.test_client()
        for url in ("/api/timeline", "/api/cooccurrence", "/api/articles/x/similar", "/api/export?format=csv"):
            error_of(c.get(url), 503, "index_unavailable")
        assert c.get("/cooccurrence").status_code == 503
    finally:
        app.extensions["searchapp.engine"].close()


def test_views_keep_the_content_security_policy(cclient, clive):
    some = search(clive, "presiden")["hits"][0]["id"]
    for url in ("/?q=presiden", "/?actor=BJ+Habibie&actor=Joko+Widodo", "/cooccurrence", f"/article/{some}"):
        response = cclient.get(url)
        html = response.get_data(as_text=True)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "<script" not in html and not re.search(r"\sstyle=", html), url  # CSP forbids both
