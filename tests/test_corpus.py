"""Corpus readers: seed extraction, JSON lines/CSV records, and nothing dropped silently."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from searchapp.ingest.corpus import (
    Article,
    CorpusError,
    Skipped,
    find_date,
    parse_date,
    parse_txt,
    read_corpus,
    read_txt,
)

from tests.conftest import SEEDS, write_jsonl

SEED_EXPECTED = [
    # file stem, title start (None: the page has no headline), outlet, date
    # 000 names no dateline date; its only full date ("pada 8 Oktober 2021") is the best evidence
    ("000_565565d7109e7dca", None, "Intisari Online", date(2021, 10, 8)),
    ("001_e2a36016ce82df2b", "Taliban Setuju Kerja Sama dengan Rusia", "Inionline.id", date(2021, 10, 21)),
    ("002_7e5cca7df8c90f80", "Pantesan Amerika Sampai Mau Bekerja Sama", "Intisari Online", None),
    ("003_c6e37f4bfd45b471", None, None, None),
    ("004_bb470fe27ea90ed2", "Takut atau Gimana? Utusan Taliban", "Warta Ekonomi", date(2021, 7, 8)),
]


@pytest.mark.parametrize("stem,title,outlet,published", SEED_EXPECTED)
def test_seed_metadata(stem, title, outlet, published):
    article = read_txt(SEEDS / f"{stem}.txt")
    assert isinstance(article, Article)
    assert article.id == stem
    if title is None:
        assert article.title is None
    else:
        assert article.title.startswith(title)
    assert article.outlet == outlet
    assert article.published == published


BOILERPLATE = [
    ("004_bb470fe27ea90ed2", ["Menu", "Kabar Sawit", "Baca Juga", "Yuk Follow Kami", "Editor:", "Bagikan Artikel", "Kredit Foto"]),
    ("002_7e5cca7df8c90f80", ["Baca Juga", "Artikel Terkait", "Afif Khoirul M", "Penulis"]),
    ("001_e2a36016ce82df2b", ["057 views", "Inionline.id –"]),
    ("000_565565d7109e7dca", ["berlangganan Majalah Intisari", "Tinggal klik di sini", "Intisari - Online.com"]),
]


@pytest.mark.parametrize("stem,phrases", BOILERPLATE)
def test_seed_boilerplate_removed_but_news_kept(stem, phrases):
    article = read_txt(SEEDS / f"{stem}.txt")
    for phrase in phrases:
        assert phrase not in article.body
    assert "Taliban" in article.body
    assert len(article.body) > 1500


def test_dateline_stripped_keeps_the_lead_sentence():
    body = read_txt(SEEDS / "000_565565d7109e7dca.txt").body
    assert body.startswith("Taliban dan Amerika Serikat (AS) telah sepakat")


def test_category_from_views_line():
    assert read_txt(SEEDS / "001_e2a36016ce82df2b.txt").category == "Internasional"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Delegasi tiba pada Kamis (8/7/2021) di Moskow.", date(2021, 7, 8)),
        ("JAKARTA - Rapat digelar (21/10/2021) pagi.", date(2021, 10, 21)),
        ("Diterbitkan 8 Oktober 2021 oleh redaksi.", date(2021, 10, 8)),
        ("Sejak 17 Agt 2019 harga naik.", date(2019, 8, 17)),
        ("Ledakan 9 Oktober menewaskan 46 orang.", None),
        ("Tanggal (31/2/2021) tidak ada.", None),
        ("Pada 1980-an Moskow berperang.", None),
    ],
)
def test_find_date(text, expected):
    assert find_date(text) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2019-09-10", date(2019, 9, 10)),
        ("2019-09-10T13:45:00+07:00", date(2019, 9, 10)),
        ("2019-09-10 13:45:00", date(2019, 9, 10)),
        ("10/09/2019", date(2019, 9, 10)),
        ("10 September 2019", date(2019, 9, 10)),
        ("kemarin", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_sidecar_overrides_extracted_fields(tmp_path):
    (tmp_path / "a.txt").write_text("Judul Berita\n\nIsi berita tentang Rusia dan Taliban di Moskow.\n", "utf-8")
    (tmp_path / "a.json").write_text(
        json.dumps({"title": "Judul Resmi", "url": "https://www.kompas.com/x", "published": "2021-10-09"}), "utf-8"
    )
    article = read_txt(tmp_path / "a.txt")
    assert article.title == "Judul Resmi"
    assert article.published == date(2021, 10, 9)
    assert article.outlet == "Kompas.com"
    assert article.url == "https://www.kompas.com/x"


def test_jsonl_fields_extra_kept_and_bad_lines_reported(tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "x1", "title": "Satu", "outlet": "kompas.com", "published": "2019-01-02",
             "category": "Nasional", "url": "https://kompas.com/1", "body": "Isi satu.", "subcategory": "Politik"},
            {"title": "Tanpa id", "body": "Isi dua."},
            {"id": "x3"},
        ],
    )
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    items = list(read_corpus([path]))
    articles = [i for i in items if isinstance(i, Article)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [a.title for a in articles] == ["Satu", "Tanpa id"]
    first = articles[0]
    assert (first.id, first.outlet, first.published, first.category) == ("x1", "Kompas.com", date(2019, 1, 2), "Nasional")
    assert first.extra == {"subcategory": "Politik"}
    assert len(articles[1].id) == 16  # stable derived id
    assert list(read_corpus([path]))[1].id == articles[1].id
    assert [(s.source.rsplit(":", 1)[1], s.reason.split(":")[0]) for s in skipped] == [
        ("3", "no title and no body"),
        ("4", "invalid JSON"),
    ]


def test_gzip_jsonl_and_csv(tmp_path):
    gz = tmp_path / "b.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "g1", "title": "Dari gzip", "body": "Isi."}) + "\n")
    csv_path = tmp_path / "c.csv"
    csv_path.write_text('id,title,body,outlet,extra_col\nc1,"Judul, dengan koma","Isi ""kutip"".",tempo.co,x\n', "utf-8")
    items = list(read_corpus([tmp_path]))
    by_id = {i.id: i for i in items}
    assert by_id["g1"].title == "Dari gzip"
    assert by_id["c1"].title == "Judul, dengan koma"
    assert by_id["c1"].body == 'Isi "kutip".'
    assert by_id["c1"].outlet == "Tempo"
    assert by_id["c1"].extra == {"extra_col": "x"}


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("binary.txt", b"\x89PNG\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.txt", "Berita caf\xe9".encode("latin-1"), "not UTF-8"),
        ("notes.md", b"hello", "not a corpus file"),
    ],
)
def test_unreadable_files_are_reported(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    (item,) = list(read_corpus([path]))
    assert isinstance(item, Skipped)
    assert item.source == str(path)
    assert reason in item.reason


def test_missing_corpus_path_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        list(read_corpus([tmp_path / "nope"]))


def test_parse_txt_headline_rules():
    page = "Menu\nNews\nSport\nVideo\n\nJudul Yang Pendek\n\nParagraf pertama berita. Lanjutan.\n"
    fields = parse_txt(page)
    assert fields["title"] == "Judul Yang Pendek"
    assert fields["body"] == "Paragraf pertama berita. Lanjutan."
