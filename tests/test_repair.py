"""Reading repairs what crawlers did to article text (issue 19, part 1): on
sentences of the 2019 corpus (/work/shared/corpora/clickid-2019.jsonl.gz; the
article id is in each row's comment), as its JSON lines carry them."""

from __future__ import annotations

import json
import re

import pytest

from searchapp.ingest import corpus
from searchapp.ingest.repair import KINDS, paragraph_spans, repair, repair_line
from searchapp.search.service import get_article, stats

from tests.conftest import add, engine_at, rebuild

# (case, raw body, repaired body, kinds)
CASES = [
    # Mac Roman mojibake of curly quotes (38643b84dcd7d8f1)
    ("mojibake quotes",
     "‚ÄúAda daerah di Aceh yang timbul titik panas,‚Äù kata Zakaria.",
     "“Ada daerah di Aceh yang timbul titik panas,” kata Zakaria.",
     ("mojibake",)),
    # a left-to-right mark read as Mac Roman, which ftfy leaves (e4f591ddae04fee1)
    ("mojibake of an invisible mark",
     "Pasal 55 ayat (1) Pasal 64 ayat (1) KUHP.,Sebelumnya, KPK telah ‚Äémenetapkan lima tersangka terkait kasus "
     "dugaan suap penyaluran dana bantuan.",
     "Pasal 55 ayat (1) Pasal 64 ayat (1) KUHP.\n\nSebelumnya, KPK telah menetapkan lima tersangka terkait kasus "
     "dugaan suap penyaluran dana bantuan.",
     ("mojibake", "paragraphs", "whitespace")),
    # names in a flattened list (an item ending in a bracket starts a line), accents repaired
    # (a21b0252a54b19c0)
    ("mojibake in names",
     "Xhimshiti ‚Äì Jimsh-ittee,ATL√âTICO MADRID (At-LAY-tee-co),Jo√£o F√©lix ‚Äì Joo-wow Fay-lish,Koke ‚Äì Cokka,"
     "Sa√∫l √ë√≠guez",
     "Xhimshiti – Jimsh-ittee,ATLÉTICO MADRID (At-LAY-tee-co)\n\nJoão Félix – Joo-wow Fay-lish,Koke – Cokka,"
     "Saúl Ñíguez",
     ("mojibake", "paragraphs")),
    # mojibake of a no-break space after a cut dateline (tempo.co)
    ("dateline and no-break space",
     ", , -¬†Salah satu lift di gedung , mengalami kerusakan pada Jumat siang, 20 September 2019.",
     "Salah satu lift di gedung , mengalami kerusakan pada Jumat siang, 20 September 2019.",
     ("mojibake", "dateline")),
    # paragraphs flattened into ".," (Kompas.com)
    ("flattened paragraphs",
     "Polda Jatim berharap ada komunikasi yang baik dengan pihak ,, tersangka kasus provokasi dan dugaan penyebaran "
     "berita bohong seputar isu Papua.,Bila perlu, pihak Veronica Koman juga dipersilahkan melakukan upaya , seperti "
     "pra peradilan.",
     "Polda Jatim berharap ada komunikasi yang baik dengan pihak ,, tersangka kasus provokasi dan dugaan penyebaran "
     "berita bohong seputar isu Papua.\n\nBila perlu, pihak Veronica Koman juga dipersilahkan melakukan upaya , "
     "seperti pra peradilan.",
     ("paragraphs",)),
    # the comma that ends a quotation is no paragraph break (ab449758a18ae9a2)
    ("comma ending a quotation",
     '"Thailand masih transisi di bawah pelatih baru seperti saat mereka melawan Vietnam, namun tetap berbahaya '
     'pemainnya sama masih ada Chanatip (Songkrasin)," ucap McMenemy, dilansir laman resmi ,.',
     '"Thailand masih transisi di bawah pelatih baru seperti saat mereka melawan Vietnam, namun tetap berbahaya '
     'pemainnya sama masih ada Chanatip (Songkrasin)," ucap McMenemy, dilansir laman resmi ,.',
     ()),
    # an empty teaser label left by the crawler (okezone.com)
    ("teaser label",
     "Keduanya sama-sama meraih tiga kemenangan di tiga laga awal yang dimainkan.,,Baca juga:,,Dengan begitu, "
     "sembilan poin berhasil diraih kedua tim.",
     "Keduanya sama-sama meraih tiga kemenangan di tiga laga awal yang dimainkan.\n\nDengan begitu, sembilan poin "
     "berhasil diraih kedua tim.",
     ("teasers", "paragraphs")),
    # a teaser with the other story's title, a comma inside it (posmetro-medan.com)
    ("teaser with a title",
     "seperti dikutip dari Kontan.co.id, Minggu (21/7/2019).,,Baca juga: Layanan Sempat Error, Bos Bank Mandiri "
     "Minta Maaf,,Lantas apakah bank berlogo pita emas ini dapat meminta nasabah yang telah memindahkan saldo "
     "tambahannya?",
     "seperti dikutip dari Kontan.co.id, Minggu (21/7/2019).\n\nLantas apakah bank berlogo pita emas ini dapat "
     "meminta nasabah yang telah memindahkan saldo tambahannya?",
     ("teasers", "paragraphs")),
    # a teaser in brackets (cdf576a95089ef9a)
    ("teaser in brackets",
     "menurut sebuah teks yang dikirim pada 12:15 waktu Hanoi pada hari Rabu dan dilihat oleh AFP. (Baca juga: SMS "
     "Menyayat Hati Terduga Korban 'Kontainer 39 Mayat' di Inggris),Kedua korban diduga berasal dari Ha Tinh.",
     "menurut sebuah teks yang dikirim pada 12:15 waktu Hanoi pada hari Rabu dan dilihat oleh AFP.\n\nKedua korban "
     "diduga berasal dari Ha Tinh.",
     ("teasers", "paragraphs")),
    # a teaser and its link on a line of its own (e44e6739669e3f4e)
    ("teaser and its link",
     "‚ÄúKami akan siap sejak laga awal,‚Äù kata Pelatih PSG Thomas Tuchel. (Baca juga : Catatan Menyilaukan Real "
     "Madrid Lawan Klub Prancis),https://sports.sindonews.com/read/1440628/11/catatan-menyilaukan-real-madrid-"
     "lawan-klub-prancis-1568728792,Laga pertama adalah pertandingan melawan Madrid.",
     "“Kami akan siap sejak laga awal,” kata Pelatih PSG Thomas Tuchel.\n\nLaga pertama adalah pertandingan melawan "
     "Madrid.",
     ("mojibake", "teasers", "boilerplate", "paragraphs", "whitespace")),
    # fimela's teaser markup between two paragraphs (49a77b9af168537d)
    ("teaser markup",
     "seperti yang dilansir\xa0Boldsky,[bacajuga:Baca Juga](3809787 3617927\xa04052322),Kulit kita melepaskan "
     "sel-sel kulit setiap 25-30 hari.",
     "seperti yang dilansir Boldsky\n\nKulit kita melepaskan sel-sel kulit setiap 25-30 hari.",
     ("teasers", "paragraphs", "whitespace")),
    # zero-width spaces around a word (dc92dc02ebb139da)
    ("invisible characters",
     "“Tidak hanya menggiatkan transaksi penjualan melalui channel \u200boffline\u200b, Unicharm berupaya untuk "
     "menjangkau cakupan yang lebih luas.",
     "“Tidak hanya menggiatkan transaksi penjualan melalui channel offline, Unicharm berupaya untuk menjangkau "
     "cakupan yang lebih luas.",
     ("whitespace",)),
    # clean text with its own paragraphs stays as it is (seed-like, f18f38c79e0763c0 after repair)
    ("clean",
     "Menandai 10 tahun berkarya sebagai promotor, Berlian Entertainment menghadirkan kolaborasi apik.\n\n"
     '"Duet maut" tersebut akan digelar di Istora Senayan, Jakarta Selatan, pada 28 September 2019 mendatang.',
     "Menandai 10 tahun berkarya sebagai promotor, Berlian Entertainment menghadirkan kolaborasi apik.\n\n"
     '"Duet maut" tersebut akan digelar di Istora Senayan, Jakarta Selatan, pada 28 September 2019 mendatang.',
     ()),
]


@pytest.mark.parametrize(("case", "raw", "expected", "kinds"), CASES, ids=[c[0] for c in CASES])
def test_repair(case, raw, expected, kinds):
    got = repair(raw)
    assert got.text == expected
    assert got.kinds == kinds
    assert repair(got.text).text == got.text  # repairing twice changes nothing more


def test_news_mentioning_a_boilerplate_word_is_kept():
    # a long paragraph with "berlangganan" is news, not a subscribe line (7e0b4f0a2bd52d87-like text)
    text = ("Jumlah pelanggan yang berlangganan layanan internet rumah naik dua kali lipat selama setahun terakhir, "
            "kata Direktur Utama perusahaan itu kepada wartawan di Jakarta, Senin (16/9/2019).")
    assert repair(text).text == text


@pytest.mark.parametrize(("title", "expected", "kinds"), [
    ('Sneaker Air Jordan 1 ‚ÄúZebra‚Äù, Bernuansa Nike Dunk "Daktari"',  # ef231a5f5f261ada
     'Sneaker Air Jordan 1 “Zebra”, Bernuansa Nike Dunk "Daktari"', ("mojibake",)),
    ("Gisel: Sedih Kan, Malu Juga Sebenarnya¬†", "Gisel: Sedih Kan, Malu Juga Sebenarnya",  # 6ec2976222db48b8
     ("mojibake", "whitespace")),
])
def test_titles_are_repaired_on_one_line(title, expected, kinds):
    got = repair_line(title)
    assert (got.text, got.kinds) == (expected, kinds)


def test_kinds_are_listed_in_order():
    assert all(set(repair(raw).kinds) <= set(KINDS) for _case, raw, _e, _k in CASES)


def test_paragraph_spans():
    text = "Satu.\n\nDua dan tiga.\n  \nEmpat"
    assert [text[s:e] for s, e in paragraph_spans(text)] == ["Satu.", "Dua dan tiga.", "Empat"]


def test_reading_repairs_and_keeps_the_id(tmp_path):
    _case, raw, repaired, _kinds = next(c for c in CASES if c[0] == "teaser and its link")
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "‚ÄúZebra‚Äù", "body": raw}) + "\n", "utf-8")
    (article,) = corpus.read_corpus([path])
    assert article.body == repaired and article.title == "“Zebra”"
    assert article.repaired == ("mojibake", "teasers", "boilerplate", "paragraphs", "whitespace")
    assert article.id == corpus.stable_id(None, "‚ÄúZebra‚Äù", raw)  # the id of the text as given: stable


@pytest.fixture(scope="module")
def repaired_index(clickid_records, tmp_path_factory, engine_name):
    """The first 300 corpus articles with a teaser or mojibake, and 100 others, built."""
    damaged = [r for r in clickid_records if re.search(r"Baca [Jj]uga|‚Ä|¬†", r["body"])][:300]
    chosen = damaged + [r for r in clickid_records if r not in damaged][:100]
    corpus_dir = tmp_path_factory.mktemp("repair-corpus")
    (corpus_dir / "news.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen), "utf-8")
    index_dir = tmp_path_factory.mktemp("repair-index")
    report = rebuild([corpus_dir], index_dir, engine=engine_name)
    return chosen, index_dir, report


@pytest.mark.engines
def test_a_build_counts_and_keeps_what_it_repaired(repaired_index, engine_name):
    chosen, index_dir, report = repaired_index
    expected = {}
    for r in chosen:
        for kind in {*repair(r["body"]).kinds, *repair_line(r["title"] or "").kinds}:
            expected[kind] = expected.get(kind, 0) + 1
    assert dict(report.repaired) == expected and expected["teasers"] > 0 and expected["mojibake"] > 0
    assert "repaired: " in report.summary()
    live = engine_at(index_dir, engine_name)
    try:
        assert stats(live)["repaired"] == {k: expected[k] for k in KINDS if k in expected}
        for r in chosen[:50]:
            article = get_article(live, r["id"])
            assert article["body"] == repair(r["body"]).text
            assert "Baca juga" not in article["body"] and "‚Äú" not in article["body"]
            assert [article["body"][s:e] for s, e in article["paragraphs"]] == article["body"].split("\n\n")
    finally:
        live.close()


@pytest.mark.engines
def test_an_add_adds_its_counts(repaired_index, engine_name, tmp_path):
    chosen, index_dir, report = repaired_index
    raw = next(c for c in CASES if c[0] == "teaser and its link")[1]
    (tmp_path / "more.jsonl").write_text(json.dumps({"id": "repair-add-1", "title": "x", "body": raw}) + "\n", "utf-8")
    before = stats_of(index_dir, engine_name)
    added = add([tmp_path / "more.jsonl"], index_dir)
    assert added.repaired == {k: 1 for k in repair(raw).kinds}
    after = stats_of(index_dir, engine_name)
    assert after == {k: before.get(k, 0) + added.repaired.get(k, 0) for k in {*before, *added.repaired}}


def stats_of(index_dir, engine_name) -> dict:
    live = engine_at(index_dir, engine_name)
    try:
        return stats(live)["repaired"]
    finally:
        live.close()
