"""A reproducible sample of a result set for content coding (`sample`, `seed` on
the export): the same articles for the same seed and index content whatever
order the index stores them in, drawn uniformly from the whole result set,
checked against a brute-force filter over the 600 real articles."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from searchapp.search import insights

from tests.conftest import engine_at, matching_ids, rebuild, write_jsonl
from tests.test_api import check, error_of

pytestmark = pytest.mark.engines


def ids(client, **params) -> list[str]:
    """The ids of the export's rows, in order (JSON lines)."""
    response = client.get("/api/export", query_string={"format": "jsonl", **params})
    assert response.status_code == 200, response.data[:300]
    return [json.loads(line)["id"] for line in response.get_data(as_text=True).splitlines()]


def library_ids(live, **kwargs) -> list[str]:
    return [json.loads(line)["id"] for line in insights.export(live, "jsonl", **kwargs)]


def in_dates(records: list[dict], start: str, end: str) -> set[str]:
    """Brute force: the ids of the records published in [start, end]."""
    return {r["id"] for r in records if r.get("published") and start <= r["published"][:10] <= end}


def test_the_same_seed_draws_the_same_rows(cclient, clive):
    first = ids(cclient, sample=25, seed=7)
    assert len(first) == 25 == len(set(first))
    assert first == sorted(first)  # in id order
    assert ids(cclient, sample=25, seed=7) == first
    assert library_ids(clive, sample=25, seed=7) == library_ids(clive, sample="25", seed="7") == first
    text = cclient.get("/api/export", query_string={"format": "csv", "sample": 25, "seed": 7}).get_data(as_text=True)
    assert [row["id"] for row in csv.DictReader(io.StringIO(text))] == first


def test_another_seed_draws_other_rows(cclient):
    draws = {tuple(ids(cclient, sample=25, seed=seed)) for seed in (0, 1, 2, 123456789)}
    assert len(draws) == 4


def test_the_sample_is_drawn_from_the_whole_result_set(cclient, clive, clickid_records):
    records = clickid_records[:600]
    dated = in_dates(records, "2019-09-12", "2019-09-16")
    assert 30 < len(dated) < 600
    for seed in range(5):
        drawn = ids(cclient, sample=20, seed=seed, **{"from": "2019-09-12", "to": "2019-09-16"})
        assert len(drawn) == 20 and set(drawn) <= dated
    matching = matching_ids(clive, "presiden")
    assert len(matching) > 20 and set(ids(cclient, q="presiden", sample=10, seed=1)) <= matching
    ranked = ids(cclient)  # all 600, in the ranked export's order
    rank = {article_id: i for i, article_id in enumerate(ranked)}
    assert max(rank[i] for i in ids(cclient, sample=30, seed=1)) >= len(ranked) // 2  # not only the top


def test_a_sample_larger_than_the_result_set_is_all_of_it(cclient, clickid_records):
    dated = in_dates(clickid_records[:600], "2019-09-12", "2019-09-16")
    everything = ids(cclient, sample=insights.EXPORT_CAP, seed=3, **{"from": "2019-09-12", "to": "2019-09-16"})
    assert everything == sorted(dated)
    assert ids(cclient, q="zzzqqxx", sample=5) == []


def test_the_draw_does_not_depend_on_the_index_order(tmp_path, clive, clickid_slice):
    lines = clickid_slice.read_text("utf-8").splitlines()
    reversed_corpus = write_jsonl(tmp_path / "reversed.jsonl", [json.loads(line) for line in reversed(lines)])
    rebuild([reversed_corpus], tmp_path / "index", procs=1)
    other = engine_at(tmp_path / "index")
    try:
        for kwargs in ({}, {"q": "presiden"}, {"topic": "Olahraga"}):
            assert library_ids(other, sample=40, seed=11, **kwargs) == library_ids(clive, sample=40, seed=11, **kwargs)
    finally:
        other.close()


def test_every_article_is_equally_likely(live):
    """Two of the five seed articles, 1,000 draws: each article 400 times expected
    (standard deviation 15.5); a bias toward some articles would show far beyond."""
    counts = Counter(i for seed in range(1000) for i in library_ids(live, sample=2, seed=seed))
    assert len(counts) == 5 and all(320 < n < 480 for n in counts.values()), counts


def test_without_sample_the_export_is_unchanged(client):
    ranked = ids(client, q="taliban")
    assert ids(client, q="taliban", seed=5) == ranked
    assert len(ids(client, q="taliban", sample=1, seed=5)) == 1


@pytest.mark.parametrize("params, reason, words", [
    ({"sample": 0}, "out_of_range", "sample"),
    ({"sample": insights.EXPORT_CAP + 1}, "out_of_range", "sample"),
    ({"sample": "lima"}, "bad_number", "sample"),
    ({"sample": ""}, "bad_number", "sample"),
    ({"sample": 5, "seed": -1}, "out_of_range", "seed"),
    ({"sample": 5, "seed": insights.MAX_SEED + 1}, "out_of_range", "seed"),
    ({"sample": 5, "seed": "1.5"}, "bad_number", "seed"),
    ({"seed": "x"}, "bad_number", "seed"),
])
def test_bad_sample_or_seed_is_a_400(client, params, reason, words):
    url_params = {"format": "csv", **params}
    response = client.get("/api/export", query_string=url_params, headers={"Accept-Language": "en"})
    assert words in error_of(response, 400, "invalid_parameter", reason)
    spec = client.get("/api/openapi.json").get_json()
    check(spec, "Error", response.get_json())
    indonesian = error_of(client.get("/api/export", query_string=url_params), 400, "invalid_parameter", reason)
    assert ("ukuran sampel" if words == "sample" else "seed sampel") in indonesian


def test_the_sample_is_documented(client):
    params = {p["name"]: p for p in client.get("/api/openapi.json").get_json()["paths"]["/api/export"]["get"]["parameters"]}
    assert params["sample"]["schema"]["maximum"] == insights.EXPORT_CAP
    assert params["seed"]["schema"]["maximum"] == insights.MAX_SEED
