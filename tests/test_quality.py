"""Search quality features: names kept, stemmer exceptions, did-you-mean, alias expansion, query limits."""

from __future__ import annotations

import pytest

from searchapp.text import analysis
from searchapp.facets.actors import default_gazetteer
from searchapp.errors import QueryError
from searchapp.search import search
from rapidfuzz.distance import OSA


@pytest.fixture
def news(live_from):
    return live_from(
        [
            {"id": "bekasi", "title": "Banjir melanda", "body": "Banjir merendam rumah warga Bekasi pada Senin pagi."},
            {"id": "bekas", "title": "Pasar loak", "body": "Pedagang menjual barang bekas di pasar loak."},
            {"id": "as", "title": "Kebijakan baru", "body": "Pemerintah AS mengumumkan sanksi baru terhadap Iran."},
            {"id": "washington", "title": "Sanksi", "body": "Washington menjatuhkan sanksi kepada perusahaan itu."},
            {"id": "tari", "title": "Festival", "body": "Para penari membawakan tarian tradisional dengan menari semalam."},
            {"id": "tarik", "title": "Pasukan", "body": "Penarikan pasukan dari wilayah itu dimulai. Tentara ditarik mundur."},
            {"id": "tajik1", "title": "Perbatasan Tajikistan", "body": "Tajikistan memperkuat perbatasan. Tajikistan siaga."},
            {"id": "tajik2", "title": "Kabar Tajikistan", "body": "Pemerintah Tajikistan menggelar pembicaraan dan pembicaraan lanjutan."},
            {"id": "lower", "title": "Catatan", "body": "as roda kendaraan itu patah di jalan."},
        ],
    )


def ids(result):
    return {h["id"] for h in result["hits"]}


def test_capitalised_name_in_running_text_is_not_stemmed(news):
    assert ids(search(news, "Bekasi")) == {"bekasi"}  # not "barang bekas"
    assert [h["id"] for h in search(news, "bekas")["hits"]][0] == "bekas"


def test_gazetteer_names_are_not_stemmed():
    stemmer = analysis.Stemmer(default_gazetteer().protected_words())
    assert stemmer.terms("pejabat Taliban") == ["jabat", "taliban"]


@pytest.mark.parametrize(
    "word,stem",
    [("penarikan", "tarik"), ("pasukan", "pasukan"), ("menyerang", "serang"), ("negara-negara", "negara")],
)
def test_stemmer_exceptions(word, stem):
    assert analysis.Stemmer().stem(word) == stem


def test_exceptions_keep_unrelated_words_apart(news):
    assert ids(search(news, "penarikan")) == {"tarik"}
    assert ids(search(news, "tarian")) == {"tari"}


@pytest.mark.parametrize(
    "typed,suggested",
    [("Tajikstan", "Tajikistan"), ("pembicaran", "pembicaraan"), ("TAJIKSTAN", "TAJIKISTAN")],
)
def test_did_you_mean(news, typed, suggested):
    result = search(news, typed)
    assert result["total"] == 0
    assert result["suggestion"] == suggested
    assert search(news, suggested)["total"] >= 1


def test_no_suggestion_for_a_good_query(news):
    assert search(news, "Tajikistan")["suggestion"] is None


@pytest.mark.parametrize(
    "a,b,d",
    [("tajikstan", "tajikistan", 1), ("pembicaran", "pembicaraan", 1), ("ab", "ba", 1), ("kopi", "kopi", 0), ("abc", "xyz", 3)],
)
def test_edit_distance_counts_a_transposition_once(a, b, d):
    assert OSA.distance(a, b) == d


def test_alias_expansion(news):
    result = search(news, "Amerika Serikat")
    assert ids(result) == {"as", "washington"}
    assert result["searched_as"]["actors"] == [{"alias": "Amerika Serikat", "actor": "Amerika Serikat"}]
    assert ids(search(news, "AS")) >= {"as", "washington"}
    assert "lower" in ids(search(news, "as"))  # lowercase "as" is the word, not the country
    assert "washington" not in ids(search(news, "as"))


def test_alias_inside_quotes_is_literal(news):
    assert ids(search(news, '"Amerika Serikat"')) == set()


def test_searched_as_lists_words_stems_and_forms(news):
    words = search(news, "serangan Bekasi")["searched_as"]["words"]
    assert [(w["word"], w["stem"]) for w in words] == [("serangan", "serang"), ("bekasi", "bekasi")]
    forms = search(news, "penari")["searched_as"]["words"][0]["forms"]
    assert set(forms) == {"penari", "tarian", "menari"}  # the written forms of "tari" in the corpus


@pytest.mark.parametrize(
    "q,message",
    [
        ("x" * 300, "longer than"),
        ("(" * 10 + "a" + ")" * 10, "parentheses nest deeper"),
        (" ".join(f"kata{i}" for i in range(30)), "more than"),
        ("*", "wildcard needs"),
        ("*a*", "wildcard needs"),
        ("?*", "wildcard needs"),
        ("pe*", "wildcard needs"),
        ("*:*", "only the fields"),
        ("published:2020", "only the fields"),
    ],
)
def test_expensive_or_unsafe_queries_are_refused(news, q, message):
    with pytest.raises(QueryError, match=message):
        search(news, q)


def test_negative_only_query_means_everything_but(news):
    result = search(news, "-Tajikistan")
    assert result["total"] == 7
    assert not ids(result) & {"tajik1", "tajik2"}


def test_prefix_matches_written_forms(news):
    assert ids(search(news, "tajik*")) == {"tajik1", "tajik2"}


@pytest.mark.parametrize(
    "a,b",
    [
        ("pemerintah", "memerintahkan"),
        ("perusahaan", "berusaha"),
        ("meninggal", "tinggal"),
        ("keputusan", "putus"),
        ("undang-undang", "mengundang"),
        ("kebijakan", "bijak"),
        ("setuju", "menuju"),
    ],
)
def test_exceptions_split_words_of_different_meaning(a, b):
    assert analysis.Stemmer().terms(a) != analysis.Stemmer().terms(b)


def test_opening_the_build_is_not_the_first_querys_time(tmp_path, monkeypatch):
    """A fresh process's first search opens the build (~1 s on the 2019
    corpus): that is not the reader's query running away."""
    import time

    from searchapp.search import service as search_module
    from tests.conftest import SEEDS, engine_at, rebuild

    rebuild([SEEDS], tmp_path / "index")
    fresh = engine_at(tmp_path / "index")
    opened = fresh.snapshot

    def slow_open():
        time.sleep(0.3)
        return opened()

    monkeypatch.setattr(fresh, "snapshot", slow_open)
    monkeypatch.setattr(search_module, "TIME_LIMIT", 0.25)
    try:
        assert search(fresh, "taliban")["total"] == 5
    finally:
        fresh.close()


def test_a_warmed_server_keeps_its_objects_out_of_full_collections_until_the_build_changes(tmp_path):
    import gc

    from searchapp.search.service import lexicon, warm
    from tests.conftest import SEEDS, engine_at, rebuild

    rebuild([SEEDS], tmp_path / "index")
    engine = engine_at(tmp_path / "index")
    try:
        warm(engine)
        assert gc.get_freeze_count() > 0
        assert lexicon(engine.snapshot()).words  # made by the warm-up, kept by the snapshot
        rebuild([SEEDS], tmp_path / "index")
        assert search(engine, "taliban")["total"] == 5  # the new build opened: the old one's objects may go
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        engine.close()


def test_runaway_search_is_stopped_with_a_clear_error(news, monkeypatch):
    from searchapp.search import service as search_module

    monkeypatch.setattr(search_module, "TIME_LIMIT", 0.0)
    with pytest.raises(QueryError, match="took longer than"):
        search(news, "Tajikistan OR pasar OR banjir")
