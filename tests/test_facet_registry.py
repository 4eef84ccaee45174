"""The facet registry: a fourth facet is one declaration, and every layer
(document, engine, filters, counts, API and OpenAPI, sidebar, CLI, export)
takes it up; counts equal a brute-force count over real articles."""

from __future__ import annotations

import importlib
import json
from collections import Counter

import pytest

from searchapp import facets
from searchapp.facets import Facet
from searchapp.search import search
from searchapp.search.insights import export
from searchapp.web import create_app

from tests.conftest import app_config, cli_index, engine_at, rebuild
from tests.test_api import check

SECTION = Facet(
    name="rubrik",
    label="Rubrik",
    description="the outlet's own section (category) of the article",
    extract=lambda article, _ctx: [article.category] if article.category else [],
    multi_valued=False,
    sidebar=4,
)

pytestmark = pytest.mark.engines


@pytest.fixture
def toy(monkeypatch, tmp_path, clickid_slice, clickid_records):
    monkeypatch.setattr(facets, "FACETS", (*facets.FACETS, SECTION))
    rebuild([clickid_slice], tmp_path / "index", procs=1)
    engine = engine_at(tmp_path / "index")
    records = {r["id"]: r for r in clickid_records[:600]}
    yield engine, records, tmp_path / "index"
    engine.close()


def truth(records: dict, ids=None) -> Counter:
    return Counter(r["category"] for i, r in records.items() if r.get("category") and (ids is None or i in ids))


def test_a_toy_facet_is_indexed_filtered_and_counted(toy):
    engine, records, _index = toy
    expected = truth(records)
    assert len(expected) >= 3
    result = search(engine, "", count="articles")  # the truth counts articles (stories: tests/test_stories.py)
    assert {r["value"]: r["count"] for r in result["facets"]["rubrik"]["results"]} == dict(expected.most_common(30))
    value, count = expected.most_common(1)[0]
    chosen = search(engine, "", rubrik=value, per_page=100, collapse="off")
    assert chosen["total"] == count and all(h["rubrik"] == value for h in chosen["hits"])
    # its counts ignore its own selection; the other facets count within it
    assert {r["value"]: r["count"] for r in chosen["facets"]["rubrik"]["results"]} == dict(expected.most_common(30))
    rows = [json.loads(line) for line in export(engine, "jsonl", rubrik=value, count="articles")]
    assert len(rows) == count and {r["rubrik"] for r in rows} == {value}
    assert {r["id"] for r in rows} == {i for i, r in records.items() if r.get("category") == value}
    outlets = Counter(r["outlet"] for r in rows)
    assert {r["value"]: r["count"] for r in chosen["facets"]["outlet"]["results"]} == dict(outlets)


def test_a_toy_facet_reaches_the_api_the_page_and_the_cli(toy, runner, monkeypatch):
    _engine, records, index_dir = toy
    value, count = truth(records).most_common(1)[0]
    app = create_app(app_config(index_dir))
    try:
        client = app.test_client()
        spec = client.get("/api/openapi.json").get_json()
        assert "rubrik" in [p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]]
        body = client.get("/api/search", query_string={"rubrik": value}).get_json()
        check(spec, "SearchResult", body)
        assert body["total"] == count
        page = client.get("/", query_string={"rubrik": value}).get_data(as_text=True)
        assert "Rubrik" in page and value in page
    finally:
        app.extensions["searchapp.engine"].close()
    from searchapp import cli

    try:
        main = importlib.reload(cli).main  # its options are made from the registry when the module loads
        out = runner.invoke(main, ["search", *cli_index(index_dir), "--rubrik", value, "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["total"] == count
    finally:
        monkeypatch.undo()
        importlib.reload(cli)
