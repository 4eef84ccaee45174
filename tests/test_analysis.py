"""Indonesian analysis: tokens, stop words, stemming, protected names."""

from __future__ import annotations

import pickle

import pytest

from searchapp import analysis
from searchapp.schema import build_schema


def words(text):
    return [w for w, _s, _e in analysis.iter_words(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("negara-negara", ["negara-negara"]),
        ("al-Qaeda", ["al", "qaeda"]),
        ("ISIS-K", ["isis", "k"]),
        ("Covid-19", ["covid", "19"]),
        ("A.S. dan P.B.B.", ["as", "dan", "pbb"]),
        ("20.000 tentara, $1,2 miliar", ["20000", "tentara", "1,2", "miliar"]),
        ("Shi'ite dan Ma’ruf", ["shiite", "dan", "maruf"]),
        ("“membuka halaman baru”", ["membuka", "halaman", "baru"]),
    ],
)
def test_tokenizer(text, expected):
    assert words(text) == expected


def test_token_spans_point_at_the_words_as_written():
    text = "Pasukan AS, ISIS-K dan negara-negara."
    for word, start, end in analysis.iter_words(text):
        assert text[start:end].lower().replace("-", "") .startswith(word.replace("-", "")[:1])
    assert [text[s:e] for _w, s, e in analysis.iter_words(text)] == ["Pasukan", "AS", "ISIS", "K", "dan", "negara-negara"]


@pytest.mark.parametrize(
    "a,b",
    [
        ("serangan", "menyerang"),
        ("diserang", "penyerangan"),
        ("bekerja", "kerja"),
        ("pembicaraan", "dibicarakan"),
        ("negara-negara", "negara"),
        ("penarikan", "ditarik"),  # Sastrawi alone says "tari"
    ],
)
def test_word_forms_meet_at_one_stem(a, b):
    assert analysis.terms(a) == analysis.terms(b)


def test_stop_words_dropped_but_news_words_kept():
    assert analysis.terms("yang dan di ke dari") == []
    kept = analysis.terms("bekerja bulan baru besar negara mengatakan")
    assert len(kept) == 6


def test_protected_names_are_not_stemmed():
    assert analysis.stem_word("bekasi") == "bekas"  # what Sastrawi alone does
    analysis.protect(["Bekasi", "Taliban"])
    assert analysis.terms("Taliban di Bekasi") == ["taliban", "bekasi"]


def test_positions_are_renumbered_over_stop_words():
    analyzer = build_schema()["body"].analyzer
    tokens = [(t.text, t.pos) for t in analyzer("kerja sama dengan Rusia", positions=True)]
    assert tokens == [("kerja", 0), ("sama", 1), ("rusia", 2)]


def test_schema_pickle_stays_small():
    """The stemmer must not travel inside the pickled schema (~660 KB if it does)."""
    analysis.stem_word("menyerang")  # make sure the stemmer is loaded
    assert len(pickle.dumps(build_schema())) < 20_000
