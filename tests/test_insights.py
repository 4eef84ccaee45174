"""Timeline, co-occurrence, similar articles and export: counts add up and match brute force."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from itertools import combinations

import pytest

from searchapp.search.insights import cooccurrence, export, similar, timeline
from searchapp.errors import QueryError
from searchapp.search import search
from tests.conftest import engine_at

pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def clickid_live(clickid_index, engine_name):
    live = engine_at(clickid_index)
    yield live
    live.close()


@pytest.mark.parametrize("q,filters", [("", {}), ("presiden", {}), ("", {"topic": ["Olahraga"]}), ("banjir", {"date_from": "2019-09-01"})])
def test_timeline_counts_add_up_to_the_total(clickid_live, q, filters):
    result = timeline(clickid_live, q=q, count="articles", **filters)
    assert result["total"] == search(clickid_live, q, **filters)["total"]
    assert sum(b["count"] for b in result["buckets"]) + result["undated"] == result["total"]
    stories = timeline(clickid_live, q=q, **filters)  # a story once on each day it ran: at least once
    assert stories["count"] == "stories" and stories["total"] == search(clickid_live, q, **filters)["stories"]
    assert result["total"] >= sum(b["count"] for b in stories["buckets"]) + stories["undated"] >= stories["total"]
    assert result["interval"] in ("day", "week", "month", None)
    starts = [b["start"] for b in result["buckets"]]
    assert starts == sorted(starts)


def test_timeline_interval_follows_the_span(live):
    result = timeline(live)  # seeds: July to October 2021
    assert result["interval"] == "week"
    assert result["undated"] == 2 and sum(b["count"] for b in result["buckets"]) == 3


def test_timeline_series_per_selected_actor(clickid_live):
    top = [r["value"] for r in search(clickid_live)["facets"]["actor"]["results"][:2]]
    result = timeline(clickid_live, series_actors=top)
    for actor in top:
        assert sum(result["series"][actor]) <= search(clickid_live, actor=[actor])["total"]
        assert len(result["series"][actor]) == len(result["buckets"])


def _brute_pairs(live, **filters):
    """Pair counts by reading every hit's actor list through the search function."""
    total = search(live, per_page=1, **filters)["total"]
    pairs = Counter()
    for page in range(1, total // 100 + 2):
        for hit in search(live, page=page, per_page=100, **filters)["hits"]:
            pairs.update(combinations(sorted(hit["actor"]), 2))
    return pairs


@pytest.mark.parametrize("filters", [{}, {"q": "Jokowi"}])
def test_cooccurrence_matches_brute_force(clickid_live, filters):
    result = cooccurrence(clickid_live, **filters)
    brute = _brute_pairs(clickid_live, **filters)
    assert result["pairs"], "the slice has co-occurring actors"
    for pair in result["pairs"]:
        assert brute[(pair["a"], pair["b"])] == pair["count"]
    assert result["pairs"][0]["count"] == max(brute.values())
    names = [a["value"] for a in result["actors"]]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if a != b:
                assert result["matrix"][i][j] == brute[tuple(sorted((a, b)))]


def test_similar_articles(live):
    found = similar(live, "004_bb470fe27ea90ed2")
    assert 1 <= len(found) <= 5
    assert "004_bb470fe27ea90ed2" not in [f["id"] for f in found]
    assert similar(live, "nope") is None


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_has_every_result_with_metadata(live, fmt):
    text = "".join(export(live, fmt, q="Rusia"))
    total = search(live, "Rusia")["total"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["actor"].count(";") >= 1
    else:
        rows = [json.loads(line) for line in text.splitlines()]
        assert isinstance(rows[0]["actor"], list)
    assert len(rows) == total
    assert {r["id"] for r in rows} == {h["id"] for h in search(live, "Rusia")["hits"]}


def test_export_cap_and_bad_format(live):
    assert len([line for line in export(live, "jsonl", cap=2)]) == 2
    with pytest.raises(QueryError):
        list(export(live, "xml"))


def test_require_actor_selects_articles_naming_all(clickid_live):
    pair = cooccurrence(clickid_live)["pairs"][0]
    both = search(clickid_live, require_actor=[pair["a"], pair["b"]], per_page=100)
    assert both["total"] == pair["count"]
    assert all({pair["a"], pair["b"]} <= set(h["actor"]) for h in both["hits"])
    either = search(clickid_live, actor=[pair["a"], pair["b"]])
    assert either["total"] >= both["total"]
    assert timeline(clickid_live, require_actor=[pair["a"], pair["b"]])["total"] == pair["count"]
