"""Topic taxonomy: category normalisation and keyword rules on short texts."""

from pathlib import Path

import pytest

from searchapp import topics
from searchapp.analysis import terms

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "corpus" if (REPO / "corpus").is_dir() else REPO.parent / "shared" / "seeds"


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Selebriti", ["Hiburan"]),
        ("SELEBRITI", ["Hiburan"]),
        ("Celebrity", ["Hiburan"]),
        ("seleb", ["Hiburan"]),
        (" News & Entertainment ", ["Hiburan"]),
        ("KOREA", ["Hiburan"]),
        ("Bola", ["Olahraga"]),
        ("bola", ["Olahraga"]),
        ("Super Skor", ["Olahraga"]),
        ("Sports", ["Olahraga"]),
        ("Ekbis", ["Ekonomi & Bisnis"]),
        ("Economy", ["Ekonomi & Bisnis"]),
        ("Money", ["Ekonomi & Bisnis"]),
        ("bisnis", ["Ekonomi & Bisnis"]),
        ("Fiskal & Moneter", ["Ekonomi & Bisnis"]),
        ("Lifestyle", ["Gaya Hidup"]),
        ("cantik", ["Gaya Hidup"]),
        ("Otomotif", ["Otomotif"]),
        ("Autos - Tips & Trik", ["Otomotif"]),
        ("tekno", ["Teknologi & Sains"]),
        ("Techno", ["Teknologi & Sains"]),
        ("Travel", ["Perjalanan"]),
        ("Muslim", ["Agama"]),
        ("International", ["Diplomasi & Internasional"]),
        ("dunia", ["Diplomasi & Internasional"]),
        ("hukum", ["Hukum & Kriminal"]),
        ("News", []),
        ("Nasional", []),
        ("Daerah", []),
        ("metro", []),
        ("Berita Utama", []),
        ("Autotekno", []),
        ("something new", []),
        ("", []),
        (None, []),
    ],
)
def test_from_category(category, expected):
    assert topics.from_category(category) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Persija menang 2-1 atas Persib dalam laga Liga 1, gol dicetak striker di menit akhir.",
         "Olahraga"),
        ("IHSG dan rupiah melemah setelah Bank Indonesia menahan suku bunga acuan; investor "
         "menunggu data inflasi.", "Ekonomi & Bisnis"),
        ("Polisi menangkap tersangka pembunuhan; pelaku dijerat pasal KUHP dan terancam "
         "hukuman penjara.", "Hukum & Kriminal"),
        ("Penyanyi itu merilis album dan video klip lagu baru, penggemar antusias menonton "
         "konser perdananya.", "Hiburan"),
        ("Kelompok militan melancarkan serangan bom; pasukan militer dan tentara memburu "
         "teroris di perbatasan.", "Keamanan & Terorisme"),
        ("Menteri luar negeri kedua negara menggelar pertemuan bilateral dan diplomasi untuk "
         "memperbaiki hubungan diplomatik.", "Diplomasi & Internasional"),
        ("Gempa bermagnitudo 5,2 mengguncang; BMKG memastikan tidak berpotensi tsunami, BNPB "
         "siaga bencana.", "Bencana & Lingkungan"),
        ("Dokter mengingatkan gejala penyakit jantung dan diabetes; pasien perlu obat dan "
         "pemeriksaan rutin.", "Kesehatan"),
        ("Toyota meluncurkan mobil SUV baru bermesin 1.500 cc dengan transmisi otomatis, "
         "harga di diler naik.", "Otomotif"),
        ("Smartphone baru ini memakai chipset Snapdragon, RAM 8 GB, baterai 5.000 mAh dan "
         "kamera 48 MP.", "Teknologi & Sains"),
        ("Siswa SMA dan guru menyambut kurikulum baru; sekolah menyiapkan ujian dan "
         "beasiswa kuliah.", "Pendidikan"),
        ("Umat Islam dianjurkan memperbanyak doa dan salat sunnah; ustaz mengutip hadis "
         "Rasulullah.", "Agama"),
        ("Destinasi wisata pantai di Labuan Bajo ramai wisatawan, hotel dan tiket pesawat "
         "habis saat liburan.", "Perjalanan"),
        ("Partai koalisi dan oposisi di DPR berebut kursi pimpinan MPR jelang pelantikan "
         "kabinet.", "Politik"),
        ("Relawan menyalurkan bantuan kemanusiaan dan donasi bagi pengungsi yang kelaparan.",
         "Kemanusiaan"),
        ("Tips memilih busana dan riasan wajah agar tampil cantik, plus resep sarapan "
         "sehat rendah kalori.", "Gaya Hidup"),
    ],
)
def test_rules_top_topic(text, expected):
    assert topics.from_stems(terms(text))[0] == expected


def test_rules_nothing_to_say():
    assert topics.from_stems(terms("Ia datang kemarin dan pulang hari ini.")) == []
    assert topics.from_stems([]) == []


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_topics(prefix):
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    stems = terms(path.read_text("utf-8"))
    ranked = sorted(topics.scores(stems).items(), key=lambda kv: -kv[1])
    assert [name for name, _ in ranked[:2]] == ["Diplomasi & Internasional", "Keamanan & Terorisme"]
    assert topics.from_stems(stems)[0] == "Diplomasi & Internasional"


def test_assign_trusts_specific_category_first():
    stems = terms("Polisi menangkap artis itu; tersangka kasus narkoba diperiksa penyidik.")
    assigned = topics.assign("Selebriti", stems)
    assert assigned[0] == "Hiburan"
    assert "Hukum & Kriminal" in assigned


def test_assign_generic_category_uses_rules():
    stems = terms("Persija menang atas Persib di laga Liga 1, gol dicetak striker.")
    assert topics.assign("News", stems) == topics.from_stems(stems) == ["Olahraga"]


def test_names():
    names = topics.names()
    assert 12 <= len(names) <= 20 and len(set(names)) == len(names)
