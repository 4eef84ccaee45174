"""Index the seeds and the real corpus, then search: ranks, counts, stems, facets, snippets."""

from __future__ import annotations

import json

import pytest

from searchapp.errors import QueryError
from searchapp.search import get_article, mark, search, stats

from tests.conftest import engine_at, rebuild, write_jsonl

pytestmark = pytest.mark.engines


def ids(result):
    return [h["id"] for h in result["hits"]]


@pytest.fixture
def tiny_index(live_from):
    """Articles made for one fact each."""
    return live_from(
        [
            {"id": "serang", "title": "Kabar perbatasan", "body": "Kelompok bersenjata menyerang pos perbatasan pada malam hari.",
             "outlet": "kompas.com", "published": "2021-10-01"},
            {"id": "kerjasama", "title": "Kabar dagang", "body": "Kedua negara sepakat bekerja sama dalam perdagangan kopi.",
             "outlet": "tempo.co", "published": "2021-09-01"},
            {"id": "judul", "title": "Serangan di Kunduz", "body": "Sebuah masjid di kota itu rusak parah.",
             "outlet": "kompas.com", "published": "2021-10-09"},
            {"id": "lama", "title": "Arsip lama", "body": "Tidak ada tanggal di sini tentang kopi.", "outlet": "tempo.co"},
        ],
    )


def test_stemming_both_ways(tiny_index):
    assert set(ids(search(tiny_index, "serangan"))) == {"serang", "judul"}
    assert ids(search(tiny_index, "kerja sama")) == ["kerjasama"]
    assert ids(search(tiny_index, '"kerja sama"')) == ["kerjasama"]


def test_ranking_prefers_title_then_lead_then_deep_body_and_exact_forms(tmp_path):
    filler = " ".join(f"kata{i}" for i in range(80))
    corpus = write_jsonl(tmp_path / "rank.jsonl", [
        {"id": "deep", "title": "Kabar pagi", "body": f"{filler} Pasukan itu menyerang pos."},
        {"id": "lead", "title": "Kabar siang", "body": f"Pasukan itu menyerang pos. {filler}"},
        {"id": "title", "title": "Serangan di pos", "body": f"{filler} {filler}"},
        {"id": "exact", "title": "Kabar malam", "body": f"Serangan ke pos terjadi. {filler}"},
    ])
    rebuild([corpus], tmp_path / "index")
    live = engine_at(tmp_path / "index")
    ranked = ids(search(live, "serangan", collapse="off"))  # their shared filler makes them copies of one text
    live.close()
    assert ranked.index("exact") < ranked.index("lead") < ranked.index("deep")
    assert ranked.index("title") < ranked.index("deep")


def test_snippet_marks_the_words_as_written(tiny_index):
    hit = next(h for h in search(tiny_index, "serangan")["hits"] if h["id"] == "serang")
    marked = mark(hit["snippet"], hit["highlights"], "[", "]")
    assert "[menyerang]" in marked
    assert "serang]" not in marked.replace("[menyerang]", "")


def test_sort_and_date_range(tiny_index):
    newest = search(tiny_index, "", sort="newest")
    assert ids(newest)[:3] == ["judul", "serang", "kerjasama"]
    assert ids(search(tiny_index, "", sort="oldest"))[:3] == ["kerjasama", "serang", "judul"]
    ranged = search(tiny_index, "", date_from="2021-09-15", date_to="2021-10-01")
    assert ids(ranged) == ["serang"]


def test_browse_page_is_everything_newest_first(tiny_index):
    result = search(tiny_index)
    assert result["total"] == 4
    assert ids(result)[0] == "judul"
    outlet = {r["value"]: r["count"] for r in result["facets"]["outlet"]["results"]}
    assert outlet == {"Kompas.com": 2, "Tempo": 2}


def test_facet_filter_and_counts_ignore_own_selection(tiny_index):
    result = search(tiny_index, "", outlet=["Kompas.com"])
    assert result["total"] == 2
    outlet = {r["value"]: (r["count"], r["selected"]) for r in result["facets"]["outlet"]["results"]}
    assert outlet == {"Kompas.com": (2, True), "Tempo": (2, False)}
    both = search(tiny_index, "", outlet=["Kompas.com", "Tempo"])
    assert both["total"] == 4


def test_unknown_field_syntax_is_plain_text(tiny_index):
    assert search(tiny_index, "secret:kopi")["total"] == 0
    assert search(tiny_index, "kopi")["total"] == 2


def test_pagination(tiny_index):
    first = search(tiny_index, "", per_page=3)
    second = search(tiny_index, "", per_page=3, page=2)
    assert len(first["hits"]) == 3 and len(second["hits"]) == 1
    assert not set(ids(first)) & set(ids(second))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(page="x"), "page must be a whole number"),
        (dict(page=0), "page must be between"),
        (dict(per_page=101), "per_page must be between"),
        (dict(page=500, per_page=100), "deeper than"),
        (dict(sort="random"), "sort must be one of"),
        (dict(date_from="2021-13-01"), "from must be a date"),
        (dict(date_from="2021-10-02", date_to="2021-10-01"), "from must not be after to"),
        (dict(q="id:004_bb470fe27ea90ed2"), "only the fields"),
        (dict(q="outlet:Tempo"), "only the fields"),
    ],
)
def test_bad_parameters(tiny_index, kwargs, message):
    with pytest.raises(QueryError, match=message):
        search(tiny_index, **kwargs)


def test_seed_search_end_to_end(live):
    result = search(live, "Taliban Moskow")
    assert result["total"] >= 3
    for hit in result["hits"]:
        assert hit["highlights"], hit["id"]
    assert search(live, "talib")["total"] == 0  # the name was not stemmed into "talib"
    assert search(live, "Taliban")["total"] == 5


def test_boilerplate_is_not_searchable(live):
    for query in ['"Kabar Sawit"', "berlangganan", '"Baca Juga"', "Syahrianto", '"Bagikan Artikel"', "views"]:
        assert search(live, query)["total"] == 0, query


def test_seed_facets_present(live):
    result = search(live, "")
    outlets = {r["value"] for r in result["facets"]["outlet"]["results"]}
    assert {"Intisari Online", "Inionline.id", "Warta Ekonomi"} <= outlets
    actors = {r["value"]: r["count"] for r in result["facets"]["actor"]["results"]}
    assert actors["Taliban"] == 5 and actors["Rusia"] == 4  # 002 never names Russia


def test_get_article_marks_body(live):
    article = get_article(live, "004_bb470fe27ea90ed2", "Moskow")
    assert article["outlet"] == "Warta Ekonomi"
    assert article["published"] == "2021-07-08"
    assert all(article["body"][s:e] == "Moskow" for s, e in article["highlights"])
    assert len(article["highlights"]) >= 3
    assert get_article(live, "../etc/passwd") is None


def test_stats(live):
    result = stats(live)
    assert result["documents"] == 5
    assert result["size_bytes"] > 0
    assert {"value": "Taliban", "count": 5} in result["facets"]["actor"]


def test_real_corpus_slice(clickid_index, clickid_slice):
    live = engine_at(clickid_index)
    try:
        everything = search(live, count="articles")
        assert everything["total"] == 600 and everything["stories"] == 599  # one article is a copy of another
        outlet_total = sum(r["count"] for r in everything["facets"]["outlet"]["results"])
        assert outlet_total == 600  # every record names its outlet
        first = json.loads(clickid_slice.read_text("utf-8").splitlines()[123])
        found = search(live, f'"{first["title"]}"')
        assert first["id"] in ids(found)
        assert found["hits"][0]["published"] == first["published"]
    finally:
        live.close()


def test_listed_hits_obey_the_facet_filter(live):
    result = search(live, "", actor=["Qatar"])
    assert len(result["hits"]) == result["total"] == 1
    ranked = search(live, "Taliban", outlet=["Warta Ekonomi"])
    assert [h["outlet"] for h in ranked["hits"]] == ["Warta Ekonomi"] * ranked["total"]
