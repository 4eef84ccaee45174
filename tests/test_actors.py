"""Actor gazetteer: seed articles, aliases, metonyms, case rules, user files."""

from pathlib import Path

import pytest

from searchapp.facets.actors import Actor, Gazetteer, GazetteerError, default_gazetteer

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "corpus" if (REPO / "corpus").is_dir() else REPO.parent / "shared" / "seeds"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text("utf-8")


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("000", {"Taliban", "Amerika Serikat", "Afghanistan", "ISIS", "Rusia", "Tajikistan",
                 "CSTO", "Inggris", "Amir Khan Muttaqi", "Zabiullah Mujahid", "NATO"}),
        ("001", {"Taliban", "Rusia", "China", "Iran", "ISIS", "Afghanistan", "Vladimir Putin",
                 "Sergei Lavrov", "Uni Soviet", "PBB"}),
        ("002", {"Amerika Serikat", "Taliban", "ISIS", "Afghanistan", "Qatar", "Al-Qaeda",
                 "Suhail Shaheen"}),
        ("003", {"Rusia", "Taliban", "ISIS", "Afghanistan", "China", "Pakistan",
                 "Vladimir Putin", "Sergei Lavrov", "Abdul Salam Hanafi", "Uni Eropa", "Turki",
                 "Amerika Serikat"}),
        ("004", {"Taliban", "Rusia", "Afghanistan", "Tajikistan", "Zamir Kabulov",
                 "Sergei Lavrov", "CSTO"}),
    ],
)
def test_seed_actors(gaz, prefix, expected):
    found = gaz.find(seed(prefix))
    assert expected <= set(found)
    assert found[0] in expected  # the most mentioned actor is a main one


@pytest.mark.parametrize(
    ("prefix", "main"),
    [("000", {"Taliban", "Afghanistan"}), ("002", {"Amerika Serikat"}), ("004", {"Rusia"})],
)
def test_seed_ranking(gaz, prefix, main):
    assert gaz.find(seed(prefix))[0] in main


def test_no_false_positives_on_seeds(gaz):
    for prefix in ("001", "003", "004"):
        found = set(gaz.find(seed(prefix)))
        assert "Kementerian Luar Negeri" not in found  # Russia's ministry, not Kemenlu
        assert "Google" not in found  # "Google News" footer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AS dan Rusia bertemu.", {"Amerika Serikat": 1, "Rusia": 1}),
        ("Ia bekerja as usual, dikenal as the best.", {}),
        ("As a result, tidak ada.", {}),
        ("Amerika Serikat (AS) mengirim pasukan.", {"Amerika Serikat": 2}),
        ("Negara-negara Amerika Latin menolak.", {}),
        ("Kremlin dan Moskow membantah; Gedung Putih diam.", {"Rusia": 2, "Amerika Serikat": 1}),
        ("Beijing menolak tuduhan Washington.", {"China": 1, "Amerika Serikat": 1}),
        ("Brussel menjanjikan bantuan.", {"Uni Eropa": 1}),
        ("Bandara Kabul dibuka lagi.", {"Afghanistan": 1}),
        ("Serangan ISIS-K dan ISIS-Khorasan diklaim Negara Islam.", {"ISIS": 3}),
        ("Organisasi Perjanjian Keamanan Kolektif (CSTO) bersiaga.", {"CSTO": 2}),
        ("bekas republik Uni Soviet", {"Uni Soviet": 1}),
        ("Kata Sergey Lavrov dan Sergei Lavrov.", {"Sergei Lavrov": 2}),
        ("Juru bicara Suhai Shaheen dan Sohail Shaheen.", {"Suhail Shaheen": 2}),
        ("Putusan MA dan MK final.", {"Mahkamah Konstitusi": 1}),  # MA alone is too ambiguous
        ("Mahkamah Agung (MA) menolak kasasi, MA menyatakan...", {"Mahkamah Agung": 3}),
        ("Politikus PAN dan Partai Demokrat bertemu.", {"PAN": 1, "Partai Demokrat": 1}),
        ("Wajan dan panci, pan kecil.", {}),
        ("Sistem yang demokrat dan adil.", {}),
        ("BI menahan suku bunga; bi-lingual tidak dihitung.", {"Bank Indonesia": 1}),
        ("Paris Saint-Germain menang di Paris.", {"Paris Saint-Germain": 1, "Prancis": 1}),
        ("Hotman Paris hadir.", {"Hotman Paris Hutapea": 1}),
        ("Drama Korea terbaru tayang.", {}),
        ("Drama Korea dari Korea Selatan.", {"Korea Selatan": 2}),
        ("Presiden Joko Widodo alias Jokowi.", {"Joko Widodo": 2}),
        ("Iriana Jokowi meresmikan gerakan itu.", {"Iriana Joko Widodo": 1}),
        ("Dishub meluncurkan Simpel PKB untuk uji kendaraan.", {}),
        ("Fraksi PKB menolak; PKB akan bersikap.", {"PKB": 2}),
        ("Neymar pindah dari Paris-Saint Germain.", {"Neymar": 1, "Paris Saint-Germain": 1}),
    ],
)
def test_count(gaz, text, expected):
    assert gaz.count(text) == expected


def test_find_orders_by_mentions_then_first_mention(gaz):
    text = "Rusia. Taliban. Taliban. China. Rusia. Iran."
    assert gaz.find(text) == ["Rusia", "Taliban", "China", "Iran"]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("AS", "Amerika Serikat"),
        ("as", None),
        ("amerika serikat", "Amerika Serikat"),
        ("Moskow", "Rusia"),
        ("kremlin", "Rusia"),
        ("gedung  putih", "Amerika Serikat"),
        ("Tiongkok", "China"),
        ("negara islam", "ISIS"),
        ("isis-k", "ISIS"),
        ("Jokowi", "Joko Widodo"),
        ("MA", "Mahkamah Agung"),
        ("ma", None),
        ("pan", None),
        ("Amerika Latin", None),
        ("xyzzy", None),
    ],
)
def test_resolve(gaz, phrase, expected):
    assert gaz.resolve(phrase) == expected


def test_actors_listing(gaz):
    actors = {a.name: a for a in gaz.actors()}
    assert len(actors) >= 200
    assert actors["Rusia"] == Actor("Rusia", "country", actors["Rusia"].aliases)
    assert {"Moskow", "Kremlin"} <= set(actors["Rusia"].aliases)
    assert {a.type for a in actors.values()} == {"person", "country", "organisation"}


def test_protected_words(gaz):
    words = gaz.protected_words()
    assert {"taliban", "putin", "moskow", "kremlin", "tajikistan", "jokowi"} <= words
    assert not {"serikat", "negara", "islam", "uni", "gedung", "putih", "perjanjian"} & words


def test_user_gazetteer_merges(tmp_path):
    extra = tmp_path / "mine.tsv"
    extra.write_text(
        "# local additions\n"
        "Rusia\tcountry\tNegeri Beruang Merah\n"
        "Pemkot Bekasi\torganisation\tPemerintah Kota Bekasi|=PKB Bekasi\n",
        "utf-8",
    )
    gaz = Gazetteer.load([extra])
    assert gaz.count("Negeri Beruang Merah dan Pemerintah Kota Bekasi") == {
        "Rusia": 1,
        "Pemkot Bekasi": 1,
    }
    assert "bekasi" in gaz.protected_words()
    assert default_gazetteer().resolve("Negeri Beruang Merah") is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Foo\tperson\tFoo|Bar\textra\n", "column"),
        ("Foo\tplanet\tFoo\n", "unknown type"),
        ("\tperson\tFoo\n", "empty actor name"),
        ("Foo\tperson\t=\n", "empty after its markers"),
        ("Rusia\tperson\tRusia\n", "already a country"),
        ("Foo\tperson\tMoskow\n", "already names 'Rusia'"),
        ("-\tignore\n", "needs phrases"),
    ],
)
def test_bad_user_file(tmp_path, content, reason):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# header\n" + content, "utf-8")
    with pytest.raises(GazetteerError) as err:
        Gazetteer.load([bad])
    message = str(err.value)
    assert reason in message and "bad.tsv" in message and "line 2" in message


def test_missing_user_file(tmp_path):
    with pytest.raises(GazetteerError, match="cannot read"):
        Gazetteer.load([tmp_path / "absent.tsv"])
