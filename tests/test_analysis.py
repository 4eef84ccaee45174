"""Indonesian analysis: tokens, stop words, stemming, protected names."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from searchapp.text import analysis
from searchapp.engine.whoosh.schema import build_schema
from searchapp.search import search

from tests.conftest import engine_at, rebuild, write_jsonl


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
        ("ormas-ormas", "ormas"),  # Sastrawi alone keeps a reduplication whose root it does not know
        ("LSM-LSM", "LSM"),
        ("penarikan", "ditarik"),  # Sastrawi alone says "tari"
    ],
)
def test_word_forms_meet_at_one_stem(a, b):
    assert analysis.Stemmer().terms(a) == analysis.Stemmer().terms(b)


def test_stop_words_dropped_but_news_words_kept():
    assert analysis.Stemmer().terms("yang dan di ke dari") == []
    kept = analysis.Stemmer().terms("bekerja bulan baru besar negara mengatakan")
    assert len(kept) == 6


def test_protected_names_are_not_stemmed():
    assert analysis.Stemmer().stem("bekasi") == "bekas"  # what Sastrawi alone does
    assert analysis.Stemmer(["Bekasi", "Taliban"]).terms("Taliban di Bekasi") == ["taliban", "bekasi"]


def test_each_build_protects_only_its_own_names(tmp_path):
    """Build A names Kediri as an actor, build B does not (Sastrawi reads
    "Kediri" as ke- + "diri", self): a process that opened A and then B
    stems it in B as any word, and A keeps protecting it."""
    records = [{"id": "kota", "title": "Banjir di Kediri", "body": "Warga Kediri mengungsi ke balai desa."},
               {"id": "diri", "title": "Menjaga diri", "body": "Ia menjaga diri dari penyakit."}]
    corpus = write_jsonl(tmp_path / "articles.jsonl", records)
    actors = tmp_path / "actors.tsv"
    actors.write_text("Kediri\torganisation\tKediri\n", "utf-8")
    rebuild([corpus], tmp_path / "a", actor_files=[actors], procs=1)
    rebuild([corpus], tmp_path / "b", procs=1)
    a, b = engine_at(tmp_path / "a"), engine_at(tmp_path / "b")
    try:
        assert a.snapshot().tables.stemmer.stem("kediri") == "kediri"
        assert b.snapshot().tables.stemmer.stem("kediri") == "diri"
        assert a.snapshot().tables.stemmer.stem("kediri") == "kediri"
        assert {h["id"] for h in search(a, "Kediri")["hits"]} == {"kota"}
        assert {h["id"] for h in search(b, "Kediri")["hits"]} == {"kota", "diri"}  # B: ke- + diri
    finally:
        a.close()
        b.close()


def test_positions_are_renumbered_over_stop_words():
    analyzer = build_schema()["body"].analyzer
    tokens = [(t.text, t.pos) for t in analyzer("kerja sama dengan Rusia", positions=True)]
    assert tokens == [("kerja", 0), ("sama", 1), ("rusia", 2)]


def test_schema_pickle_stays_small():
    """The stemmer must not travel inside the pickled schema (~660 KB if it does)."""
    analysis.Stemmer().stem("menyerang")  # make sure the stemmer is loaded
    assert len(pickle.dumps(build_schema())) < 20_000


@pytest.mark.parametrize("data", [
    b"berlari\tlari\nkekuasaan\tkuasa\npenarikan\ttarik\n",  # as tables.save_stems writes it: sorted
    b"penarikan\ttarik\nberlari\tlari\nkekuasaan\tkuasa",  # an older, unsorted file without a last newline
])
def test_a_stem_table_finds_the_stems_worked_out_before(data):
    table = analysis.StemTable(data)
    assert [table.get(w) for w in ("berlari", "kekuasaan", "penarikan")] == ["lari", "kuasa", "tarik"]
    assert table.get("banjir") is None and table.get("") is None and table.get("zzz") is None
    stemmer = analysis.Stemmer(table=table)
    assert stemmer.stem("penarikan") == "tarik"  # the table's stem, not Sastrawi's "tari"


_STOCK_SASTRAWI = """
import sys
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory
stem = StemmerFactory().create_stemmer().delegatedStemmer.stem_word
print("\\n".join(stem(w) for w in sys.stdin.read().split()))
"""


def test_sped_up_sastrawi_keeps_every_stem(clickid_slice):
    """The patches `_sastrawi` makes (regex shim, prefix rules tried by the
    word's first letters) change no stem: every word of 600 real articles,
    hyphen parts too, against a stock PySastrawi in a process of its own (the
    patches are process-wide)."""
    vocabulary = set()
    for line in clickid_slice.read_text("utf-8").splitlines():
        article = json.loads(line)
        for word in words(f"{article['title']}\n{article['body']}"):
            vocabulary.update((word, *word.split("-")))
    vocabulary = sorted(w for w in vocabulary if w.replace("-", "").isalpha())
    stock = subprocess.run([sys.executable, "-c", _STOCK_SASTRAWI], input="\n".join(vocabulary),
                           capture_output=True, text=True, encoding="utf-8", check=True).stdout.splitlines()
    assert len(stock) == len(vocabulary) > 10_000
    stem = analysis._sastrawi().stem_word
    assert [(w, s, stem(w)) for w, s in zip(vocabulary, stock) if stem(w) != s] == []
